import type { Kysely } from 'kysely';
import { z } from 'zod';

import type { DB } from '../../platform/db/schema.ts';

import { ValidationError } from '../../platform/errors.ts';
import {
  MAX_ROUTING_RULES,
  RoutingRulesInputSchema,
  type RoutingRule,
  type RuleChoices,
} from '../../../../hubspot-app/app/settings/routing-schemas.ts';
import type { HubSpotTokenDeps } from '../client/access-tokens.ts';
import { portalRequest } from '../client/portal-client.ts';
import { hubspotPaths } from '../wire/api-versions.ts';
import {
  normaliseMetadataValue,
  type MetadataFieldKind,
} from '../../core/contracts/metadata-fields.ts';
import { currentFieldMapping } from './field-mapping-store.ts';
import { readDealStages } from './pipeline-stages.ts';
import type { StageInfo } from './routing-rules.ts';

/**
 * Save-time checks of routing rules against the portal: every pipeline, stage and deal type
 * a rule names exists, each condition's property has the type it needs, mapped fields exist.
 * A problem refuses the whole save (400, a stable code, `details.field` naming the field,
 * nothing stored); overlaps are only warnings (`ruleWarnings`).
 */

/** The mapped contract fields a routing rule may test (key and label). */
export async function mappedFieldChoices(
  db: Kysely<DB>,
  organizationId: string,
): Promise<Map<string, MappedFieldInfo>> {
  const versioned = await currentFieldMapping(db, organizationId);
  return new Map(
    (versioned?.mapping.fields ?? []).map((f) => [
      f.field,
      { key: f.field, label: f.label, kind: f.kind },
    ]),
  );
}

/** HubSpot's deal type property (a default enumeration: new / existing business). */
export const DEAL_TYPE_PROPERTY = 'dealtype';

export interface RuleProblem {
  readonly code: string;
  readonly field: string;
  readonly message: string;
}

export class InvalidRoutingRulesError extends ValidationError {
  constructor(problems: readonly RuleProblem[]) {
    const first = problems[0] ?? {
      code: 'invalid_routing_rules',
      field: '(root)',
      message: 'invalid',
    };
    super(
      `${first.field}: ${first.message}`,
      { field: first.field, problems: problems.slice(0, 50) },
      first.code,
    );
  }
}

/** `rules[2].conditions[0].stageIds[1]`: the same paths as the portal checks name. */
function fieldPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out === '' ? '(root)' : out;
}

/** The body of a save, parsed: the rule count first (its own code), then the schema. */
export function parseRoutingRulesInput(body: unknown): z.output<typeof RoutingRulesInputSchema> {
  const rules = (body as { rules?: unknown } | null)?.rules;
  if (Array.isArray(rules) && rules.length > MAX_ROUTING_RULES) {
    throw new InvalidRoutingRulesError([
      {
        code: 'too_many_rules',
        field: 'rules',
        message: `at most ${MAX_ROUTING_RULES} rules (got ${rules.length})`,
      },
    ]);
  }
  const parsed = RoutingRulesInputSchema.safeParse(body);
  if (!parsed.success) {
    throw new InvalidRoutingRulesError(
      parsed.error.issues.map((issue) => ({
        code: 'invalid_routing_rules',
        field: fieldPath(issue.path),
        message: issue.message,
      })),
    );
  }
  return parsed.data;
}

/** A deal property as the checks need it. */
export interface PropertyInfo {
  readonly name: string;
  readonly label: string;
  readonly type: string;
  readonly options: readonly { readonly value: string; readonly label: string }[];
}

/** A contract field the admin's mapping fills, with the type of value it holds. */
export interface MappedFieldInfo {
  readonly key: string;
  readonly label: string;
  readonly kind: MetadataFieldKind;
}

export interface PortalRoutingFacts {
  readonly stages: readonly StageInfo[];
  readonly dealProperties: ReadonlyMap<string, PropertyInfo>;
  /** The contract fields the organization's field mapping fills (`mappedFieldChoices`). */
  readonly mappedFields: ReadonlyMap<string, MappedFieldInfo>;
}

/** `GET /crm/properties/{v}/deals`, read leniently: only what the checks use. */
const DealPropertiesSchema = z.object({
  results: z.array(
    z
      .object({
        name: z.string(),
        label: z.string(),
        type: z.string(),
        options: z.array(z.object({ value: z.string(), label: z.string() }).loose()).optional(),
      })
      .loose(),
  ),
});

export async function readDealProperties(
  deps: HubSpotTokenDeps,
  portalId: string,
): Promise<Map<string, PropertyInfo>> {
  const { body } = await portalRequest(
    deps,
    portalId,
    { method: 'GET', path: hubspotPaths.dealProperties() },
    DealPropertiesSchema,
  );
  return new Map(
    body.results.map((p) => [
      p.name,
      {
        name: p.name,
        label: p.label,
        type: p.type,
        options: (p.options ?? []).map((o) => ({ value: o.value, label: o.label })),
      },
    ]),
  );
}

/** What the rule checks and the editor need from the portal: two reads. */
export async function readPortalRoutingFacts(
  deps: HubSpotTokenDeps,
  portalId: string,
  mappedFields: ReadonlyMap<string, MappedFieldInfo>,
): Promise<PortalRoutingFacts> {
  const [stages, dealProperties] = await Promise.all([
    readDealStages(deps, portalId),
    readDealProperties(deps, portalId),
  ]);
  return { stages, dealProperties, mappedFields };
}

