import type { FastifyPluginAsync, FastifyRequest } from 'fastify';

import { parseInput } from '../../platform/http/validation.ts';
import {
  DryRunRequestSchema,
  type DryRunResult,
  type RoutingRulesData,
} from '../../../../hubspot-app/app/settings/routing-schemas.ts';
import {
  hubSpotTokenDeps,
  PortalNeedsReconnectError,
  PortalNotConnectedError,
} from '../client/access-tokens.ts';
import { acceptRawJson, requireHubSpotSignature, signedJson } from '../inbound/signed-request.ts';
import {
  hubspotActor,
  portalConnection,
  signedQuery,
  SignedProxyQuerySchema,
} from '../inbound/signed-query.ts';
import { ruleWarnings, type RuleSet } from '../legal-review/routing-rules.ts';
import { getRoutingRules, saveRoutingRules, withRuleIds } from '../legal-review/routing-store.ts';
import {
  InvalidRoutingRulesError,
  mappedFieldChoices,
  normalisedRules,
  parseRoutingRulesInput,
  readPortalRoutingFacts,
  ruleChoices,
  ruleProblems,
  type PortalRoutingFacts,
} from '../legal-review/routing-validation.ts';
import { dryRunDeal } from './dry-run.ts';

/**
 * The settings page's routing rules and dry run, signed like the other settings calls (v3;
 * the organization comes from the signed portal id only):
 * - `GET /settings/rules`: the rules in force, their warnings, the editor's choices;
 * - `PUT /settings/rules`: validated against the portal, saved as the next version (a bad
 *   rule is a 400 with a stable code and `details.field`, and nothing is stored);
 * - `POST /settings/dry-run` `{"dealId"}`: what sending that deal would do, writing nothing.
 */

/** 50 rules of 10 conditions with long value lists fit; more is not a settings page. */
const BODY_LIMIT = 256 * 1024;

async function connectedOrganization(request: FastifyRequest) {
  const query = signedQuery(request, SignedProxyQuerySchema);
  const connection = await portalConnection(request, query.portalId);
  if (connection.kind === 'not_connected') throw new PortalNotConnectedError(query.portalId);
  if (connection.kind === 'needs_reconnect') throw new PortalNeedsReconnectError(query.portalId);
  return { query, organizationId: connection.organizationId };
}

function rulesData(ruleSet: RuleSet, facts: PortalRoutingFacts | undefined): RoutingRulesData {
  return {
    version: ruleSet.version,
    rules: [...ruleSet.rules],
    default: ruleSet.default,
    warnings: ruleWarnings(ruleSet.rules, facts?.stages ?? []),
    choices: facts ? ruleChoices(facts) : null,
  };
}

export const hubspotRoutingRulesRoutes: FastifyPluginAsync = async (app) => {
  acceptRawJson(app, { bodyLimit: BODY_LIMIT });
  app.addHook('preHandler', requireHubSpotSignature('v3'));
  app.addHook('onSend', async (_request, reply) => {
    void reply.header('cache-control', 'no-store');
  });

  app.get('/settings/rules', async (request): Promise<RoutingRulesData> => {
    const { query, organizationId } = await connectedOrganization(request);
    const tokenDeps = hubSpotTokenDeps(request.server);
    const [ruleSet, facts] = await Promise.all([
      getRoutingRules(request.server.db, organizationId),
      // The rules still show while HubSpot cannot be read; only the pickers are missing.
      mappedFieldChoices(request.server.db, organizationId)
        .then((fields) => readPortalRoutingFacts(tokenDeps, query.portalId, fields))
        .catch((error: unknown) => {
          request.log.warn({ err: error }, 'routing rule choices could not be read from HubSpot');
          return undefined;
        }),
    ]);
    return rulesData(ruleSet, facts);
  });

  app.put('/settings/rules', async (request): Promise<RoutingRulesData> => {
    const input = parseRoutingRulesInput(signedJson(request));
    const { query, organizationId } = await connectedOrganization(request);
    const rules = withRuleIds(input);
    const facts = await readPortalRoutingFacts(
      hubSpotTokenDeps(request.server),
      query.portalId,
      await mappedFieldChoices(request.server.db, organizationId),
    );
    const problems = ruleProblems(rules, facts);
    if (problems.length > 0) throw new InvalidRoutingRulesError(problems);
    const normalised = normalisedRules(rules, facts);
    const saved = await saveRoutingRules(
      request.server.db,
      organizationId,
      {
        rules: normalised,
        default: input.default,
        ...(input.baseVersion !== undefined ? { baseVersion: input.baseVersion } : {}),
      },
      hubspotActor({ portalId: query.portalId, userId: query.userId, userEmail: query.userEmail }),
    );
    return rulesData(saved, facts);
  });

  app.post('/settings/dry-run', async (request): Promise<DryRunResult> => {
    const { dealId } = parseInput(DryRunRequestSchema, signedJson(request), 'body');
    const { query, organizationId } = await connectedOrganization(request);
    return dryRunDeal(
      {
        db: request.server.db,
        tokenDeps: hubSpotTokenDeps(request.server),
        config: request.server.config,
      },
      { organizationId, portalId: query.portalId, dealId },
    );
  });
};
