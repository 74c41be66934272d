import type {
  RoutingOutcome,
  RoutingRule,
  RuleCondition,
  RuleEvaluation,
  RuleWarning,
} from '../../../../hubspot-app/app/settings/routing-schemas.ts';

/**
 * Routing rules, pure: which rule a deal matches (ordered, first match wins, no match means
 * the organization's default) and why, and which saved rules shadow or overlap others.
 * Nothing here reads HubSpot or the database: callers bring the deal's facts and the portal's
 * stage order.
 */

export interface RuleSet {
  /** 0 when the organization never saved rules. */
  readonly version: number;
  readonly rules: readonly RoutingRule[];
  readonly default: RoutingOutcome;
}

export const DEFAULT_ROUTING_OUTCOME: RoutingOutcome = { priority: 'normal', queue: 'General' };

export const EMPTY_RULE_SET: RuleSet = { version: 0, rules: [], default: DEFAULT_ROUTING_OUTCOME };

/** One stage of a portal's deal pipelines, in pipeline order. */
export interface StageInfo {
  readonly id: string;
  readonly label: string;
  readonly pipelineId: string;
  readonly pipelineLabel: string;
  readonly displayOrder: number;
  readonly isClosed: boolean;
  readonly probability: number | undefined;
}

/** Closed lost = a closed stage with probability 0 (closed won has 1). */
export function isClosedLost(stage: StageInfo | undefined): boolean {
  return stage !== undefined && stage.isClosed && stage.probability === 0;
}

export type StageLookup = (stageId: string) => StageInfo | undefined;

/** What the rules look at. `mappedFields` undefined: no field mapping is available. */
export interface RoutingFacts {
  readonly pipelineId: string | null;
  readonly stageId: string | null;
  readonly amount: number | null;
  readonly dealType: string | null;
  readonly mappedFields?: ReadonlyMap<string, string | null>;
}

export interface RoutingDecision {
  readonly rulesVersion: number;
  readonly rule: RoutingRule | null;
  readonly priority: RoutingOutcome['priority'];
  readonly queue: string;
  readonly sendAutomatically: boolean;
  readonly evaluations: RuleEvaluation[];
}

/** HubSpot's `amount` is a decimal string; anything else is "no amount". */
export function parseAmount(value: string | null | undefined): number | null {
  if (value === null || value === undefined || value.trim() === '') return null;
  const n = Number(value);
  return Number.isFinite(n) ? n : null;
}

const fmt = (n: number) => n.toLocaleString('en-US', { maximumFractionDigits: 2 });

function stageName(stages: StageLookup, id: string): string {
  const stage = stages(id);
  return stage ? `${stage.label} (${stage.pipelineLabel})` : `stage ${id}`;
}

function pipelineName(id: string, pipelines: ReadonlyMap<string, string>): string {
  return pipelines.get(id) ?? `pipeline ${id}`;
}

interface ConditionResult {
  readonly matched: boolean;
  readonly explanation: string;
}

