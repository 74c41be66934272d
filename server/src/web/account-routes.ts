import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';

import { recordAudit } from '../core/audit/audit-log.ts';
import { createApiKey } from '../core/organizations/api-keys.ts';
import { parseInput } from '../platform/http/validation.ts';
import { html } from '../platform/http/html.ts';
import { page, type Flash } from './layout.ts';
import { noticeFromQuery } from './notices.ts';
import {
  clearWebSessionCookie,
  readWebSession,
  requirePageSession,
  sessionOf,
  startWebSession,
} from '../core/auth/session-plugin.ts';
import { revokeSession, SESSION_COOKIE, type WebSession } from '../core/auth/sessions.ts';
import { consumeSignInToken, SignInLinkInvalidError } from '../core/auth/sign-in-links.ts';

/** Sign-in, sign-out, API keys and the audit log: the organization's account pages. */
export const accountRoutes: FastifyPluginAsync = async (app) => {
  app.get('/', async (request, reply) => {
    const session = await readWebSession(request);
    return reply.redirect(session ? '/contracts' : '/sign-in');
  });

  app.get('/sign-in', async (request, reply) => {
    const session = await readWebSession(request);
    const body = html` <div class="card signin">
      <h1>Sign in to LexiContract</h1>
      <p class="sub">
        Organizations connected to HubSpot sign in by installing or opening the app from HubSpot.
      </p>
      <p><a class="button" href="/api/v1/integrations/hubspot/auth">Sign in with HubSpot</a></p>
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

  async function apiKeysPage(session: WebSession, flash: Flash | null): Promise<string> {
    const keys = await app.db
      .selectFrom('api_keys')
      .select(['id', 'name', 'key_prefix', 'created_at', 'last_used_at', 'revoked_at'])
      .where('organization_id', '=', session.organizationId)
      .orderBy('created_at', 'desc')
      .execute();
    const body = html` <h1>API keys</h1>
      <p class="sub">
        Keys authenticate calls to the LexiContract REST API (<code
          >Authorization: Bearer &lt;key&gt;</code
        >). A key is shown once, when it is created.
      </p>
      <div class="card">
        <form method="post" action="/api-keys" class="row">
          <input type="hidden" name="_csrf" value="${session.csrfToken}" />
          <input
            type="text"
            name="name"
            placeholder="What the key is for"
            maxlength="100"
            required
            class="grow"
          />
          <button type="submit">Create key</button>
        </form>
      </div>
      <table>
        <thead>
          <tr>
            <th>Name</th>
            <th>Key</th>
            <th>Created</th>
            <th>Last used</th>
            <th></th>
          </tr>
        </thead>
        <tbody>
          ${
            keys.length === 0
              ? html`<tr>
                  <td colspan="5" class="muted">No keys yet.</td>
                </tr>`
              : null
          }
          ${keys.map(
            (k) =>
              html`<tr>
                <td>${k.name}</td>
                <td><code>${k.key_prefix}…</code></td>
                <td>${k.created_at.toISOString().slice(0, 16).replace('T', ' ')}</td>
                <td>
                  ${k.last_used_at ? new Date(k.last_used_at).toISOString().slice(0, 16).replace('T', ' ') : '—'}
                </td>
                <td>
                  ${
                    k.revoked_at
                      ? html`<span class="badge bad">revoked</span>`
                      : html`<form class="inline" method="post" action="/api-keys/${k.id}/revoke">
                          <input type="hidden" name="_csrf" value="${session.csrfToken}" /><button
                            class="danger"
                            type="submit"
                          >
                            Revoke
                          </button>
                        </form>`
                  }
                </td>
              </tr>`,
          )}
        </tbody>
      </table>`;
    return page({ title: 'API keys', session, active: '/api-keys', flash, body });
  }

  app.get('/api-keys', { preHandler: requirePageSession }, async (request, reply) => {
    const session = sessionOf(request);
    return reply.type('text/html').send(await apiKeysPage(session, noticeFromQuery(request.query)));
  });

  app.post('/api-keys', { preHandler: requirePageSession }, async (request, reply) => {
    const session = sessionOf(request);
    const { name } = parseInput(
      z.object({ name: z.string().trim().min(1).max(100), _csrf: z.string() }),
      request.body,
      'API key form',
    );
    const created = await createApiKey(app.db, session.organizationId, name);
    await recordAudit(app.db, {
      organizationId: session.organizationId,
      actor: `user:${session.userId}`,
      action: 'api_key.created',
      target: `api_key:${created.id}`,
      outcome: 'success',
      details: { prefix: created.prefix, name },
    });
    const body = html` <h1>API key created</h1>
      <div class="card">
        <p>Copy the key now: it will not be shown again.</p>
        <p><code data-testid="new-api-key">${created.key}</code></p>
        <p><a class="button secondary" href="/api-keys">Done</a></p>
      </div>`;
    return reply
      .header('cache-control', 'no-store')
      .type('text/html')
      .send(page({ title: 'API key created', session, active: '/api-keys', body }));
  });

  app.post('/api-keys/:id/revoke', { preHandler: requirePageSession }, async (request, reply) => {
    const session = sessionOf(request);
    const { id } = parseInput(z.object({ id: z.uuid() }), request.params, 'API key id');
    const revoked = await app.db
      .updateTable('api_keys')
      .set({ revoked_at: new Date() })
      .where('id', '=', id)
      .where('organization_id', '=', session.organizationId)
      .where('revoked_at', 'is', null)
      .returning(['key_prefix'])
      .executeTakeFirst();
    if (!revoked) {
      const existing = await app.db
        .selectFrom('api_keys')
        .select('id')
        .where('id', '=', id)
        .where('organization_id', '=', session.organizationId)
        .executeTakeFirst();
      if (existing) return reply.redirect('/api-keys?notice=api_key_already_revoked');
      // Unknown here (or another organization's, which is the same thing to this user).
      return reply
        .status(404)
        .type('text/html')
        .send(
          await apiKeysPage(session, {
            kind: 'error',
            message: 'No such API key in this organization: nothing was revoked.',
          }),
        );
    }
    await recordAudit(app.db, {
      organizationId: session.organizationId,
      actor: `user:${session.userId}`,
      action: 'api_key.revoked',
      target: `api_key:${id}`,
      outcome: 'success',
      details: { prefix: revoked.key_prefix },
    });
    return reply.redirect('/api-keys?notice=api_key_revoked');
  });

  app.get('/audit-log', { preHandler: requirePageSession }, async (request, reply) => {
    const session = sessionOf(request);
    const rows = await app.db
      .selectFrom('audit_log')
      .select(['id', 'actor', 'action', 'target', 'outcome', 'details', 'created_at'])
      .where('organization_id', '=', session.organizationId)
      .orderBy('id', 'desc')
      .limit(200)
      .execute();
    const badge = (outcome: string) =>
      html`<span
        class="badge ${outcome === 'success' ? 'ok' : outcome === 'refused' ? 'warn' : 'bad'}"
        >${outcome}</span
      >`;
    const body = html` <h1>Audit log</h1>
      <p class="sub">
        Everything done in this organization, newest first (the latest 200 entries).
      </p>
      <table>
        <thead>
          <tr>
            <th>When (UTC)</th>
            <th>Who</th>
            <th>What</th>
            <th>Target</th>
            <th>Outcome</th>
            <th>Details</th>
          </tr>
        </thead>
        <tbody>
          ${
            rows.length === 0
              ? html`<tr>
                  <td colspan="6" class="muted">Nothing yet.</td>
                </tr>`
              : null
          }
          ${rows.map(
            (r) =>
              html`<tr>
                <td>${r.created_at.toISOString().slice(0, 19).replace('T', ' ')}</td>
                <td>${r.actor}</td>
                <td><code>${r.action}</code></td>
                <td>${r.target ?? ''}</td>
                <td>${badge(r.outcome)}</td>
                <td class="muted">${JSON.stringify(r.details)}</td>
              </tr>`,
          )}
        </tbody>
      </table>`;
    return reply
      .type('text/html')
      .send(page({ title: 'Audit log', session, active: '/audit-log', body }));
  });
};
