import type { FastifyOAuth2Options } from '@fastify/oauth2';
import { z } from 'zod';

import type { AppConfig } from '../../platform/config/runtime.ts';
import { OAuthErrorSchema, TokenResponseSchema } from '../wire/oauth.ts';
import { OPTIONAL_SCOPES, REQUIRED_SCOPES } from './scopes.ts';
import { STATE_TTL_MS } from './install-state.ts';
import type { TokenSet } from '../client/token-endpoint.ts';
import { hubspotPaths } from '../wire/api-versions.ts';

/**
 * The browser leg of the install on @fastify/oauth2: it builds the authorize URL (PKCE
 * S256, the verifier in a signed httpOnly cookie of the starting browser) and exchanges the
 * code at HubSpot's date-versioned token path with the client credentials in the form body.
 * The `state` comes from, and is checked against, our own table (`install-state.ts`).
 */
export const OAUTH_DECORATOR = 'hubspotInstall';
export const INSTALL_COOKIE_PATH = '/api/v1/integrations/hubspot';
export const TOKEN_PATH = hubspotPaths.oauthToken();

export function redirectUri(publicBaseUrl: string): string {
  return `${publicBaseUrl}${INSTALL_COOKIE_PATH}/callback`;
}

export function installCookieOptions(config: AppConfig) {
  return {
    path: INSTALL_COOKIE_PATH,
    httpOnly: true,
    // Lax: the cookies must come back on HubSpot's top-level redirect to /callback.
    sameSite: 'lax' as const,
    secure: config.publicBaseUrl.startsWith('https://'),
    signed: true,
    maxAge: Math.floor(STATE_TTL_MS / 1000),
  };
}

export function oauthPluginOptions(
  config: AppConfig,
  state: Pick<FastifyOAuth2Options, 'generateStateFunction' | 'checkStateFunction'>,
): FastifyOAuth2Options {
  const authorize = new URL(config.hubspot.authorizeUrl);
  return {
    name: OAUTH_DECORATOR,
    scope: [...REQUIRED_SCOPES],
    // The plugin passes these through to the authorize URL verbatim (it joins only `scope`),
    // and would write an absent value as "undefined": hence joined here, and only when set.
    callbackUriParams:
      OPTIONAL_SCOPES.length > 0 ? { optional_scope: OPTIONAL_SCOPES.join(' ') } : {},
    callbackUri: redirectUri(config.publicBaseUrl),
    credentials: {
      client: { id: config.hubspot.clientId, secret: config.hubspot.clientSecret },
      auth: {
        authorizeHost: authorize.origin,
        authorizePath: authorize.pathname,
        tokenHost: config.hubspot.apiBaseUrl,
        tokenPath: TOKEN_PATH,
      },
      // HubSpot reads client_id/client_secret from the form body, not HTTP Basic.
      options: { authorizationMethod: 'body', bodyFormat: 'form' },
      http: { timeout: 15_000 },
    },
    pkce: 'S256',
    ...state,
    redirectStateCookieName: 'lxc_oauth_state',
    verifierCookieName: 'lxc_oauth_pkce',
    cookie: installCookieOptions(config),
    userAgent: 'lexicontract-install',
  };
}

/** The plugin hands back HubSpot's JSON as is: checked here like every HubSpot answer. */
export function tokenSetFrom(raw: unknown, requestedAt: number): TokenSet | undefined {
  const parsed = TokenResponseSchema.safeParse(raw);
  if (!parsed.success) return undefined;
  return {
    accessToken: parsed.data.access_token,
    refreshToken: parsed.data.refresh_token,
    expiresAt: new Date(requestedAt + parsed.data.expires_in * 1000),
  };
}

/** What simple-oauth2 (through @hapi/wreck) throws: a Boom error, with the response if any. */
const WreckErrorSchema = z.object({
  isBoom: z.literal(true),
  data: z
    .object({
      res: z.object({ statusCode: z.number().int() }).optional(),
      payload: z.unknown().optional(),
    })
    .nullish(),
});

export interface ExchangeFailure {
  /** HubSpot's OAuth `error` (e.g. `invalid_grant`), `http_<status>`, or `http_0` unreachable. */
  readonly reason: string;
  readonly unreachable: boolean;
}

export function classifyExchangeError(error: unknown): ExchangeFailure {
  const wreck = WreckErrorSchema.safeParse(error);
  if (!wreck.success) return { reason: 'unexpected_response', unreachable: false };
  const status = wreck.data.data?.res?.statusCode;
  if (status === undefined) return { reason: 'http_0', unreachable: true };
  const payload = wreck.data.data?.payload;
  const body = Buffer.isBuffer(payload) ? safeJson(payload.toString('utf8')) : payload;
  const oauthError = OAuthErrorSchema.safeParse(body).data?.error;
  // Reasons become counter keys and audit details: only RFC 6749-shaped codes pass.
  const code = oauthError !== undefined && /^[a-z_]{1,40}$/.test(oauthError);
  return { reason: code ? oauthError : `http_${status}`, unreachable: false };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
