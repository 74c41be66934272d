import { randomUUID } from 'node:crypto';

import { sql, type Kysely } from 'kysely';
import { z } from 'zod';

import { recordAudit } from '../../core/audit/audit-log.ts';
import { ConflictError } from '../../platform/errors.ts';
import type { DB } from '../../platform/db/schema.ts';
import {
  RoutingOutcomeSchema,
  RoutingRuleSchema,
  type RoutingRule,
  type RoutingRulesInputSchema,
} from '../../../../hubspot-app/app/settings/routing-schemas.ts';
import { EMPTY_RULE_SET, type RuleSet } from './routing-rules.ts';

/**
 * An organization's routing rules, versioned (`hubspot_routing_rule_sets`, migration 0016):
 * a save appends version n + 1; the newest version is in force. Reads parse the stored JSON
 * with the same schemas the save validated with, so a row that no longer parses (a schema
 * change) fails loudly instead of routing with half a rule.
 */

const StoredRulesSchema = z.array(RoutingRuleSchema);

export async function getRoutingRules(db: Kysely<DB>, organizationId: string): Promise<RuleSet> {
  const row = await db
    .selectFrom('hubspot_routing_rule_sets')
    .select(['version', 'rules', 'default_outcome'])
    .where('organization_id', '=', organizationId)
    .orderBy('version', 'desc')
    .limit(1)
    .executeTakeFirst();
  if (!row) return EMPTY_RULE_SET;
  return {
    version: row.version,
    rules: StoredRulesSchema.parse(row.rules),
    default: RoutingOutcomeSchema.parse(row.default_outcome),
  };
}

export class RoutingRulesChangedError extends ConflictError {
  constructor(current: number) {
    super(
      'routing_rules_changed',
      `The routing rules were changed meanwhile (now version ${current}). Reload them and save again.`,
      { currentVersion: current },
    );
  }
}

type ValidInput = z.output<typeof RoutingRulesInputSchema>;

/** Gives new rules their ids (kept ids stay: automatic sends are claimed per rule id). */
export function withRuleIds(input: ValidInput): RoutingRule[] {
  return input.rules.map((rule) => ({ ...rule, id: rule.id ?? randomUUID() }));
}

/** Stores validated rules as the next version and records who saved them. */
export async function saveRoutingRules(
  db: Kysely<DB>,
  organizationId: string,
  input: { rules: readonly RoutingRule[]; default: ValidInput['default']; baseVersion?: number },
  actor: string,
): Promise<RuleSet> {
  return db.transaction().execute(async (trx) => {
    // One save at a time per organization: versions are assigned without gaps or races.
    await sql`select pg_advisory_xact_lock(hashtextextended(${`hubspot-routing:${organizationId}`}, 0))`.execute(
      trx,
    );
    const current = await getRoutingRules(trx, organizationId);
    const currentVersion = current.version;
    if (input.baseVersion !== undefined && input.baseVersion !== currentVersion) {
      throw new RoutingRulesChangedError(currentVersion);
    }
    // Saving what is in force (a repeated click, a retried request) adds no version.
    if (
      currentVersion > 0 &&
      JSON.stringify({ r: current.rules, d: current.default }) ===
        JSON.stringify({ r: input.rules, d: input.default })
    ) {
      return current;
    }
    const version = currentVersion + 1;
    await trx
      .insertInto('hubspot_routing_rule_sets')
      .values({
        organization_id: organizationId,
        version,
        rules: JSON.stringify(input.rules),
        default_outcome: JSON.stringify(input.default),
        created_by: actor,
      })
      .execute();
    await recordAudit(trx, {
      organizationId,
      actor,
      action: 'hubspot.routing_rules.update',
      target: `organization:${organizationId}`,
      outcome: 'success',
      details: {
        version,
        rules: input.rules.length,
        automatic: input.rules.filter((r) => r.sendAutomatically).length,
      },
    });
    return { version, rules: input.rules, default: input.default };
  });
}
