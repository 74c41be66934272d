import { randomBytes, randomInt } from 'node:crypto';

import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';

import { createContract } from '../../../../server/src/core/contracts/contracts-service.ts';
import { createOrganization } from '../../../../server/src/core/organizations/organizations.ts';
import { findOrCreateUser } from '../../../../server/src/core/organizations/users.ts';
import { purgeExpiredRows, RETENTION } from '../../../../server/src/hubspot/retention.ts';
import { createTestDatabase } from '../../../helpers/test-db.ts';

/**
 * Every retention rule of the sweep, with counts: rows past their rule are deleted, rows
 * inside it are kept, and a second pass finds nothing more.
 */
const database = await createTestDatabase();
const { db } = database;

const HOUR = 3_600_000;
const now = new Date();
const ago = (ms: number) => new Date(now.getTime() - ms);

async function seed() {
  const org = await createOrganization(db, `Retention ${String(randomInt(1e6))}`);
  const portalId = String(randomInt(10_000_000, 99_999_999));

  const cardRow = (createdAt: Date) => ({
    portal_id: portalId,
    idempotency_key: randomBytes(8).toString('hex'),
    organization_id: org.id,
    deal_id: '1',
    hubspot_user_id: '7',
    created_at: createdAt,
  });
  await db
    .insertInto('hubspot_card_requests')
    .values([
      ...Array.from({ length: 3 }, () => cardRow(ago((RETENTION.cardRequestsHours + 1) * HOUR))),
      ...Array.from({ length: 2 }, () => cardRow(ago(HOUR))),
    ])
    .execute();

  const stateRow = (expiresAt: Date) => ({
    state_hash: randomBytes(16).toString('hex'),
    browser_binding_hash: randomBytes(16).toString('hex'),
    expires_at: expiresAt,
  });
  await db
    .insertInto('oauth_states')
    .values([
      ...Array.from({ length: 4 }, () => stateRow(ago(60_000))),
      stateRow(new Date(now.getTime() + 5 * 60_000)),
    ])
    .execute();

  let eventId = randomInt(1e9);
  const eventRow = (processedAt: Date | null) => ({
    event_id: eventId++,
    subscription_id: 1,
    subscription_type: 'object.propertyChange',
    object_id: '42',
    occurred_at: now.getTime(),
    organization_id: org.id,
    portal_id: portalId,
    processed_at: processedAt,
  });
  const oldEnough = ago((RETENTION.processedWebhookEventsDays * 24 + 1) * HOUR);
  await db
    .insertInto('hubspot_webhook_events')
    .values([
      ...Array.from({ length: 5 }, () => eventRow(oldEnough)),
      eventRow(ago(HOUR)),
      // Never processed: kept whatever its age (the sweep re-enqueues it instead).
      { ...eventRow(null), received_at: oldEnough },
    ])
    .execute();

  const contract = await createContract(db, {
    organizationId: org.id,
    title: 'Retention MSA',
    createdBySource: 'api',
    actor: 'test',
  });
  const fileRow = (state: 'writing' | 'complete', createdAt: Date) => ({
    organization_id: org.id,
    contract_id: contract.id,
    name: `f-${randomBytes(4).toString('hex')}.pdf`,
    content_type: 'application/pdf',
    state,
    created_at: createdAt,
    ...(state === 'complete' ? { size_bytes: 1, sha256: randomBytes(32).toString('hex') } : {}),
  });
  const stale = ago((RETENTION.incompleteFilesHours + 1) * HOUR);
  await db
    .insertInto('contract_files')
    .values([
      fileRow('writing', stale),
      fileRow('writing', stale),
      fileRow('writing', ago(60_000)),
      fileRow('complete', stale),
    ])
    .execute();
  const user = await findOrCreateUser(db, {
    organizationId: org.id,
    email: `retention-${String(randomInt(1e6))}@example.test`,
    hubspotUserId: null,
  });
  const ended = ago((RETENTION.endedSessionsHours + 1) * HOUR);
  const sessionRow = (expiresAt: Date, revokedAt: Date | null) => ({
    id_hash: randomBytes(16).toString('hex'),
    user_id: user.id,
    organization_id: org.id,
    csrf_token: randomBytes(8).toString('hex'),
    expires_at: expiresAt,
    revoked_at: revokedAt,
  });
  const later = new Date(now.getTime() + 24 * HOUR);
  await db
    .insertInto('web_sessions')
    .values([
      sessionRow(ended, null),
      sessionRow(later, ended),
      // Expired or revoked only just: kept for now.
      sessionRow(ago(HOUR), null),
      sessionRow(later, ago(HOUR)),
      sessionRow(later, null),
    ])
    .execute();
  const linkRow = (expiresAt: Date) => ({
    token_hash: randomBytes(16).toString('hex'),
    user_id: user.id,
    organization_id: org.id,
    expires_at: expiresAt,
  });
  await db
    .insertInto('sign_in_tokens')
    .values([linkRow(ended), linkRow(ended), linkRow(ended), linkRow(later)])
    .execute();
  return { org, portalId, contract };
}

async function count(table: string, where: ReturnType<typeof sql>) {
  const result = await sql<{ n: number }>`
    select count(*)::int as n from ${sql.table(table)} where ${where}
  `.execute(db);
  return result.rows[0]?.n ?? 0;
}

describe('retention rules of the sweep', () => {
  it('deletes what is past each rule, keeps the rest, and a second pass deletes nothing', async () => {
    const { org, portalId, contract } = await seed();
    const first = await purgeExpiredRows(db, now);
    // Each test file has a database of its own: these rows are all there is.
    expect(first).toEqual({
      cardRequests: 3,
      expiredOauthStates: 4,
      processedWebhookEvents: 5,
      incompleteFiles: 2,
      endedSessions: 2,
      expiredSignInLinks: 3,
    });
    expect(await count('web_sessions', sql`organization_id = ${org.id}`)).toBe(3);
    expect(await count('sign_in_tokens', sql`organization_id = ${org.id}`)).toBe(1);

    expect(await count('hubspot_card_requests', sql`portal_id = ${portalId}`)).toBe(2);
    expect(await count('oauth_states', sql`expires_at < ${now}`)).toBe(0);
    expect(await count('oauth_states', sql`expires_at >= ${now}`)).toBeGreaterThanOrEqual(1);
    expect(await count('hubspot_webhook_events', sql`organization_id = ${org.id}`)).toBe(2);
    expect(
      await count(
        'hubspot_webhook_events',
        sql`organization_id = ${org.id} and processed_at is null`,
      ),
    ).toBe(1);
    expect(
      await count('contract_files', sql`contract_id = ${contract.id} and state = 'writing'`),
    ).toBe(1);
    expect(
      await count('contract_files', sql`contract_id = ${contract.id} and state = 'complete'`),
    ).toBe(1);

    expect(await purgeExpiredRows(db, now)).toEqual({
      cardRequests: 0,
      incompleteFiles: 0,
      processedWebhookEvents: 0,
      expiredOauthStates: 0,
      endedSessions: 0,
      expiredSignInLinks: 0,
    });
  });
});
