import { describe, expect, it } from 'vitest';

import { portalRequest } from '../../server/src/hubspot/client/portal-client.ts';
import { PropertySchema } from '../../server/src/hubspot/wire/properties.ts';
import { startHubSpotTestEnv } from '../helpers/hubspot-env.ts';
import { createTestDatabase } from '../helpers/test-db.ts';
import { hubspotPaths } from '../../server/src/hubspot/wire/api-versions.ts';

const database = await createTestDatabase();
const env = await startHubSpotTestEnv({ db: database.db });

describe('the HubSpot test environment', () => {
  it('connects a sandbox portal whose stored tokens reach the sandbox API and provisions it', async () => {
    const { portalId } = await env.connectPortal();
    const { body } = await portalRequest(
      env.tokenDeps,
      portalId,
      { method: 'GET', path: `${hubspotPaths.dealProperties()}/lexicontract_status` },
      PropertySchema,
    );
    expect(body.name).toBe('lexicontract_status');
    expect(body.options.map((o) => o.value)).toEqual([
      'importing',
      'import_failed',
      'pending_review',
      'in_review',
      'changes_requested',
      'approved',
      'signed',
      'rejected',
      'cancelled',
    ]);
  });
});
