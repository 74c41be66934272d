import { sql, type Kysely } from 'kysely';

/**
 * The PKCE `code_verifier` leaves `oauth_states`: @fastify/oauth2 now generates it and keeps
 * it only in the starting browser's signed, httpOnly cookie for the install's ten minutes,
 * so nothing reversible about it is stored here (issue 13 item 7). Installs in flight at
 * deploy time fail their exchange and are started again. The index lets each new install
 * purge expired states cheaply, which keeps the table bounded.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    alter table oauth_states drop column code_verifier;
    create index oauth_states_expires_at on oauth_states (expires_at);
  `.execute(db);
}
