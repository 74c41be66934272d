import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

import { UnauthorizedError, ValidationError } from '../../platform/errors.ts';
import {
  SIGNATURE_HEADERS,
  verifyV1,
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

/** Which signatures a channel accepts: v3 whenever HubSpot sends it, else the channel's older one. */
export type SignaturePolicy = 'v3' | 'v3-or-v2' | 'v3-or-v1';

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
  const signature = header(request, SIGNATURE_HEADERS.signature);
  const version = header(request, SIGNATURE_HEADERS.version)?.toLowerCase();
  if (policy === 'v3-or-v2') {
    if (version !== undefined && version !== 'v2')
      return { ok: false, reason: 'malformed_signature' };
    return verifyV2({ clientSecret, method: request.method, uri, rawBody, signature });
  }
  if (version !== undefined && version !== 'v1')
    return { ok: false, reason: 'malformed_signature' };
  return verifyV1({ clientSecret, rawBody, signature });
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
