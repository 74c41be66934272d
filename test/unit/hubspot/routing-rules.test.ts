import { describe, expect, it } from 'vitest';

import type { RoutingRule } from '../../../hubspot-app/app/settings/routing-schemas.ts';
import {
  evaluateRules,
  parseAmount,
  ruleWarnings,
  type RuleSet,
  type StageInfo,
} from '../../../server/src/hubspot/legal-review/routing-rules.ts';

/** Routing rules, pure: first match wins, each condition's reason, stage order, overlaps. */

function stage(
  id: string,
  label: string,
  order: number,
  extra: Partial<StageInfo> = {},
): StageInfo {
  return {
    id,
    label,
    pipelineId: 'default',
    pipelineLabel: 'Sales Pipeline',
    displayOrder: order,
    isClosed: false,
    probability: 0.5,
    ...extra,
  };
}

const STAGES: StageInfo[] = [
  stage('qualified', 'Qualified', 0),
  stage('legal', 'Legal Review', 1),
  stage('sent', 'Contract Sent', 2),
  stage('won', 'Closed Won', 3, { isClosed: true, probability: 1 }),
  stage('lost', 'Closed Lost', 4, { isClosed: true, probability: 0 }),
  stage('p2-legal', 'Legal', 1, { pipelineId: 'renewals', pipelineLabel: 'Renewals' }),
];

let n = 0;
function rule(
  conditions: RoutingRule['conditions'],
  extra: Partial<RoutingRule> = {},
): RoutingRule {
  n += 1;
  return {
    id: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
    name: `Rule ${n}`,
    conditions,
    priority: 'high',
    queue: 'Enterprise',
    sendAutomatically: false,
    ...extra,
  };
}

function set(rules: RoutingRule[]): RuleSet {
  return { version: 7, rules, default: { priority: 'low', queue: 'General' } };
}

const deal = (over: Partial<Parameters<typeof evaluateRules>[1]> = {}) => ({
  pipelineId: 'default',
  stageId: 'sent',
  amount: 60_000,
  dealType: 'newbusiness',
  ...over,
});

