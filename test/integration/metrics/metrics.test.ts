import { randomInt } from 'node:crypto';

import { afterAll, describe, expect, it } from 'vitest';

import { changeContractStatus } from '../../../server/src/core/contracts/contracts-service.ts';
import { hubspotContractHooks } from '../../../server/src/hubspot/legal-review/contract-hooks.ts';
import { exportHubSpotMetrics } from '../../../server/src/hubspot/metrics.ts';
import { SIGNATURE_HEADERS, signV3 } from '../../../server/src/hubspot/signature/index.ts';
import { startMetricsServer } from '../../../server/src/platform/metrics.ts';
import { startHubSpotTestEnv } from '../../helpers/hubspot-env.ts';
import { createTestDatabase } from '../../helpers/test-db.ts';
import { waitFor } from '../../helpers/wait-for.ts';
import { hubspotContract } from '../hubspot/sync/sync-fixtures.ts';

/**
 * `GET /metrics` (Prometheus text) on a listener of its own, behind a bearer token: scraped
 * before and after a status sync and a webhook delivery sent twice, its counters moved.
 */
const { db } = await createTestDatabase();
const env = await startHubSpotTestEnv({ db });
await env.startWorkers();
env.jobs.exportDepthMetrics();
exportHubSpotMetrics(db);
const TOKEN = 'metrics-token-for-the-test';
const metrics = await startMetricsServer({ host: '127.0.0.1', port: 0, token: TOKEN });
afterAll(async () => {
  await metrics.close();
});
const control = env.sandbox.control;

async function scrape(token: string | null = TOKEN): Promise<{ status: number; text: string }> {
  const response = await fetch(`${metrics.url}/metrics`, {
    headers: token === null ? {} : { authorization: `Bearer ${token}` },
  });
  return { status: response.status, text: await response.text() };
}

/** Sum of the samples of `name` whose labels include every pair of `labels`. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (!Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) continue;
    total += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}

async function deliver(portalId: string, eventIds: number[], occurredAt: number): Promise<number> {
  const url = `${env.baseUrl}/api/v1/integrations/hubspot/events`;
  const body = JSON.stringify(
    eventIds.map((eventId) => ({
      eventId,
      subscriptionId: 77,
      portalId: Number(portalId),
      appId: Number(env.config.hubspot.appId),
      occurredAt,
      subscriptionType: 'object.propertyChange',
      objectTypeId: '0-3',
      attemptNumber: 0,
      objectId: 123_456,
      propertyName: 'dealname',
      propertyValue: `renamed ${String(eventId)}`,
      changeSource: 'CRM_UI',
    })),
  );
  const timestamp = String(Date.now());
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      [SIGNATURE_HEADERS.v3]: signV3({
        clientSecret: env.config.hubspot.clientSecret,
        method: 'POST',
        uri: url,
        rawBody: body,
        timestamp,
      }),
      [SIGNATURE_HEADERS.timestamp]: timestamp,
    },
    body,
  });
  await response.arrayBuffer();
  return response.status;
}

describe('GET /metrics', () => {
  it('is refused without the token', async () => {
    expect((await scrape(null)).status).toBe(404);
    expect((await scrape('not-the-token-at-all')).status).toBe(404);
  });

  it('counts HubSpot calls, webhook events, queue depth and sync lag after a sync', async () => {
    const before = await scrape();
    expect(before.status).toBe(200);

    const { organizationId, portalId } = await env.connectPortal();
    const { id: dealId } = control.createDeal(Number(portalId), { dealname: 'Metrics deal' });
    const contract = await hubspotContract(db, { organizationId, portalId, dealId });
    await changeContractStatus(
      db,
      { organizationId, contractId: contract.id, to: 'in_review', source: 'api', actor: 'test' },
      hubspotContractHooks(env.config, env.jobs),
    );
    await waitFor(
      () =>
        control.getDeal(Number(portalId), dealId)?.properties.lexicontract_status === 'in_review',
      { what: 'the deal synced' },
    );
    const first = randomInt(1e9);
    const ids = [first, first + 1, first + 2];
    const occurredAt = Date.now();
    expect(await deliver(portalId, ids, occurredAt)).toBe(200);
    expect(await deliver(portalId, ids, occurredAt)).toBe(200);

    const after = await scrape();
    expect(after.status).toBe(200);
    const moved = (name: string, labels: Record<string, string> = {}) =>
      sample(after.text, name, labels) - sample(before.text, name, labels);
    expect(
      moved('lexicontract_hubspot_calls_total', { family: 'crm/objects/deals' }),
    ).toBeGreaterThan(0);
    // The sandbox also delivers events of its own deal changes: at least ours are counted.
    expect(
      moved('lexicontract_webhook_events_total', { outcome: 'accepted' }),
    ).toBeGreaterThanOrEqual(3);
    expect(
      moved('lexicontract_webhook_events_total', { outcome: 'deduplicated' }),
    ).toBeGreaterThanOrEqual(3);
    expect(after.text).toMatch(
      /^lexicontract_job_queue_depth\{queue="hubspot-sync-portal-deals",state="queued"\} \d+$/m,
    );
    // Declared, with samples only for portals with changes pending.
    expect(after.text).toContain('# TYPE lexicontract_sync_lag_seconds gauge');
    expect(after.text).toContain('# TYPE lexicontract_import_duration_seconds histogram');
    expect(after.text).toContain('# TYPE lexicontract_hubspot_rate_limit_waits_total counter');
  });
});
