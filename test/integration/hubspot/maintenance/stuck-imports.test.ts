import { randomInt } from 'node:crypto';

import { sql } from 'kysely';
import pino from 'pino';
import { describe, expect, it } from 'vitest';

import { createContract } from '../../../../server/src/core/contracts/contracts-service.ts';
import { markImportStarted } from '../../../../server/src/core/contracts/external-records.ts';
import { createOrganization } from '../../../../server/src/core/organizations/organizations.ts';
import { failStuckImports } from '../../../../server/src/hubspot/legal-review/import-job.ts';
import { importDealJob } from '../../../../server/src/hubspot/legal-review/job-definitions.ts';
import { createTestJobQueue, testConfig } from '../../../helpers/test-app.ts';
import { createTestDatabase } from '../../../helpers/test-db.ts';

/**
 * The sweep's stuck-import rule: a contract still `importing` past the threshold with no live
 * import job is failed like a last attempt (the deal gets `import_failed`, the blocked
 * workflow execution is completed); one whose job is still queued is left alone, and so is
 * one inside the threshold.
 */
const database = await createTestDatabase();
const { db } = database;
const jobs = createTestJobQueue(db);
const deps = { config: testConfig(), db, jobs, log: pino({ level: 'silent' }) };

async function importingContract(portalId: string, minutesAgo: number) {
  const org = await createOrganization(db, `Stuck ${String(randomInt(1e6))}`);
  const dealId = String(randomInt(1e6, 1e7));
  const contract = await createContract(db, {
    organizationId: org.id,
    title: 'Stuck MSA',
    externalSource: 'hubspot',
    externalId: dealId,
    externalAccountId: portalId,
    createdBySource: 'hubspot_workflow',
    actor: `hubspot:portal:${portalId}`,
  });
  await markImportStarted(db, contract.id);
  await sql`update contracts set updated_at = now() - make_interval(mins => ${minutesAgo})
             where id = ${contract.id}`.execute(db);
  const callbackId = `ap-${portalId}-${String(randomInt(1e9))}-1-0`;
  await db
    .insertInto('hubspot_workflow_executions')
    .values({
      portal_id: portalId,
      callback_id: callbackId,
      organization_id: org.id,
      deal_id: dealId,
      contract_id: contract.id,
      response: JSON.stringify({ outputFields: { hs_execution_state: 'BLOCK' } }),
    })
    .execute();
  return { org, dealId, contract, callbackId };
}

async function importState(contractId: string) {
  const row = await db
    .selectFrom('contracts')
    .select(['import_state', 'import_error'])
    .where('id', '=', contractId)
    .executeTakeFirstOrThrow();
  return row;
}

describe('the sweep finishes stuck imports', () => {
  it('fails an import whose job is gone, tells the deal and completes the workflow; leaves live and recent ones', async () => {
    const portalId = String(randomInt(10_000_000, 99_999_999));
    const gone = await importingContract(portalId, 30);
    const live = await importingContract(portalId, 30);
    const recent = await importingContract(portalId, 1);
    await jobs.send(db, importDealJob, {
      organizationId: live.org.id,
      portalId,
      dealId: live.dealId,
      contractId: live.contract.id,
      trigger: 'workflow',
      actor: 'test',
      requestedAt: new Date().toISOString(),
      callbackId: live.callbackId,
    });

    expect(await failStuckImports(deps, { stuckAfterSeconds: 10 * 60 })).toBe(1);

    expect(await importState(gone.contract.id)).toEqual({
      import_state: 'failed',
      import_error: expect.stringMatching(/^import_failed: /) as string,
    });
    expect((await importState(live.contract.id)).import_state).toBe('importing');
    expect((await importState(recent.contract.id)).import_state).toBe('importing');

    const sync = await db
      .selectFrom('hubspot_deal_sync')
      .selectAll()
      .where('portal_id', '=', portalId)
      .execute();
    expect(sync.map((row) => [row.deal_id, row.desired_status])).toEqual([
      [gone.dealId, 'import_failed'],
    ]);
    const execution = await db
      .selectFrom('hubspot_workflow_executions')
      .select('completion')
      .where('callback_id', '=', gone.callbackId)
      .executeTakeFirstOrThrow();
    expect(execution.completion).toMatchObject({
      outputFields: { hs_execution_state: 'FAIL_CONTINUE', import_result: 'import_failed' },
    });
    const completions = await sql<{ n: number }>`
      select count(*)::int as n from pgboss.job
       where name = 'hubspot-complete-workflow-callback' and data->>'callbackId' = ${gone.callbackId}
    `.execute(db);
    expect(completions.rows[0]?.n).toBe(1);

    // A second sweep finds nothing more to do.
    expect(await failStuckImports(deps, { stuckAfterSeconds: 10 * 60 })).toBe(0);
  });
});
