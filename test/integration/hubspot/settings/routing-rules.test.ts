import { describe, expect, it } from 'vitest';
import { z } from 'zod';

import { ApiErrorSchema } from '../../../../hubspot-app/app/settings/api-schemas.ts';
import {
  RoutingRulesDataSchema,
  type RoutingRuleInput,
  type RoutingRulesInput,
} from '../../../../hubspot-app/app/settings/routing-schemas.ts';
import { SANDBOX_PIPELINE_ID, SANDBOX_STAGE_IDS } from '../../../../sandbox/state.ts';
import { startHubSpotTestEnv } from '../../../helpers/hubspot-env.ts';
import { createTestDatabase } from '../../../helpers/test-db.ts';

/**
 * `GET`/`PUT /settings/rules`: rules are checked against the portal on save (pipelines,
 * stages, deal types, property types, mapped fields), at most 50; a bad save is a 400 with a
 * stable code naming the field and stores nothing; overlaps are saved with warnings.
 */

const { db } = await createTestDatabase();
const env = await startHubSpotTestEnv({ db });
const RULES = `${env.baseUrl}/api/v1/integrations/hubspot/settings/rules`;

function call(portalId: string, method: 'GET' | 'PUT', body?: RoutingRulesInput) {
  return env.sandbox.control.signedCardFetch({
    portalId: Number(portalId),
    userId: 21,
    userEmail: 'admin@example.com',
    method,
    url: RULES,
    ...(body !== undefined ? { body } : {}),
  });
}

const bigDeals: RoutingRuleInput = {
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

const laterStages: RoutingRuleInput = {
  name: 'Anything from Legal Review on',
  conditions: [{ kind: 'stage_from', stageId: SANDBOX_STAGE_IDS.legalReview }],
  priority: 'normal',
  queue: 'Commercial',
};

/** The error body with the field the rules' errors name. */
const FieldErrorSchema = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    details: z.object({ field: z.string() }),
  }),
});

const DEFAULT = { priority: 'low', queue: 'General' } as const;

async function versions(organizationId: string): Promise<number[]> {
  const rows = await db
    .selectFrom('hubspot_routing_rule_sets')
    .select('version')
    .where('organization_id', '=', organizationId)
    .orderBy('version')
    .execute();
  return rows.map((r) => r.version);
}

