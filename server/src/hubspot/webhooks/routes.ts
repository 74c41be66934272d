import type { FastifyInstance } from 'fastify';

import { parseInput } from '../../platform/http/validation.ts';
import { acceptRawJson, requireHubSpotSignature, signedJson } from '../inbound/signed-request.ts';
import { WebhookEventBatchSchema } from '../wire/index.ts';
import { EventJobTrigger, storeWebhookEvents } from './event-intake.ts';

/** The webhooks component's `targetUrl` path (under the HubSpot prefix). */
export const WEBHOOK_EVENTS_PATH = '/events';

/** HubSpot sends at most 100 events per delivery; 1 MiB is far above that. */
const BODY_LIMIT = 1024 * 1024;

/**
 * Inbound status-sync endpoints, registered under `/api/v1/integrations/hubspot`:
 * - `POST /events`: webhook deliveries, v3 signature only (HubSpot sends it with every
 *   delivery; a v1-only one, its v3 headers stripped, would replay forever), stored once
 *   each in one statement and acknowledged after its commit; processing happens in a job per
 *   portal, queued right after (coalesced across concurrent deliveries). Unknown
 *   portals, and events about other object types than deals, are acknowledged and ignored
 *   (never stored); a storage failure answers 5xx so HubSpot retries.
 */
export async function hubspotSyncRoutes(app: FastifyInstance): Promise<void> {
  acceptRawJson(app, { bodyLimit: BODY_LIMIT });
  const processing = new EventJobTrigger({ db: app.db, jobs: app.jobs, log: app.log });
  app.addHook('onClose', async () => {
    await processing.idle();
  });

  app.post(WEBHOOK_EVENTS_PATH, { preHandler: requireHubSpotSignature('v3') }, async (request) => {
    const events = parseInput(WebhookEventBatchSchema, signedJson(request), 'webhook events');
    const { portals, ...result } = await storeWebhookEvents(app.db, events);
    // Committed: queue processing (off the request path) and acknowledge.
    processing.trigger(portals);
    if (result.notDeal > 0) {
      request.log.info(
        { notDeal: result.notDeal },
        'webhook events about other object types than deals ignored',
      );
    }
    if (result.ignored > 0) {
      request.log.info({ ignored: result.ignored }, 'webhook events of unknown portals ignored');
    }
    return result;
  });
}
