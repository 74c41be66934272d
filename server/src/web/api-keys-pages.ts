import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';

import { recordAudit } from '../core/audit/audit-log.ts';
import { sessionOf } from '../core/auth/session-plugin.ts';
import type { WebSession } from '../core/auth/sessions.ts';
import { createApiKey } from '../core/organizations/api-keys.ts';
import { NotFoundError } from '../platform/errors.ts';
import { html, type SafeHtml } from '../platform/http/html.ts';
import { parseInput } from '../platform/http/validation.ts';
import { utc } from './format.ts';
import { page, type Flash } from './layout.ts';
import { noticeFromQuery } from './notices.ts';
import { setOnceFlash, takeOnceFlash } from './once-flash.ts';
import { requireSignedIn } from './sign-in-gate.ts';

const PATH = '/api-keys';

/**
 * The organization's API keys. Creating one is POST → redirect → GET: the new key travels
 * to the GET in a sealed once-flash (`once-flash.ts`), so a reload shows the list and never
 * mints a second key. Revoking asks first on a page of its own (no inline `confirm()`).
 */
export const apiKeysPages: FastifyPluginAsync = async (app) => {
  const csrf = (session: WebSession) =>
    html`<input type="hidden" name="_csrf" value="${session.csrfToken}" />`;

  function newKeyCard(key: string): SafeHtml {
    const curl = `curl -H "Authorization: Bearer ${key}" ${app.config.publicBaseUrl}/api/v1/contracts`;
    return html`<div class="card" data-testid="new-key-card">
      <h2>New API key</h2>
      <p>Copy the key now: it will not be shown again.</p>
      <p class="row">
        <code id="new-api-key" class="grow wrap" data-testid="new-api-key">${key}</code>
        <button type="button" class="secondary" data-copy="new-api-key">Copy</button>
      </p>
      <p class="muted">Try it:</p>
      <pre class="wrap" id="new-api-key-curl">${curl}</pre>
      <p>
        <button type="button" class="secondary" data-copy="new-api-key-curl">Copy command</button>
      </p>
    </div>`;
  }

  async function listPage(session: WebSession, flash: Flash | null, newKey: string | null) {
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
      ${newKey ? newKeyCard(newKey) : null}
      <div class="card">
        <form method="post" action="${PATH}" class="row">
          ${csrf(session)}
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
                <td>${utc(k.created_at)}</td>
                <td>${k.last_used_at ? utc(k.last_used_at) : '—'}</td>
                <td>
                  ${
                    k.revoked_at
                      ? html`<span class="badge bad">revoked ${utc(k.revoked_at)}</span>`
                      : html`<a
                          class="button danger"
                          href="${PATH}/${k.id}/revoke"
                          data-testid="revoke-key"
                          >Revoke</a
                        >`
                  }
                </td>
              </tr>`,
          )}
        </tbody>
      </table>`;
    return page({ title: 'API keys', session, active: PATH, flash, body });
  }

  app.get(PATH, { preHandler: requireSignedIn }, async (request, reply) => {
    const session = sessionOf(request);
    const newKey = takeOnceFlash(request, reply, { path: PATH, boundTo: session.csrfToken });
    return reply
      .type('text/html')
      .send(await listPage(session, noticeFromQuery(request.query), newKey));
  });

  app.post(PATH, { preHandler: requireSignedIn }, async (request, reply) => {
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
    setOnceFlash(request, reply, { path: PATH, boundTo: session.csrfToken, value: created.key });
    return reply.redirect(PATH, 303);
  });

  async function ownKey(session: WebSession, id: string) {
    const key = await app.db
      .selectFrom('api_keys')
      .select(['id', 'name', 'key_prefix', 'created_at', 'revoked_at'])
      .where('id', '=', id)
      .where('organization_id', '=', session.organizationId)
      .executeTakeFirst();
    // Unknown here, or another organization's: the same thing to this user.
    if (!key) throw new NotFoundError('api_key_not_found', 'No such API key in this organization.');
    return key;
  }

  const IdSchema = z.object({ id: z.uuid() });

  app.get(`${PATH}/:id/revoke`, { preHandler: requireSignedIn }, async (request, reply) => {
    const session = sessionOf(request);
    const parsed = IdSchema.safeParse(request.params);
    if (!parsed.success)
      throw new NotFoundError('api_key_not_found', 'No such API key in this organization.');
    const key = await ownKey(session, parsed.data.id);
    if (key.revoked_at) return reply.redirect(`${PATH}?notice=api_key_already_revoked`);
    const body = html`<div class="card narrow">
      <h1>Revoke API key?</h1>
      <p>
        <strong>${key.name}</strong> (<code>${key.key_prefix}…</code>, created
        ${utc(key.created_at)}) stops working at once. Programs using it get 401 answers.
      </p>
      <form method="post" action="${PATH}/${key.id}/revoke" class="row">
        ${csrf(session)}
        <button class="danger" type="submit" data-testid="confirm-revoke">Revoke key</button>
        <a class="button secondary" href="${PATH}">Keep it</a>
      </form>
    </div>`;
    return reply
      .type('text/html')
      .send(page({ title: 'Revoke API key', session, active: PATH, body }));
  });

  app.post(`${PATH}/:id/revoke`, { preHandler: requireSignedIn }, async (request, reply) => {
    const session = sessionOf(request);
    const parsed = IdSchema.safeParse(request.params);
    if (!parsed.success)
      throw new NotFoundError('api_key_not_found', 'No such API key in this organization.');
    const { id } = parsed.data;
    const revoked = await app.db
      .updateTable('api_keys')
      .set({ revoked_at: new Date() })
      .where('id', '=', id)
      .where('organization_id', '=', session.organizationId)
      .where('revoked_at', 'is', null)
      .returning(['key_prefix'])
      .executeTakeFirst();
    if (!revoked) {
      await ownKey(session, id);
      return reply.redirect(`${PATH}?notice=api_key_already_revoked`);
    }
    await recordAudit(app.db, {
      organizationId: session.organizationId,
      actor: `user:${session.userId}`,
      action: 'api_key.revoked',
      target: `api_key:${id}`,
      outcome: 'success',
      details: { prefix: revoked.key_prefix },
    });
    return reply.redirect(`${PATH}?notice=api_key_revoked`);
  });
};
