import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

import type { Kysely } from 'kysely';

import type { DB } from '../../platform/db/schema.ts';

/**
 * Server-side web sessions. The browser holds a random session id in a signed, HttpOnly,
 * SameSite=Lax cookie; the database holds only its hash, the user, the organization and
 * the session's CSRF token, so sessions can be revoked and a database read signs nobody in.
 */
export const SESSION_COOKIE = 'lxc_session';
export const SESSION_TTL_MS = 7 * 24 * 60 * 60 * 1000;

export interface WebSession {
  readonly userId: string;
  readonly userEmail: string;
  readonly organizationId: string;
  readonly organizationName: string;
  readonly csrfToken: string;
}

export function sha256Hex(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex');
}

export async function createSession(
  db: Kysely<DB>,
  input: { userId: string; organizationId: string },
): Promise<{ sessionId: string; expiresAt: Date }> {
  const sessionId = randomBytes(32).toString('base64url');
  const expiresAt = new Date(Date.now() + SESSION_TTL_MS);
  await db
    .insertInto('web_sessions')
    .values({
      id_hash: sha256Hex(sessionId),
      user_id: input.userId,
      organization_id: input.organizationId,
      csrf_token: randomBytes(24).toString('base64url'),
      expires_at: expiresAt,
    })
    .execute();
  return { sessionId, expiresAt };
}

export async function loadSession(db: Kysely<DB>, sessionId: string): Promise<WebSession | null> {
  const row = await db
    .selectFrom('web_sessions as s')
    .innerJoin('users as u', 'u.id', 's.user_id')
    .innerJoin('organizations as o', 'o.id', 's.organization_id')
    .select(['s.user_id', 'u.email', 's.organization_id', 'o.name', 's.csrf_token'])
    .where('s.id_hash', '=', sha256Hex(sessionId))
    .where('s.revoked_at', 'is', null)
    .where('s.expires_at', '>', new Date())
    .executeTakeFirst();
  if (!row) return null;
  return {
    userId: row.user_id,
    userEmail: row.email,
    organizationId: row.organization_id,
    organizationName: row.name,
    csrfToken: row.csrf_token,
  };
}

export async function revokeSession(db: Kysely<DB>, sessionId: string): Promise<void> {
  await db
    .updateTable('web_sessions')
    .set({ revoked_at: new Date() })
    .where('id_hash', '=', sha256Hex(sessionId))
    .execute();
}

/** Constant-time comparison of a submitted CSRF token with the session's. */
export function csrfTokenMatches(session: WebSession, submitted: unknown): boolean {
  if (typeof submitted !== 'string') return false;
  const expected = Buffer.from(session.csrfToken, 'utf8');
  const actual = Buffer.from(submitted, 'utf8');
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}
