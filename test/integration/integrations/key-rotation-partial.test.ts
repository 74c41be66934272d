import { randomBytes } from 'node:crypto';

import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';

import {
  formatKeyring,
  parseKeyring,
  type Keyring,
} from '../../../server/src/platform/crypto/keyring.ts';
import { rotateTokenKeys } from '../../../server/src/core/integrations/rotate-keys.ts';
import {
  readIntegrationTokens,
  upsertOrganizationIntegration,
} from '../../../server/src/core/integrations/organization-integrations.ts';
import { createOrganization } from '../../../server/src/core/organizations/organizations.ts';
import { createTestDatabase } from '../../helpers/test-db.ts';

// One scenario per database: rotation looks at every connection in it.
const database = await createTestDatabase();
const { db } = database;

function ring(...keys: { id: string; key: Buffer }[]): Keyring {
  const parsed = parseKeyring(formatKeyring(keys));
  if (!parsed.ok) throw new Error(parsed.problem);
  return parsed.keyring;
}

describe('token key rotation alongside the running app', () => {
  it('skips rows the app holds locked and reports damaged rows instead of looping', async () => {
    const k1 = { id: 'part1', key: randomBytes(32) };
    const k2 = { id: 'part2', key: randomBytes(32) };
    const oldRing = ring(k1);
    const ids: string[] = [];
    for (let i = 0; i < 4; i += 1) {
      const org = await createOrganization(db, `Partial org ${i}`);
      const view = await upsertOrganizationIntegration(db, oldRing, {
        organizationId: org.id,
        integrationId: 'hubspot',
        externalAccountId: String(7_000_000 + i),
        accessToken: `access-${i}`,
        refreshToken: `refresh-${i}`,
        accessTokenExpiresAt: new Date(Date.now() + 1_800_000),
        grantedScopes: ['oauth'],
      });
      ids.push(view.id);
    }
    const [lockedId, damagedId] = ids;
    if (!lockedId || !damagedId) throw new Error('setup failed');
    // One row's ciphertext was moved in from another row: it cannot decrypt here.
    await sql`
      update organization_integrations
      set access_token_ciphertext = (select access_token_ciphertext from organization_integrations where id = ${ids[3] ?? ''})
      where id = ${damagedId}
    `.execute(db);

    const newRing = ring(k2, k1);
    // The app holds one row locked (say, mid-refresh) while rotation runs.
    const appTransaction = await db.startTransaction().execute();
    await appTransaction
      .selectFrom('organization_integrations')
      .select('id')
      .where('id', '=', lockedId)
      .forUpdate()
      .execute();
    const first = await rotateTokenKeys(db, newRing, { maxPasses: 1 });
    expect(first).toMatchObject({
      rotated: 2,
      failed: 1,
      remaining: 1,
      failedRowIds: [damagedId],
    });
    await appTransaction.commit().execute();

    const second = await rotateTokenKeys(db, newRing, { maxPasses: 1 });
    expect(second).toMatchObject({ rotated: 1, failed: 1, remaining: 0 });
    expect((await readIntegrationTokens(db, ring(k2), { id: lockedId })).accessToken).toBe(
      'access-0',
    );
    const damaged = await db
      .selectFrom('organization_integrations')
      .select('token_key_id')
      .where('id', '=', damagedId)
      .executeTakeFirstOrThrow();
    expect(damaged.token_key_id).toBe('part1');
  });
});
