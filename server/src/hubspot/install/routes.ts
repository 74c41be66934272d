import { randomBytes } from 'node:crypto';

import fastifyOauth2, { type OAuth2Namespace } from '@fastify/oauth2';
import fastifyRateLimit from '@fastify/rate-limit';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';

import { recordAudit } from '../../core/audit/audit-log.ts';
import { safeNextPath } from '../../core/auth/next-path.ts';
import { findOrCreateUser } from '../../core/organizations/users.ts';
import {
  disconnectIntegration,
  findIntegrationByExternalAccount,
  getOrganizationIntegration,
  PortalLinkedToOtherOrganizationError,
  readIntegrationTokens,
} from '../../core/integrations/organization-integrations.ts';
import { DomainError } from '../../platform/errors.ts';
import { html } from '../../platform/http/html.ts';
import {
  readWebSession,
  requireCsrf,
  requirePageSession,
  sessionOf,
  startWebSession,
} from '../../core/auth/session-plugin.ts';
import { HubSpotApiError, hubspotRequest } from '../client/hubspot-http.ts';
import { hubSpotTokenDeps } from '../client/access-tokens.ts';
import { resumePortalSync } from '../outbox/portal-sync.ts';
import { recordCallbackRefusal } from './callback-refusals.ts';
import { completeInstall } from './install-service.ts';
import { resyncOpenContracts } from './reconnect-resync.ts';
import {
  consumeInstallState,
  InstallsBusyError,
  startInstall,
  type ConsumedInstallState,
  type InstallStarter,
  type InstallStateProblem,
} from './install-state.ts';
import {
  classifyExchangeError,
  installCookieOptions,
  OAUTH_DECORATOR,
  oauthPluginOptions,
  tokenSetFrom,
} from './oauth-client.ts';
import { runProvisioning } from './provisioning-runner.ts';
import { introspectAccessToken, revokeRefreshToken } from '../client/token-endpoint.ts';
import { hubspotPaths } from '../wire/api-versions.ts';

/**
 * The HubSpot install (SPEC §7.1): `GET /auth` redirects to HubSpot's consent page with a
 * single-use, browser-bound `state` and PKCE S256; `GET /callback` verifies the state,
 * exchanges the code once, stores the tokens encrypted and provisions the portal. Both are
 * reachable without signing in, so both are rate limited per client address. Disconnect
 * and "retry setup" are form posts from the integrations page.
 */
const BROWSER_COOKIE = 'lxc_oauth';
/**
 * What the person came for, kept across HubSpot's consent page: `sign_in` (the sign-in page's
 * button) or `install`, and the same-origin path to land on afterwards.
 */
const RETURN_COOKIE = 'lxc_oauth_return';

const AuthQuerySchema = z.object({
  intent: z.enum(['sign_in', 'install']).optional(),
  next: z.string().max(400).optional(),
});

interface ReturnTo {
  readonly intent: 'sign_in' | 'install';
  readonly next: string | null;
}

function returnToOf(request: FastifyRequest): ReturnTo {
  const signed = request.cookies[RETURN_COOKIE];
  const unsigned = signed ? request.unsignCookie(signed) : undefined;
  const raw = unsigned?.valid ? unsigned.value : '';
  const cut = raw.indexOf(':');
  const intent = raw.slice(0, cut) === 'sign_in' ? 'sign_in' : 'install';
  return { intent, next: cut < 0 ? null : safeNextPath(raw.slice(cut + 1)) };
}

/**
 * Per client address and route. A real install takes one of each; 30 in 10 minutes leaves
 * room for retries and several admins behind one address, and answers a flood with 429s
 * before it reaches the database.
 */
export const INSTALL_RATE_LIMIT = { max: 30, timeWindow: 10 * 60 * 1000 } as const;

const STATE_PROBLEMS: Record<InstallStateProblem, string> = {
  missing: 'The answer from HubSpot carried no state.',
  unknown: 'The answer from HubSpot does not belong to an install started here.',
  already_used: 'This install answer was already used. Each install link works once.',
  expired: 'The install took longer than ten minutes and expired.',
  other_browser: 'The install was started in another browser.',
};

export class InstallRateLimitedError extends DomainError {
  constructor(after: string) {
    super(
      'rate_limited',
      `Too many install requests from this address. Try again in ${after}.`,
      429,
    );
  }
}