/** The editor's choices: pipelines with their stages in order, deal types, mapped fields. */
export function ruleChoices(facts: PortalRoutingFacts): RuleChoices {
  const pipelines = new Map<string, { id: string; label: string; stages: StageInfo[] }>();
  for (const stage of facts.stages) {
    const entry = pipelines.get(stage.pipelineId) ?? {
      id: stage.pipelineId,
      label: stage.pipelineLabel,
      stages: [],
    };
    entry.stages.push(stage);
    pipelines.set(stage.pipelineId, entry);
  }
  return {
    pipelines: [...pipelines.values()].map((p) => ({
      id: p.id,
      label: p.label,
      stages: [...p.stages]
        .sort((a, b) => a.displayOrder - b.displayOrder)
        .map((s) => ({ value: s.id, label: s.label })),
    })),
    dealTypes: (facts.dealProperties.get(DEAL_TYPE_PROPERTY)?.options ?? []).map((o) => ({
      value: o.value,
      label: o.label,
    })),
    mappedFields: [...facts.mappedFields.values()].map((f) => ({ value: f.key, label: f.label })),
  };
}

/** Every problem of the rules against the portal (empty: they may be saved). */
export function ruleProblems(
  rules: readonly RoutingRule[],
  facts: PortalRoutingFacts,
): RuleProblem[] {
  const problems: RuleProblem[] = [];
  const stages = new Map(facts.stages.map((s) => [s.id, s]));
  const pipelines = new Set(facts.stages.map((s) => s.pipelineId));
  const seenIds = new Set<string>();
  const propertyOfType = (field: string, name: string, type: string) => {
    const property = facts.dealProperties.get(name);
    if (!property) {
      problems.push({
        code: 'unknown_property',
        field,
        message: `the deal property "${name}" does not exist in this HubSpot account`,
      });
      return undefined;
    }
    if (property.type !== type) {
      problems.push({
        code: 'wrong_property_type',
        field,
        message: `the deal property "${name}" is of type ${property.type}, not ${type}`,
      });
      return undefined;
    }
    return property;
  };
  rules.forEach((rule, r) => {
    const at = `rules[${r}]`;
    if (seenIds.has(rule.id)) {
      problems.push({
        code: 'duplicate_rule_id',
        field: `${at}.id`,
        message: 'two rules share an id',
      });
    }
    seenIds.add(rule.id);
    const rulePipelines = new Set(
      rule.conditions.flatMap((c) => (c.kind === 'pipeline' ? c.pipelineIds : [])),
    );
    rule.conditions.forEach((condition, c) => {
      const field = `${at}.conditions[${c}]`;
      const checkStage = (stageId: string, where: string) => {
        const stage = stages.get(stageId);
        if (!stage) {
          problems.push({
            code: 'unknown_stage',
            field: where,
            message: `the deal stage "${stageId}" does not exist in this HubSpot account`,
          });
        } else if (rulePipelines.size > 0 && !rulePipelines.has(stage.pipelineId)) {
          problems.push({
            code: 'stage_not_in_pipeline',
            field: where,
            message: `the stage "${stage.label}" is in the pipeline "${stage.pipelineLabel}", which this rule does not select`,
          });
        }
      };
      switch (condition.kind) {
        case 'pipeline':
          condition.pipelineIds.forEach((id, i) => {
            if (!pipelines.has(id)) {
              problems.push({
                code: 'unknown_pipeline',
                field: `${field}.pipelineIds[${i}]`,
                message: `the deal pipeline "${id}" does not exist in this HubSpot account`,
              });
            }
          });
          break;
        case 'stage':
          condition.stageIds.forEach((id, i) => {
            checkStage(id, `${field}.stageIds[${i}]`);
          });
          break;
        case 'stage_from':
          checkStage(condition.stageId, `${field}.stageId`);
          break;
        case 'amount':
          propertyOfType(field, 'amount', 'number');
          break;
        case 'deal_type': {
          const property = propertyOfType(field, DEAL_TYPE_PROPERTY, 'enumeration');
          if (!property) break;
          const options = new Set(property.options.map((o) => o.value));
          condition.values.forEach((value, i) => {
            if (!options.has(value)) {
              problems.push({
                code: 'unknown_deal_type',
                field: `${field}.values[${i}]`,
                message: `"${value}" is not a deal type of this HubSpot account`,
              });
            }
          });
          break;
        }
        case 'mapped_field': {
          const mappedField = facts.mappedFields.get(condition.field);
          if (!mappedField) {
            problems.push({
              code: 'unknown_mapped_field',
              field: `${field}.field`,
              message: `the field mapping has no field "${condition.field}"`,
            });
            break;
          }
          condition.values.forEach((value, i) => {
            if (normaliseMetadataValue(mappedField.kind, value) === undefined) {
              problems.push({
                code: 'wrong_value_type',
                field: `${field}.values[${i}]`,
                message: `"${value.slice(0, 60)}" is not a ${mappedField.kind} value (the type of "${mappedField.label}")`,
              });
            }
          });
          break;
        }
      }
    });
  });
  return problems;
}

/**
 * The rules with mapped-field values written the way the mapping writes a contract's values
 * (`normaliseMetadataValue`: a number as a number, a date as YYYY-MM-DD, a currency in
 * capitals), so "equals" compares like with like. Call after `ruleProblems` found none.
 */
export function normalisedRules(
  rules: readonly RoutingRule[],
  facts: PortalRoutingFacts,
): RoutingRule[] {
  return rules.map((rule) => ({
    ...rule,
    conditions: rule.conditions.map((condition) => {
      if (condition.kind !== 'mapped_field') return condition;
      const kind = facts.mappedFields.get(condition.field)?.kind ?? 'text';
      return {
        ...condition,
        values: condition.values.map((v) => String(normaliseMetadataValue(kind, v) ?? v)),
      };
    }),
  }));
}
