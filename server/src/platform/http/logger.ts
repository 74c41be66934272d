import type { FastifyServerOptions } from 'fastify';

import type { LogLevel } from '../config/env.ts';

/**
 * Paths pino blanks out wherever they appear in a log line. Tokens, secrets, OAuth codes and
 * signatures must never reach the logs, whatever object they ride on.
 */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-hubspot-signature"]',
  'req.headers["x-hubspot-signature-v3"]',
  'res.headers["set-cookie"]',
  '*.accessToken',
  '*.refreshToken',
  '*.access_token',
  '*.refresh_token',
  '*.clientSecret',
  '*.client_secret',
  '*.code_verifier',
  '*.apiKey',
  '*.password',
  '*.token',
];

export function loggerOptions(level: LogLevel): FastifyServerOptions['logger'] {
  return {
    level,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    serializers: {
      // Log the path only: query strings can carry OAuth codes, states and signed values.
      req(request: { method: string; url: string; id: string }) {
        return { method: request.method, url: request.url.split('?')[0], id: request.id };
      },
    },
  };
}