/** Raised from the plugin's state check so the callback can tell it from a failed exchange. */
class InstallStateRefusedError extends Error {
  readonly refusal: Extract<ConsumedInstallState, { ok: false }>;
  constructor(refusal: Extract<ConsumedInstallState, { ok: false }>) {
    super(`install state refused: ${refusal.problem}`);
    this.refusal = refusal;
  }
}

function errorPage(reply: FastifyReply, title: string, message: string, status = 400) {
  const body = html` <div class="card narrow">
    <h1>${title}</h1>
    <p>${message}</p>
    <p>
      <a class="button" href="/api/v1/integrations/hubspot/auth">Start again: Connect HubSpot</a>
      <a class="button secondary" href="/integrations">Back to integrations</a>
    </p>
  </div>`;
  return reply
    .status(status)
    .header('referrer-policy', 'no-referrer')
    .type('text/html')
    .send(reply.server.crmWebKit.page({ title, body }));
}

const CallbackQuerySchema = z.object({
  code: z.string().min(1).max(2048).optional(),
  state: z.string().min(1).max(512).optional(),
  error: z.string().max(200).optional(),
  error_description: z.string().max(2000).optional(),
});

function browserNonceOf(request: FastifyRequest): string | undefined {
  const signed = request.cookies[BROWSER_COOKIE];
  const unsigned = signed ? request.unsignCookie(signed) : undefined;
  return unsigned?.valid && unsigned.value ? unsigned.value : undefined;
}