describe('routing rules endpoints', () => {
  it('answers version 0 with the default and the portal’s choices before any save', async () => {
    const { portalId } = await env.connectPortal();
    const response = await call(portalId, 'GET');
    expect(response.status).toBe(200);
    const data = RoutingRulesDataSchema.parse(response.body);
    expect(data).toMatchObject({ version: 0, rules: [], warnings: [] });
    const pipeline = data.choices?.pipelines.find((p) => p.id === SANDBOX_PIPELINE_ID);
    expect(pipeline?.stages.map((s) => s.value)).toEqual([
      SANDBOX_STAGE_IDS.appointmentScheduled,
      SANDBOX_STAGE_IDS.qualifiedToBuy,
      SANDBOX_STAGE_IDS.presentationScheduled,
      SANDBOX_STAGE_IDS.legalReview,
      SANDBOX_STAGE_IDS.contractSent,
      SANDBOX_STAGE_IDS.closedWon,
      SANDBOX_STAGE_IDS.closedLost,
    ]);
    expect(data.choices?.dealTypes.map((t) => t.value)).toEqual([
      'newbusiness',
      'existingbusiness',
    ]);
  });

  it('saves ordered rules as a new version with ids, warns about the overlap, and audits', async () => {
    const { organizationId, portalId } = await env.connectPortal();
    const response = await call(portalId, 'PUT', {
      rules: [bigDeals, laterStages],
      default: DEFAULT,
    });
    expect(response.status).toBe(200);
    const saved = RoutingRulesDataSchema.parse(response.body);
    expect(saved.version).toBe(1);
    expect(saved.rules.map((r) => [r.name, r.sendAutomatically])).toEqual([
      [bigDeals.name, true],
      [laterStages.name, false],
    ]);
    // Contract Sent with ≥ 50,000 also matches "from Legal Review on": the first one wins.
    expect(saved.warnings).toEqual([
      expect.objectContaining({ code: 'rules_overlap', field: 'rules[1]' }),
    ]);

    // Ids are kept on the next save (automatic sends are claimed per rule id).
    const again = RoutingRulesDataSchema.parse(
      (
        await call(portalId, 'PUT', {
          rules: saved.rules.slice().reverse(),
          default: DEFAULT,
          baseVersion: 1,
        })
      ).body,
    );
    expect(again.version).toBe(2);
    expect(again.rules.map((r) => r.id)).toEqual(saved.rules.map((r) => r.id).reverse());
    // Now the broad rule comes first and the narrow one can never match.
    expect(again.warnings).toEqual([
      expect.objectContaining({ code: 'rule_never_matches', field: 'rules[1]' }),
    ]);
    const fetched = RoutingRulesDataSchema.parse((await call(portalId, 'GET')).body);
    expect(fetched.version).toBe(2);
    expect(fetched.rules).toEqual(again.rules);
    expect(await versions(organizationId)).toEqual([1, 2]);
    const audit = await db
      .selectFrom('audit_log')
      .select(['actor', 'action'])
      .where('organization_id', '=', organizationId)
      .where('action', '=', 'hubspot.routing_rules.update')
      .execute();
    expect(audit).toHaveLength(2);
    expect(audit[0]?.actor).toBe('hubspot:user:21');
  });

  it('refuses bad rules with a 400, a stable code naming the field, and changes nothing', async () => {
    const { organizationId, portalId } = await env.connectPortal();
    await call(portalId, 'PUT', { rules: [bigDeals], default: DEFAULT });
    const cases: { body: unknown; code: string; field: string }[] = [
      {
        body: {
          rules: [{ ...bigDeals, conditions: [{ kind: 'stage', stageIds: ['nosuchstage'] }] }],
          default: DEFAULT,
        },
        code: 'unknown_stage',
        field: 'rules[0].conditions[0].stageIds[0]',
      },
      {
        body: {
          rules: [
            laterStages,
            { ...bigDeals, conditions: [{ kind: 'pipeline', pipelineIds: ['other'] }] },
          ],
          default: DEFAULT,
        },
        code: 'unknown_pipeline',
        field: 'rules[1].conditions[0].pipelineIds[0]',
      },
      {
        body: {
          rules: [{ ...bigDeals, conditions: [{ kind: 'deal_type', values: ['renewal'] }] }],
          default: DEFAULT,
        },
        code: 'unknown_deal_type',
        field: 'rules[0].conditions[0].values[0]',
      },
      {
        body: {
          rules: [
            {
              ...bigDeals,
              conditions: [{ kind: 'mapped_field', field: 'region', op: 'equals', values: ['EU'] }],
            },
          ],
          default: DEFAULT,
        },
        code: 'unknown_mapped_field',
        field: 'rules[0].conditions[0].field',
      },
      {
        body: { rules: [{ ...bigDeals, priority: 'asap' }], default: DEFAULT },
        code: 'invalid_routing_rules',
        field: 'rules[0].priority',
      },
      {
        body: {
          rules: [{ ...bigDeals, conditions: [{ kind: 'amount', min: 10, max: 5 }] }],
          default: DEFAULT,
        },
        code: 'invalid_routing_rules',
        field: 'rules[0].conditions[0]',
      },
      {
        body: { rules: Array.from({ length: 51 }, () => laterStages), default: DEFAULT },
        code: 'too_many_rules',
        field: 'rules',
      },
    ];
    for (const { body, code, field } of cases) {
      const response = await call(portalId, 'PUT', body as RoutingRulesInput);
      expect(response.status, JSON.stringify(response.body)).toBe(400);
      const { error } = FieldErrorSchema.parse(response.body);
      expect(error.code).toBe(code);
      expect(error.details.field).toBe(field);
      expect(error.message).toContain(field);
    }
    expect(await versions(organizationId)).toEqual([1]);
  });

  it('adds no version when the rules in force are saved again (a repeated click)', async () => {
    const { organizationId, portalId } = await env.connectPortal();
    const first = RoutingRulesDataSchema.parse(
      (await call(portalId, 'PUT', { rules: [bigDeals, laterStages], default: DEFAULT })).body,
    );
    const again = await call(portalId, 'PUT', { rules: first.rules, default: DEFAULT });
    expect(again.status).toBe(200);
    expect(RoutingRulesDataSchema.parse(again.body)).toMatchObject({
      version: 1,
      rules: first.rules,
    });
    expect(await versions(organizationId)).toEqual([1]);
  });

  it('refuses a deal type rule in a portal whose deal type property was deleted', async () => {
    const { organizationId, portalId } = await env.connectPortal();
    env.sandbox.control.archiveObjectProperty(Number(portalId), 'deals', 'dealtype');
    const response = await call(portalId, 'PUT', {
      rules: [{ ...laterStages, conditions: [{ kind: 'deal_type', values: ['newbusiness'] }] }],
      default: DEFAULT,
    });
    expect(response.status).toBe(400);
    const { error } = FieldErrorSchema.parse(response.body);
    expect([error.code, error.details.field]).toEqual([
      'unknown_property',
      'rules[0].conditions[0]',
    ]);
    expect(error.message).toContain('"dealtype" does not exist');
    expect(await versions(organizationId)).toEqual([]);
  });

  it('accepts exactly 50 rules', async () => {
    const { portalId } = await env.connectPortal();
    const response = await call(portalId, 'PUT', {
      rules: Array.from({ length: 50 }, (_, i) => ({ ...laterStages, name: `Rule ${i}` })),
      default: DEFAULT,
    });
    expect(response.status).toBe(200);
    expect(RoutingRulesDataSchema.parse(response.body).rules).toHaveLength(50);
  });

  it('refuses a save over a newer version', async () => {
    const { organizationId, portalId } = await env.connectPortal();
    await call(portalId, 'PUT', { rules: [bigDeals], default: DEFAULT });
    const response = await call(portalId, 'PUT', {
      rules: [laterStages],
      default: DEFAULT,
      baseVersion: 0,
    });
    expect(response.status).toBe(409);
    expect(ApiErrorSchema.parse(response.body).error.code).toBe('routing_rules_changed');
    expect(await versions(organizationId)).toEqual([1]);
  });

  it('refuses an unsigned request and a portal that is not connected', async () => {
    const { portalId } = await env.connectPortal();
    const unsigned = await fetch(
      `${RULES}?userId=1&userEmail=a%40b.c&appId=${env.config.hubspot.appId}&portalId=${portalId}`,
    );
    expect(unsigned.status).toBe(401);
    const stranger = env.sandbox.control.createPortal({ name: 'Stranger' });
    const response = await call(String(stranger.portalId), 'GET');
    expect(response.status).toBe(409);
    expect(ApiErrorSchema.parse(response.body).error.code).toBe('hubspot_not_connected');
  });

  it('refuses a dry run of a deal id that is not a number, and answers 404 for an unknown deal', async () => {
    const { portalId } = await env.connectPortal();
    const dryRun = (body: Record<string, unknown>) =>
      env.sandbox.control.signedCardFetch({
        portalId: Number(portalId),
        userId: 21,
        userEmail: 'admin@example.com',
        method: 'POST',
        url: `${env.baseUrl}/api/v1/integrations/hubspot/settings/dry-run`,
        body,
      });
    const bad = await dryRun({ dealId: '../42' });
    expect(bad.status).toBe(400);
    expect(ApiErrorSchema.parse(bad.body).error.code).toBe('invalid_request');
    const extra = await dryRun({ dealId: '42', portalId: '1' });
    expect(extra.status).toBe(400);
    const missing = await dryRun({ dealId: '999999999' });
    expect(missing.status).toBe(404);
    expect(ApiErrorSchema.parse(missing.body).error.code).toBe('deal_not_found');
  });
});