function evaluateCondition(
  condition: RuleCondition,
  facts: RoutingFacts,
  stages: StageLookup,
  pipelines: ReadonlyMap<string, string>,
): ConditionResult {
  switch (condition.kind) {
    case 'pipeline': {
      const names = condition.pipelineIds.map((id) => pipelineName(id, pipelines));
      if (facts.pipelineId === null)
        return { matched: false, explanation: 'the deal has no pipeline' };
      const matched = condition.pipelineIds.includes(facts.pipelineId);
      const is = pipelineName(facts.pipelineId, pipelines);
      return {
        matched,
        explanation: matched ? `pipeline is ${is}` : `pipeline ${is} is not ${names.join(' or ')}`,
      };
    }
    case 'stage': {
      const names = condition.stageIds.map((id) => stageName(stages, id));
      if (facts.stageId === null) return { matched: false, explanation: 'the deal has no stage' };
      const matched = condition.stageIds.includes(facts.stageId);
      const is = stageName(stages, facts.stageId);
      return {
        matched,
        explanation: matched ? `stage is ${is}` : `stage ${is} is not ${names.join(' or ')}`,
      };
    }
    case 'stage_from': {
      const from = stages(condition.stageId);
      const fromName = stageName(stages, condition.stageId);
      if (facts.stageId === null) return { matched: false, explanation: 'the deal has no stage' };
      const at = stages(facts.stageId);
      const atName = stageName(stages, facts.stageId);
      if (!from) return { matched: false, explanation: `${fromName} no longer exists` };
      if (!at) return { matched: false, explanation: `the deal's ${atName} is unknown` };
      if (at.pipelineId !== from.pipelineId) {
        return {
          matched: false,
          explanation: `stage ${atName} is in another pipeline than ${fromName}`,
        };
      }
      if (isClosedLost(at)) {
        return { matched: false, explanation: `stage ${atName} is closed lost` };
      }
      const matched = at.displayOrder >= from.displayOrder;
      return {
        matched,
        explanation: !matched
          ? `stage ${atName} comes before ${fromName}`
          : at.id === from.id
            ? `stage is ${fromName}`
            : `stage ${atName} comes after ${fromName}`,
      };
    }
    case 'amount': {
      const range = [
        condition.min !== undefined ? `≥ ${fmt(condition.min)}` : undefined,
        condition.max !== undefined ? `< ${fmt(condition.max)}` : undefined,
      ]
        .filter((s) => s !== undefined)
        .join(' and ');
      if (facts.amount === null) {
        return { matched: false, explanation: `the deal has no amount (needs ${range})` };
      }
      const matched =
        (condition.min === undefined || facts.amount >= condition.min) &&
        (condition.max === undefined || facts.amount < condition.max);
      return {
        matched,
        explanation: `amount ${fmt(facts.amount)} ${matched ? 'is' : 'is not'} ${range}`,
      };
    }
    case 'deal_type': {
      if (facts.dealType === null) {
        return { matched: false, explanation: 'the deal has no deal type' };
      }
      const matched = condition.values.includes(facts.dealType);
      return {
        matched,
        explanation: matched
          ? `deal type is ${facts.dealType}`
          : `deal type ${facts.dealType} is not ${condition.values.join(' or ')}`,
      };
    }
    case 'mapped_field': {
      if (facts.mappedFields === undefined) {
        return { matched: false, explanation: `no field mapping gives ${condition.field} a value` };
      }
      const value = facts.mappedFields.get(condition.field) ?? null;
      if (value === null) {
        return { matched: false, explanation: `mapped field ${condition.field} has no value` };
      }
      const matched = condition.values.includes(value);
      const wanted =
        condition.op === 'equals'
          ? `"${condition.values[0] ?? ''}"`
          : condition.values.map((v) => `"${v}"`).join(' or ');
      return {
        matched,
        explanation: `mapped field ${condition.field} is "${value}"${matched ? '' : `, not ${wanted}`}`,
      };
    }
  }
}

/**
 * The first rule all of whose conditions hold (a rule without conditions matches every
 * deal), with every rule's evaluation up to it; later rules are `not_evaluated`.
 */
export function evaluateRules(
  ruleSet: RuleSet,
  facts: RoutingFacts,
  portalStages: readonly StageInfo[],
): RoutingDecision {
  const byId = new Map(portalStages.map((s) => [s.id, s]));
  const stages: StageLookup = (id) => byId.get(id);
  const pipelines = new Map(portalStages.map((s) => [s.pipelineId, s.pipelineLabel]));
  const evaluations: RuleEvaluation[] = [];
  let winner: RoutingRule | null = null;
  for (const rule of ruleSet.rules) {
    if (winner !== null) {
      evaluations.push({
        ruleId: rule.id,
        name: rule.name,
        result: 'not_evaluated',
        conditions: [],
      });
      continue;
    }
    const conditions = rule.conditions.map((condition) => ({
      kind: condition.kind,
      ...evaluateCondition(condition, facts, stages, pipelines),
    }));
    const matched = conditions.every((c) => c.matched);
    evaluations.push({
      ruleId: rule.id,
      name: rule.name,
      result: matched ? 'matched' : 'not_matched',
      conditions:
        conditions.length > 0
          ? conditions
          : [{ kind: 'always', matched: true, explanation: 'no conditions: matches every deal' }],
    });
    if (matched) winner = rule;
  }
  return {
    rulesVersion: ruleSet.version,
    rule: winner,
    priority: winner?.priority ?? ruleSet.default.priority,
    queue: winner?.queue ?? ruleSet.default.queue,
    sendAutomatically: winner?.sendAutomatically ?? false,
    evaluations,
  };
}

// ---- overlaps -------------------------------------------------------------------------

/** The set of stage ids a stage condition admits, when it can be known. */
function admittedStages(
  condition: RuleCondition,
  stages: readonly StageInfo[],
): Set<string> | undefined {
  if (condition.kind === 'stage') return new Set(condition.stageIds);
  if (condition.kind === 'stage_from') {
    const from = stages.find((s) => s.id === condition.stageId);
    if (!from) return undefined;
    return new Set(
      stages
        .filter(
          (s) =>
            s.pipelineId === from.pipelineId &&
            s.displayOrder >= from.displayOrder &&
            !isClosedLost(s),
        )
        .map((s) => s.id),
    );
  }
  return undefined;
}

