import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

import type { FastifyReply, FastifyRequest } from 'fastify';

/**
 * A secret shown once after a redirect (POST → redirect → GET), e.g. a new API key: sealed
 * (AES-256-GCM under a key derived from the session secret, bound to the session's CSRF
 * token) in a short-lived httpOnly cookie scoped to one path, opened and cleared by the GET.
 * Nothing is stored server-side, so any instance can show it; the browser holds only
 * ciphertext, which no other session can open.
 */
const COOKIE = 'lxc_once';
const TTL_SECONDS = 120;

function keyOf(sessionSecret: string): Buffer {
  return Buffer.from(hkdfSync('sha256', sessionSecret, 'lexicontract', 'web once-flash v1', 32));
}

function cookieOptions(request: FastifyRequest, path: string) {
  return {
    path,
    httpOnly: true,
    sameSite: 'strict' as const,
    secure: request.server.config.publicBaseUrl.startsWith('https://'),
  };
}

export function setOnceFlash(
  request: FastifyRequest,
  reply: FastifyReply,
  input: { path: string; boundTo: string; value: string },
): void {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', keyOf(request.server.config.sessionSecret), iv);
  cipher.setAAD(Buffer.from(`${input.path}\n${input.boundTo}`));
  const sealed = Buffer.concat([cipher.update(input.value, 'utf8'), cipher.final()]);
  const token = [iv, cipher.getAuthTag(), sealed].map((b) => b.toString('base64url')).join('.');
  void reply.setCookie(COOKIE, token, {
    ...cookieOptions(request, input.path),
    maxAge: TTL_SECONDS,
  });
}

/** The flash for this path and session, once: the cookie is cleared whatever it held. */
export function takeOnceFlash(
  request: FastifyRequest,
  reply: FastifyReply,
  input: { path: string; boundTo: string },
): string | null {
  const token = request.cookies[COOKIE];
  if (token === undefined) return null;
  void reply.clearCookie(COOKIE, cookieOptions(request, input.path));
  const [iv, tag, sealed] = token.split('.').map((part) => Buffer.from(part, 'base64url'));
  if (!iv || !tag || !sealed || iv.length !== 12 || tag.length !== 16) return null;
  try {
    const decipher = createDecipheriv(
      'aes-256-gcm',
      keyOf(request.server.config.sessionSecret),
      iv,
    );
    decipher.setAAD(Buffer.from(`${input.path}\n${input.boundTo}`));
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(sealed), decipher.final()]).toString('utf8');
  } catch {
    return null;
  }
}
