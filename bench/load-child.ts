import { randomUUID } from 'node:crypto';

import autocannon, { type AutocannonRequest } from 'autocannon';

import { SIGNATURE_HEADERS, signV2, signV3 } from '../server/src/hubspot/signature/index.ts';
import type { LoadReply, LoadRequest, LoadSummary, LoadTarget } from './load-protocol.ts';

/**
 * The load generator: a child process of the bench, so its event loop (autocannon plus an
 * HMAC per request) does not share a thread with the server under test; it does share the
 * machine's cores, as a real client on the same box would. Each request is built just
 * before it is sent (autocannon `setupRequest`) with a fresh signature and timestamp.
 */

let eventCounter = Math.floor(Date.now() / 1000) * 1000;

function setupFor(target: LoadTarget): AutocannonRequest {
  switch (target.kind) {
    case 'hello':
      return { method: 'GET', path: target.path };
    case 'webhook': {
      const uri = `${target.publicBaseUrl}${target.path}`;
      return {
        method: 'POST',
        path: target.path,
        setupRequest(request) {
          const now = Date.now();
          const events = [];
          for (let i = 0; i < target.eventsPerBatch; i += 1) {
            eventCounter += 1;
            events.push({
              eventId: eventCounter,
              subscriptionId: 4242,
              portalId: target.portalId,
              appId: target.appId,
              occurredAt: now,
              subscriptionType: 'deal.propertyChange',
              attemptNumber: 0,
              objectId: 1 + (eventCounter % target.dealCount),
              propertyName: 'dealstage',
              propertyValue: 'contractsent',
              changeSource: 'CRM_UI',
            });
          }
          const body = JSON.stringify(events);
          const timestamp = String(now);
          return {
            ...request,
            body,
            headers: {
              'content-type': 'application/json',
              [SIGNATURE_HEADERS.v3]: signV3({
                clientSecret: target.clientSecret,
                method: 'POST',
                uri,
                rawBody: body,
                timestamp,
              }),
              [SIGNATURE_HEADERS.timestamp]: timestamp,
            },
          };
        },
      };
    }
    case 'card': {
      let next = 0;
      return {
        method: 'GET',
        path: target.path,
        setupRequest(request) {
          const t = target.targets[next % target.targets.length];
          next += 1;
          if (!t) throw new Error('card load needs targets');
          // The order hubspot.fetch uses: the card's own query, then userId, userEmail,
          // appId, portalId appended (see the sandbox's cardFetch).
          const query = new URLSearchParams();
          query.append('dealId', t.dealId);
          query.append('userId', t.userId);
          query.append('userEmail', t.userEmail);
          query.append('appId', target.appId);
          query.append('portalId', t.portalId);
          const path = `${target.path}?${query.toString()}`;
          const timestamp = String(Date.now());
          return {
            ...request,
            method: 'GET',
            path,
            headers: {
              [SIGNATURE_HEADERS.v3]: signV3({
                clientSecret: target.clientSecret,
                method: 'GET',
                uri: `${target.publicBaseUrl}${path}`,
                rawBody: '',
                timestamp,
              }),
              [SIGNATURE_HEADERS.timestamp]: timestamp,
            },
          };
        },
      };
    }
    case 'workflow': {
      let dealId = target.firstDealId;
      const uri = `${target.publicBaseUrl}${target.path}`;
      return {
        method: 'POST',
        path: target.path,
        setupRequest(request) {
          dealId += 1;
          const body = JSON.stringify({
            callbackId: `ap-${randomUUID()}`,
            origin: {
              portalId: target.portalId,
              actionDefinitionId: target.actionDefinitionId,
              actionDefinitionVersion: 1,
            },
            context: { source: 'WORKFLOWS', workflowId: 7_000_001 },
            object: {
              objectId: dealId,
              objectType: 'DEAL',
              properties: { dealname: `Bench deal ${String(dealId)}` },
            },
            inputFields: {},
          });
          return {
            ...request,
            body,
            headers: {
              'content-type': 'application/json',
              [SIGNATURE_HEADERS.signature]: signV2({
                clientSecret: target.clientSecret,
                method: 'POST',
                uri,
                rawBody: body,
              }),
              [SIGNATURE_HEADERS.version]: 'v2',
            },
          };
        },
      };
    }
  }
}

async function run(message: LoadRequest): Promise<LoadSummary> {
  const { common, target } = message;
  const result = await autocannon({
    url: common.origin,
    connections: common.connections,
    ...(common.amount !== undefined
      ? { amount: common.amount }
      : { duration: common.durationSeconds ?? 5 }),
    timeout: 10,
    ...(common.overallRate !== undefined ? { overallRate: common.overallRate } : {}),
    requests: [setupFor(target)],
  });
  const statusCodes: Record<string, number> = {};
  for (const [code, stat] of Object.entries(result.statusCodeStats ?? {})) {
    statusCodes[code] = stat.count;
  }
  const seconds = Math.max(result.duration, 0.001);
  return {
    requests: result.requests.total,
    durationSeconds: seconds,
    reqPerSec: result['2xx'] / seconds,
    latencyMs: {
      p50: result.latency.p50,
      p90: result.latency.p90,
      p97_5: result.latency.p97_5,
      p99: result.latency.p99,
      max: result.latency.max,
      mean: result.latency.mean,
    },
    ok2xx: result['2xx'],
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    statusCodes,
    unitsPer2xx: target.kind === 'webhook' ? target.eventsPerBatch : 1,
  };
}

process.on('message', (raw) => {
  const message = raw as LoadRequest;
  run(message).then(
    (summary) => {
      const reply: LoadReply = { id: message.id, ok: true, summary };
      process.send?.(reply);
    },
    (error: unknown) => {
      const reply: LoadReply = {
        id: message.id,
        ok: false,
        error: error instanceof Error ? (error.stack ?? error.message) : String(error),
      };
      process.send?.(reply);
    },
  );
});
process.on('disconnect', () => {
  process.exit(0);
});
