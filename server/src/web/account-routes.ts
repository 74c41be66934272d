import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';

import { recordAudit } from '../core/audit/audit-log.ts';
import { safeNextPath } from '../core/auth/next-path.ts';
import { parseInput } from '../platform/http/validation.ts';
import { html } from '../platform/http/html.ts';
import { page } from './layout.ts';
import { noticeFromQuery } from './notices.ts';
import {
  clearWebSessionCookie,
  readWebSession,
  startWebSession,
} from '../core/auth/session-plugin.ts';
import { revokeSession, SESSION_COOKIE } from '../core/auth/sessions.ts';
import { consumeSignInToken, SignInLinkInvalidError } from '../core/auth/sign-in-links.ts';

/** Sign-in and sign-out (API keys and the audit log have their own files). */
export const accountRoutes: FastifyPluginAsync = async (app) => {
  app.get('/', async (request, reply) => {
    const session = await readWebSession(request);
    return reply.redirect(session ? '/contracts' : '/sign-in');
  });

  app.get('/sign-in', async (request, reply) => {
    const session = await readWebSession(request);
    const next = safeNextPath((request.query as Record<string, unknown> | undefined)?.next);
    if (session && next) return reply.redirect(next);
    const hubspotSignIn = `/api/v1/integrations/hubspot/auth?${new URLSearchParams({
      intent: 'sign_in',
      ...(next ? { next } : {}),
    }).toString()}`;
    const body = html` <div class="card signin">
      <h1>Sign in to LexiContract</h1>
      <p class="sub">
        Organizations connected to HubSpot sign in by installing or opening the app from HubSpot.
      </p>
      <p>
        <a class="button" href="${hubspotSignIn}" data-testid="sign-in-hubspot"
          >Sign in with HubSpot</a
        >
      </p>
      <p class="muted">
        Not using HubSpot? Ask your administrator for a one-time sign-in link (<code
          >npm run admin -- user login-link --org ID</code
        >).
      </p>
    </div>`;
    return reply
      .type('text/html')
      .send(page({ title: 'Sign in', session, flash: noticeFromQuery(request.query), body }));
  });

  app.get('/sign-in/link', async (request, reply) => {
    const session = await readWebSession(request);
    const { token } = parseInput(
      z.object({ token: z.string().min(10).max(200) }),
      request.query,
      'sign-in link',
    );
    const body = html` <div class="card signin">
      <h1>Sign in</h1>
      <p class="sub">This one-time link signs you in to your LexiContract organization.</p>
      <form method="post" action="/sign-in/link">
        <input type="hidden" name="token" value="${token}" />
        ${session ? html`<input type="hidden" name="_csrf" value="${session.csrfToken}" />` : null}
        <button type="submit">Continue</button>
      </form>
    </div>`;
    return reply.type('text/html').send(page({ title: 'Sign in', session: null, body }));
  });

  // Shown before signing in: same-origin only (no login CSRF), no session token to check.
  app.post('/sign-in/link', { config: { csrf: 'before_session' } }, async (request, reply) => {
    const { token } = parseInput(
      z.object({ token: z.string().min(10).max(200), _csrf: z.string().optional() }),
      request.body,
      'sign-in form',
    );
    try {
      const who = await consumeSignInToken(app.db, token);
      await startWebSession(request, reply, who);
      await recordAudit(app.db, {
        organizationId: who.organizationId,
        actor: `user:${who.userId}`,
        action: 'web.signed_in',
        outcome: 'success',
        details: { method: 'sign_in_link' },
      });
      return await reply.redirect('/integrations');
    } catch (error) {
      if (!(error instanceof SignInLinkInvalidError)) throw error;
      const body = html`<div class="card signin">
        <h1>Link not valid</h1>
        <p>${error.message}</p>
      </div>`;
      return reply
        .status(400)
        .type('text/html')
        .send(page({ title: 'Sign in', session: null, body }));
    }
  });

  // Unsafe methods here are CSRF-checked by the web scope's guard (web/plugin.ts).
  app.post('/sign-out', async (request, reply) => {
    const cookie = request.cookies[SESSION_COOKIE];
    const unsigned = cookie ? request.unsignCookie(cookie) : undefined;
    if (unsigned?.valid && unsigned.value) await revokeSession(app.db, unsigned.value);
    clearWebSessionCookie(request, reply);
    return reply.redirect('/sign-in?notice=signed_out');
  });
};
