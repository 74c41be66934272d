import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

import {
  TokenInfoRequestSchema,
  TokenRequestSchema,
  type AccessTokenInfo,
  type RefreshTokenInfo,
  type TokenResponse,
} from './wire.ts';
import { SandboxControlError, oauthError } from './errors.ts';
import { sameToken } from './tokens.ts';
import type { SandboxRuntime } from './runtime.ts';
import { pkceChallenge, randomToken, type PortalRecord, type SandboxState } from './state.ts';
import { applyLeanAnswers } from './lean.ts';
import { scopeMeaning } from './scope-meanings.ts';
import { enforceServedVersions } from './versions.ts';

/** A validated `/oauth/authorize` request waiting for the user's decision. */
export interface PendingAuthorization {
  readonly id: string;
  readonly redirectUri: string;
  readonly scopes: string[];
  readonly state: string | undefined;
  readonly codeChallenge: string | undefined;
}

function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

const CONSENT_STYLE = `*{box-sizing:border-box}
body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#33475b;background:#f5f8fa}
.banner{background:#ff7a59;color:#fff;padding:8px 24px;font-weight:600;margin:0}
.sheet{max-width:36rem;margin:2.5rem auto;background:#fff;border:1px solid #cbd6e2;border-radius:8px;padding:2rem 2.25rem;box-shadow:0 2px 8px rgba(45,62,80,.08)}
h1{font-size:1.4rem;margin:0 0 .25rem}.lead{color:#516f90;margin:0 0 1.25rem}
.scopes{list-style:none;margin:0 0 1.25rem;padding:0;border:1px solid #dfe3eb;border-radius:6px}
.scopes li{padding:.6rem .9rem;border-top:1px solid #eaf0f6;display:flex;flex-direction:column}.scopes li:first-child{border-top:0}
.scopes code{font-size:.75rem;color:#7c98b6}
label{display:block;font-weight:600;margin-bottom:1rem}label select,label input{display:block;width:100%;margin-top:.35rem;font:inherit;padding:.45rem .6rem;border:1px solid #cbd6e2;border-radius:4px;background:#f5f8fa}
.actions{display:flex;gap:.75rem}button{font:inherit;font-weight:600;padding:.55rem 1.4rem;border-radius:4px;border:1px solid #ff7a59;cursor:pointer}
button[value=approve]{background:#ff7a59;color:#fff}button[value=deny]{background:#fff;color:#ff7a59}
.fine{font-size:.8rem;color:#7c98b6;margin-top:1.25rem}`;

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)} · HubSpot sandbox</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><link rel="icon" href="data:,"><style>${CONSENT_STYLE}</style>
</head><body><p class="banner">HubSpot SANDBOX: a local stand-in for HubSpot. Nothing here is a real HubSpot account.</p><div class="sheet">${body}</div></body></html>`;
}

function splitScopes(value: string | null): string[] {
  return (value ?? '').split(/[\s+]+/).filter((s) => s.length > 0);
}

/** Checks an authorize request like HubSpot; returns the problem or the pending request. */
export function validateAuthorizeRequest(
  state: SandboxState,
  params: URLSearchParams,
): { ok: true; pending: PendingAuthorization } | { ok: false; problem: string } {
  const app = state.app;
  if (params.get('client_id') !== app.clientId) {
    return { ok: false, problem: 'Unknown client_id: no app is registered with this client id.' };
  }
  const redirectUri = params.get('redirect_uri') ?? '';
  let parsed: URL;
  try {
    parsed = new URL(redirectUri);
  } catch {
    return { ok: false, problem: 'redirect_uri is missing or not an absolute URL.' };
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    return { ok: false, problem: 'redirect_uri must be an http(s) URL.' };
  }
  const registered = app.redirectUrls ?? [];
  if (registered.length > 0 && !registered.includes(redirectUri)) {
    return {
      ok: false,
      problem: 'redirect_uri does not match any redirect URL registered for this app.',
    };
  }
  const scopes = splitScopes(params.get('scope'));
  const optional = splitScopes(params.get('optional_scope'));
  if (scopes.length === 0) return { ok: false, problem: 'scope is required.' };
  const required = app.requiredScopes;
  if (required && required.length > 0) {
    const declaredOptional = app.optionalScopes ?? [];
    const undeclared = [
      ...scopes.filter((s) => !required.includes(s)),
      ...optional.filter((s) => !required.includes(s) && !declaredOptional.includes(s)),
    ];
    if (undeclared.length > 0) {
      return { ok: false, problem: `Scopes not declared by the app: ${undeclared.join(', ')}.` };
    }
    const missing = required.filter((s) => !scopes.includes(s));
    if (missing.length > 0) {
      return {
        ok: false,
        problem: `Scope mismatch: required scopes missing from scope: ${missing.join(', ')}.`,
      };
    }
  }
  const codeChallenge = params.get('code_challenge') ?? undefined;
  if (codeChallenge !== undefined) {
    if (params.get('code_challenge_method') !== 'S256') {
      return { ok: false, problem: 'code_challenge_method must be S256.' };
    }
    if (!/^[A-Za-z0-9_-]{43}$/.test(codeChallenge)) {
      return { ok: false, problem: 'code_challenge must be a base64url SHA-256 (43 characters).' };
    }
  }
  return {
    ok: true,
    pending: {
      id: randomToken(),
      redirectUri,
      scopes: [...new Set([...scopes, ...optional])],
      state: params.get('state') ?? undefined,
      codeChallenge,
    },
  };
}

/** Applies the user's decision: returns the URL HubSpot redirects the browser to. */
export function decideAuthorization(
  state: SandboxState,
  pending: PendingAuthorization,
  decision: { deny: boolean; portalId: number | 'new' },
): { redirectUrl: string; portalId?: number } {
  const target = new URL(pending.redirectUri);
  if (decision.deny) {
    target.searchParams.set('error', 'access_denied');
    target.searchParams.set('error_description', 'The user denied the app access.');
    if (pending.state !== undefined) target.searchParams.set('state', pending.state);
    return { redirectUrl: target.toString() };
  }
  const portal: PortalRecord =
    decision.portalId === 'new' ? state.createPortal() : state.portal(decision.portalId);
  portal.installed = true;
  portal.installedScopes = pending.scopes;
  const user = state.defaultUser(portal);
  const code = randomToken();
  state.authCodes.set(code, {
    code,
    portalId: portal.portalId,
    userId: user.id,
    scopes: pending.scopes,
    redirectUri: pending.redirectUri,
    codeChallenge: pending.codeChallenge,
    expiresAt: state.now() + state.authCodeTtlSeconds * 1000,
    used: false,
    issuedAccessTokens: [],
    issuedRefreshTokens: [],
  });
  target.searchParams.set('code', code);
  if (pending.state !== undefined) target.searchParams.set('state', pending.state);
  return { redirectUrl: target.toString(), portalId: portal.portalId };
}

function tokenResponse(
  state: SandboxState,
  access: { token: string; userId: number; portalId: number; scopes: string[]; expiresAt: number },
  refreshToken: string,
): TokenResponse {
  return {
    access_token: access.token,
    refresh_token: refreshToken,
    expires_in: Math.round((access.expiresAt - state.now()) / 1000),
    token_type: 'bearer',
    token_use: 'access_token',
    hub_id: access.portalId,
    user_id: access.userId,
    scopes: access.scopes,
  };
}

/** Issues tokens for an install made without the browser flow (tests, sandbox mode). */
export function installDirectly(
  state: SandboxState,
  portalId: number,
  opts: { scopes?: string[]; userId?: number } = {},
): TokenResponse {
  const portal = state.portal(portalId);
  const userId = opts.userId ?? state.defaultUser(portal).id;
  if (!state.userOf(portal, userId)) throw new SandboxControlError(`unknown user ${userId}`, 400);
  const scopes = opts.scopes ?? [
    ...(state.app.requiredScopes ?? []),
    ...(state.app.optionalScopes ?? []),
  ];
  portal.installed = true;
  portal.installedScopes = scopes;
  const { access, refresh } = state.issueTokens(portal, userId, scopes);
  return tokenResponse(state, access, refresh.token);
}

function isFormRequest(request: FastifyRequest): boolean {
  const type = request.headers['content-type'];
  return (
    typeof type === 'string' &&
    type.split(';')[0]?.trim().toLowerCase() === 'application/x-www-form-urlencoded'
  );
}

function formBody(request: FastifyRequest): Record<string, string> {
  const hasQuery = Object.keys(request.query as Record<string, unknown>).length > 0;
  if (!isFormRequest(request) || hasQuery) {
    throw oauthError(
      400,
      'invalid_request',
      'BAD_REQUEST',
      'Parameters must be sent in an application/x-www-form-urlencoded request body.',
    );
  }
  return (request.body ?? {}) as Record<string, string>;
}

function checkClient(state: SandboxState, clientId: string, clientSecret: string): void {
  if (clientId !== state.app.clientId || clientSecret !== state.app.clientSecret) {
    throw oauthError(401, 'invalid_client', 'BAD_CLIENT_ID', 'Invalid client_id or client_secret.');
  }
}

/**
 * `controlToken` set (a sandbox reachable beyond loopback): whoever reaches the consent page
 * could otherwise pick any portal and so sign in to LexiContract as its organization. Then
 * an existing portal is installed into only with the token; without it, the install creates
 * a new test portal (a new, empty organization), which exposes nobody's data.
 */
export async function oauthRoutes(
  app: FastifyInstance,
  runtime: SandboxRuntime,
  options: { controlToken?: string | undefined } = {},
): Promise<void> {
  // Registered first in the sandbox's scope: the hook covers the API routes as well.
  enforceServedVersions(app);
  applyLeanAnswers(app, () => runtime.leanAnswers);
  const state = runtime.state;
  const { controlToken } = options;
  const pending = new Map<string, PendingAuthorization>();

  app.get('/oauth/authorize', async (request, reply) => {
    const params = new URLSearchParams(request.url.split('?')[1] ?? '');
    const result = validateAuthorizeRequest(state, params);
    void reply.type('text/html; charset=utf-8');
    if (!result.ok) {
      return reply
        .code(400)
        .send(
          page(
            'Install failed',
            `<h1>Couldn't install the app</h1><p>${escapeHtml(result.problem)}</p>`,
          ),
        );
    }
    pending.set(result.pending.id, result.pending);
    const appName = state.app.name ?? 'LexiContract';
    const portals = [...state.portals.values()]
      .map((p) => `<option value="${p.portalId}">${escapeHtml(p.name)} (${p.portalId})</option>`)
      .join('');
    const scopes = result.pending.scopes
      .map(
        (s) => `<li><span>${escapeHtml(scopeMeaning(s))}</span><code>${escapeHtml(s)}</code></li>`,
      )
      .join('');
    return reply.send(
      page(
        `Connect ${appName}`,
        `<h1>Connect ${escapeHtml(appName)} to HubSpot</h1>
<p class="lead">${escapeHtml(appName)} is asking for access to the account you choose. It will be able to:</p>
<ul class="scopes" data-testid="consent-scopes">${scopes}</ul>
<form method="post" action="/oauth/authorize/decision">
<input type="hidden" name="request_id" value="${escapeHtml(result.pending.id)}">
<label>Install into account <select name="portal_id">${portals}<option value="new">Create a test portal</option></select></label>${
          controlToken !== undefined
            ? `
<label>Sandbox token (needed for an existing account) <input type="password" name="sandbox_token" autocomplete="off"></label>`
            : ''
        }
<p class="actions"><button type="submit" name="decision" value="approve">Approve</button>
<button type="submit" name="decision" value="deny">Deny</button></p>
</form>
<p class="fine">Approving sends you back to ${escapeHtml(new URL(result.pending.redirectUri).origin)} with an authorization code, as HubSpot does.</p>`,
      ),
    );
  });

  app.post('/oauth/authorize/decision', async (request, reply) => {
    const body = (request.body ?? {}) as Record<string, string | undefined>;
    const entry = body.request_id ? pending.get(body.request_id) : undefined;
    void reply.type('text/html; charset=utf-8');
    if (!entry) {
      return reply
        .code(400)
        .send(
          page(
            'Install failed',
            '<h1>This install request expired</h1><p>Start the install again.</p>',
          ),
        );
    }
    pending.delete(entry.id);
    const portalChoice =
      body.portal_id === 'new' || body.portal_id === undefined ? 'new' : Number(body.portal_id);
    if (portalChoice !== 'new' && !state.portals.has(portalChoice)) {
      return reply.code(400).send(page('Install failed', '<h1>Unknown account</h1>'));
    }
    if (
      portalChoice !== 'new' &&
      controlToken !== undefined &&
      !sameToken(body.sandbox_token, controlToken)
    ) {
      return reply
        .code(403)
        .send(
          page(
            'Install failed',
            '<h1>This account needs the sandbox token</h1><p>Installing into an existing account needs the token the sandbox printed at start; without it, choose "Create a test portal".</p>',
          ),
        );
    }
    const { redirectUrl } = decideAuthorization(state, entry, {
      deny: body.decision !== 'approve',
      portalId: portalChoice,
    });
    return reply.redirect(redirectUrl, 302);
  });

  app.post('/oauth/:version/token', async (request, reply) => {
    const grantType = (request.body as Record<string, unknown> | undefined)?.grant_type;
    const record = (status: number, extra: { portalId?: number; error?: string } = {}): void => {
      runtime.tokenCalls.push({
        grantType: typeof grantType === 'string' ? grantType : '(none)',
        status,
        time: state.now(),
        ...extra,
      });
    };
    let response: TokenResponse;
    try {
      const form = formBody(request);
      const parsed = TokenRequestSchema.safeParse(form);
      if (!parsed.success) {
        if (form.grant_type !== 'authorization_code' && form.grant_type !== 'refresh_token') {
          throw oauthError(
            400,
            'unsupported_grant_type',
            'BAD_GRANT_TYPE',
            'grant_type must be authorization_code or refresh_token.',
          );
        }
        throw oauthError(
          400,
          'invalid_request',
          'BAD_REQUEST',
          `Missing or invalid parameters: ${parsed.error.issues.map((i) => i.path.join('.')).join(', ')}`,
        );
      }
      const input = parsed.data;
      checkClient(state, input.client_id, input.client_secret);
      if (input.grant_type === 'authorization_code') {
        const code = state.authCodes.get(input.code);
        if (!code)
          throw oauthError(400, 'invalid_grant', 'BAD_AUTH_CODE', 'missing or unknown auth code');
        if (code.used) {
          // RFC 6749 §4.1.2: a reused code revokes what it issued.
          for (const t of code.issuedAccessTokens) {
            const access = state.accessTokens.get(t);
            if (access) access.revoked = true;
          }
          for (const t of code.issuedRefreshTokens) {
            const refresh = state.refreshTokens.get(t);
            if (refresh) refresh.revoked = true;
          }
          throw oauthError(
            400,
            'invalid_grant',
            'BAD_AUTH_CODE',
            'auth code has already been used',
          );
        }
        if (state.now() >= code.expiresAt) {
          throw oauthError(400, 'invalid_grant', 'BAD_AUTH_CODE', 'auth code has expired');
        }
        if (input.redirect_uri !== code.redirectUri) {
          throw oauthError(
            400,
            'invalid_grant',
            'BAD_REDIRECT_URI',
            'redirect_uri does not match the one used to get the auth code',
          );
        }
        if (code.codeChallenge !== undefined) {
          if (
            input.code_verifier === undefined ||
            pkceChallenge(input.code_verifier) !== code.codeChallenge
          ) {
            throw oauthError(
              400,
              'invalid_grant',
              'BAD_CODE_VERIFIER',
              'code_verifier does not match the code_challenge',
            );
          }
        } else if (input.code_verifier !== undefined) {
          throw oauthError(
            400,
            'invalid_grant',
            'BAD_CODE_VERIFIER',
            'code_verifier sent but no code_challenge was used',
          );
        }
        const portal = state.portal(code.portalId);
        if (!portal.installed) {
          throw oauthError(
            400,
            'invalid_grant',
            'BAD_AUTH_CODE',
            'the app is not installed in this account',
          );
        }
        code.used = true;
        const { access, refresh } = state.issueTokens(portal, code.userId, code.scopes);
        code.issuedAccessTokens.push(access.token);
        code.issuedRefreshTokens.push(refresh.token);
        response = tokenResponse(state, access, refresh.token);
      } else {
        const refresh = state.refreshTokens.get(input.refresh_token);
        if (!refresh || refresh.revoked || !state.portal(refresh.portalId).installed) {
          throw oauthError(
            400,
            'invalid_grant',
            'BAD_REFRESH_TOKEN',
            'missing or unknown refresh token',
          );
        }
        const access = state.issueAccessToken(refresh);
        response = tokenResponse(state, access, refresh.token);
      }
    } catch (error) {
      const status = (error as { statusCode?: number }).statusCode ?? 500;
      const body = (error as { body?: { error?: string } }).body;
      record(status, body?.error ? { error: body.error } : {});
      throw error;
    }
    record(200, { portalId: response.hub_id });
    return reply.code(200).send(response);
  });

  app.post('/oauth/:version/token/introspect', async (request, reply) => {
    const form = formBody(request);
    const parsed = TokenInfoRequestSchema.safeParse(form);
    if (!parsed.success) {
      throw oauthError(
        400,
        'invalid_request',
        'BAD_REQUEST',
        'client_id, client_secret and token are required',
      );
    }
    checkClient(state, parsed.data.client_id, parsed.data.client_secret);
    const now = state.now();
    const access = state.accessTokens.get(parsed.data.token);
    if (access && !access.revoked && now < access.expiresAt) {
      const portal = state.portal(access.portalId);
      const info: AccessTokenInfo = {
        active: true,
        token_use: 'access_token',
        token: access.token,
        token_type: 'bearer',
        app_id: Number(state.app.appId),
        client_id: state.app.clientId,
        hub_id: portal.portalId,
        hub_domain: portal.domain,
        user: state.userOf(portal, access.userId)?.email,
        user_id: access.userId,
        scopes: access.scopes,
        expires_in: Math.floor((access.expiresAt - now) / 1000),
        is_private_distribution: false,
        signed_access_token: {
          appId: Number(state.app.appId),
          hubId: portal.portalId,
          userId: access.userId,
          installingUserId: access.userId,
          expiresAt: access.expiresAt,
          scopes: access.scopes.join(' '),
          hublet: 'na1',
          isUserLevel: false,
          isPrivateDistribution: false,
          isServiceAccount: false,
          // Required by `SignedAccessToken` in the 2026-03 spec; the sandbox has no real
          // signing, install ids or trial scopes, so these are stable placeholders.
          appInstallId: `${state.app.appId}-${portal.portalId}`,
          audience: state.app.clientId,
          signature: '',
          newSignature: '',
          scopeToScopeGroupPks: '',
          trialScopes: '',
          trialScopeToScopeGroupPks: '',
        },
      };
      return reply.send(info);
    }
    const refresh = state.refreshTokens.get(parsed.data.token);
    if (refresh && !refresh.revoked) {
      const portal = state.portal(refresh.portalId);
      const info: RefreshTokenInfo = {
        active: true,
        token_use: 'refresh_token',
        token: refresh.token,
        token_type: 'bearer',
        app_id: Number(state.app.appId),
        client_id: state.app.clientId,
        hub_id: portal.portalId,
        hub_domain: portal.domain,
        user: state.userOf(portal, refresh.userId)?.email,
        user_id: refresh.userId,
        scopes: refresh.scopes,
      };
      return reply.send(info);
    }
    return reply.send({ active: false });
  });

  app.post('/oauth/:version/token/revoke', async (request, reply) => {
    const form = formBody(request);
    const parsed = TokenInfoRequestSchema.safeParse(form);
    if (!parsed.success) {
      throw oauthError(
        400,
        'invalid_request',
        'BAD_REQUEST',
        'client_id, client_secret and token are required',
      );
    }
    checkClient(state, parsed.data.client_id, parsed.data.client_secret);
    // Revoking a refresh token does not uninstall the app nor end issued access tokens.
    const refresh = state.refreshTokens.get(parsed.data.token);
    if (refresh) refresh.revoked = true;
    const access = state.accessTokens.get(parsed.data.token);
    if (access) access.revoked = true;
    return reply.code(200).send();
  });

  app.delete('/appinstalls/:version/external-install', async (request, reply: FastifyReply) => {
    const { portal } = runtime.authenticate(request, reply, ['oauth']);
    state.uninstall(portal.portalId);
    return reply.code(204).send();
  });
}
