import { z } from 'zod';

import type { HubSpotAppConfig } from '../../platform/config/runtime.ts';
import { hubspotRequest } from './hubspot-http.ts';
import { AccessTokenInfoSchema, TokenResponseSchema } from '../wire/oauth.ts';
import { hubspotPaths } from '../wire/api-versions.ts';

/**
 * HubSpot's OAuth token endpoints (`OAUTH_API_VERSION`). Parameters always travel in a form body, never
 * the query string, so no secret reaches an access log. The code exchange of the install is
 * done by @fastify/oauth2 (`oauth-client.ts`); the refresh stays here, under the
 * cross-process lock of `access-tokens.ts`.
 */

export interface TokenSet {
  readonly accessToken: string;
  readonly refreshToken: string;
  readonly expiresAt: Date;
}

function toTokenSet(body: z.output<typeof TokenResponseSchema>, now: number): TokenSet {
  return {
    accessToken: body.access_token,
    refreshToken: body.refresh_token,
    expiresAt: new Date(now + body.expires_in * 1000),
  };
}

export async function refreshAccessToken(
  hubspot: HubSpotAppConfig,
  refreshToken: string,
): Promise<TokenSet> {
  const started = Date.now();
  const { body } = await hubspotRequest(
    hubspot.apiBaseUrl,
    {
      method: 'POST',
      path: hubspotPaths.oauthToken(),
      form: {
        grant_type: 'refresh_token',
        client_id: hubspot.clientId,
        client_secret: hubspot.clientSecret,
        refresh_token: refreshToken,
      },
      timeoutMs: 15_000,
    },
    TokenResponseSchema,
  );
  return toTokenSet(body, started);
}

export async function introspectAccessToken(
  hubspot: HubSpotAppConfig,
  accessToken: string,
): Promise<z.output<typeof AccessTokenInfoSchema>> {
  const { body } = await hubspotRequest(
    hubspot.apiBaseUrl,
    {
      method: 'POST',
      path: hubspotPaths.oauthIntrospect(),
      form: {
        client_id: hubspot.clientId,
        client_secret: hubspot.clientSecret,
        token: accessToken,
        token_type_hint: 'access_token',
      },
      timeoutMs: 15_000,
    },
    AccessTokenInfoSchema,
  );
  return body;
}

export async function revokeRefreshToken(
  hubspot: HubSpotAppConfig,
  refreshToken: string,
): Promise<void> {
  await hubspotRequest(
    hubspot.apiBaseUrl,
    {
      method: 'POST',
      path: hubspotPaths.oauthRevoke(),
      form: {
        client_id: hubspot.clientId,
        client_secret: hubspot.clientSecret,
        token: refreshToken,
        token_type_hint: 'refresh_token',
      },
      timeoutMs: 15_000,
    },
    z.unknown(),
  );
}
