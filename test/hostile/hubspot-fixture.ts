import { randomUUID } from 'node:crypto';

import fc from 'fast-check';
import { expect } from 'vitest';

import { SIGNATURE_HEADERS } from '../../server/src/hubspot/signature/index.ts';
import { startHubSpotTestEnv, type HubSpotTestEnv } from '../helpers/hubspot-env.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/test-db.ts';
import {
  checkMutated,
  endpointUrl,
  fetchQuery,
  send,
  sign,
  signedRequest,
  signerOf,
  snapshot,
  webhookBatch,
  workflowExecution,
  type Endpoint,
  type Signer,
} from './hubspot-requests.ts';
import {
  bodyAroundLimit,
  bodyBitFlip,
  chained,
  deepJson,
  headerBitFlip,
  headerDrop,
  headerDuplicate,
  methodChange,
  otherPortalId,
  pathBitFlip,
  queryReorder,
  queryValueChange,
  timestampChange,
  wrongContentType,
  type Mutation,
  type RequestSpec,
} from './mutations.ts';

/**
 * One database, the real app and the sandbox, with portal A connected (deals of its own for
 * each endpoint) and portal B connected to another organization, and every inbound HubSpot
 * endpoint described by a valid request of A's that has already been delivered once (so a
 * replay must change nothing).
 */
export interface HostileFixture {
  readonly database: TestDatabase;
  readonly env: HubSpotTestEnv;
  readonly signer: Signer;
  readonly portalA: string;
  readonly portalB: string;
  /** A portal id that no organization is linked to. */
  readonly strangerPortal: string;
  readonly dealNameA: string;
  readonly endpoints: Readonly<Record<EndpointKey, Endpoint>>;
}

export type EndpointKey =
  | 'workflowV3'
  | 'workflowV2'
  | 'eventsV3'
  | 'eventsV1'
  | 'decision'
  | 'card'
  | 'cardSend'
  | 'settings'
  | 'settingsOptions'
  | 'retryFailed'
  | 'routingRules'
  | 'dryRun'
  | 'fieldMapping';

export async function startHostileFixture(): Promise<HostileFixture> {
  const database = await createTestDatabase();
  const env = await startHubSpotTestEnv({
    db: database.db,
    // No deliveries of the sandbox's own: only the requests the tests send reach the app.
    sandbox: { webhooks: { maxAttempts: 1 } },
  });
  const signer = signerOf(env);
  const a = await env.connectPortal({ name: 'Alpha' });
  const b = await env.connectPortal({ name: 'Bravo' });
  const strangerPortal = String(env.sandbox.control.createPortal({ name: 'Stranger' }).portalId);
  const dealNameA = `Alpha confidential deal ${randomUUID().slice(0, 8)}`;
  const deal = (name: string) =>
    env.sandbox.control.createDeal(Number(a.portalId), { dealname: name, amount: '5000' }).id;
  const appId = env.config.hubspot.appId;
  const portal = Number(a.portalId);
  const query = fetchQuery({ portalId: a.portalId, appId });

  const endpoints: Record<EndpointKey, Endpoint> = {
    workflowV3: {
      name: 'POST /webhook (workflow action, v3 + v2)',
      method: 'POST',
      path: '/webhook',
      policy: 'v3-or-v2',
      scheme: 'v3+v2',
      bodyLimit: 256 * 1024,
      body: workflowExecution({ portalId: portal, dealId: deal('Workflow v3 deal') }),
    },
    workflowV2: {
      name: 'POST /webhook (workflow action, v2 only)',
      method: 'POST',
      path: '/webhook',
      policy: 'v3-or-v2',
      scheme: 'v2',
      bodyLimit: 256 * 1024,
      body: workflowExecution({ portalId: portal, dealId: deal('Workflow v2 deal') }),
    },
    eventsV3: {
      name: 'POST /events (webhooks, v3 + v1)',
      method: 'POST',
      path: '/events',
      policy: 'v3',
      scheme: 'v3+v1',
      bodyLimit: 1024 * 1024,
      body: webhookBatch({ portalId: portal, appId, dealId: deal('Events v3 deal') }),
    },
    eventsV1: {
      // Refused: the v3 headers stripped from a delivery (a downgrade to replayable v1).
      name: 'POST /events (webhooks, v1 only)',
      method: 'POST',
      path: '/events',
      policy: 'v3',
      scheme: 'v1',
      bodyLimit: 1024 * 1024,
      body: webhookBatch({ portalId: portal, appId, dealId: deal('Events v1 deal') }),
    },
    decision: {
      name: 'POST /workflow/wait-for-decision',
      method: 'POST',
      path: '/workflow/wait-for-decision',
      policy: 'v3-or-v2',
      scheme: 'v3+v2',
      bodyLimit: 256 * 1024,
      body: workflowExecution({
        portalId: portal,
        dealId: deal('Decision deal'),
        inputFields: { expiration_days: '7' },
      }),
    },
    card: {
      name: 'GET /card',
      method: 'GET',
      path: '/card',
      policy: 'v3',
      scheme: 'v3',
      bodyLimit: 64 * 1024,
      query: { dealId: deal(dealNameA), ...query },
    },
    cardSend: {
      name: 'POST /card/send',
      method: 'POST',
      path: '/card/send',
      policy: 'v3',
      scheme: 'v3',
      bodyLimit: 64 * 1024,
      query,
      body: { dealId: deal('Card send deal'), requestId: randomUUID() },
    },
    settings: {
      name: 'GET /settings',
      method: 'GET',
      path: '/settings',
      policy: 'v3',
      scheme: 'v3',
      bodyLimit: 128 * 1024,
      query,
    },
    settingsOptions: {
      name: 'PUT /settings/options',
      method: 'PUT',
      path: '/settings/options',
      policy: 'v3',
      scheme: 'v3',
      bodyLimit: 128 * 1024,
      query,
      body: {
        closedLostBehavior: 'do_nothing',
        attachmentFilter: { mode: 'matching', pattern: 'contract' },
      },
    },
    retryFailed: {
      name: 'POST /settings/retry-failed',
      method: 'POST',
      path: '/settings/retry-failed',
      policy: 'v3',
      scheme: 'v3',
      bodyLimit: 128 * 1024,
      query,
    },
    fieldMapping: {
      name: 'GET /settings/field-mapping',
      method: 'GET',
      path: '/settings/field-mapping',
      policy: 'v3',
      scheme: 'v3',
      bodyLimit: 128 * 1024,
      query,
    },
    routingRules: {
      name: 'GET /settings/rules',
      method: 'GET',
      path: '/settings/rules',
      policy: 'v3',
      scheme: 'v3',
      bodyLimit: 256 * 1024,
      query,
    },
    dryRun: {
      name: 'POST /settings/dry-run',
      method: 'POST',
      path: '/settings/dry-run',
      policy: 'v3',
      scheme: 'v3',
      bodyLimit: 256 * 1024,
      query,
      body: { dealId: deal(dealNameA) },
    },
  };
  await env.sandbox.control.webhooksIdle();
  return {
    database,
    env,
    signer,
    portalA: a.portalId,
    portalB: b.portalId,
    strangerPortal,
    dealNameA,
    endpoints,
  };
}

