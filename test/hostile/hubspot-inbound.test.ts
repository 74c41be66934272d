import { readdir, readFile } from 'node:fs/promises';

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { SIGNATURE_HEADERS } from '../../server/src/hubspot/signature/index.ts';
import {
  assertMutationsRefused,
  deliverOriginal,
  startHostileFixture,
  type EndpointKey,
} from './hubspot-fixture.ts';
import {
  atFrozenTime,
  checkMutated,
  endpointUrl,
  expectErrorEnvelope,
  PREFIX,
  send,
  signedRequest,
  snapshot,
  webhookBatch,
  workflowExecution,
  type Endpoint,
} from './hubspot-requests.ts';

/**
 * Hostile input against HubSpot's server-to-server calls: the workflow actions (`/webhook`,
 * `/workflow/wait-for-decision`) and webhook deliveries (`/events`).
 */
const fixture = await startHostileFixture();
const { env, database, signer, endpoints } = fixture;
const originals = new Map<EndpointKey, string>();
for (const key of ['workflowV3', 'workflowV2', 'eventsV3', 'decision'] as const) {
  originals.set(key, (await deliverOriginal(fixture, endpoints[key])).body);
}

/** Mutations per endpoint (the suite's total is reported by the lead from these). */
const RUNS: Partial<Record<EndpointKey, number>> = {
  workflowV3: 1_000,
  workflowV2: 700,
  eventsV3: 1_600,
  decision: 800,
};

function withBody(endpoint: Endpoint, body: unknown): Endpoint {
  return { ...endpoint, body };
}

