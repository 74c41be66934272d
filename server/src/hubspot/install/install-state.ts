import { createHash, randomBytes } from 'node:crypto';

import type { Kysely } from 'kysely';

import type { DB } from '../../platform/db/schema.ts';
import { sha256Hex } from '../../core/auth/sessions.ts';

/**
 * OAuth install state (RFC 9700 §2.1): a random `state` that is single-use, expires after
 * ten minutes and is bound to the browser that started the install (through a hash of a
 * nonce held in that browser's cookie), plus the PKCE S256 verifier for the exchange.
 */
export const STATE_TTL_MS = 10 * 60 * 1000;

export interface StartedInstall {
  readonly state: string;
  readonly codeChallenge: string;
}

export type InstallStateProblem =
  'missing' | 'unknown' | 'already_used' | 'expired' | 'other_browser';

export interface ConsumedInstallState {
  readonly organizationId: string | null;
  readonly userId: string | null;
  readonly codeVerifier: string;
}

export function pkceChallenge(verifier: string): string {
  return createHash('sha256').update(verifier, 'ascii').digest('base64url');
}

export async function startInstall(
  db: Kysely<DB>,
  input: { browserNonce: string; organizationId: string | null; userId: string | null },
): Promise<StartedInstall> {
  const state = randomBytes(32).toString('base64url');
  // 43-128 characters of the unreserved set (RFC 7636 §4.1).
  const codeVerifier = randomBytes(48).toString('base64url');
  await db
    .insertInto('oauth_states')
    .values({
      state_hash: sha256Hex(state),
      browser_binding_hash: sha256Hex(input.browserNonce),
      organization_id: input.organizationId,
      user_id: input.userId,
      code_verifier: codeVerifier,
      expires_at: new Date(Date.now() + STATE_TTL_MS),
    })
    .execute();
  return { state, codeChallenge: pkceChallenge(codeVerifier) };
}

/**
 * Uses up a state exactly once. The row is claimed atomically (a concurrent replay sees it
 * used), and only then checked for expiry and browser; a failed check still burns it.
 */
export async function consumeInstallState(
  db: Kysely<DB>,
  input: { state: string | undefined; browserNonce: string | undefined },
): Promise<
  { ok: true; value: ConsumedInstallState } | { ok: false; problem: InstallStateProblem }
> {
  if (!input.state) return { ok: false, problem: 'missing' };
  const stateHash = sha256Hex(input.state);
  const claimed = await db
    .updateTable('oauth_states')
    .set({ used_at: new Date() })
    .where('state_hash', '=', stateHash)
    .where('used_at', 'is', null)
    .returningAll()
    .executeTakeFirst();
  if (!claimed) {
    const exists = await db
      .selectFrom('oauth_states')
      .select('state_hash')
      .where('state_hash', '=', stateHash)
      .executeTakeFirst();
    return { ok: false, problem: exists ? 'already_used' : 'unknown' };
  }
  if (claimed.expires_at.getTime() < Date.now()) return { ok: false, problem: 'expired' };
  if (!input.browserNonce || sha256Hex(input.browserNonce) !== claimed.browser_binding_hash) {
    return { ok: false, problem: 'other_browser' };
  }
  return {
    ok: true,
    value: {
      organizationId: claimed.organization_id,
      userId: claimed.user_id,
      codeVerifier: claimed.code_verifier,
    },
  };
}

/** Old states are of no use to anyone; called opportunistically. */
export async function purgeExpiredInstallStates(db: Kysely<DB>): Promise<void> {
  await db
    .deleteFrom('oauth_states')
    .where('expires_at', '<', new Date(Date.now() - 24 * 60 * 60 * 1000))
    .execute();
}
