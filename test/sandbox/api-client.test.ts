import { Client } from '@hubspot/api-client';
import { describe, expect, it } from 'vitest';

import {
  BatchResponseSchema,
  CrmObjectWithAssociationsSchema,
  HubSpotErrorSchema,
  PipelineListSchema,
} from '../../server/src/hubspot/wire/index.ts';
import { installedPortal, sandbox } from './helpers.ts';

const handle = await sandbox();

describe('@hubspot/api-client against the sandbox', () => {
  it('works unmodified through its generic apiRequest on 2026-03 paths with basePath', async () => {
    const { portalId, accessToken } = installedPortal(handle);
    const deal = handle.control.createDeal(portalId, { dealname: 'Client deal', amount: '10' });
    const client = new Client({ accessToken, basePath: handle.url });

    const read = await client.apiRequest({
      method: 'GET',
      path: `/crm/objects/2026-03/deals/${deal.id}`,
      qs: { properties: 'dealname,amount' },
    });
    expect(read.status).toBe(200);
    expect(CrmObjectWithAssociationsSchema.parse(await read.json()).properties).toMatchObject({
      dealname: 'Client deal',
      amount: '10',
    });

    const patch = await client.apiRequest({
      method: 'PATCH',
      path: `/crm/objects/2026-03/deals/${deal.id}`,
      body: { properties: { dealname: 'Patched by client' } },
    });
    expect(patch.status).toBe(200);
    expect(handle.control.getDeal(portalId, deal.id)?.properties.dealname).toBe(
      'Patched by client',
    );

    const batch = await client.apiRequest({
      method: 'POST',
      path: '/crm/objects/2026-03/deals/batch/read',
      body: { inputs: [{ id: deal.id }], properties: ['dealname'], propertiesWithHistory: [] },
    });
    expect(BatchResponseSchema.parse(await batch.json()).results[0]?.properties.dealname).toBe(
      'Patched by client',
    );

    const pipelines = await client.apiRequest({
      method: 'GET',
      path: '/crm/pipelines/2026-03/deals',
    });
    expect(PipelineListSchema.parse(await pipelines.json()).results).toHaveLength(1);

    const missing = await client.apiRequest({
      method: 'GET',
      path: '/crm/objects/2026-03/deals/1',
    });
    expect(missing.status).toBe(404);
    expect(HubSpotErrorSchema.parse(await missing.json()).category).toBe('OBJECT_NOT_FOUND');
    expect(handle.control.requestLog().filter((e) => e.portalId === portalId)).toHaveLength(5);
  });
});
