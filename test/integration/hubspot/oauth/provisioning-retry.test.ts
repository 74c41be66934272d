import pino from 'pino';
import { describe, expect, it } from 'vitest';

import { runProvisioning } from '../../../../server/src/hubspot/install/provisioning-runner.ts';
import { retryPendingProvisioning } from '../../../../server/src/hubspot/install/provisioning-sweep.ts';
import { startHubSpotTestEnv } from '../../../helpers/hubspot-env.ts';
import { createTestDatabase } from '../../../helpers/test-db.ts';
import { hubspotPaths } from '../../../../server/src/hubspot/wire/api-versions.ts';

const database = await createTestDatabase();
const env = await startHubSpotTestEnv({ db: database.db });
const log = pino({ level: 'silent' });

describe('portal provisioning in the background', () => {
  it('a failed setup is shown with its cause, then retried by the sweep until it succeeds', async () => {
    const { portalId } = await env.connectPortal({ provision: false });
    const row = await database.db
      .selectFrom('organization_integrations')
      .select('id')
      .where('external_account_id', '=', portalId)
      .executeTakeFirstOrThrow();

    // HubSpot refuses the property group for a while.
    env.sandbox.control.injectFault({
      path: `${hubspotPaths.dealProperties()}/groups`,
      status: 503,
      count: 50,
    });
    expect(await runProvisioning(env.tokenDeps, row.id, portalId, log)).toBe(false);
    const failed = await database.db
      .selectFrom('organization_integrations')
      .select(['provisioning_status', 'provisioning_error'])
      .where('id', '=', row.id)
      .executeTakeFirstOrThrow();
    expect(failed.provisioning_status).toBe('failed');
    expect(failed.provisioning_error).toContain('503');

    env.sandbox.control.clearFaults();
    expect(await retryPendingProvisioning(env.tokenDeps, log)).toBeGreaterThanOrEqual(1);
    const done = await database.db
      .selectFrom('organization_integrations')
      .select(['provisioning_status', 'provisioning_error'])
      .where('id', '=', row.id)
      .executeTakeFirstOrThrow();
    expect(done).toEqual({ provisioning_status: 'done', provisioning_error: null });
    expect(await retryPendingProvisioning(env.tokenDeps, log)).toBe(0);
  });
});
