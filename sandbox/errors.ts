import { randomUUID } from 'node:crypto';

import type { HubSpotError, HubSpotErrorDetail, OAuthError, RateLimitError } from './wire.ts';

/** An HTTP answer the sandbox sends as-is (HubSpot's envelope or an OAuth error body). */
export class SandboxHttpError extends Error {
  readonly statusCode: number;
  readonly body: unknown;
  readonly headers: Readonly<Record<string, string>>;

  constructor(statusCode: number, body: unknown, headers: Record<string, string> = {}) {
    super(`sandbox answered ${statusCode}`);
    this.name = 'SandboxHttpError';
    this.statusCode = statusCode;
    this.body = body;
    this.headers = headers;
  }
}

/** Raised by control methods (unknown portal, deal, ...); control routes map it to 4xx. */
export class SandboxControlError extends Error {
  readonly statusCode: number;
  constructor(message: string, statusCode = 404) {
    super(message);
    this.name = 'SandboxControlError';
    this.statusCode = statusCode;
  }
}

export function hubspotError(
  statusCode: number,
  category: string,
  message: string,
  extra: Partial<Omit<HubSpotError, 'message' | 'category'>> = {},
): SandboxHttpError {
  const body: HubSpotError = {
    status: 'error',
    message,
    correlationId: randomUUID(),
    category,
    ...extra,
  };
  return new SandboxHttpError(statusCode, body);
}

export function validationError(message: string, errors?: HubSpotErrorDetail[]): SandboxHttpError {
  return hubspotError(400, 'VALIDATION_ERROR', message, errors ? { errors } : {});
}

export function notFound(message: string, context?: Record<string, unknown>): SandboxHttpError {
  return hubspotError(404, 'OBJECT_NOT_FOUND', message, context ? { context } : {});
}

export function rateLimitBody(): RateLimitError {
  return {
    status: 'error',
    message: 'You have reached your ten_secondly_rolling limit.',
    errorType: 'RATE_LIMIT',
    correlationId: randomUUID(),
    category: 'RATE_LIMITS',
    policyName: 'TEN_SECONDLY_ROLLING',
    requestId: randomUUID(),
  };
}

/** The 429 body of the CRM search endpoints' 5-per-second limit. */
export function secondlyLimitBody(): RateLimitError {
  return {
    status: 'error',
    message: 'You have reached your secondly limit.',
    errorType: 'RATE_LIMIT',
    correlationId: randomUUID(),
    category: 'RATE_LIMITS',
    policyName: 'SECONDLY',
    requestId: randomUUID(),
  };
}

/** The `category` HubSpot's `Error` schema requires, by HTTP status. */
function oauthCategory(statusCode: number): string {
  if (statusCode === 401) return 'INVALID_AUTHENTICATION';
  if (statusCode === 429) return 'RATE_LIMITS';
  if (statusCode >= 500) return 'INTERNAL_ERROR';
  return 'VALIDATION_ERROR';
}

/**
 * RFC 6749 error plus HubSpot's `Error` (spec `oauth/2026-03`: `category`, `correlationId`
 * and `message` required) and its `status` (e.g. BAD_REFRESH_TOKEN / invalid_grant).
 */
export function oauthError(
  statusCode: number,
  error: string,
  status: string,
  description: string,
): SandboxHttpError {
  const body: OAuthError = {
    status,
    message: description,
    category: oauthCategory(statusCode),
    correlationId: randomUUID(),
    error,
    error_description: description,
  };
  return new SandboxHttpError(statusCode, body);
}
