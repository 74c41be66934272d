import { randomBytes } from 'node:crypto';

import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { z } from 'zod';

import { recordAudit } from '../../core/audit/audit-log.ts';
import {
  disconnectIntegration,
  getOrganizationIntegration,
  PortalLinkedToOtherOrganizationError,
  readIntegrationTokens,
} from '../../core/integrations/organization-integrations.ts';
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
import { completeInstall } from './install-service.ts';
import {
  consumeInstallState,
  purgeExpiredInstallStates,
  startInstall,
  STATE_TTL_MS,
  type InstallStateProblem,
} from './install-state.ts';
import { runProvisioning } from './provisioning-runner.ts';
import { OPTIONAL_SCOPES, REQUIRED_SCOPES } from './scopes.ts';
import {
  exchangeAuthorizationCode,
  introspectAccessToken,
  revokeRefreshToken,
} from '../client/token-endpoint.ts';

/**
 * The HubSpot install (SPEC §7.1): `GET /auth` redirects to HubSpot's consent page with a
 * single-use, browser-bound `state` and PKCE S256; `GET /callback` verifies the state,
 * exchanges the code once, stores the tokens encrypted and provisions the portal.
 * Disconnect and "retry setup" are form posts from the integrations page.
 */
const BROWSER_COOKIE = 'lxc_oauth';

const STATE_PROBLEMS: Record<InstallStateProblem, string> = {
  missing: 'The answer from HubSpot carried no state.',
  unknown: 'The answer from HubSpot does not belong to an install started here.',
  already_used: 'This install answer was already used. Each install link works once.',
  expired: 'The install took longer than ten minutes and expired.',
  other_browser: 'The install was started in another browser.',
};

function redirectUri(publicBaseUrl: string): string {
  return `${publicBaseUrl}/api/v1/integrations/hubspot/callback`;
}

function errorPage(reply: FastifyReply, title: string, message: string, status = 400) {
  const body = html` <div class="card" style="max-width:620px;margin:40px auto">
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

export const hubspotOAuthRoutes: FastifyPluginAsync = async (app) => {
  app.get('/auth', async (request, reply) => {
    const session = await readWebSession(request);
    const signed = request.cookies[BROWSER_COOKIE];
    const existing = signed ? request.unsignCookie(signed) : undefined;
    const browserNonce =
      existing?.valid && existing.value ? existing.value : randomBytes(24).toString('base64url');
    const { state, codeChallenge } = await startInstall(app.db, {
      browserNonce,
      organizationId: session?.organizationId ?? null,
      userId: session?.userId ?? null,
    });
    void reply.setCookie(BROWSER_COOKIE, browserNonce, {
      path: '/api/v1/integrations/hubspot',
      httpOnly: true,
      // Lax: the cookie must come back on HubSpot's top-level redirect to /callback.
      sameSite: 'lax',
      secure: app.config.publicBaseUrl.startsWith('https://'),
      signed: true,
      maxAge: Math.floor(STATE_TTL_MS / 1000),
    });
    const target = new URL(app.config.hubspot.authorizeUrl);
    target.searchParams.set('client_id', app.config.hubspot.clientId);
    target.searchParams.set('redirect_uri', redirectUri(app.config.publicBaseUrl));
    target.searchParams.set('scope', REQUIRED_SCOPES.join(' '));
    if (OPTIONAL_SCOPES.length > 0)
      target.searchParams.set('optional_scope', OPTIONAL_SCOPES.join(' '));
    target.searchParams.set('state', state);
    target.searchParams.set('code_challenge', codeChallenge);
    target.searchParams.set('code_challenge_method', 'S256');
    void purgeExpiredInstallStates(app.db).catch((err: unknown) => {
      request.log.warn({ err }, 'could not purge old install states');
    });
    return reply.header('referrer-policy', 'no-referrer').redirect(target.toString());
  });

  app.get('/callback', async (request, reply) => {
    const parsed = CallbackQuerySchema.safeParse(request.query);
    if (!parsed.success)
      return errorPage(reply, 'HubSpot install failed', 'The answer from HubSpot was malformed.');
    const query = parsed.data;
    const signed = request.cookies[BROWSER_COOKIE];
    const unsigned = signed ? request.unsignCookie(signed) : undefined;
    const checked = await consumeInstallState(app.db, {
      state: query.state,
      browserNonce: unsigned?.valid ? unsigned.value : undefined,
    });
    if (!checked.ok) {
      await recordAudit(app.db, {
        organizationId: null,
        actor: 'anonymous',
        action: 'hubspot.oauth.callback',
        outcome: 'refused',
        details: { reason: `state_${checked.problem}` },
      });
      return errorPage(
        reply,
        'HubSpot install could not be verified',
        STATE_PROBLEMS[checked.problem],
      );
    }
    const state = checked.value;
    const back = (notice: string) =>
      reply
        .header('referrer-policy', 'no-referrer')
        .redirect(
          state.organizationId ? `/integrations?notice=${notice}` : `/sign-in?notice=${notice}`,
        );

    if (query.error !== undefined || query.code === undefined) {
      await recordAudit(app.db, {
        organizationId: state.organizationId,
        actor: state.userId ? `user:${state.userId}` : 'anonymous',
        action: 'hubspot.oauth.callback',
        outcome: 'refused',
        details: { reason: query.error ?? 'no_code' },
      });
      return back('hubspot_access_denied');
    }

    let tokens;
    try {
      tokens = await exchangeAuthorizationCode(app.config.hubspot, {
        code: query.code,
        redirectUri: redirectUri(app.config.publicBaseUrl),
        codeVerifier: state.codeVerifier,
      });
    } catch (error) {
      const reason =
        error instanceof HubSpotApiError
          ? (error.oauthError ?? `http_${error.status}`)
          : 'unexpected_response';
      request.log.warn({ reason }, 'HubSpot code exchange failed');
      await recordAudit(app.db, {
        organizationId: state.organizationId,
        actor: state.userId ? `user:${state.userId}` : 'anonymous',
        action: 'hubspot.oauth.exchange',
        outcome: 'failure',
        details: { reason },
      });
      return back(
        error instanceof HubSpotApiError && error.status === 0
          ? 'hubspot_unavailable'
          : 'hubspot_exchange_failed',
      );
    }

    // Introspection names the portal and the installing user for sure (the token response
    // may omit them).
    const info = await introspectAccessToken(app.config.hubspot, tokens.accessToken);
    const portalId = String(info.hub_id);

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
      await recordAudit(app.db, {
        organizationId: state.organizationId,
        actor: state.userId ? `user:${state.userId}` : 'anonymous',
        action: 'hubspot.oauth.callback',
        target: `hubspot:portal:${portalId}`,
        outcome: 'refused',
        details: { reason: 'portal_linked_to_other_organization' },
      });
      return back('hubspot_portal_taken');
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
    // Deal writes that waited while the portal needed reconnecting go out now.
    if (outcome.reconnected) await resumePortalSync(app.db, app.jobs, portalId);
    return reply
      .header('referrer-policy', 'no-referrer')
      .redirect(
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
              path: '/appinstalls/2026-03/external-install',
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
