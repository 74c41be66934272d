import { randomBytes } from 'node:crypto';

import { sql, type Kysely } from 'kysely';

import type { DB } from '../../platform/db/schema.ts';
import { DomainError } from '../../platform/errors.ts';
import { sha256Hex } from '../../core/auth/sessions.ts';

/**
 * OAuth install state (RFC 9700 §2.1): a random `state` that is single-use, expires after
 * ten minutes and is bound to the browser that started the install (through a hash of a
 * nonce held in that browser's cookie). Only hashes are stored. The PKCE verifier is not
 * here: @fastify/oauth2 keeps it in the starting browser's signed cookie.
 *
 * The table stays bounded: every new install first deletes the expired states, and no more
 * than `MAX_PENDING_STATES` may be pending at once (give or take installs started in the same
 * instant: the check is not a lock). The rate limit per address on `/auth` keeps one client
 * from taking them all quickly.
 */
export const STATE_TTL_MS = 10 * 60 * 1000;

/** Far above any real rate of installs (one per customer, now and then). */
export const MAX_PENDING_STATES = 10_000;

export type InstallStateProblem =
  'missing' | 'unknown' | 'already_used' | 'expired' | 'other_browser';

/** Who started the install, as far as the state row knows (nobody, for a marketplace install). */
export interface InstallStarter {
  readonly organizationId: string | null;
  readonly userId: string | null;
}

export class InstallsBusyError extends DomainError {
  constructor() {
    super(
      'install_busy',
      'Too many HubSpot installs are in progress right now. Please try again in a few minutes.',
      503,
    );
  }
}

/** Deletes states past their expiry; used ones are kept until then, so a replay says so. */
export async function purgeExpiredInstallStates(db: Kysely<DB>): Promise<void> {
  await db.deleteFrom('oauth_states').where('expires_at', '<', new Date()).execute();
}

export async function startInstall(
  db: Kysely<DB>,
  input: InstallStarter & { browserNonce: string },
): Promise<string> {
  await purgeExpiredInstallStates(db);
  // Counting stops at the cap, so the check costs the same however the table is filled.
  const pending = await sql<{ n: number }>`
    select count(*)::int as n from (select 1 from oauth_states limit ${MAX_PENDING_STATES}) capped
  `.execute(db);
  if ((pending.rows[0]?.n ?? 0) >= MAX_PENDING_STATES) throw new InstallsBusyError();
  const state = randomBytes(32).toString('base64url');
  await db
    .insertInto('oauth_states')
    .values({
      state_hash: sha256Hex(state),
      browser_binding_hash: sha256Hex(input.browserNonce),
      organization_id: input.organizationId,
      user_id: input.userId,
      expires_at: new Date(Date.now() + STATE_TTL_MS),
    })
    .execute();
  return state;
}

export type ConsumedInstallState =
  | { readonly ok: true; readonly starter: InstallStarter }
  | {
      readonly ok: false;
      readonly problem: InstallStateProblem;
      /** Set when this call burnt a real state (expired, other browser): whose install it was. */
      readonly starter: InstallStarter | null;
    };

/**
 * Uses up a state exactly once. The row is claimed atomically (a concurrent replay sees it
 * used), and only then checked for expiry and browser; a failed check still burns it.
 */
export async function consumeInstallState(
  db: Kysely<DB>,
  input: { state: string | undefined; browserNonce: string | undefined },
): Promise<ConsumedInstallState> {
  if (!input.state) return { ok: false, problem: 'missing', starter: null };
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
    return { ok: false, problem: exists ? 'already_used' : 'unknown', starter: null };
  }
  const starter = { organizationId: claimed.organization_id, userId: claimed.user_id };
  if (claimed.expires_at.getTime() < Date.now()) return { ok: false, problem: 'expired', starter };
  if (!input.browserNonce || sha256Hex(input.browserNonce) !== claimed.browser_binding_hash) {
    return { ok: false, problem: 'other_browser', starter };
  }
  return { ok: true, starter };
}
