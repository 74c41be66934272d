import { sql, type Kysely } from 'kysely';

import { recordAudit } from '../../core/audit/audit-log.ts';
import { findContractsByExternalRef } from '../../core/contracts/external-records.ts';
import type { DB } from '../../platform/db/schema.ts';
import { DealNotFoundError, fetchDealSnapshot } from '../legal-review/deal-reader.ts';
import { readMappedDeal } from '../legal-review/mapped-deal.ts';
import { requestLegalReview } from '../legal-review/import-service.ts';
import { routedBy, routingFactsOf } from '../legal-review/routing.ts';
import { evaluateRules, type RoutingDecision } from '../legal-review/routing-rules.ts';
import { getRoutingRules } from '../legal-review/routing-store.ts';
import { getHubSpotSettings } from '../legal-review/settings-store.ts';
import type { AppConfig } from '../../platform/config/runtime.ts';
import type { JobQueue } from '../../platform/jobs/queue.ts';
import type { HubSpotTokenDeps } from '../client/access-tokens.ts';
import type { DealStageCache } from '../legal-review/pipeline-stages.ts';

/**
 * "Send automatically" on stage entry, from the `dealstage` webhook the app already
 * receives: portals without workflows (Starter) still get the stage trigger.
 *
 * The deal's routing is evaluated with the stage the event says it entered (and the deal's
 * other properties as HubSpot has them now); when the first matching rule says "send
 * automatically", the deal is sent to legal review. Only a deal's newest stage change is
 * acted on (the inbound processing supersedes older ones): a stage the deal already left
 * again by the time its event is processed does not send it.
 *
 * Idempotency: one claim per deal and rule (`hubspot_auto_send_claims`), taken in the same
 * transaction that creates the contract. Per deal and rule rather than per stage entry,
 * because the admin's intent is "send this deal when it gets here", once: HubSpot delivers
 * a stage change more than once, reps move deals back and forth, and a deal that skips past
 * the trigger stage is caught by a "this stage or later" rule; a stage-entry key would send
 * again on every re-entry. And an automatic rule only ever starts a deal's first review: a
 * deal that already has a contract from HubSpot (open or decided) is not sent again (a new
 * version is a person's choice, on the card), so two rules cannot send one deal twice.
 */

/** The conditions a stage change alone decides. */
const STAGE_KINDS: ReadonlySet<string> = new Set(['pipeline', 'stage', 'stage_from']);

/** Background reads leave the interactive share of the portal's rate budget to cards. */
const BACKGROUND = { rateLane: 'sync' } as const;

export interface AutoSendDeps {
  readonly db: Kysely<DB>;
  readonly jobs: JobQueue;
  readonly config: Pick<AppConfig, 'publicBaseUrl'>;
  readonly tokenDeps: HubSpotTokenDeps;
  readonly stages: DealStageCache;
}

export interface StageEvent {
  readonly id: number;
  readonly portal_id: string;
  readonly organization_id: string;
  readonly object_id: string;
  readonly property_value: string | null;
}

async function claim(
  trx: Kysely<DB>,
  event: StageEvent,
  decision: RoutingDecision & { rule: NonNullable<RoutingDecision['rule']> },
  outcome: 'sent' | 'already_in_review',
): Promise<boolean> {
  const inserted = await trx
    .insertInto('hubspot_auto_send_claims')
    .values({
      portal_id: event.portal_id,
      deal_id: event.object_id,
      rule_id: decision.rule.id,
      organization_id: event.organization_id,
      rules_version: decision.rulesVersion,
      stage_id: event.property_value ?? '',
      outcome,
      webhook_event_id: event.id,
    })
    .onConflict((oc) => oc.columns(['portal_id', 'deal_id', 'rule_id']).doNothing())
    .returning('rule_id')
    .executeTakeFirst();
  return inserted !== undefined;
}

