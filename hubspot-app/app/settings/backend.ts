import { hubspot } from '@hubspot/ui-extensions';
import type { z } from 'zod';

import { ApiErrorSchema, BACKEND_ORIGIN } from './api-schemas.ts';

/**
 * The settings page's only way to the backend: `hubspot.fetch` (HubSpot signs it and appends the
 * portal and user) with an explicit timeout, every answer parsed with zod.
 */
export type BackendResult<T> =
  | { readonly ok: true; readonly data: T }
  | { readonly ok: false; readonly code: string; readonly message: string };

export interface BackendCall {
  readonly path: string;
  readonly method?: 'GET' | 'POST' | 'PUT';
  readonly body?: Record<string, unknown>;
  readonly timeoutMs: number;
}

export async function callBackend<S extends z.ZodType>(
  call: BackendCall,
  schema: S,
): Promise<BackendResult<z.output<S>>> {
  let response: Response;
  try {
    response = await hubspot.fetch(`${BACKEND_ORIGIN}${call.path}`, {
      method: call.method ?? 'GET',
      timeout: call.timeoutMs,
      ...(call.body !== undefined ? { body: call.body } : {}),
    });
  } catch {
    return {
      ok: false,
      code: 'network_error',
      message: 'LexiContract could not be reached. Check your connection and try again.',
    };
  }
  const json: unknown = await response.json().catch(() => undefined);
  if (response.ok) {
    const parsed = schema.safeParse(json);
    if (parsed.success) return { ok: true, data: parsed.data };
    return {
      ok: false,
      code: 'unexpected_response',
      message: 'LexiContract sent an answer this page does not understand. Try again later.',
    };
  }
  const error = ApiErrorSchema.safeParse(json);
  if (error.success) return { ok: false, ...error.data.error };
  return {
    ok: false,
    code: `http_${response.status}`,
    message: `LexiContract answered with an error (${response.status}). Try again later.`,
  };
}

/** One id per click, so a retried or repeated send is recognised by the backend. */
export function newRequestId(): string {
  const webCrypto = (globalThis as { crypto?: { randomUUID?: () => string } }).crypto;
  if (webCrypto?.randomUUID) return webCrypto.randomUUID();
  const hex = Array.from({ length: 32 }, () => Math.floor(Math.random() * 16).toString(16));
  hex[12] = '4';
  hex[16] = ((parseInt(hex[16] ?? '0', 16) & 0x3) | 0x8).toString(16);
  const s = hex.join('');
  return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20)}`;
}
