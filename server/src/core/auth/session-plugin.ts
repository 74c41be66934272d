import type { FastifyReply, FastifyRequest } from 'fastify';

import { DomainError, UnauthorizedError } from '../../platform/errors.ts';
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
  interface FastifyContextConfig {
    /**
     * What the web scope's CSRF guard asks of an unsafe request to this route: `session`
     * (the default) = a session and its token; `before_session` = a form shown before
     * signing in (the token is still required when a session exists); `multipart_field` =
     * a streamed multipart form whose body is not parsed before the handler: the guard
     * requires the session, and the handler checks the `_csrf` field sent before the file
     * (`requireMultipartCsrf`) before it reads a byte of it. Same-origin always.
     */
    csrf?: 'session' | 'before_session' | 'multipart_field';
  }
}

/** A state-changing request that a browser sent from another site. */
export class CrossSiteRequestError extends DomainError {
  constructor() {
    super(
      'cross_site_request',
      'This form must be sent from a LexiContract page. Reload the page and try again.',
      403,
    );
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

/**
 * A session and its CSRF token are required. The web scope's guard (`webCsrfGuard`) runs
 * this for every unsafe request; routes that still list it get the same check twice.
 */
export async function requireCsrf(request: FastifyRequest): Promise<void> {
  const session = await readWebSession(request);
  const body = request.body as Record<string, unknown> | undefined;
  if (!session || !csrfTokenMatches(session, body?._csrf)) throw csrfRefusal();
}

/** The `_csrf` check of a `csrf: 'multipart_field'` route, on the fields before the file. */
export async function requireMultipartCsrf(
  request: FastifyRequest,
  fields: Readonly<Record<string, string>>,
): Promise<void> {
  const session = await readWebSession(request);
  if (!session || !csrfTokenMatches(session, fields._csrf)) throw csrfRefusal();
}

function csrfRefusal(): UnauthorizedError {
  return new UnauthorizedError(
    'csrf_check_failed',
    'The form expired or did not come from this site. Reload the page and try again.',
  );
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Whether the browser says the request comes from our own pages: `Sec-Fetch-Site` must be
 * `same-origin` and `Origin` our public origin, when present. A request with neither is
 * not a browser's cross-site form (current browsers send `Origin` on every POST); the
 * session token still guards it.
 */
export function isSameOriginRequest(request: FastifyRequest, publicOrigin: string): boolean {
  const fetchSite = request.headers['sec-fetch-site'];
  if (fetchSite !== undefined && fetchSite !== 'same-origin') return false;
  const origin = request.headers.origin;
  if (origin !== undefined && origin !== publicOrigin) return false;
  return true;
}

/**
 * The web scope's one CSRF hook (a preHandler, after the body is parsed): every unsafe
 * method is checked, so a new form cannot forget it. Same-origin for every request, sign-in
 * included (no login CSRF); then the session's token, unless the route is marked
 * `csrf: 'before_session'` and nobody is signed in.
 */
export function webCsrfGuard(publicBaseUrl: string) {
  const publicOrigin = new URL(publicBaseUrl).origin;
  return async function checkWebCsrf(request: FastifyRequest): Promise<void> {
    if (SAFE_METHODS.has(request.method)) return;
    if (!isSameOriginRequest(request, publicOrigin)) throw new CrossSiteRequestError();
    if (request.routeOptions.config.csrf === 'before_session') {
      if ((await readWebSession(request)) === null) return;
    }
    if (request.routeOptions.config.csrf === 'multipart_field') {
      if ((await readWebSession(request)) === null) throw csrfRefusal();
      return;
    }
    await requireCsrf(request);
  };
}

export function sessionOf(request: FastifyRequest): WebSession {
  if (!request.webSession) throw new UnauthorizedError('not_signed_in', 'Sign in first.');
  return request.webSession;
}
