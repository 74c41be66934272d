import type { FastifyInstance } from 'fastify';
import { sql, type Kysely } from 'kysely';

import type { DB } from '../../platform/db/schema.ts';
import { parseInput } from '../../platform/http/validation.ts';
import { findContractsByExternalRef } from '../../core/contracts/external-records.ts';
import { findIntegrationByExternalAccount } from '../../core/integrations/organization-integrations.ts';
import { acceptRawJson, requireHubSpotSignature, signedJson } from '../inbound/signed-request.ts';
import { WorkflowActionExecutionSchema, type WorkflowActionResponse } from '../wire/index.ts';
import {
  BLOCK_GRACE_DAYS,
  decisionOutputFields,
  expirationDays,
  isDecision,
  TIMED_OUT,
} from '../legal-review/decision-callbacks.ts';
import { DECISION_OUTPUT_FIELDS, type DecisionErrorCode } from './action-definition.ts';

/** The "Wait for legal decision" action's `actionUrl` path (under the HubSpot prefix). */
export const WAIT_FOR_DECISION_PATH = '/workflow/wait-for-decision';

function failure(code: DecisionErrorCode): WorkflowActionResponse {
  return {
    outputFields: { [DECISION_OUTPUT_FIELDS.errorCode]: code, hs_execution_state: 'FAIL_CONTINUE' },
  };
}

/** HubSpot blocks a day longer than our wait, so our `timed_out` completion comes first. */
function block(days: number): WorkflowActionResponse {
  return {
    outputFields: {
      hs_execution_state: 'BLOCK',
      hs_expiration_duration: `P${days + BLOCK_GRACE_DAYS}D`,
    },
  };
}

type CallbackRow = { decision: string | null; expires_at: Date; contract_id: string | null };

async function replay(
  db: Kysely<DB>,
  publicBaseUrl: string,
  row: CallbackRow,
): Promise<WorkflowActionResponse> {
  // Past the maximum wait, a late retry learns that the wait is over.
  const decision = row.decision ?? (row.expires_at.getTime() <= Date.now() ? TIMED_OUT : undefined);
  if (decision !== undefined) {
    return {
      outputFields: await decisionOutputFields(db, publicBaseUrl, {
        contractId: row.contract_id,
        decision,
      }),
    };
  }
  const days = Math.max(1, Math.ceil((row.expires_at.getTime() - Date.now()) / 86_400_000));
  return block(days);
}

/**
 * Answers an execution: SUCCESS with the decision when the deal's contract is already decided,
 * otherwise BLOCK (the completion comes later through the callback API). Idempotent on
 * (portal, callbackId): a retried execution gets the same answer. The contract row is read
 * `for share`, so a concurrent status change either commits first (and is seen here) or
 * waits for this row to exist (and completes it).
 */
export async function startDecisionWait(
  db: Kysely<DB>,
  publicBaseUrl: string,
  input: {
    organizationId: string;
    portalId: string;
    dealId: string;
    callbackId: string;
    expirationDays: number;
  },
): Promise<WorkflowActionResponse> {
  return db.transaction().execute(async (trx) => {
    const existing = await trx
      .selectFrom('hubspot_decision_callbacks')
      .select(['decision', 'expires_at', 'contract_id'])
      .where('portal_id', '=', input.portalId)
      .where('callback_id', '=', input.callbackId)
      .executeTakeFirst();
    if (existing) return replay(trx, publicBaseUrl, existing);
    const [contract] = await findContractsByExternalRef(
      trx,
      {
        organizationId: input.organizationId,
        source: 'hubspot',
        accountId: input.portalId,
        externalId: input.dealId,
      },
      { limit: 1, lockForShare: true },
    );
    const decided = contract && isDecision(contract.negotiationStatus);
    const inserted = await trx
      .insertInto('hubspot_decision_callbacks')
      .values({
        portal_id: input.portalId,
        callback_id: input.callbackId,
        organization_id: input.organizationId,
        deal_id: input.dealId,
        contract_id: contract?.id ?? null,
        state: decided ? 'completed' : 'waiting',
        decision: decided ? contract.negotiationStatus : null,
        expires_at: sql<Date>`now() + ${`${input.expirationDays} days`}::interval`,
        ...(decided ? { completed_at: new Date() } : {}),
      })
      .onConflict((oc) => oc.columns(['portal_id', 'callback_id']).doNothing())
      .returning(['decision', 'expires_at', 'contract_id'])
      .executeTakeFirst();
    if (inserted) return replay(trx, publicBaseUrl, inserted);
    const raced = await trx
      .selectFrom('hubspot_decision_callbacks')
      .select(['decision', 'expires_at', 'contract_id'])
      .where('portal_id', '=', input.portalId)
      .where('callback_id', '=', input.callbackId)
      .executeTakeFirstOrThrow();
    return replay(trx, publicBaseUrl, raced);
  });
}

/**
 * `POST /workflow/wait-for-decision`: the "Wait for legal decision" workflow action, signed
 * v3 (or v2); the body limit is the one it always had beside the webhook intake.
 */
export async function hubspotDecisionRoutes(app: FastifyInstance): Promise<void> {
  acceptRawJson(app, { bodyLimit: 1024 * 1024 });
  app.post(
    WAIT_FOR_DECISION_PATH,
    {
      // v2 stays accepted (HubSpot documents it for workflow actions): replays are answered
      // from the callbackId's dedupe row, which is kept for as long as v2 is (SignaturePolicy).
      preHandler: requireHubSpotSignature('v3-or-v2'),
    },
    async (request) => {
      const execution = parseInput(
        WorkflowActionExecutionSchema,
        signedJson(request),
        'workflow action execution',
      );
      const portalId = String(execution.origin.portalId);
      const integration = await findIntegrationByExternalAccount(app.db, 'hubspot', portalId);
      if (!integration || integration.status === 'disconnected') {
        request.log.warn({ portalId }, 'wait-for-decision from a portal not linked to us');
        return failure('not_connected');
      }
      return startDecisionWait(app.db, app.config.publicBaseUrl, {
        organizationId: integration.organization_id,
        portalId,
        dealId: String(execution.object.objectId),
        callbackId: execution.callbackId,
        expirationDays: expirationDays(execution.inputFields.expiration_days),
      });
    },
  );
}
