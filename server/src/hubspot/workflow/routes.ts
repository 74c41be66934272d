import type { FastifyPluginAsync } from 'fastify';

import { findIntegrationByExternalAccount } from '../../core/integrations/organization-integrations.ts';
import { parseInput } from '../../platform/http/validation.ts';
import { ServiceUnavailableError } from './errors.ts';
import { requestLegalReview } from '../legal-review/import-service.ts';
import { contractUrl } from '../../core/contracts/contract.ts';
import { acceptRawJson, requireHubSpotSignature, signedJson } from '../inbound/signed-request.ts';
import { WorkflowActionExecutionSchema } from '../wire/index.ts';
import {
  BLOCK_EXPIRATION,
  failContinue,
  WORKFLOW_ACTION_ROUTE,
  type ActionOutputs,
} from './action-definition.ts';
import { parseActionInputs } from './action-inputs.ts';

/**
 * `POST /api/v1/integrations/hubspot/webhook`: the "Send to LexiContract legal review"
 * workflow action (SPEC §5, §7.2). The signature (v3, else v2) is checked over the raw body
 * before anything is parsed; the tenant is the signed `origin.portalId`; the deal is
 * `object.objectId`. Only local writes happen here, in one transaction: the execution row
 * (unique per portal and callbackId, holding the answer we gave), the contract shell, the
 * deal-sync outbox row and the import job. The answer is `BLOCK`; the import job completes
 * the execution through HubSpot's callbacks API when it ends.
 */
export const hubspotWorkflowRoutes: FastifyPluginAsync = async (app) => {
  acceptRawJson(app, { bodyLimit: 256 * 1024 });

  app.post(
    WORKFLOW_ACTION_ROUTE,
    {
      // v2 stays accepted (HubSpot documents it for workflow actions): replays are answered
      // from the callbackId's dedupe row, which is kept for as long as v2 is (SignaturePolicy).
      preHandler: requireHubSpotSignature('v3-or-v2'),
    },
    async (request, reply) => {
      const execution = parseInput(
        WorkflowActionExecutionSchema,
        signedJson(request),
        'workflow action request',
      );
      const portalId = String(execution.origin.portalId);
      const dealId = String(execution.object.objectId);
      const log = request.log.child({ portalId, dealId, callbackId: execution.callbackId });

      if (execution.object.objectType.toUpperCase() !== 'DEAL') {
        log.warn({ objectType: execution.object.objectType }, 'workflow action on a non-deal');
        return reply.send(failContinue('wrong_object_type'));
      }
      const integration = await findIntegrationByExternalAccount(app.db, 'hubspot', portalId);
      if (!integration || integration.status !== 'connected') {
        log.warn(
          { status: integration?.status ?? 'unknown' },
          'workflow action from a portal that is not connected',
        );
        return reply.send(
          failContinue(
            integration?.status === 'needs_reconnect'
              ? 'portal_needs_reconnect'
              : 'portal_not_connected',
          ),
        );
      }
      const inputs = parseActionInputs(execution.inputFields);
      if (!inputs.ok) {
        log.warn({ problem: inputs.problem }, 'workflow action inputs are invalid');
        return reply.send(failContinue('invalid_input'));
      }

      const organizationId = integration.organization_id;
      const blocked: ActionOutputs = {
        hs_execution_state: 'BLOCK',
        hs_expiration_duration: BLOCK_EXPIRATION,
      };
      const answer = await app.db.transaction().execute(async (trx) => {
        // The unique (portal, callbackId) row decides the one winner among retries and
        // concurrent deliveries; the others wait for its commit and replay its answer.
        const claimed = await trx
          .insertInto('hubspot_workflow_executions')
          .values({
            portal_id: portalId,
            callback_id: execution.callbackId,
            organization_id: organizationId,
            deal_id: dealId,
            response: JSON.stringify({ outputFields: blocked }),
          })
          .onConflict((oc) => oc.columns(['portal_id', 'callback_id']).doNothing())
          .returning('callback_id')
          .executeTakeFirst();
        if (!claimed) {
          const previous = await trx
            .selectFrom('hubspot_workflow_executions')
            .select('response')
            .where('portal_id', '=', portalId)
            .where('callback_id', '=', execution.callbackId)
            .executeTakeFirst();
          if (!previous) throw new ServiceUnavailableError();
          log.info('workflow action retried; replaying the first answer');
          return previous.response;
        }
        const workflowId = execution.context.workflowId;
        const { contract, created } = await requestLegalReview(
          { db: app.db, jobs: app.jobs, config: app.config },
          {
            organizationId,
            portalId,
            dealId,
            trigger: 'workflow',
            actor: `hubspot:portal:${portalId}:workflow:${workflowId ?? 'unknown'}`,
            fileFilter: inputs.fileFilter,
            priority: inputs.priority,
            note: inputs.note,
            dealName: execution.object.properties?.dealname ?? null,
            callbackId: execution.callbackId,
          },
          trx,
        );
        const response = {
          outputFields: {
            ...blocked,
            contract_id: contract.id,
            contract_url: contractUrl(app.config.publicBaseUrl, contract.id),
          },
        };
        await trx
          .updateTable('hubspot_workflow_executions')
          .set({ contract_id: contract.id, response: JSON.stringify(response) })
          .where('portal_id', '=', portalId)
          .where('callback_id', '=', execution.callbackId)
          .execute();
        log.info({ contractId: contract.id, created }, 'legal review requested by a workflow');
        return response;
      });
      return reply.send(answer);
    },
  );
};
