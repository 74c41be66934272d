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
  token_type: z.string(),
  token_use: z.string().optional(),
  // Optional in HubSpot's OAuth spec (`AccessTokenResponse`): the app falls back to
  // introspection for the portal id.
  hub_id: z.number().int().optional(),
  user_id: z.number().int().optional(),
  scopes: z.array(z.string()).optional(),
  id_token: z.string().optional(),
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

export const SignedAccessTokenSchema = z.object({
  appId: z.number().int(),
  hubId: z.number().int(),
  userId: z.number().int(),
  installingUserId: z.number().int().optional(),
  expiresAt: z.number().int(),
  scopes: z.string(),
  hublet: z.string().optional(),
  isUserLevel: z.boolean().optional(),
  isPrivateDistribution: z.boolean().optional(),
  isServiceAccount: z.boolean().optional(),
  appInstallId: z.string().optional(),
  audience: z.string().optional(),
  signature: z.string().optional(),
  newSignature: z.string().optional(),
  scopeToScopeGroupPks: z.string().optional(),
  trialScopes: z.string().optional(),
  trialScopeToScopeGroupPks: z.string().optional(),
});
export type SignedAccessToken = z.infer<typeof SignedAccessTokenSchema>;

/** Fields every token introspection answer carries (both variants). */
const TokenInfoBaseSchema = z.object({
  active: z.literal(true),
  token: z.string(),
  token_type: z.string(),
  app_id: z.number().int(),
  client_id: z.string(),
  hub_id: z.number().int(),
  hub_domain: z.string().optional(),
  user: z.string().optional(),
  user_id: z.number().int(),
  scopes: z.array(z.string()),
});

/** `PublicAccessTokenInfoResponse`: introspection of an active access token. */
export const AccessTokenInfoSchema = TokenInfoBaseSchema.extend({
  token_use: z.literal('access_token'),
  expires_in: z.number().int(),
  is_private_distribution: z.boolean(),
  signed_access_token: SignedAccessTokenSchema.optional(),
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