describe('evaluateRules', () => {
  it('picks the first rule whose conditions all hold and leaves later rules unevaluated', () => {
    const small = rule([{ kind: 'amount', max: 50_000 }], { priority: 'normal' });
    const big = rule(
      [
        { kind: 'pipeline', pipelineIds: ['default'] },
        { kind: 'stage', stageIds: ['sent'] },
        { kind: 'amount', min: 50_000 },
      ],
      { sendAutomatically: true },
    );
    const any = rule([], { priority: 'urgent' });
    const decision = evaluateRules(set([small, big, any]), deal(), STAGES);
    expect(decision).toMatchObject({
      rulesVersion: 7,
      rule: { id: big.id },
      priority: 'high',
      queue: 'Enterprise',
      sendAutomatically: true,
    });
    expect(decision.evaluations.map((e) => e.result)).toEqual([
      'not_matched',
      'matched',
      'not_evaluated',
    ]);
    expect(decision.evaluations[0]?.conditions[0]?.explanation).toBe(
      'amount 60,000 is not < 50,000',
    );
    expect(decision.evaluations[1]?.conditions.map((c) => c.explanation)).toEqual([
      'pipeline is Sales Pipeline',
      'stage is Contract Sent (Sales Pipeline)',
      'amount 60,000 is ≥ 50,000',
    ]);
  });

  it('falls back to the default (never sending automatically) when nothing matches', () => {
    const decision = evaluateRules(
      set([
        rule([{ kind: 'deal_type', values: ['existingbusiness'] }], { sendAutomatically: true }),
      ]),
      deal(),
      STAGES,
    );
    expect(decision).toMatchObject({
      rule: null,
      priority: 'low',
      queue: 'General',
      sendAutomatically: false,
    });
    expect(decision.evaluations[0]?.conditions[0]?.explanation).toBe(
      'deal type newbusiness is not existingbusiness',
    );
  });

  it('"from this stage on" follows the pipeline order, stays in its pipeline and skips closed lost', () => {
    const fromLegal = set([rule([{ kind: 'stage_from', stageId: 'legal' }])]);
    const at = (stageId: string, pipelineId = 'default') =>
      evaluateRules(fromLegal, deal({ stageId, pipelineId }), STAGES).evaluations[0]?.conditions[0];
    expect(at('qualified')).toMatchObject({
      matched: false,
      explanation: expect.stringContaining('comes before') as string,
    });
    expect(at('legal')).toMatchObject({
      matched: true,
      explanation: 'stage is Legal Review (Sales Pipeline)',
    });
    expect(at('sent')?.matched).toBe(true);
    expect(at('won')?.matched).toBe(true);
    expect(at('lost')).toMatchObject({
      matched: false,
      explanation: expect.stringContaining('closed lost') as string,
    });
    expect(at('p2-legal', 'renewals')).toMatchObject({
      matched: false,
      explanation: expect.stringContaining('another pipeline') as string,
    });
  });

  it('treats a missing amount, stage or mapping as not matching, with the reason', () => {
    const rules = set([
      rule([
        { kind: 'amount', min: 1 },
        { kind: 'stage', stageIds: ['sent'] },
        { kind: 'mapped_field', field: 'region', op: 'equals', values: ['EU'] },
      ]),
    ]);
    const conditions = evaluateRules(rules, deal({ amount: null, stageId: null }), STAGES)
      .evaluations[0]?.conditions;
    expect(conditions?.map((c) => [c.matched, c.explanation])).toEqual([
      [false, 'the deal has no amount (needs ≥ 1)'],
      [false, 'the deal has no stage'],
      [false, 'no field mapping gives region a value'],
    ]);
    const mapped = evaluateRules(
      rules,
      deal({ amount: 5, mappedFields: new Map([['region', 'EU']]) }),
      STAGES,
    );
    expect(mapped.rule).not.toBeNull();
  });

  it('reads HubSpot amounts as numbers, anything else as no amount', () => {
    expect(parseAmount('50000')).toBe(50_000);
    expect(parseAmount('1234.5')).toBe(1234.5);
    expect(parseAmount('')).toBeNull();
    expect(parseAmount('lots')).toBeNull();
    expect(parseAmount(null)).toBeNull();
  });
});

describe('ruleWarnings', () => {
  it('flags a rule an earlier one always beats, and rules that overlap', () => {
    const broad = rule([{ kind: 'stage_from', stageId: 'legal' }]);
    const narrow = rule([
      { kind: 'stage', stageIds: ['sent'] },
      { kind: 'amount', min: 50_000 },
    ]);
    const partly = rule([{ kind: 'amount', min: 10_000, max: 100_000 }]);
    const apart = rule([
      { kind: 'stage', stageIds: ['qualified'] },
      { kind: 'amount', max: 5_000 },
    ]);
    const warnings = ruleWarnings([broad, narrow, partly, apart], STAGES);
    expect(warnings.map((w) => [w.code, w.field])).toEqual([
      ['rule_never_matches', 'rules[1]'],
      ['rules_overlap', 'rules[2]'],
      ['rules_overlap', 'rules[2]'],
    ]);
  });

  it('flags a rule whose own conditions exclude each other, and keeps consecutive ranges apart', () => {
    const impossible = rule([
      { kind: 'amount', min: 0, max: 10 },
      { kind: 'amount', min: 20 },
    ]);
    const low = rule([{ kind: 'amount', max: 50_000 }]);
    const high = rule([{ kind: 'amount', min: 50_000 }]);
    expect(ruleWarnings([impossible, low, high], STAGES).map((w) => [w.code, w.field])).toEqual([
      ['rule_never_matches', 'rules[0]'],
    ]);
  });

  it('a rule without conditions shadows every later rule', () => {
    const all = rule([]);
    const later = rule([{ kind: 'deal_type', values: ['newbusiness'] }]);
    expect(ruleWarnings([all, later], STAGES)).toEqual([
      expect.objectContaining({ code: 'rule_never_matches', field: 'rules[1]' }),
    ]);
  });
});
