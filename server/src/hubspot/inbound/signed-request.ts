import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

import { UnauthorizedError, ValidationError } from '../../platform/errors.ts';
import {
  SIGNATURE_HEADERS,
  verifyV2,
  verifyV3,
  type SignatureVersion,
  type VerifyResult,
} from '../signature/index.ts';

/**
 * Inbound HubSpot requests: the body is kept as raw bytes, the signature is checked over
 * those bytes and the configured public URL (never proxy headers), and only then is the
 * JSON parsed. Register `acceptRawJson` inside the encapsulated plugin of the HubSpot routes.
 */

declare module 'fastify' {
  interface FastifyRequest {
    rawBody?: Buffer;
    hubspotSignatureVersion?: SignatureVersion;
  }
}

/**
 * Which signatures a channel accepts. A request that carries the v3 header is judged by v3
 * alone. Without it:
 * - `v3` refuses. Webhook deliveries, `hubspot.fetch` (card, settings): HubSpot signs every
 *   request to an OAuth app with v3 (changelog "Introducing version 3 of Webhook
 *   signatures": the v3 headers are added to outgoing requests, older versions stay only
 *   "for backward compatibility"; the request-validation page of the developer platform
 *   says the same). Accepting v1 there would let a captured delivery, its v3 headers
 *   stripped, be replayed forever: v1 covers neither the URL nor a time.
 * - `v3-or-v2` accepts v2. Workflow action executions: HubSpot's custom-action guide still
 *   documents them as v2-signed and promises no v3, so refusing v2 could stop every
 *   workflow. v2 has no timestamp: a captured execution replays forever, which is harmless
 *   only because each route answers a known `callbackId` from its dedupe row
 *   (`hubspot_workflow_executions`, `hubspot_decision_callbacks`). Those rows must be kept
 *   for as long as this policy accepts v2: never purge them while it does.
 */
export type SignaturePolicy = 'v3' | 'v3-or-v2';

export function acceptRawJson(app: FastifyInstance, options: { bodyLimit: number }): void {
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser(
    'application/json',
    { parseAs: 'buffer', bodyLimit: options.bodyLimit },
    (request, body, done) => {
      request.rawBody = body as Buffer;
      done(null, undefined);
    },
  );
}

function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  // A repeated signature header is not something HubSpot sends: refuse rather than pick one.
  return typeof value === 'string' ? value : undefined;
}

export function verifyHubSpotSignature(
  request: FastifyRequest,
  policy: SignaturePolicy,
  now = Date.now(),
): VerifyResult {
  const { clientSecret } = request.server.config.hubspot;
  const uri = `${request.server.config.publicBaseUrl}${request.url}`;
  const rawBody = request.rawBody ?? Buffer.alloc(0);
  // Bytes that were not captured raw (a GET's body, or a text/form body another parser took)
  // are not what the signature covers: refuse rather than verify an empty body in their place.
  const declared = Number(request.headers['content-length'] ?? '0');
  if (
    request.rawBody === undefined &&
    (declared > 0 || request.headers['transfer-encoding'] !== undefined)
  ) {
    return { ok: false, reason: 'mismatch' };
  }
  const v3 = header(request, SIGNATURE_HEADERS.v3);
  if (v3 !== undefined || policy === 'v3') {
    return verifyV3({
      clientSecret,
      method: request.method,
      uri,
      rawBody,
      signature: v3,
      timestamp: header(request, SIGNATURE_HEADERS.timestamp),
      now,
    });
  }
  // Only `v3-or-v2` is left here: v2 with the dedupe rows as its replay defence (see above).
  const signature = header(request, SIGNATURE_HEADERS.signature);
  const version = header(request, SIGNATURE_HEADERS.version)?.toLowerCase();
  if (version !== undefined && version !== 'v2')
    return { ok: false, reason: 'malformed_signature' };
  return verifyV2({ clientSecret, method: request.method, uri, rawBody, signature });
}

/** preHandler: a request whose signature does not verify is refused before anything else. */
export function requireHubSpotSignature(policy: SignaturePolicy) {
  return async (request: FastifyRequest, _reply: FastifyReply): Promise<void> => {
    const result = verifyHubSpotSignature(request, policy);
    if (!result.ok) {
      request.log.warn(
        { reason: result.reason, path: request.url.split('?')[0] },
        'HubSpot signature rejected',
      );
      throw new UnauthorizedError(
        'invalid_signature',
        'The request signature is missing, stale or does not match.',
      );
    }
    request.hubspotSignatureVersion = result.version;
  };
}

/** The verified raw body as JSON (400 `invalid_json` when it is not). */
export function signedJson(request: FastifyRequest): unknown {
  const raw = request.rawBody;
  if (!raw || raw.length === 0)
    throw new ValidationError('A JSON body is required', undefined, 'invalid_json');
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch {
    throw new ValidationError('The body is not valid JSON', undefined, 'invalid_json');
  }
}