describe('HubSpot workflow actions and webhooks under hostile input', () => {
  it('signs over the same URL under inject as over the wire', async () => {
    const endpoint = withBody(
      endpoints.eventsV3,
      webhookBatch({
        portalId: Number(fixture.portalA),
        appId: env.config.hubspot.appId,
        dealId: '41000000001',
      }),
    );
    const spec = signedRequest(signer, endpoint);
    const wire = await fetch(`${env.baseUrl}${spec.url}`, {
      method: spec.method,
      headers: spec.headers,
      ...(spec.body ? { body: spec.body } : {}),
    });
    expect(wire.status).toBe(200);
    const injected = await send(env.app, spec);
    expect(injected.statusCode).toBe(200);
    // The second delivery is the same events: stored once.
    expect(injected.json()).toMatchObject({ received: 3, stored: 0 });
  });

  for (const key of ['workflowV3', 'workflowV2', 'eventsV3', 'decision'] as const) {
    const runs = RUNS[key] ?? 0;
    it(`${endpoints[key].name}: ${runs} mutations refused, none 5xx, no row written`, async () => {
      const tally = await assertMutationsRefused(fixture, endpoints[key], runs);
      // The generator must mostly break signatures, or the property proves little.
      expect(tally.refused).toBeGreaterThan(runs * 0.8);
    });
  }

  it('accepts v3 timestamps 299,000 ms off and refuses 300,001 ms off, either direction', async () => {
    const now = Date.now();
    for (const key of ['workflowV3', 'eventsV3', 'decision'] as const) {
      const endpoint = endpoints[key];
      for (const [delta, expected] of [
        [-300_001, 401],
        [300_001, 401],
        [-299_000, 200],
        [299_000, 200],
      ] as const) {
        const before = await snapshot(database.db);
        const spec = signedRequest(signer, endpoint, { timestamp: now + delta });
        const response = await atFrozenTime(now, () => send(env.app, spec));
        expect(response.statusCode, `${endpoint.name} at ${delta} ms`).toBe(expected);
        // Accepted ones are replays of the first delivery: same answer, nothing new.
        if (expected === 200 && key === 'eventsV3')
          expect(response.json()).toMatchObject({ stored: 0 });
        else if (expected === 200)
          expect(response.json()).toEqual(JSON.parse(originals.get(key) ?? ''));
        else expectErrorEnvelope(response, `${endpoint.name} at ${delta} ms`);
        expect((await snapshot(database.db)).counts).toEqual(before.counts);
      }
    }
  });

  it('a stale v3 delivery is refused even with a valid v1/v2 signature beside it (no downgrade)', async () => {
    for (const key of ['workflowV3', 'eventsV3', 'decision'] as const) {
      const spec = signedRequest(signer, endpoints[key], { timestamp: Date.now() - 600_000 });
      const response = await send(env.app, spec);
      expect(response.statusCode, endpoints[key].name).toBe(401);
    }
  });

  it('keeps the callbackId dedupe rows that make a v2 replay harmless: no code deletes them', async () => {
    // While workflow actions accept v2 (no timestamp), these rows are the only replay defence.
    const files = (await readdir('server/src', { recursive: true })).filter((f) =>
      f.endsWith('.ts'),
    );
    const deleting: string[] = [];
    for (const file of files) {
      const text = await readFile(`server/src/${file}`, 'utf8');
      for (const table of ['hubspot_workflow_executions', 'hubspot_decision_callbacks']) {
        if (new RegExp(`deleteFrom\\(\\s*'${table}'|delete\\s+from\\s+${table}`, 'i').test(text))
          deleting.push(`${file}: ${table}`);
      }
    }
    expect(deleting).toEqual([]);
  });

  it('a webhook delivery with its v3 headers stripped (v1 only) is refused and stores nothing', async () => {
    // v1 covers neither the URL nor a time: accepted, a captured delivery would replay forever.
    const endpoint = withBody(
      endpoints.eventsV1,
      webhookBatch({
        portalId: Number(fixture.portalA),
        appId: env.config.hubspot.appId,
        dealId: '41000000077',
      }),
    );
    const spec = signedRequest(signer, endpoint);
    expect(spec.headers[SIGNATURE_HEADERS.version]).toBe('v1');
    expect(spec.headers[SIGNATURE_HEADERS.v3]).toBeUndefined();
    const before = await snapshot(database.db);
    const response = await send(env.app, spec);
    expect(response.statusCode).toBe(401);
    expectErrorEnvelope(response, 'v1-only delivery');
    expect((await snapshot(database.db)).counts).toEqual(before.counts);
  });

  it('a replayed v2-only workflow request creates nothing new and gets the first answer', async () => {
    const endpoint = endpoints.workflowV2;
    const body = endpoint.body as { callbackId: string; origin: { portalId: number } };
    const before = await snapshot(database.db);
    for (let i = 0; i < 25; i += 1) {
      const response = await send(env.app, signedRequest(signer, endpoint));
      expect(response.statusCode).toBe(200);
      expect(response.json()).toEqual(JSON.parse(originals.get('workflowV2') ?? ''));
    }
    expect((await snapshot(database.db)).counts).toEqual(before.counts);
    const executions = await database.db
      .selectFrom('hubspot_workflow_executions')
      .select(['contract_id'])
      .where('portal_id', '=', String(body.origin.portalId))
      .where('callback_id', '=', body.callbackId)
      .execute();
    expect(executions).toHaveLength(1);
    expect(JSON.parse(originals.get('workflowV2') ?? '{}')).toMatchObject({
      outputFields: { hs_execution_state: 'BLOCK', contract_id: executions[0]?.contract_id },
    });
  });

  it("another portal's id: re-signed for a portal nobody connected → no data, nothing created", async () => {
    const stranger = Number(fixture.strangerPortal);
    const cases: Array<[EndpointKey, Endpoint, (body: string) => void]> = [
      [
        'workflowV3',
        withBody(endpoints.workflowV3, workflowExecution({ portalId: stranger, dealId: '1' })),
        (body) => {
          expect(JSON.parse(body)).toMatchObject({
            outputFields: { hs_execution_state: 'FAIL_CONTINUE' },
          });
        },
      ],
      [
        'workflowV2',
        withBody(endpoints.workflowV2, workflowExecution({ portalId: stranger, dealId: '1' })),
        (body) => {
          expect(JSON.parse(body)).toMatchObject({
            outputFields: { hs_execution_state: 'FAIL_CONTINUE' },
          });
        },
      ],
      [
        'eventsV3',
        withBody(
          endpoints.eventsV3,
          webhookBatch({ portalId: stranger, appId: env.config.hubspot.appId, dealId: '1' }),
        ),
        (body) => {
          expect(JSON.parse(body)).toMatchObject({ stored: 0, ignored: 3 });
        },
      ],
      [
        'decision',
        withBody(endpoints.decision, workflowExecution({ portalId: stranger, dealId: '1' })),
        (body) => {
          expect(JSON.parse(body)).toMatchObject({
            outputFields: { hs_execution_state: 'FAIL_CONTINUE' },
          });
        },
      ],
    ];
    for (const [key, endpoint, check] of cases) {
      const before = await snapshot(database.db);
      const resigned = await send(env.app, signedRequest(signer, endpoint));
      expect(resigned.statusCode, endpoint.name).toBe(200);
      check(resigned.body);
      expect((await snapshot(database.db)).digest, endpoint.name).toBe(before.digest);
      // A's signature with the stranger's id in the body: refused.
      const original = signedRequest(signer, endpoints[key]);
      const swapped = {
        ...signedRequest(signer, endpoint),
        headers: original.headers,
      };
      const refused = await send(env.app, swapped);
      expect([401], endpoint.name).toContain(refused.statusCode);
    }
  });

  it('re-signed garbage and field-level changes of valid bodies: 200 or 4xx, never 5xx (600 bodies)', async () => {
    const keys = ['workflowV3', 'eventsV3', 'decision'] as const;
    const leafChange = fc
      .tuple(fc.nat(), fc.jsonValue({ maxDepth: 3 }))
      .map(([which, value]) => (body: unknown): unknown => {
        const copy = JSON.parse(JSON.stringify(body)) as unknown;
        const slots: Array<[Record<string, unknown> | unknown[], string | number]> = [];
        const walk = (node: unknown) => {
          if (Array.isArray(node)) {
            node.forEach((child, i) => {
              slots.push([node, i]);
              walk(child);
            });
          } else if (node !== null && typeof node === 'object')
            for (const [k, child] of Object.entries(node)) {
              slots.push([node as Record<string, unknown>, k]);
              walk(child);
            }
        };
        walk(copy);
        const slot = slots[which % Math.max(1, slots.length)];
        if (!slot) return value;
        const [parent, k] = slot;
        if (Array.isArray(parent)) parent[k as number] = value;
        else if (which % 7 === 0) Reflect.deleteProperty(parent, k);
        else parent[k as string] = value;
        return copy;
      });
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...keys),
        fc.oneof(
          fc.jsonValue({ maxDepth: 4 }).map((v) => () => v),
          leafChange.map((change) => (body: unknown) => change(body)),
          fc
            .integer({ min: 1_000, max: 100_000 })
            .map((depth) => () => Buffer.from('['.repeat(depth) + ']'.repeat(depth))),
        ),
        async (key, makeBody) => {
          const made = makeBody(endpoints[key].body);
          const body = Buffer.isBuffer(made) ? made : Buffer.from(JSON.stringify(made));
          const endpoint = endpoints[key];
          const response = await send(env.app, signedRequest(signer, endpoint, { body }));
          const context = `${endpoint.name}: ${body.toString('utf8', 0, 200)}`;
          expect(response.statusCode, `${context} → ${response.body.slice(0, 300)}`).toBeLessThan(
            500,
          );
          if (response.statusCode >= 400) expectErrorEnvelope(response, context);
        },
      ),
      { numRuns: 600 },
    );
  });

  it('refuses unsigned requests on every route of the prefix', async () => {
    for (const path of ['/webhook', '/events', '/workflow/wait-for-decision']) {
      const response = await env.app.inject({
        method: 'POST',
        url: `${PREFIX}${path}`,
        headers: { 'content-type': 'application/json' },
        payload: '{}',
      });
      expect(response.statusCode, path).toBe(401);
      expect(response.headers[SIGNATURE_HEADERS.v3]).toBeUndefined();
    }
    expect(endpointUrl(endpoints.workflowV3)).toBe(`${PREFIX}/webhook`);
  });

  it('a mutated delivery of a connected portal changes no row, even on a fresh body', async () => {
    // The same judge as the property, on one hand-picked mutation per endpoint.
    for (const key of ['workflowV3', 'eventsV3', 'decision'] as const) {
      const original = signedRequest(signer, endpoints[key]);
      const flipped = Buffer.from(original.body ?? Buffer.alloc(0));
      flipped[10] = (flipped[10] ?? 0) ^ 1;
      const { verdict } = await checkMutated(
        env.app,
        database.db,
        endpoints[key],
        original,
        { ...original, body: flipped },
        'body byte 10 flipped',
      );
      expect(verdict.kind).toBe('refused');
    }
  });
});