/** Delivers the endpoint's valid request once (HubSpot's first delivery); returns the answer. */
export async function deliverOriginal(fixture: HostileFixture, endpoint: Endpoint) {
  const response = await send(fixture.env.app, signedRequest(fixture.signer, endpoint));
  expect(response.statusCode, `${endpoint.name}: ${response.body.slice(0, 300)}`).toBe(200);
  return response;
}

function signatureHeaders(endpoint: Endpoint): string[] {
  const names: string[] = [];
  if (endpoint.scheme.includes('v3')) names.push(SIGNATURE_HEADERS.v3, SIGNATURE_HEADERS.timestamp);
  if (endpoint.scheme !== 'v3') names.push(SIGNATURE_HEADERS.signature, SIGNATURE_HEADERS.version);
  return names;
}

/** Re-signs with a secret that is not the app's (a forger who guessed wrong). */
function wrongSecret(fixture: HostileFixture, endpoint: Endpoint) {
  return fc.string({ minLength: 0, maxLength: 40 }).map<Mutation>((secret) => ({
    name: `signed with a wrong secret "${secret}"`,
    apply: (spec) => ({
      ...spec,
      headers: {
        ...spec.headers,
        ...sign(
          fixture.signer,
          { method: spec.method, url: spec.url, ...(spec.body ? { body: spec.body } : {}) },
          endpoint.scheme,
          {
            clientSecret: secret === fixture.signer.clientSecret ? `${secret}x` : secret,
          },
        ),
      },
    }),
  }));
}

/** Every mutation that applies to the endpoint, one to three at a time. */
export function mutationsFor(fixture: HostileFixture, endpoint: Endpoint): fc.Arbitrary<Mutation> {
  const signed = signatureHeaders(endpoint);
  const list: fc.Arbitrary<Mutation>[] = [
    pathBitFlip,
    queryValueChange,
    queryReorder,
    headerDrop(signed),
    headerBitFlip(signed),
    headerDuplicate(signed),
    methodChange,
    otherPortalId(fixture.portalA),
    wrongSecret(fixture, endpoint),
  ];
  if (endpoint.scheme.includes('v3')) list.push(timestampChange(SIGNATURE_HEADERS.timestamp));
  if (endpoint.method !== 'GET') {
    list.push(
      bodyBitFlip,
      bodyBitFlip,
      wrongContentType,
      headerBitFlip(['content-type']),
      headerDrop(['content-type', 'user-agent']),
      bodyAroundLimit(endpoint.bodyLimit),
      deepJson,
    );
  }
  return chained(fc.oneof(...list));
}

/**
 * The property: every mutation of the endpoint's valid request is refused (or, if it kept
 * every signed byte, answered as a replay), never 5xx, never a new row.
 */
export async function assertMutationsRefused(
  fixture: HostileFixture,
  endpoint: Endpoint,
  numRuns: number,
): Promise<{ refused: number; replays: number }> {
  const tally = { refused: 0, replays: 0 };
  // Requests run one at a time and nothing else writes meanwhile, so one run's "after" is
  // the next run's "before".
  let last = await snapshot(fixture.database.db);
  await fc.assert(
    fc.asyncProperty(mutationsFor(fixture, endpoint), async (mutation) => {
      const original: RequestSpec = signedRequest(fixture.signer, endpoint);
      const mutated = mutation.apply(original);
      const { verdict, response, after } = await checkMutated(
        fixture.env.app,
        fixture.database.db,
        endpoint,
        original,
        mutated,
        mutation.name,
        last,
      );
      last = after;
      if (verdict.kind === 'refused') tally.refused += 1;
      else tally.replays += 1;
      expect(response.body).not.toContain(fixture.env.config.hubspot.clientSecret);
    }),
    { numRuns },
  );
  return tally;
}

export { endpointUrl };
