import { z } from 'zod';

/**
 * The wire contract of the settings page's routing rules and dry run (issue 17): ordered
 * rules, first match wins, no match means the default. The page parses every answer with
 * these schemas and the backend validates every body with them. Only imports `zod`.
 */

export const SETTINGS_RULES_PATH = '/api/v1/integrations/hubspot/settings/rules';
export const SETTINGS_DRY_RUN_PATH = '/api/v1/integrations/hubspot/settings/dry-run';

/** At most this many rules per organization (a save with more is refused). */
export const MAX_ROUTING_RULES = 50;
/** Conditions per rule (all must hold). */
export const MAX_RULE_CONDITIONS = 10;

export const ReviewPrioritySchema = z.enum(['low', 'normal', 'high', 'urgent']);
export type ReviewPriorityValue = z.infer<typeof ReviewPrioritySchema>;

/** A review queue: a name legal knows (e.g. "Enterprise"), not an id. */
export const ReviewQueueSchema = z
  .string()
  .trim()
  .min(1, 'the review queue is empty')
  .max(80, 'the review queue is longer than 80 characters');

const HubSpotId = z.string().trim().min(1).max(100);
const Amount = z.number();

/**
 * One condition of a rule. `stage_from` is "this stage or any later one of its pipeline"
 * (stage order from the pipeline definition, closed-lost stages never count): it catches a
 * deal that skips straight past the trigger stage. `mapped_field` compares the value the
 * admin's field mapping gives a contract field (exact text, `in` = any of the values).
 */
export const RuleConditionSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('pipeline'),
    pipelineIds: z.array(HubSpotId).min(1).max(50),
  }),
  z.strictObject({ kind: z.literal('stage'), stageIds: z.array(HubSpotId).min(1).max(100) }),
  z.strictObject({ kind: z.literal('stage_from'), stageId: HubSpotId }),
  z
    .strictObject({
      kind: z.literal('amount'),
      /** Inclusive. */
      min: Amount.optional(),
      /** Exclusive, so 0–50,000 and 50,000–100,000 do not overlap. */
      max: Amount.optional(),
    })
    .refine((c) => c.min !== undefined || c.max !== undefined, {
      message: 'an amount range needs a minimum or a maximum',
    })
    .refine((c) => c.min === undefined || c.max === undefined || c.min < c.max, {
      message: 'the minimum amount must be below the maximum',
    }),
  z.strictObject({ kind: z.literal('deal_type'), values: z.array(HubSpotId).min(1).max(50) }),
  z
    .strictObject({
      kind: z.literal('mapped_field'),
      field: HubSpotId,
      op: z.enum(['equals', 'in']),
      values: z.array(z.string().max(500)).min(1).max(50),
    })
    .refine((c) => c.op === 'in' || c.values.length === 1, {
      message: '"equals" takes exactly one value',
    }),
]);
export type RuleCondition = z.infer<typeof RuleConditionSchema>;
export type RuleConditionKind = RuleCondition['kind'];

/** What a rule (or the default) decides. */
export const RoutingOutcomeSchema = z.strictObject({
  priority: ReviewPrioritySchema,
  queue: ReviewQueueSchema,
});
export type RoutingOutcome = z.infer<typeof RoutingOutcomeSchema>;

export const RoutingRuleInputSchema = z.strictObject({
  /** Kept across saves (automatic sends are claimed per deal and rule id); new rules omit it. */
  id: z.uuid().optional(),
  name: z.string().trim().min(1, 'the rule name is empty').max(100),
  conditions: z.array(RuleConditionSchema).max(MAX_RULE_CONDITIONS),
  priority: ReviewPrioritySchema,
  queue: ReviewQueueSchema,
  /** Send the deal to legal review when it enters a stage that makes this rule match. */
  sendAutomatically: z.boolean().default(false),
});
export type RoutingRuleInput = z.input<typeof RoutingRuleInputSchema>;

export const RoutingRuleSchema = RoutingRuleInputSchema.extend({
  id: z.uuid(),
  sendAutomatically: z.boolean(),
});
export type RoutingRule = z.infer<typeof RoutingRuleSchema>;

/**
 * `PUT /settings/rules` body. `rules` is checked against `MAX_ROUTING_RULES` before the
 * rules themselves (a stable `too_many_rules`). `baseVersion`, when given, must be the
 * version in force: a save over someone else's newer save is refused.
 */