type Dimension = 'pipeline' | 'stage' | 'amount' | 'deal_type' | `field:${string}`;

interface Constraint {
  /** Allowed discrete values, or an amount interval [min, max). */
  readonly values?: Set<string>;
  readonly range?: { min: number; max: number };
}

/** A rule's conditions as one constraint per dimension (conditions on one dimension intersect). */
function constraints(
  rule: RoutingRule,
  stages: readonly StageInfo[],
): Map<Dimension, Constraint> | undefined {
  const out = new Map<Dimension, Constraint>();
  const meet = (dim: Dimension, next: Constraint) => {
    const prev = out.get(dim);
    if (!prev) {
      out.set(dim, next);
      return;
    }
    if (prev.values && next.values) {
      out.set(dim, { values: new Set([...prev.values].filter((v) => next.values?.has(v))) });
    } else if (prev.range && next.range) {
      out.set(dim, {
        range: {
          min: Math.max(prev.range.min, next.range.min),
          max: Math.min(prev.range.max, next.range.max),
        },
      });
    }
  };
  for (const condition of rule.conditions) {
    switch (condition.kind) {
      case 'pipeline':
        meet('pipeline', { values: new Set(condition.pipelineIds) });
        break;
      case 'stage':
      case 'stage_from': {
        const admitted = admittedStages(condition, stages);
        if (!admitted) return undefined;
        meet('stage', { values: admitted });
        break;
      }
      case 'amount':
        meet('amount', {
          range: { min: condition.min ?? -Infinity, max: condition.max ?? Infinity },
        });
        break;
      case 'deal_type':
        meet('deal_type', { values: new Set(condition.values) });
        break;
      case 'mapped_field':
        meet(`field:${condition.field}`, { values: new Set(condition.values) });
        break;
    }
  }
  return out;
}

function isEmpty(c: Constraint): boolean {
  if (c.values) return c.values.size === 0;
  if (c.range) return !(c.range.min < c.range.max);
  return false;
}

/** Whether every deal that meets `inner` also meets `outer` (on one dimension). */
function contains(outer: Constraint, inner: Constraint): boolean {
  if (outer.values && inner.values) return [...inner.values].every((v) => outer.values?.has(v));
  if (outer.range && inner.range) {
    return outer.range.min <= inner.range.min && inner.range.max <= outer.range.max;
  }
  return false;
}

function intersects(a: Constraint, b: Constraint): boolean {
  if (a.values && b.values) return [...a.values].some((v) => b.values?.has(v));
  if (a.range && b.range) {
    return Math.max(a.range.min, b.range.min) < Math.min(a.range.max, b.range.max);
  }
  return true;
}

/**
 * Warnings about an ordered rule list: a rule an earlier rule always beats (it can never
 * match), and rules some deal could match both of (the earlier one wins). Conservative: a
 * condition that cannot be resolved (an unknown stage) is left out of the comparison.
 */
export function ruleWarnings(
  rules: readonly RoutingRule[],
  stages: readonly StageInfo[],
): RuleWarning[] {
  const warnings: RuleWarning[] = [];
  const resolved = rules.map((rule) => constraints(rule, stages));
  for (let j = 0; j < rules.length; j += 1) {
    const later = resolved[j];
    const laterRule = rules[j];
    if (!later || !laterRule) continue;
    if ([...later.values()].some(isEmpty)) {
      warnings.push({
        code: 'rule_never_matches',
        field: `rules[${j}]`,
        message: `Rule "${laterRule.name}" can never match: its conditions exclude each other.`,
      });
      continue;
    }
    for (let i = 0; i < j; i += 1) {
      const earlier = resolved[i];
      const earlierRule = rules[i];
      if (!earlier || !earlierRule || [...earlier.values()].some(isEmpty)) continue;
      const shadowed = [...earlier.entries()].every(([dim, c]) => {
        const mine = later.get(dim);
        return mine !== undefined && contains(c, mine);
      });
      if (shadowed) {
        warnings.push({
          code: 'rule_never_matches',
          field: `rules[${j}]`,
          message: `Rule "${laterRule.name}" can never match: rule "${earlierRule.name}" above it matches every deal it would.`,
        });
        break;
      }
      const overlap = [...earlier.entries()].every(([dim, c]) => {
        const mine = later.get(dim);
        return mine === undefined || intersects(c, mine);
      });
      if (overlap) {
        warnings.push({
          code: 'rules_overlap',
          field: `rules[${j}]`,
          message: `Rules "${earlierRule.name}" and "${laterRule.name}" overlap: a deal matching both goes to "${earlierRule.name}" (first match wins).`,
        });
      }
    }
  }
  return warnings;
}
