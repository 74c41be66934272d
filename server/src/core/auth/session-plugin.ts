import type { FastifyReply, FastifyRequest } from 'fastify';

import { UnauthorizedError } from '../../platform/errors.ts';
import {
  createSession,
  csrfTokenMatches,
  loadSession,
  SESSION_COOKIE,
  SESSION_TTL_MS,
  type WebSession,
} from './sessions.ts';

declare module 'fastify' {
  interface FastifyRequest {
    webSession?: WebSession | null;
  }
}

/** Reads (once per request) the signed session cookie and its server-side session. */
export async function readWebSession(request: FastifyRequest): Promise<WebSession | null> {
  if (request.webSession !== undefined) return request.webSession;
  const cookie = request.cookies[SESSION_COOKIE];
  let session: WebSession | null = null;
  if (cookie) {
    const unsigned = request.unsignCookie(cookie);
    if (unsigned.valid && unsigned.value)
      session = await loadSession(request.server.db, unsigned.value);
  }
  request.webSession = session;
  return session;
}

function cookieOptions(request: FastifyRequest) {
  return {
    path: '/',
    httpOnly: true,
    sameSite: 'lax' as const,
    secure: request.server.config.publicBaseUrl.startsWith('https://'),
    signed: true,
  };
}

export async function startWebSession(
  request: FastifyRequest,
  reply: FastifyReply,
  input: { userId: string; organizationId: string },
): Promise<void> {
  const { sessionId } = await createSession(request.server.db, input);
  void reply.setCookie(SESSION_COOKIE, sessionId, {
    ...cookieOptions(request),
    maxAge: Math.floor(SESSION_TTL_MS / 1000),
  });
  request.webSession = undefined;
}

export function clearWebSessionCookie(request: FastifyRequest, reply: FastifyReply): void {
  void reply.clearCookie(SESSION_COOKIE, cookieOptions(request));
}

/** preHandler for pages: no session → the sign-in page. */
export async function requirePageSession(
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<void> {
  const session = await readWebSession(request);
  if (!session) {
    await reply.redirect('/sign-in');
  }
}

/** preHandler for state-changing form posts: a session and its CSRF token are required. */
export async function requireCsrf(request: FastifyRequest): Promise<void> {
  const session = await readWebSession(request);
  const body = request.body as Record<string, unknown> | undefined;
  if (!session || !csrfTokenMatches(session, body?._csrf)) {
    throw new UnauthorizedError(
      'csrf_check_failed',
      'The form expired or did not come from this site. Reload the page and try again.',
    );
  }
}

export function sessionOf(request: FastifyRequest): WebSession {
  if (!request.webSession) throw new UnauthorizedError('not_signed_in', 'Sign in first.');
  return request.webSession;
}