export const RoutingRulesInputSchema = z.strictObject({
  rules: z.array(RoutingRuleInputSchema),
  default: RoutingOutcomeSchema,
  baseVersion: z.number().int().nonnegative().optional(),
});
export type RoutingRulesInput = z.input<typeof RoutingRulesInputSchema>;

/** A warning about saved rules: they are kept, the admin should look. */
export const RuleWarningSchema = z.object({
  code: z.enum(['rule_never_matches', 'rules_overlap']),
  /** The rule it is about (`rules[3]`), and the earlier one that wins. */
  field: z.string(),
  message: z.string(),
});
export type RuleWarning = z.infer<typeof RuleWarningSchema>;

const ChoiceSchema = z.object({ value: z.string(), label: z.string() });

/** What the rule editor offers, from the portal (null while HubSpot cannot be read). */
export const RuleChoicesSchema = z.object({
  pipelines: z.array(
    z.object({ id: z.string(), label: z.string(), stages: z.array(ChoiceSchema) }),
  ),
  dealTypes: z.array(ChoiceSchema),
  /** The contract fields the field mapping fills (empty until a mapping exists). */
  mappedFields: z.array(ChoiceSchema),
});
export type RuleChoices = z.infer<typeof RuleChoicesSchema>;

/** `GET /settings/rules` and `PUT /settings/rules` (200). Version 0: never saved. */
export const RoutingRulesDataSchema = z.object({
  version: z.number().int().nonnegative(),
  rules: z.array(RoutingRuleSchema).max(MAX_ROUTING_RULES),
  default: RoutingOutcomeSchema,
  warnings: z.array(RuleWarningSchema),
  choices: RuleChoicesSchema.nullable(),
});
export type RoutingRulesData = z.infer<typeof RoutingRulesDataSchema>;

/** `POST /settings/dry-run` body. */
export const DryRunRequestSchema = z.strictObject({
  dealId: z
    .string()
    .trim()
    .regex(/^\d{1,20}$/, 'a HubSpot deal id is a number'),
});

export const ConditionEvaluationSchema = z.object({
  kind: z.string(),
  matched: z.boolean(),
  explanation: z.string(),
});

export const RuleEvaluationSchema = z.object({
  ruleId: z.string(),
  name: z.string(),
  /** `not_evaluated`: an earlier rule already matched (first match wins). */
  result: z.enum(['matched', 'not_matched', 'not_evaluated']),
  conditions: z.array(ConditionEvaluationSchema),
});
export type RuleEvaluation = z.infer<typeof RuleEvaluationSchema>;

export const RoutingDecisionSchema = z.object({
  rulesVersion: z.number().int().nonnegative(),
  matchedRule: z.object({ id: z.string(), name: z.string() }).nullable(),
  priority: ReviewPrioritySchema,
  queue: z.string(),
  sendAutomatically: z.boolean(),
  evaluations: z.array(RuleEvaluationSchema),
});
export type RoutingDecisionData = z.infer<typeof RoutingDecisionSchema>;

export const DryRunAttachmentSchema = z.object({
  fileId: z.string(),
  name: z.string(),
  action: z.enum(['import', 'skip', 'already_on_contract']),
  reason: z.string().nullable(),
  explanation: z.string(),
});

export const DryRunWriteSchema = z.object({
  /** A deal property, or `note` for a note on the deal. */
  target: z.string(),
  value: z.string().nullable(),
  when: z.string(),
});

/** `POST /settings/dry-run` (200): what sending the deal would do; nothing was written. */
export const DryRunResultSchema = z.object({
  deal: z.object({
    id: z.string(),
    name: z.string().nullable(),
    pipeline: z.string().nullable(),
    stage: z.string().nullable(),
    amount: z.string().nullable(),
  }),
  routing: RoutingDecisionSchema,
  /** The mapped contract fields; `available: false` while no field mapping exists. */
  fields: z.object({
    available: z.boolean(),
    values: z.array(z.object({ field: z.string(), property: z.string(), value: z.string() })),
    missing: z.array(z.object({ field: z.string(), property: z.string(), message: z.string() })),
  }),
  attachments: z.array(DryRunAttachmentSchema),
  /** The deal's open contract a send would reuse (null: a send creates one). */
  openContract: z.object({ id: z.string(), url: z.string(), status: z.string() }).nullable(),
  writes: z.array(DryRunWriteSchema),
});
export type DryRunResult = z.infer<typeof DryRunResultSchema>;
