import { randomBytes } from 'node:crypto';

import type { z } from 'zod';

/**
 * The one place the backend talks HTTP to HubSpot (or the sandbox standing in for it):
 * explicit timeouts, HubSpot's error envelope turned into a typed error, bodies parsed with
 * zod. Retry, rate limiting and token refresh are layered on top by the callers that need
 * them; this function does exactly one request.
 */

export interface HubSpotRequest {
  readonly method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
  /** A date-versioned path (`hubspotPaths`) such as `/crm/objects/{v}/deals/123`. */
  readonly path: string;
  readonly query?: Record<string, string | number | boolean | readonly string[] | undefined>;
  readonly json?: unknown;
  /** `application/x-www-form-urlencoded` body (the OAuth endpoints accept nothing else). */
  readonly form?: Record<string, string>;
  /**
   * `multipart/form-data` body (the Files upload): text fields, then one file part streamed
   * from `open()` (called once per attempt, so a retry sends the bytes again from the start).
   */
  readonly multipart?: MultipartBody;
  readonly accessToken?: string;
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

export interface MultipartBody {
  readonly fields: Readonly<Record<string, string>>;
  readonly file: {
    readonly fieldName: string;
    readonly fileName: string;
    readonly contentType: string;
    readonly open: () => AsyncIterable<Uint8Array>;
  };
}

/** A quoted-string parameter of Content-Disposition, encoded as browsers do (RFC 7578 §4.2). */
function dispositionParam(value: string): string {
  return value.replace(/"/g, '%22').replace(/[\r\n]/g, ' ');
}

/** The multipart body as a stream: headers and fields first, the file's bytes as they come. */
function multipartStream(body: MultipartBody, boundary: string): ReadableStream<Uint8Array> {
  async function* pieces(): AsyncGenerator<Uint8Array> {
    for (const [name, value] of Object.entries(body.fields)) {
      yield Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="${dispositionParam(name)}"\r\n\r\n${value}\r\n`,
      );
    }
    const { file } = body;
    yield Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="${dispositionParam(file.fieldName)}"; filename="${dispositionParam(file.fileName)}"\r\nContent-Type: ${file.contentType}\r\n\r\n`,
    );
    yield* file.open();
    yield Buffer.from(`\r\n--${boundary}--\r\n`);
  }
  const iterator = pieces();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const next = await iterator.next();
      if (next.done === true) controller.close();
      else controller.enqueue(next.value);
    },
    async cancel() {
      await iterator.return(undefined);
    },
  });
}

export interface HubSpotResponse<T> {
  readonly status: number;
  readonly body: T;
  readonly headers: Headers;
}

const DEFAULT_TIMEOUT_MS = 15_000;

/** A non-2xx answer (or no answer) from HubSpot, with what HubSpot said about it. */
export class HubSpotApiError extends Error {
  readonly code = 'hubspot_api_error';
  readonly status: number;
  readonly category: string | undefined;
  readonly hubspotMessage: string | undefined;
  readonly correlationId: string | undefined;
  /** RFC 6749 `error` for OAuth endpoints (e.g. `invalid_grant`). */
  readonly oauthError: string | undefined;
  readonly retryAfterMs: number | undefined;
  readonly body: unknown;

  constructor(input: {
    status: number;
    method: string;
    path: string;
    body?: unknown;
    retryAfterMs?: number;
    cause?: unknown;
  }) {
    const body = (
      typeof input.body === 'object' && input.body !== null ? input.body : {}
    ) as Record<string, unknown>;
    const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
    const hubspotMessage = str(body.message) ?? str(body.error_description);
    super(
      input.status === 0
        ? `HubSpot could not be reached (${input.method} ${input.path})`
        : `HubSpot answered ${input.status} to ${input.method} ${input.path}${hubspotMessage ? `: ${hubspotMessage}` : ''}`,
      { cause: input.cause },
    );
    this.name = 'HubSpotApiError';
    this.status = input.status;
    this.category = str(body.category);
    this.hubspotMessage = hubspotMessage;
    this.correlationId = str(body.correlationId);
    this.oauthError = str(body.error);
    this.retryAfterMs = input.retryAfterMs;
    this.body = input.body;
  }

  /** Worth another try later: rate limits, HubSpot-side failures, network trouble. */
  get retryable(): boolean {
    return (
      this.status === 0 ||
      this.status === 423 ||
      this.status === 429 ||
      this.status === 477 ||
      this.status >= 500
    );
  }
}

/** The answer was 2xx but not the shape HubSpot documents. */
export class HubSpotResponseShapeError extends Error {
  readonly code = 'hubspot_unexpected_response';
  constructor(method: string, path: string, issues: string) {
    super(`HubSpot's answer to ${method} ${path} had an unexpected shape: ${issues}`);
    this.name = 'HubSpotResponseShapeError';
  }
}

function buildUrl(baseUrl: string, path: string, query: HubSpotRequest['query']): string {
  const url = new URL(path, `${baseUrl}/`);
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value === undefined) continue;
    url.searchParams.set(key, Array.isArray(value) ? value.join(',') : String(value));
  }
  return url.toString();
}

function parseRetryAfter(headers: Headers): number | undefined {
  const value = headers.get('retry-after');
  if (!value) return undefined;
  const seconds = Number(value);
  return Number.isFinite(seconds) ? Math.max(0, seconds * 1000) : undefined;
}

export async function hubspotRequest<S extends z.ZodType>(
  baseUrl: string,
  request: HubSpotRequest,
  schema: S,
): Promise<HubSpotResponse<z.output<S>>> {
  const headers: Record<string, string> = { accept: 'application/json' };
  let body: string | ReadableStream<Uint8Array> | undefined;
  if (request.multipart) {
    const boundary = `----lexicontract${randomBytes(12).toString('hex')}`;
    headers['content-type'] = `multipart/form-data; boundary=${boundary}`;
    body = multipartStream(request.multipart, boundary);
  } else if (request.form) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(request.form).toString();
  } else if (request.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(request.json);
  }
  if (request.accessToken) headers.authorization = `Bearer ${request.accessToken}`;
  const timeout = AbortSignal.timeout(request.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  const signal = request.signal ? AbortSignal.any([request.signal, timeout]) : timeout;

  let response: Response;
  try {
    response = await fetch(buildUrl(baseUrl, request.path, request.query), {
      method: request.method,
      headers,
      body,
      signal,
      // Required by fetch for a streamed request body.
      ...(typeof body === 'object' ? { duplex: 'half' as const } : {}),
      // Never follow HubSpot redirects blindly: an API answer is not supposed to move.
      redirect: 'error',
    });
  } catch (cause) {
    throw new HubSpotApiError({ status: 0, method: request.method, path: request.path, cause });
  }
  const text = await response.text();
  let parsed: unknown = undefined;
  if (text.length > 0) {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = { message: text.slice(0, 200) };
    }
  }
  if (!response.ok) {
    throw new HubSpotApiError({
      status: response.status,
      method: request.method,
      path: request.path,
      body: parsed,
      retryAfterMs: parseRetryAfter(response.headers),
    });
  }
  const result = schema.safeParse(parsed);
  if (!result.success) {
    throw new HubSpotResponseShapeError(
      request.method,
      request.path,
      result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '),
    );
  }
  return { status: response.status, body: result.data, headers: response.headers };
}
