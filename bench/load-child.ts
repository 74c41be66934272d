import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';

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

/** Exact percentile of sorted values (nearest rank). */
function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? 0;
}

const round1 = (ms: number) => Math.round(ms * 10) / 10;

function sendOne(
  agent: http.Agent,
  origin: URL,
  request: AutocannonRequest,
  timeoutMs: number,
): Promise<number> {
  return new Promise((resolve, reject) => {
    const outgoing = http.request(
      {
        host: origin.hostname,
        port: origin.port,
        method: request.method ?? 'GET',
        path: request.path ?? '/',
        headers: request.headers ?? {},
        agent,
        timeout: timeoutMs,
      },
      (response) => {
        response.resume();
        response.on('end', () => {
          resolve(response.statusCode ?? 0);
        });
        response.on('error', reject);
      },
    );
    outgoing.on('timeout', () => outgoing.destroy(new Error('timeout')));
    outgoing.on('error', reject);
    outgoing.end(request.body);
  });
}

/**
 * An evenly paced open loop: request i is due at start + i ÷ rate, over at most
 * `connections` keep-alive sockets, and its latency counts from when it was DUE, so one that
 * waits for a free connection is charged for the wait (no coordinated omission).
 * autocannon's `overallRate` is not used for this: it sends each connection's quota for a
 * second back to back at the start of the second and then idles, so its "paced" run is a
 * burst a second, and its omission correction assumes a 1 ms interval at any rate.
 */
async function runPaced(common: LoadRequest['common'], target: LoadTarget): Promise<LoadSummary> {
  const rate = common.overallRate ?? 1;
  const total = common.amount ?? Math.max(1, Math.round(rate * (common.durationSeconds ?? 5)));
  const origin = new URL(common.origin);
  const agent = new http.Agent({ keepAlive: true, maxSockets: common.connections });
  const setup = setupFor(target);
  const latencies: number[] = [];
  const statusCodes: Record<string, number> = {};
  let ok2xx = 0;
  let errors = 0;
  let timeouts = 0;
  const start = performance.now() + 5;
  let lastAnswer = start;
  const sent: Promise<void>[] = [];
  for (let i = 0; i < total; i += 1) {
    const due = start + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    const base: AutocannonRequest = { method: setup.method ?? 'GET', path: setup.path ?? '/' };
    const request = setup.setupRequest ? setup.setupRequest(base, {}) : setup;
    sent.push(
      sendOne(agent, origin, request, 10_000).then(
        (status) => {
          lastAnswer = performance.now();
          latencies.push(lastAnswer - due);
          statusCodes[String(status)] = (statusCodes[String(status)] ?? 0) + 1;
          if (status >= 200 && status < 300) ok2xx += 1;
        },
        (error: unknown) => {
          lastAnswer = performance.now();
          if (error instanceof Error && error.message === 'timeout') timeouts += 1;
          else errors += 1;
        },
      ),
    );
  }
  await Promise.all(sent);
  agent.destroy();
  const sorted = [...latencies].sort((a, b) => a - b);
  const seconds = Math.max((lastAnswer - start) / 1000, 0.001);
  const mean = sorted.reduce((n, v) => n + v, 0) / Math.max(1, sorted.length);
  return {
    requests: total,
    durationSeconds: seconds,
    reqPerSec: ok2xx / seconds,
    latencyMs: {
      p50: round1(percentile(sorted, 0.5)),
      p90: round1(percentile(sorted, 0.9)),
      p97_5: round1(percentile(sorted, 0.975)),
      p99: round1(percentile(sorted, 0.99)),
      max: round1(sorted.at(-1) ?? 0),
      mean: round1(mean),
    },
    ok2xx,
    non2xx: latencies.length - ok2xx,
    errors,
    timeouts,
    statusCodes,
    unitsPer2xx: target.kind === 'webhook' ? target.eventsPerBatch : 1,
  };
}

async function run(message: LoadRequest): Promise<LoadSummary> {
  const { common, target } = message;
  if (common.overallRate !== undefined) return runPaced(common, target);
  const result = await autocannon({
    url: common.origin,
    connections: common.connections,
    ...(common.amount !== undefined
      ? { amount: common.amount }
      : { duration: common.durationSeconds ?? 5 }),
    timeout: 10,
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
