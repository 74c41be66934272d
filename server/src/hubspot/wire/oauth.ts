import { z } from 'zod';

/** Form body of `POST /oauth/{v}/token` (always `application/x-www-form-urlencoded`). */
export const TokenRequestSchema = z.discriminatedUnion('grant_type', [
  z.object({
    grant_type: z.literal('authorization_code'),
    client_id: z.string().min(1),
    client_secret: z.string().min(1),
    redirect_uri: z.string().min(1),
    code: z.string().min(1),
    code_verifier: z.string().optional(),
  }),
  z.object({
    grant_type: z.literal('refresh_token'),
    client_id: z.string().min(1),
    client_secret: z.string().min(1),
    refresh_token: z.string().min(1),
  }),
]);
export type TokenRequest = z.infer<typeof TokenRequestSchema>;

/** `AccessTokenResponse` of `POST /oauth/{v}/token`. */
export const TokenResponseSchema = z.object({
  access_token: z.string().min(1),
  refresh_token: z.string().min(1),
  expires_in: z.number().int().positive(),
  // Optional in HubSpot's OAuth spec (`AccessTokenResponse`): the app falls back to
  // introspection for the portal id.
  hub_id: z.number().int().optional(),
});
export type TokenResponse = z.infer<typeof TokenResponseSchema>;

/** Form body of `/oauth/{v}/token/introspect` and `/oauth/{v}/token/revoke`. */
export const TokenInfoRequestSchema = z.object({
  client_id: z.string().min(1),
  client_secret: z.string().min(1),
  token: z.string().min(1),
  token_type_hint: z.enum(['access_token', 'refresh_token']).optional(),
});
export type TokenInfoRequest = z.infer<typeof TokenInfoRequestSchema>;

/**
 * What the app reads of a token introspection answer (both variants): that it is active,
 * the portal, the user and the scopes. HubSpot's other fields (`token`, `app_id`,
 * `client_id`, `expires_in`, `is_private_distribution`, ...) are not read, so not required.
 */
const TokenInfoBaseSchema = z.object({
  active: z.literal(true),
  hub_id: z.number().int(),
  hub_domain: z.string().optional(),
  user: z.string().optional(),
  user_id: z.number().int(),
  scopes: z.array(z.string()),
});

/** `PublicAccessTokenInfoResponse`: introspection of an active access token. */
export const AccessTokenInfoSchema = TokenInfoBaseSchema.extend({
  token_use: z.literal('access_token').optional(),
});
export type AccessTokenInfo = z.infer<typeof AccessTokenInfoSchema>;

/** `PublicRefreshTokenInfoResponse`: introspection of an active refresh token. */
export const RefreshTokenInfoSchema = TokenInfoBaseSchema.extend({
  token_use: z.literal('refresh_token'),
});
export type RefreshTokenInfo = z.infer<typeof RefreshTokenInfoSchema>;

/** An unknown, expired or revoked token (RFC 7662). */
export const InactiveTokenInfoSchema = z.object({ active: z.literal(false) });
export type InactiveTokenInfo = z.infer<typeof InactiveTokenInfoSchema>;

export const TokenIntrospectionSchema = z.union([
  AccessTokenInfoSchema,
  RefreshTokenInfoSchema,
  InactiveTokenInfoSchema,
]);
export type TokenIntrospection = z.infer<typeof TokenIntrospectionSchema>;

/**
 * OAuth error body: RFC 6749 `error`/`error_description` plus HubSpot's `status`/`message`
 * (e.g. `{ status: 'BAD_REFRESH_TOKEN', error: 'invalid_grant', ... }`).
 */
export const OAuthErrorSchema = z.object({
  error: z.string(),
  error_description: z.string().optional(),
  status: z.string().optional(),
  message: z.string().optional(),
  correlationId: z.string().optional(),
});
export type OAuthError = z.infer<typeof OAuthErrorSchema>;