/** Handles a stage change of a deal; returns the event's outcome. */
export async function autoSendOnStageEntry(deps: AutoSendDeps, event: StageEvent): Promise<string> {
  const stageId = event.property_value;
  if (!stageId) return 'ignored';
  const ruleSet = await getRoutingRules(deps.db, event.organization_id);
  if (!ruleSet.rules.some((rule) => rule.sendAutomatically)) return 'unknown_deal';

  const stages = await deps.stages.stages(deps.tokenDeps, event.portal_id, stageId);
  const entered = stages.find((s) => s.id === stageId);
  // Without a read: can any automatic rule hold at this stage? Most stage changes of a busy
  // portal end here, costing HubSpot nothing.
  if (entered) {
    const atStage = { pipelineId: entered.pipelineId, stageId, amount: null, dealType: null };
    const possible = ruleSet.rules.some(
      (rule) =>
        rule.sendAutomatically &&
        evaluateRules(
          {
            ...ruleSet,
            rules: [
              { ...rule, conditions: rule.conditions.filter((c) => STAGE_KINDS.has(c.kind)) },
            ],
          },
          atStage,
          stages,
        ).rule !== null,
    );
    if (!possible) return 'no_automatic_rule';
  }
  // Rules that test mapped fields need the deal read as the import reads it (companies,
  // contacts, the mapping applied); the others only the deal's own properties.
  const needsMapping = ruleSet.rules.some((rule) =>
    rule.conditions.some((c) => c.kind === 'mapped_field'),
  );
  let snapshot;
  let mapped;
  try {
    if (needsMapping) {
      const read = await readMappedDeal(
        deps.db,
        deps.tokenDeps,
        {
          organizationId: event.organization_id,
          portalId: event.portal_id,
          dealId: event.object_id,
        },
        BACKGROUND,
      );
      snapshot = read.snapshot;
      mapped = read.mapping;
    } else {
      snapshot = await fetchDealSnapshot(
        deps.tokenDeps,
        event.portal_id,
        event.object_id,
        BACKGROUND,
      );
    }
  } catch (error) {
    if (error instanceof DealNotFoundError) return 'deal_not_found';
    throw error;
  }
  const decision = evaluateRules(
    ruleSet,
    routingFactsOf({
      pipelineId: entered?.pipelineId ?? snapshot.pipeline?.id ?? null,
      stageId,
      amount: snapshot.amount,
      dealType: snapshot.dealType ?? null,
      mapped: mapped?.values,
    }),
    stages,
  );
  const rule = decision.rule;
  if (!rule || !decision.sendAutomatically) return 'no_automatic_rule';
  const matched = { ...decision, rule };

  return deps.db.transaction().execute(async (trx) => {
    // The lock `requestLegalReview` takes (re-entrant): a card click on the same deal waits.
    await sql`select pg_advisory_xact_lock(hashtextextended(${`hubspot-deal:${event.organization_id}:${event.portal_id}:${event.object_id}`}, 0))`.execute(
      trx,
    );
    const existing = await findContractsByExternalRef(
      trx,
      {
        organizationId: event.organization_id,
        source: 'hubspot',
        accountId: event.portal_id,
        externalId: event.object_id,
      },
      { limit: 1 },
    );
    if (existing.length > 0) {
      await claim(trx, event, matched, 'already_in_review');
      return 'auto_send_already_sent';
    }
    if (!(await claim(trx, event, matched, 'sent'))) return 'auto_send_already_claimed';
    const actor = `hubspot:portal:${event.portal_id}:rule:${rule.id}`;
    const { contract } = await requestLegalReview(
      { db: deps.db, jobs: deps.jobs, config: deps.config },
      {
        organizationId: event.organization_id,
        portalId: event.portal_id,
        dealId: event.object_id,
        trigger: 'stage_rule',
        actor,
        // Like a workflow send: the settings page's attachment filter.
        fileFilter: (await getHubSpotSettings(trx, event.organization_id)).attachmentFilter,
        routing: routedBy(decision),
        dealName: snapshot.name,
      },
      trx,
    );
    await trx
      .updateTable('hubspot_auto_send_claims')
      .set({ contract_id: contract.id })
      .where('portal_id', '=', event.portal_id)
      .where('deal_id', '=', event.object_id)
      .where('rule_id', '=', rule.id)
      .execute();
    await recordAudit(trx, {
      organizationId: event.organization_id,
      actor,
      action: 'hubspot.deal_sent_automatically',
      target: `contract:${contract.id}`,
      outcome: 'success',
      details: {
        deal_id: event.object_id,
        stage_id: stageId,
        rule_id: rule.id,
        rule_name: rule.name,
        rules_version: decision.rulesVersion,
        priority: decision.priority,
        queue: decision.queue,
      },
    });
    return 'auto_sent';
  });
}