export const hubspotOAuthRoutes: FastifyPluginAsync = async (app) => {
  // Only the routes below that ask for it (`config.rateLimit`) are limited; this plugin's
  // scope holds no HubSpot-signed intake, whose throughput must not be capped.
  await app.register(fastifyRateLimit, {
    global: false,
    errorResponseBuilder: (_request, context) => new InstallRateLimitedError(context.after),
  });

  // What `/auth` decided for this request, read by the plugin's generateStateFunction; and
  // who started the install, set by its checkStateFunction for `/callback`.
  const starting = new WeakMap<FastifyRequest, InstallStarter & { browserNonce: string }>();
  const started = new WeakMap<FastifyRequest, InstallStarter>();

  const claimState = async (request: FastifyRequest): Promise<ConsumedInstallState> => {
    const query = CallbackQuerySchema.parse(request.query);
    const consumed = await consumeInstallState(app.db, {
      state: query.state,
      browserNonce: browserNonceOf(request),
    });
    if (consumed.ok) started.set(request, consumed.starter);
    return consumed;
  };

  await app.register(
    fastifyOauth2,
    oauthPluginOptions(app.config, {
      generateStateFunction: async (request: FastifyRequest) => {
        const input = starting.get(request);
        if (!input) throw new Error('install state requested outside GET /auth');
        return startInstall(app.db, input);
      },
      checkStateFunction: async (request: FastifyRequest) => {
        const consumed = await claimState(request);
        if (!consumed.ok) throw new InstallStateRefusedError(consumed);
        return true;
      },
    }),
  );
  const oauth = app.getDecorator<OAuth2Namespace>(OAUTH_DECORATOR);
  const rateLimit = { rateLimit: INSTALL_RATE_LIMIT };

  app.get('/auth', { config: rateLimit }, async (request, reply) => {
    const session = await readWebSession(request);
    const browserNonce = browserNonceOf(request) ?? randomBytes(24).toString('base64url');
    void reply.setCookie(BROWSER_COOKIE, browserNonce, installCookieOptions(app.config));
    const asked = AuthQuerySchema.safeParse(request.query);
    const next = asked.success ? safeNextPath(asked.data.next) : null;
    const intent = asked.success && asked.data.intent === 'sign_in' ? 'sign_in' : 'install';
    void reply.setCookie(
      RETURN_COOKIE,
      `${intent}:${next ?? ''}`,
      installCookieOptions(app.config),
    );
    starting.set(request, {
      browserNonce,
      organizationId: session?.organizationId ?? null,
      userId: session?.userId ?? null,
    });
    let target: string;
    try {
      target = await oauth.generateAuthorizationUri(request, reply);
    } catch (error) {
      if (!(error instanceof InstallsBusyError)) throw error;
      void reply.header('retry-after', '600');
      return errorPage(reply, 'HubSpot install is busy', error.message, 503);
    }
    return reply.header('referrer-policy', 'no-referrer').redirect(target);
  });

  app.get('/callback', { config: rateLimit }, async (request, reply) => {
    const parsed = CallbackQuerySchema.safeParse(request.query);
    if (!parsed.success) {
      await recordCallbackRefusal(app.db, request.log, {
        starter: null,
        action: 'hubspot.oauth.callback',
        outcome: 'refused',
        reason: 'malformed',
      });
      return errorPage(reply, 'HubSpot install failed', 'The answer from HubSpot was malformed.');
    }
    const query = parsed.data;

    const refuseState = async (refusal: Extract<ConsumedInstallState, { ok: false }>) => {
      await recordCallbackRefusal(app.db, request.log, {
        starter: refusal.starter,
        action: 'hubspot.oauth.callback',
        outcome: 'refused',
        reason: `state_${refusal.problem}`,
      });
      return errorPage(
        reply,
        'HubSpot install could not be verified',
        STATE_PROBLEMS[refusal.problem],
      );
    };
    const back = (starter: InstallStarter, notice: string) =>
      reply
        .header('referrer-policy', 'no-referrer')
        .redirect(
          starter.organizationId ? `/integrations?notice=${notice}` : `/sign-in?notice=${notice}`,
        );

    if (query.error !== undefined || query.code === undefined) {
      // Nothing to exchange: the state is still used up, and tells whose install it was.
      const consumed = await claimState(request);
      if (!consumed.ok) return refuseState(consumed);
      await recordCallbackRefusal(app.db, request.log, {
        starter: consumed.starter,
        action: 'hubspot.oauth.callback',
        outcome: 'refused',
        // Normalised: the query's `error` is not ours to copy into records.
        reason:
          query.error === undefined
            ? 'no_code'
            : query.error === 'access_denied'
              ? 'access_denied'
              : 'authorize_error',
      });
      return back(consumed.starter, 'hubspot_access_denied');
    }

    let tokens;
    const requestedAt = Date.now();
    try {
      const token = await oauth.getAccessTokenFromAuthorizationCodeFlow(request, reply);
      tokens = tokenSetFrom(token.token, requestedAt);
      if (!tokens) throw new Error('token response had an unexpected shape');
    } catch (error) {
      if (error instanceof InstallStateRefusedError) return refuseState(error.refusal);
      const starter = started.get(request) ?? { organizationId: null, userId: null };
      const failure = classifyExchangeError(error);
      request.log.warn({ reason: failure.reason }, 'HubSpot code exchange failed');
      await recordCallbackRefusal(app.db, request.log, {
        starter,
        action: 'hubspot.oauth.exchange',
        outcome: 'failure',
        reason: failure.reason,
      });
      return back(starter, failure.unreachable ? 'hubspot_unavailable' : 'hubspot_exchange_failed');
    }
    const state = started.get(request) ?? { organizationId: null, userId: null };

    // Introspection names the portal and the installing user for sure (the token response
    // may omit them).
    const info = await introspectAccessToken(app.config.hubspot, tokens.accessToken);
    const portalId = String(info.hub_id);
    const returnTo = returnToOf(request);
    void reply.clearCookie(RETURN_COOKIE, installCookieOptions(app.config));

    // "Sign in with HubSpot" on a portal that is already connected: a sign-in, not an
    // install. The connection (its tokens, "Connected since", provisioning) is left as it is.
    if (returnTo.intent === 'sign_in' && state.organizationId === null) {
      const existing = await findIntegrationByExternalAccount(app.db, 'hubspot', portalId);
      if (existing?.status === 'connected') {
        const user = await findOrCreateUser(app.db, {
          organizationId: existing.organization_id,
          email: info.user ?? `hubspot-user-${String(info.user_id)}@${portalId}.hubspot`,
          hubspotUserId: String(info.user_id),
        });
        await startWebSession(request, reply, {
          userId: user.id,
          organizationId: existing.organization_id,
        });
        await recordAudit(app.db, {
          organizationId: existing.organization_id,
          actor: `user:${user.id}`,
          action: 'web.signed_in',
          outcome: 'success',
          details: { method: 'hubspot', portal: portalId },
        });
        return reply
          .header('referrer-policy', 'no-referrer')
          .redirect(returnTo.next ?? '/contracts');
      }
    }

    let outcome;
    try {
      outcome = await completeInstall(app.db, app.config.tokenEncryptionKeys, {
        sessionOrganizationId: state.organizationId,
        tokens,
        portal: {
          portalId,
          portalDomain: info.hub_domain,
          installerEmail: info.user,
          installerUserId: String(info.user_id),
          scopes: info.scopes,
        },
      });
    } catch (error) {
      if (!(error instanceof PortalLinkedToOtherOrganizationError)) throw error;
      await recordCallbackRefusal(app.db, request.log, {
        starter: state,
        action: 'hubspot.oauth.callback',
        target: `hubspot:portal:${portalId}`,
        outcome: 'refused',
        reason: 'portal_linked_to_other_organization',
      });
      return back(state, 'hubspot_portal_taken');
    }

    // Marketplace installs arrive without a LexiContract session: sign the installer in.
    const current = await readWebSession(request);
    if (current?.organizationId !== outcome.organizationId) {
      await startWebSession(request, reply, {
        userId: outcome.userId,
        organizationId: outcome.organizationId,
      });
    }
    await runProvisioning(
      hubSpotTokenDeps(request.server),
      outcome.integrationId,
      portalId,
      request.log,
    );
    // Deal writes that waited while the portal needed reconnecting go out now, and every
    // open contract's deal is written again: the portal may have lost or changed them.
    if (outcome.reconnected) {
      const deals = await resyncOpenContracts(app.db, app.jobs, {
        organizationId: outcome.organizationId,
        portalId,
        publicBaseUrl: app.config.publicBaseUrl,
      });
      await resumePortalSync(app.db, app.jobs, portalId);
      request.log.info({ portalId, deals }, 'HubSpot reconnected: open contracts re-synced');
    }
    return reply
      .header('referrer-policy', 'no-referrer')
      .redirect(
        returnTo.next ??
          `/integrations?notice=${outcome.reconnected ? 'hubspot_reconnected' : 'hubspot_connected'}`,
      );
  });

  app.post(
    '/disconnect',
    { preHandler: [requirePageSession, requireCsrf] },
    async (request, reply) => {
      const session = sessionOf(request);
      const row = await getOrganizationIntegration(app.db, session.organizationId, 'hubspot');
      if (!row || row.status === 'disconnected')
        return reply.redirect('/integrations?notice=hubspot_not_connected');
      const remote: Record<string, string> = {};
      if (row.access_token_ciphertext) {
        const tokens = await readIntegrationTokens(app.db, app.config.tokenEncryptionKeys, row);
        // Uninstall first (needs the access token), then revoke the refresh token. Failures
        // are recorded but never keep the organization connected against its will.
        try {
          await hubspotRequest(
            app.config.hubspot.apiBaseUrl,
            {
              method: 'DELETE',
              path: hubspotPaths.externalInstall(),
              accessToken: tokens.accessToken,
            },
            z.unknown(),
          );
          remote.uninstall = 'done';
        } catch (error) {
          remote.uninstall =
            error instanceof HubSpotApiError ? `failed_http_${error.status}` : 'failed';
        }
        try {
          await revokeRefreshToken(app.config.hubspot, tokens.refreshToken);
          remote.revoke = 'done';
        } catch (error) {
          remote.revoke =
            error instanceof HubSpotApiError ? `failed_http_${error.status}` : 'failed';
        }
      }
      await disconnectIntegration(app.db, row.id);
      await recordAudit(app.db, {
        organizationId: session.organizationId,
        actor: `user:${session.userId}`,
        action: 'hubspot.disconnected',
        target: `hubspot:portal:${row.external_account_id ?? 'unknown'}`,
        outcome: 'success',
        details: remote,
      });
      return reply.redirect('/integrations?notice=hubspot_disconnected');
    },
  );

  app.post(
    '/provisioning/retry',
    { preHandler: [requirePageSession, requireCsrf] },
    async (request, reply) => {
      const session = sessionOf(request);
      const row = await getOrganizationIntegration(app.db, session.organizationId, 'hubspot');
      if (!row?.external_account_id || row.status !== 'connected') {
        return reply.redirect('/integrations?notice=hubspot_not_connected');
      }
      await runProvisioning(
        hubSpotTokenDeps(request.server),
        row.id,
        row.external_account_id,
        request.log,
      );
      return reply.redirect('/integrations?notice=provisioning_retried');
    },
  );
};
