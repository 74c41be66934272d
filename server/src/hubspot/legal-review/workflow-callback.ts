import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import { z } from 'zod';

import type { AppConfig } from '../../platform/config/runtime.ts';
import type { DB } from '../../platform/db/schema.ts';
import { HubSpotApiError } from '../client/hubspot-http.ts';
import { portalRequest } from '../client/portal-client.ts';
import {
  hubSpotTokenDeps,
  PortalNeedsReconnectError,
  PortalNotConnectedError,
} from '../client/access-tokens.ts';
import type { CallbackCompletion } from '../wire/index.ts';
import type { CompleteWorkflowCallbackPayload } from './job-definitions.ts';
import { hubspotPaths } from '../wire/api-versions.ts';

/**
 * Completes a blocked workflow-action execution:
 * `POST /automation/actions/callbacks/{v}/{callbackId}/complete` with the outputs the
 * import decided. Retried (job retries) while HubSpot is unavailable; a portal that is no
 * longer connected cannot be called at all, which is recorded on the execution (HubSpot
 * then lets the workflow continue once the block expires).
 */
export interface CallbackCompletionDeps {
  readonly config: AppConfig;
  readonly db: Kysely<DB>;
  readonly log: Logger;
}

export async function handleCompleteWorkflowCallback(
  deps: CallbackCompletionDeps,
  payload: CompleteWorkflowCallbackPayload,
  job: { id: string; retryCount: number; signal: AbortSignal },
  retryLimit: number,
): Promise<void> {
  const body: CallbackCompletion = { outputFields: payload.outputFields, typedOutputs: {} };
  const mark = async (state: 'completed' | 'completion_failed', error: string | null) => {
    await deps.db
      .updateTable('hubspot_workflow_executions')
      .set({ state, completion_error: error, completed_at: new Date() })
      .where('portal_id', '=', payload.portalId)
      .where('callback_id', '=', payload.callbackId)
      .execute();
  };
  try {
    await portalRequest(
      hubSpotTokenDeps(deps),
      payload.portalId,
      {
        method: 'POST',
        path: hubspotPaths.callbackComplete(payload.callbackId),
        json: body,
      },
      z.unknown(),
      { signal: job.signal },
    );
  } catch (error) {
    const permanent =
      error instanceof PortalNeedsReconnectError ||
      error instanceof PortalNotConnectedError ||
      (error instanceof HubSpotApiError && !error.retryable);
    const message = error instanceof Error ? error.message : String(error);
    if (!permanent && job.retryCount < retryLimit) throw error;
    deps.log.error(
      { portalId: payload.portalId, callbackId: payload.callbackId, reason: message },
      'could not complete the workflow action execution',
    );
    await mark('completion_failed', message.slice(0, 2000));
    return;
  }
  await mark('completed', null);
}
