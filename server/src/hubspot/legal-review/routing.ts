import type { Kysely } from 'kysely';

import type { DB } from '../../platform/db/schema.ts';
import type { HubSpotTokenDeps } from '../client/access-tokens.ts';
import type { Routed } from './job-definitions.ts';
import { readDealStages } from './pipeline-stages.ts';
import {
  evaluateRules,
  parseAmount,
  type RoutingDecision,
  type RoutingFacts,
  type RuleSet,
  type StageInfo,
} from './routing-rules.ts';
import { getRoutingRules } from './routing-store.ts';
import { REPORT_PROPERTY_NAMES } from '../wire/report-properties.ts';

/**
 * Routing for one deal: the organization's rules in force, evaluated on the deal's facts.
 * Reads HubSpot only when there is something to evaluate (the portal's stages, for stage
 * order and labels); no rules means the default without a call.
 */

/** The deal's routing facts from its properties (as HubSpot sends them: strings). */
export function routingFactsOf(deal: {
  readonly pipelineId: string | null;
  readonly stageId: string | null;
  readonly amount: string | null;
  readonly dealType: string | null;
  /** The field mapping's values for this deal (`mapped_field` conditions); none: no mapping. */
  readonly mapped?: Readonly<Record<string, string | number>> | undefined;
}): RoutingFacts {
  return {
    pipelineId: deal.pipelineId,
    stageId: deal.stageId,
    amount: parseAmount(deal.amount),
    dealType: deal.dealType,
    ...(deal.mapped !== undefined
      ? {
          mappedFields: new Map(
            Object.entries(deal.mapped).map(([field, value]) => [field, String(value)]),
          ),
        }
      : {}),
  };
}

export interface DecideRoutingInput {
  readonly organizationId: string;
  readonly portalId: string;
  readonly facts: RoutingFacts;
  /** The portal's stages when the caller has them (else read when rules need them). */
  readonly stages?: readonly StageInfo[];
  readonly ruleSet?: RuleSet;
}

export async function decideRouting(
  deps: { readonly db: Kysely<DB>; readonly tokenDeps: HubSpotTokenDeps },
  input: DecideRoutingInput,
): Promise<RoutingDecision> {
  const ruleSet = input.ruleSet ?? (await getRoutingRules(deps.db, input.organizationId));
  const stages =
    input.stages ??
    (ruleSet.rules.length > 0 ? await readDealStages(deps.tokenDeps, input.portalId) : []);
  return evaluateRules(ruleSet, input.facts, stages);
}

/** What a contract records of its routing. */
export function routedBy(decision: RoutingDecision): Routed {
  return {
    rulesVersion: decision.rulesVersion,
    rule: decision.rule ? { id: decision.rule.id, name: decision.rule.name } : null,
    priority: decision.priority,
    queue: decision.queue,
  };
}

/**
 * The deal property the matched priority is written back to. The report properties
 * (`outbox/report-properties.ts`) read it from the contract's `source_snapshot.review.priority`,
 * which is where routing puts it, so it rides the same deal `batch/update` as the status.
 */
export const PRIORITY_PROPERTY = REPORT_PROPERTY_NAMES.priority;
