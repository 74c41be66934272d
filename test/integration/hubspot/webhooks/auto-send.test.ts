import { sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';

import {
  DryRunResultSchema,
  RoutingRulesDataSchema,
  type RoutingRuleInput,
} from '../../../../hubspot-app/app/settings/routing-schemas.ts';
import { SANDBOX_PIPELINE_ID, SANDBOX_STAGE_IDS } from '../../../../sandbox/state.ts';
import { startHubSpotTestEnv } from '../../../helpers/hubspot-env.ts';
import { createTestDatabase } from '../../../helpers/test-db.ts';
import { waitFor } from '../../../helpers/wait-for.ts';

/**
 * Issue 17's "done when": a rule "pipeline default, stage Contract Sent, amount ≥ 50,000 →
 * priority high, send automatically" sends a deal exactly once when it enters that stage
 * through the deal-stage webhook, however often HubSpot delivers the change and however
 * often the deal moves back and forth; the dry run for that deal shows the same result and
 * writes nothing (the sandbox saw only reads, no database row changed).
 */

const { db } = await createTestDatabase();
const env = await startHubSpotTestEnv({ db });
await env.startWorkers();
afterAll(async () => {
  await env.jobs.stop(5_000);
});
const { control } = env.sandbox;
const SETTINGS = `${env.baseUrl}/api/v1/integrations/hubspot/settings`;

const BIG_DEALS: RoutingRuleInput = {
  name: 'Big deals at Contract Sent',
  conditions: [
    { kind: 'pipeline', pipelineIds: [SANDBOX_PIPELINE_ID] },
    { kind: 'stage', stageIds: [SANDBOX_STAGE_IDS.contractSent] },
    { kind: 'amount', min: 50_000 },
  ],
  priority: 'high',
  queue: 'Enterprise',
  sendAutomatically: true,
};

function signed(portalId: string, method: 'PUT' | 'POST', path: string, body: object) {
  return control.signedCardFetch({
    portalId: Number(portalId),
    userId: 31,
    userEmail: 'admin@example.com',
    method,
    url: `${SETTINGS}${path}`,
    body: body as Record<string, unknown>,
  });
}

async function portalWithRules(rules: RoutingRuleInput[]) {
  const portal = await env.connectPortal();
  const saved = await signed(portal.portalId, 'PUT', '/rules', {
    rules,
    default: { priority: 'normal', queue: 'General' },
  });
  expect(saved.status, JSON.stringify(saved.body)).toBe(200);
  return { ...portal, rules: RoutingRulesDataSchema.parse(saved.body).rules };
}

function newDeal(
  portalId: string,
  amount: string,
  stageId: string = SANDBOX_STAGE_IDS.qualifiedToBuy,
) {
  const { id } = control.createDeal(
    Number(portalId),
    { dealname: `Deal ${amount}`, amount },
    { stageId },
  );
  control.attachNoteWithFiles(Number(portalId), id, [
    { name: 'MSA.pdf', text: 'Master services agreement' },
    { name: 'logo.png', kind: 'bytes', sizeBytes: 2_000 },
  ]);
  return id;
}

/** Waits until every webhook HubSpot sent is stored and processed, and nothing is queued. */
async function settled(portalId: string) {
  await control.webhooksIdle();
  await waitFor(
    async () => {
      const pending = await db
        .selectFrom('hubspot_webhook_events')
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .where('portal_id', '=', portalId)
        .where('processed_at', 'is', null)
        .executeTakeFirstOrThrow();
      const importing = await db
        .selectFrom('contracts')
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .where('external_account_id', '=', portalId)
        .where('import_state', '=', 'importing')
        .executeTakeFirstOrThrow();
      const outbox = await db
        .selectFrom('hubspot_deal_sync')
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .where('portal_id', '=', portalId)
        .where('state', '=', 'pending')
        .executeTakeFirstOrThrow();
      return Number(pending.n) + Number(importing.n) + Number(outbox.n) === 0;
    },
    { what: 'webhooks, imports and deal writes settled', timeoutMs: 30_000 },
  );
  // The app's own writes echo back as webhooks: let those settle too.
  await control.webhooksIdle();
  await waitFor(
    async () =>
      Number(
        (
          await db
            .selectFrom('hubspot_webhook_events')
            .select((eb) => eb.fn.countAll<string>().as('n'))
            .where('portal_id', '=', portalId)
            .where('processed_at', 'is', null)
            .executeTakeFirstOrThrow()
        ).n,
      ) === 0,
    { what: 'echoes processed' },
  );
}

async function dealContracts(portalId: string, dealId: string) {
  return db
    .selectFrom('contracts')
    .select(['id', 'source_snapshot', 'created_by_source', 'import_state', 'created_at'])
    .where('external_account_id', '=', portalId)
    .where('external_id', '=', dealId)
    .execute();
}

async function stageOutcomes(portalId: string, dealId: string) {
  const rows = await db
    .selectFrom('hubspot_webhook_events')
    .select(['property_value', 'outcome'])
    .where('portal_id', '=', portalId)
    .where('object_id', '=', dealId)
    .where('property_name', '=', 'dealstage')
    .orderBy('occurred_at')
    .orderBy('id')
    .execute();
  return rows.map((r) => `${r.property_value ?? ''}:${r.outcome ?? ''}`);
}

/**
 * Rows per table, every table of ours (the rate limiter's log of HubSpot calls aside: it
 * must count the dry run's reads against the portal's budget) and pg-boss's jobs (the
 * sweep's cron aside).
 */
async function rowCounts(): Promise<Record<string, number>> {
  const tables = await sql<{ table_name: string }>`
    select table_name from information_schema.tables
     where table_schema = 'public' and table_type = 'BASE TABLE'
       and table_name <> 'hubspot_rate_sends'
     order by table_name`.execute(db);
  const counts: Record<string, number> = {};
  for (const { table_name } of tables.rows) {
    const { rows } = await sql<{
      n: string;
    }>`select count(*) as n from ${sql.table(table_name)}`.execute(db);
    counts[table_name] = Number(rows[0]?.n);
  }
  const jobs = await sql<{ n: string }>`
    select count(*) as n from pgboss.job where name <> 'hubspot-sync-sweep'`.execute(db);
  counts['pgboss.job'] = Number(jobs.rows[0]?.n);
  return counts;
}

const READ = (entry: { method: string; path: string }) =>
  entry.method === 'GET' || (entry.method === 'POST' && entry.path.endsWith('/batch/read'));

describe('send automatically on stage entry', () => {
  it('sends the deal once, with the rule’s priority, however the stage change arrives; the dry run agrees and writes nothing', async () => {
    const { portalId, rules } = await portalWithRules([BIG_DEALS]);
    const dealId = newDeal(portalId, '60000');
    await settled(portalId);

    // The dry run first, at Contract Sent's neighbour: no match yet.
    const before = DryRunResultSchema.parse(
      (await signed(portalId, 'POST', '/dry-run', { dealId })).body,
    );
    expect(before.routing).toMatchObject({
      matchedRule: null,
      priority: 'normal',
      queue: 'General',
    });
    expect(before.routing.evaluations[0]?.conditions.map((c) => c.matched)).toEqual([
      true,
      false,
      true,
    ]);

    await control.moveDealToStage(Number(portalId), dealId, SANDBOX_STAGE_IDS.contractSent);
    await settled(portalId);
    const [contract, ...others] = await dealContracts(portalId, dealId);
    expect(others).toEqual([]);
    expect(contract?.created_by_source).toBe('hubspot_stage_rule');
    expect(contract?.import_state).toBe('complete');
    expect(contract?.source_snapshot).toMatchObject({
      dealId,
      review: {
        trigger: 'stage_rule',
        priority: 'high',
        queue: 'Enterprise',
        rule: { id: rules[0]?.id, name: BIG_DEALS.name },
        rulesVersion: 1,
      },
    });
    expect(control.getDeal(Number(portalId), dealId)?.properties.lexicontract_status).toBe(
      'pending_review',
    );

    // The same change delivered twice more (HubSpot's retries: same event identity), and
    // as two further events saying the deal is at Contract Sent.
    const delivered = control
      .webhookDeliveries()
      .flatMap((d) => d.events)
      .find(
        (e) =>
          String(e.objectId) === dealId &&
          e.propertyName === 'dealstage' &&
          e.propertyValue === SANDBOX_STAGE_IDS.contractSent,
      );
    expect(delivered).toBeDefined();
    if (!delivered) return;
    const again = {
      portalId: Number(portalId),
      objectId: dealId,
      propertyName: 'dealstage',
      propertyValue: SANDBOX_STAGE_IDS.contractSent,
      ...(delivered.objectTypeId !== undefined ? { objectTypeId: delivered.objectTypeId } : {}),
    };
    await control.deliverWebhookEvents([
      { ...again, eventId: delivered.eventId, occurredAt: delivered.occurredAt },
    ]);
    await control.deliverWebhookEvents([
      { ...again, eventId: delivered.eventId, occurredAt: delivered.occurredAt },
    ]);
    await control.deliverWebhookEvents([again, { ...again, occurredAt: Date.now() + 1 }]);
    await settled(portalId);

    // Back and forth: out of Contract Sent and in again, twice.
    for (let i = 0; i < 2; i += 1) {
      await control.moveDealToStage(
        Number(portalId),
        dealId,
        SANDBOX_STAGE_IDS.presentationScheduled,
      );
      await settled(portalId);
      await control.moveDealToStage(Number(portalId), dealId, SANDBOX_STAGE_IDS.contractSent);
      await settled(portalId);
    }

    expect(await dealContracts(portalId, dealId)).toHaveLength(1);
    const claims = await db
      .selectFrom('hubspot_auto_send_claims')
      .select(['rule_id', 'outcome', 'contract_id', 'stage_id'])
      .where('portal_id', '=', portalId)
      .where('deal_id', '=', dealId)
      .execute();
    expect(claims).toEqual([
      {
        rule_id: rules[0]?.id,
        outcome: 'sent',
        contract_id: contract?.id,
        stage_id: SANDBOX_STAGE_IDS.contractSent,
      },
    ]);
    const outcomes = await stageOutcomes(portalId, dealId);
    expect(outcomes.filter((o) => o.endsWith(':auto_sent'))).toHaveLength(1);
    const audit = await db
      .selectFrom('audit_log')
      .select('action')
      .where('action', '=', 'hubspot.deal_sent_automatically')
      .where('target', '=', `contract:${contract?.id ?? ''}`)
      .execute();
    expect(audit).toHaveLength(1);

    // The dry run now: the same rule and outcome, the open contract reused, the PDF already
    // on it, and nothing written anywhere.
    const counts = await rowCounts();
    const since = Date.now();
    const response = await signed(portalId, 'POST', '/dry-run', { dealId });
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    const dry = DryRunResultSchema.parse(response.body);
    expect(dry.routing).toMatchObject({
      matchedRule: { id: rules[0]?.id, name: BIG_DEALS.name },
      priority: 'high',
      queue: 'Enterprise',
      sendAutomatically: true,
      rulesVersion: 1,
    });
    expect(dry.routing.evaluations[0]?.conditions.every((c) => c.matched)).toBe(true);
    expect(dry.openContract?.id).toBe(contract?.id);
    expect(dry.attachments.map((a) => [a.name, a.action, a.reason])).toEqual([
      ['MSA.pdf', 'already_on_contract', null],
      ['logo.png', 'skip', 'type_not_allowed'],
    ]);
    expect(dry.writes.map((w) => w.target)).toEqual([
      'lexicontract_status',
      'lexicontract_status',
      'lexicontract_contract_url',
      'lexicontract_priority',
      'lexicontract_submitted_at',
      'lexicontract_decided_at, lexicontract_decision, lexicontract_reviewer, lexicontract_days_in_review',
      'lexicontract_open_contracts',
      'note',
      'note',
    ]);
    // The rule's priority is what the report property would carry.
    expect(dry.writes.find((w) => w.target === 'lexicontract_priority')?.value).toBe('high');
    expect(dry.writes.find((w) => w.target === 'lexicontract_submitted_at')?.value).toBe(
      contract?.created_at.toISOString(),
    );
    const requests = control.requestLog({ since }).filter((e) => e.portalId === Number(portalId));
    expect(requests.length).toBeGreaterThan(0);
    expect(requests.filter((e) => !READ(e))).toEqual([]);
    expect(await rowCounts()).toEqual(counts);
  });

  it('does not send a deal below the amount, nor one the rule does not match', async () => {
    const { portalId } = await portalWithRules([BIG_DEALS]);
    const small = newDeal(portalId, '10000');
    await control.moveDealToStage(Number(portalId), small, SANDBOX_STAGE_IDS.contractSent);
    await settled(portalId);
    expect(await dealContracts(portalId, small)).toEqual([]);
    expect(await stageOutcomes(portalId, small)).toEqual([
      `${SANDBOX_STAGE_IDS.contractSent}:no_automatic_rule`,
    ]);

    const dry = DryRunResultSchema.parse(
      (await signed(portalId, 'POST', '/dry-run', { dealId: small })).body,
    );
    expect(dry.routing.matchedRule).toBeNull();
    expect(dry.routing.evaluations[0]?.conditions[2]).toMatchObject({
      kind: 'amount',
      matched: false,
      explanation: 'amount 10,000 is not ≥ 50,000',
    });
    expect(dry.openContract).toBeNull();
    expect(dry.attachments.map((a) => a.action)).toEqual(['import', 'skip']);
  });

  it('catches a deal that skips straight past the trigger stage with a "from this stage on" rule', async () => {
    const { portalId } = await portalWithRules([
      {
        name: 'From Legal Review on',
        conditions: [{ kind: 'stage_from', stageId: SANDBOX_STAGE_IDS.legalReview }],
        priority: 'urgent',
        queue: 'Commercial',
        sendAutomatically: true,
      },
    ]);
    const skipper = newDeal(portalId, '5000', SANDBOX_STAGE_IDS.appointmentScheduled);
    const lost = newDeal(portalId, '5000', SANDBOX_STAGE_IDS.appointmentScheduled);
    await control.moveDealToStage(Number(portalId), skipper, SANDBOX_STAGE_IDS.closedWon);
    await control.moveDealToStage(Number(portalId), lost, SANDBOX_STAGE_IDS.closedLost);
    await settled(portalId);
    const [sent] = await dealContracts(portalId, skipper);
    expect(sent?.source_snapshot).toMatchObject({
      review: { priority: 'urgent', queue: 'Commercial' },
    });
    // Closed lost never counts as "later", and a stage no automatic rule can match costs no
    // read of the deal.
    expect(await dealContracts(portalId, lost)).toEqual([]);
    expect(await stageOutcomes(portalId, lost)).toEqual([
      `${SANDBOX_STAGE_IDS.closedLost}:no_automatic_rule`,
    ]);
    const dealReads = (dealId: string) =>
      control.requestLog().filter((e) => e.method === 'GET' && e.path.endsWith(`/deals/${dealId}`));
    expect(dealReads(lost)).toEqual([]);
    expect(dealReads(skipper).length).toBeGreaterThan(0);

    // Moving it back before the stage and forward again sends nothing more.
    await control.moveDealToStage(Number(portalId), skipper, SANDBOX_STAGE_IDS.qualifiedToBuy);
    await settled(portalId);
    await control.moveDealToStage(Number(portalId), skipper, SANDBOX_STAGE_IDS.contractSent);
    await settled(portalId);
    expect(await dealContracts(portalId, skipper)).toHaveLength(1);
  });

  it('routes a card send with the rules too (priority and queue on the contract)', async () => {
    const { portalId } = await portalWithRules([
      { ...BIG_DEALS, name: 'Big deals', sendAutomatically: false },
    ]);
    const dealId = newDeal(portalId, '75000', SANDBOX_STAGE_IDS.contractSent);
    const response = await control.signedCardFetch({
      portalId: Number(portalId),
      userId: 31,
      userEmail: 'rep@example.com',
      method: 'POST',
      url: `${env.baseUrl}/api/v1/integrations/hubspot/card/send`,
      body: { dealId, requestId: crypto.randomUUID() },
    });
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    await settled(portalId);
    const [contract] = await dealContracts(portalId, dealId);
    expect(contract?.source_snapshot).toMatchObject({
      review: {
        trigger: 'card',
        priority: 'high',
        queue: 'Enterprise',
        rule: { name: 'Big deals' },
      },
    });
  });

  it('routes on a mapped field (the primary company’s country as the region), and the dry run shows the mapped values and what is missing', async () => {
    const portal = await env.connectPortal();
    const { portalId } = portal;
    const mapping = await signed(portalId, 'PUT', '/field-mapping', {
      fields: [
        {
          field: 'counterpartyLegalName',
          source: { object: 'company', property: 'name' },
          required: true,
        },
        { field: 'region', source: { object: 'company', property: 'country' }, required: false },
        { field: 'contractValue', source: { object: 'deal', property: 'amount' }, required: false },
      ],
      contactLabel: null,
    });
    expect(mapping.status, JSON.stringify(mapping.body)).toBe(200);
    // A mapped number field takes numbers only (the field named), and is compared as one.
    const wrongType = await signed(portalId, 'PUT', '/rules', {
      rules: [
        {
          name: 'Value',
          conditions: [
            { kind: 'mapped_field', field: 'contractValue', op: 'in', values: ['1000.0', 'lots'] },
          ],
          priority: 'low',
          queue: 'General',
        },
      ],
      default: { priority: 'normal', queue: 'General' },
    });
    expect(wrongType.status).toBe(400);
    expect(wrongType.body).toMatchObject({
      error: { code: 'wrong_value_type', details: { field: 'rules[0].conditions[0].values[1]' } },
    });
    const saved = await signed(portalId, 'PUT', '/rules', {
      rules: [
        {
          name: 'German customers',
          conditions: [
            { kind: 'mapped_field', field: 'region', op: 'equals', values: ['Germany'] },
            { kind: 'stage', stageIds: [SANDBOX_STAGE_IDS.contractSent] },
          ],
          priority: 'urgent',
          queue: 'DACH',
          sendAutomatically: true,
        },
        {
          name: 'Exactly a thousand',
          conditions: [
            { kind: 'mapped_field', field: 'contractValue', op: 'equals', values: ['1000.0'] },
          ],
          priority: 'low',
          queue: 'Small',
        },
      ],
      default: { priority: 'normal', queue: 'General' },
    });
    expect(saved.status, JSON.stringify(saved.body)).toBe(200);
    // Stored as the mapping writes the value: the number 1000.
    expect(RoutingRulesDataSchema.parse(saved.body).rules[1]?.conditions).toEqual([
      { kind: 'mapped_field', field: 'contractValue', op: 'equals', values: ['1000'] },
    ]);
    expect(RoutingRulesDataSchema.parse(saved.body).choices?.mappedFields).toEqual([
      { value: 'counterpartyLegalName', label: 'Counterparty legal name' },
      { value: 'region', label: 'Region' },
      { value: 'contractValue', label: 'Contract value' },
    ]);

    const german = newDeal(portalId, '1000');
    const company = control.createCrmObject(Number(portalId), 'companies', {
      name: 'Muster GmbH',
      country: 'Germany',
    });
    control.associateWithDeal(Number(portalId), german, 'companies', company.id, { primary: true });
    const lonely = newDeal(portalId, '1000');
    await settled(portalId);

    const dry = DryRunResultSchema.parse(
      (await signed(portalId, 'POST', '/dry-run', { dealId: lonely })).body,
    );
    expect(dry.fields.available).toBe(true);
    expect(dry.fields.missing.map((m) => [m.field, m.property])).toEqual([
      ['counterpartyLegalName', 'name'],
      ['region', 'country'],
    ]);
    expect(dry.fields.missing[0]?.message).toMatch(/^required: /);
    expect(dry.routing.evaluations[0]?.conditions[0]).toMatchObject({
      matched: false,
      explanation: 'mapped field region has no value',
    });
    // The second rule compares the mapped amount (1000) with its normalised value.
    expect(dry.routing).toMatchObject({
      matchedRule: { name: 'Exactly a thousand' },
      queue: 'Small',
    });

    await control.moveDealToStage(Number(portalId), german, SANDBOX_STAGE_IDS.contractSent);
    await control.moveDealToStage(Number(portalId), lonely, SANDBOX_STAGE_IDS.contractSent);
    await settled(portalId);
    const [sent] = await dealContracts(portalId, german);
    expect(sent?.source_snapshot).toMatchObject({
      review: { trigger: 'stage_rule', priority: 'urgent', queue: 'DACH' },
    });
    expect(await dealContracts(portalId, lonely)).toEqual([]);
    const counts = await rowCounts();
    const since = Date.now();
    const after = DryRunResultSchema.parse(
      (await signed(portalId, 'POST', '/dry-run', { dealId: german })).body,
    );
    const requests = control.requestLog({ since }).filter((e) => e.portalId === Number(portalId));
    expect(requests.filter((e) => !READ(e))).toEqual([]);
    expect(await rowCounts()).toEqual(counts);
    expect(after.fields.values).toEqual(
      expect.arrayContaining([
        { field: 'counterpartyLegalName', property: 'company.name', value: 'Muster GmbH' },
        { field: 'region', property: 'company.country', value: 'Germany' },
      ]),
    );
    expect(after.routing.matchedRule?.name).toBe('German customers');
  });
});
