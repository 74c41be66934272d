import { randomBytes } from 'node:crypto';

import type { Kysely } from 'kysely';

import { recordAudit } from '../audit/audit-log.ts';
import type { DB } from '../../platform/db/schema.ts';
import { DomainError } from '../../platform/errors.ts';
import { getOrganization } from '../organizations/organizations.ts';
import { findOrCreateUser } from '../organizations/users.ts';
import { sha256Hex } from './sessions.ts';

/**
 * One-time sign-in links for organizations that never installed from HubSpot
 * (`npm run admin -- user login-link --org ID`): valid for 15 minutes, usable once.
 */
const LINK_TTL_MS = 15 * 60 * 1000;

export class SignInLinkInvalidError extends DomainError {
  constructor() {
    super(
      'sign_in_link_invalid',
      'This sign-in link is invalid, expired or already used. Ask your administrator for a new one.',
      400,
    );
  }
}

export async function createSignInLink(
  db: Kysely<DB>,
  config: { publicBaseUrl: string },
  input: { organizationId: string; email?: string },
): Promise<{ url: string; expiresAt: Date; userId: string; organizationId: string }> {
  const organization = await getOrganization(db, input.organizationId);
  const user = await findOrCreateUser(db, {
    organizationId: organization.id,
    email: input.email ?? 'admin@lexicontract.local',
  });
  const token = randomBytes(32).toString('base64url');
  const expiresAt = new Date(Date.now() + LINK_TTL_MS);
  await db
    .insertInto('sign_in_tokens')
    .values({
      token_hash: sha256Hex(token),
      user_id: user.id,
      organization_id: organization.id,
      expires_at: expiresAt,
    })
    .execute();
  await recordAudit(db, {
    organizationId: organization.id,
    actor: 'cli',
    action: 'web.sign_in_link.created',
    target: `user:${user.id}`,
    outcome: 'success',
  });
  return {
    url: `${config.publicBaseUrl}/sign-in/link?token=${encodeURIComponent(token)}`,
    expiresAt,
    userId: user.id,
    organizationId: organization.id,
  };
}

/** Marks the token used and returns whom it signs in; refuses unknown, expired or used ones. */
export async function consumeSignInToken(
  db: Kysely<DB>,
  token: string,
): Promise<{ userId: string; organizationId: string }> {
  const row = await db
    .updateTable('sign_in_tokens')
    .set({ used_at: new Date() })
    .where('token_hash', '=', sha256Hex(token))
    .where('used_at', 'is', null)
    .where('expires_at', '>', new Date())
    .returning(['user_id', 'organization_id'])
    .executeTakeFirst();
  if (!row) throw new SignInLinkInvalidError();
  return { userId: row.user_id, organizationId: row.organization_id };
}
