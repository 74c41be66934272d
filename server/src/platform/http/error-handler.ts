import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

import {
  DATABASE_RETRY_AFTER_SECONDS,
  isDatabaseUnavailableError,
  ThrottledReport,
} from '../db/unavailable.ts';
import { DomainError } from '../errors.ts';
import { requestPartName, validationIssues } from './schemas.ts';

interface ErrorBody {
  error: { code: string; message: string; details?: unknown };
}

export interface ErrorPageOptions {
  /**
   * The error as a page, for browser routes (see `isBrowserRoute`); `undefined` keeps JSON.
   * Given by the composition root (the web layer renders it in the product's layout).
   */
  readonly htmlErrorPage?: (
    request: FastifyRequest,
    status: number,
    error: { code: string; message: string },
  ) => string | undefined;
}

/** Paths whose callers are programs (JSON errors): the REST API and HubSpot's routes under it, health, metrics. */
const MACHINE_PATH = /^\/(?:api|healthz|readyz|livez|health|metrics)(?:[/?]|$)/;

/** Whether a browser navigates here: everything but the machine paths. */
export function isBrowserRoute(request: FastifyRequest): boolean {
  return !MACHINE_PATH.test(request.url);
}

/** Fastify's own client errors, given stable codes of ours. */
const FASTIFY_CLIENT_ERRORS: Record<string, { status: number; code: string }> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { status: 415, code: 'unsupported_media_type' },
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, code: 'payload_too_large' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { status: 400, code: 'invalid_json' },
  FST_ERR_CTP_INVALID_JSON_BODY: { status: 400, code: 'invalid_json' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { status: 400, code: 'invalid_content_length' },
};

/** While the database is down, one log line per this interval (with the count). */
const UNAVAILABLE_LOG_INTERVAL_MS = 10_000;

/** Whether the client asked for a page (a browser) rather than JSON. */
function wantsHtml(accept: string | undefined): boolean {
  if (accept === undefined) return false;
  return accept.includes('text/html') && !accept.includes('application/json');
}

const UNAVAILABLE_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Temporarily unavailable</title></head>
<body><h1>Temporarily unavailable</h1>
<p>LexiContract cannot reach its database right now. Try again in a few seconds.</p></body></html>
`;

/**
 * One error handler for the whole app: domain errors keep their code and status, client
 * mistakes get a 4xx with a stable code, an unreachable database a 503 with `Retry-After`
 * (pages, the REST API, the card, HubSpot's webhooks and workflow action alike: HubSpot
 * retries a 5xx, the action with backoff for up to 3 days), and anything else is a 500 whose
 * details stay in the log.
 */
export function installErrorHandler(app: FastifyInstance, options: ErrorPageOptions = {}): void {
  const send = (request: FastifyRequest, reply: FastifyReply, status: number, body: ErrorBody) => {
    // A page for a browser (it asks for HTML) on a browser route; programs get JSON.
    const page =
      isBrowserRoute(request) && wantsHtml(request.headers.accept)
        ? options.htmlErrorPage?.(request, status, body.error)
        : undefined;
    if (page === undefined) return reply.status(status).send(body);
    return reply.status(status).type('text/html; charset=utf-8').send(page);
  };
  const unavailableReport = new ThrottledReport(UNAVAILABLE_LOG_INTERVAL_MS);
  app.setErrorHandler<FastifyError>((error, request, reply) => {
    let status = 500;
    let body: ErrorBody;
    if (!(error instanceof DomainError) && isDatabaseUnavailableError(error)) {
      const report = unavailableReport.take();
      if (report) {
        request.log.error(
          { err: error, occurrences: report.occurrences },
          'database unavailable; answering 503',
        );
      }
      void reply.status(503).header('retry-after', String(DATABASE_RETRY_AFTER_SECONDS));
      if (wantsHtml(request.headers.accept)) {
        return reply.type('text/html; charset=utf-8').send(UNAVAILABLE_PAGE);
      }
      return reply.send({
        error: {
          code: 'database_unavailable',
          message: 'The database is unavailable; try again shortly.',
        },
      });
    }
    if (error instanceof DomainError) {
      status = error.httpStatus;
      body = { error: { code: error.code, message: error.message } };
      if (error.details !== undefined) body.error.details = error.details;
    } else if (error.code in FASTIFY_CLIENT_ERRORS) {
      const known = FASTIFY_CLIENT_ERRORS[error.code] ?? { status: 400, code: 'bad_request' };
      status = known.status;
      body = { error: { code: known.code, message: error.message } };
    } else if (error.validation) {
      // A declared route schema refused the request: the same answer `parseInput` gives.
      status = 400;
      body = {
        error: {
          code: 'invalid_request',
          message: `Invalid ${requestPartName(error.validationContext)}`,
          details: validationIssues(error.validation),
        },
      };
    } else if (
      typeof error.statusCode === 'number' &&
      error.statusCode >= 400 &&
      error.statusCode < 500
    ) {
      status = error.statusCode;
      body = { error: { code: 'bad_request', message: error.message } };
    } else {
      body = { error: { code: 'internal_error', message: 'Something went wrong on our side.' } };
    }
    if (status >= 500) request.log.error({ err: error }, 'request failed');
    else request.log.info({ code: body.error.code, status }, 'request refused');
    return send(request, reply, status, body);
  });

  app.setNotFoundHandler((request, reply) => {
    return send(request, reply, 404, {
      error: {
        code: 'not_found',
        message: `No route for ${request.method} ${request.url.split('?')[0] ?? ''}`,
      },
    });
  });
}
