import { createHash, randomUUID } from 'node:crypto';

import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { sql } from 'kysely';
import { expect, vi } from 'vitest';

import type { Database } from '../../server/src/platform/db/database.ts';
import {
  decodeV3Uri,
  SIGNATURE_HEADERS,
  signV1,
  signV2,
  signV3,
} from '../../server/src/hubspot/signature/index.ts';
import type { HubSpotTestEnv } from '../helpers/hubspot-env.ts';
import type { RequestSpec } from './mutations.ts';

/**
 * Valid HubSpot requests to every inbound endpoint, signed exactly as HubSpot signs them,
 * and the judge of a mutated copy: did the mutation keep every byte the server's signature
 * check covers (then the request is a replay and may be answered), or not (then it must be
 * refused before anything happens).
 */

export const PREFIX = '/api/v1/integrations/hubspot';

export type SignaturePolicy = 'v3' | 'v3-or-v2' | 'v3-or-v1';
export type Scheme = 'v3+v2' | 'v2' | 'v3+v1' | 'v1' | 'v3';

export interface Endpoint {
  readonly name: string;
  readonly method: 'GET' | 'POST' | 'PUT';
  readonly path: string;
  readonly policy: SignaturePolicy;
  readonly scheme: Scheme;
  /** The route's JSON body limit in bytes. */
  readonly bodyLimit: number;
  /** The card/settings query HubSpot appends (`hubspot.fetch`); none for workflow/webhooks. */
  readonly query?: Readonly<Record<string, string>>;
  readonly body?: unknown;
}

export interface Signer {
  readonly clientSecret: string;
  readonly publicBaseUrl: string;
}

export function signerOf(env: HubSpotTestEnv): Signer {
  return {
    clientSecret: env.config.hubspot.clientSecret,
    publicBaseUrl: env.config.publicBaseUrl,
  };
}

/** Path and query as `hubspot.fetch` builds them (URLSearchParams encoding, appended last). */
export function endpointUrl(endpoint: Pick<Endpoint, 'path' | 'query'>): string {
  const url = new URL(`https://placeholder${PREFIX}${endpoint.path}`);
  for (const [key, value] of Object.entries(endpoint.query ?? {})) {
    url.searchParams.append(key, value);
  }
  return `${url.pathname}${url.search}`;
}

/** Signs a request as HubSpot does for `scheme`, over `publicBaseUrl + url`. */
export function sign(
  signer: Signer,
  request: { method: string; url: string; body?: Buffer },
  scheme: Scheme,
  options: { timestamp?: number; clientSecret?: string } = {},
): Record<string, string> {
  const clientSecret = options.clientSecret ?? signer.clientSecret;
  const uri = `${signer.publicBaseUrl}${request.url}`;
  const rawBody = request.body ?? Buffer.alloc(0);
  const timestamp = String(options.timestamp ?? Date.now());
  const headers: Record<string, string> = {};
  if (scheme.includes('v3')) {
    headers[SIGNATURE_HEADERS.v3] = signV3({
      clientSecret,
      method: request.method,
      uri,
      rawBody,
      timestamp,
    });
    headers[SIGNATURE_HEADERS.timestamp] = timestamp;
  }
  if (scheme.endsWith('v2')) {
    headers[SIGNATURE_HEADERS.signature] = signV2({
      clientSecret,
      method: request.method,
      uri,
      rawBody,
    });
    headers[SIGNATURE_HEADERS.version] = 'v2';
  }
  if (scheme.endsWith('v1')) {
    headers[SIGNATURE_HEADERS.signature] = signV1({ clientSecret, rawBody });
    headers[SIGNATURE_HEADERS.version] = 'v1';
  }
  return headers;
}

/** The endpoint's request, freshly signed (a retry by HubSpot looks exactly like this). */
export function signedRequest(
  signer: Signer,
  endpoint: Endpoint,
  options: { timestamp?: number; clientSecret?: string; body?: Buffer; url?: string } = {},
): RequestSpec {
  const url = options.url ?? endpointUrl(endpoint);
  const body =
    options.body ??
    (endpoint.body === undefined ? undefined : Buffer.from(JSON.stringify(endpoint.body)));
  return {
    method: endpoint.method,
    url,
    headers: {
      'user-agent': 'HubSpot Connect 2.0 (http://dev.hubspot.com/)',
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...sign(
        signer,
        { method: endpoint.method, url, ...(body ? { body } : {}) },
        endpoint.scheme,
        {
          ...(options.timestamp !== undefined ? { timestamp: options.timestamp } : {}),
          ...(options.clientSecret !== undefined ? { clientSecret: options.clientSecret } : {}),
        },
      ),
    },
    ...(body !== undefined ? { body } : {}),
  };
}

export async function send(app: FastifyInstance, spec: RequestSpec) {
  return app.inject({
    method: spec.method,
    url: spec.url,
    headers: spec.headers,
    ...(spec.body ? { payload: spec.body } : {}),
  });
}

function header(spec: RequestSpec, name: string): string | undefined {
  return spec.headers[name];
}

function pathOf(url: string): string {
  return url.split(/[?#]/)[0] ?? '';
}

function isJson(contentType: string | undefined): boolean {
  return contentType !== undefined && /^\s*application\/json\s*(;.*)?$/i.test(contentType);
}

/**
 * The body bytes the signature check covers: a JSON body is captured raw; any other body
 * (or a GET's) is never signed material, so sending one is a change of what was signed.
 */
function signedBody(spec: RequestSpec): string {
  const body = spec.body ?? Buffer.alloc(0);
  const digest = createHash('sha256').update(body).digest('hex');
  if (spec.method !== 'GET' && isJson(header(spec, 'content-type'))) return digest;
  return body.length === 0 ? '' : `unsigned:${digest}`;
}

/** The signature the server's check picks: v3 when its header is there (or required). */
function pathTaken(spec: RequestSpec, policy: SignaturePolicy): 'v3' | 'legacy' {
  return header(spec, SIGNATURE_HEADERS.v3) !== undefined || policy === 'v3' ? 'v3' : 'legacy';
}

/** What the server's check covers on that path. */
function signedMaterial(
  spec: RequestSpec,
  policy: SignaturePolicy,
  path: 'v3' | 'legacy',
): string | undefined {
  const url = spec.url.split('#')[0] ?? '';
  const v3 = header(spec, SIGNATURE_HEADERS.v3);
  if (path === 'v3') {
    return JSON.stringify([
      'v3',
      spec.method,
      decodeV3Uri(url),
      signedBody(spec),
      v3,
      header(spec, SIGNATURE_HEADERS.timestamp),
    ]);
  }
  const version = header(spec, SIGNATURE_HEADERS.version)?.toLowerCase();
  const expected = policy === 'v3-or-v2' ? 'v2' : 'v1';
  if (version !== undefined && version !== expected) return undefined;
  return JSON.stringify([
    expected,
    expected === 'v2' ? spec.method : '',
    expected === 'v2' ? url : '',
    signedBody(spec),
    // Hex digests: either case is the same signature.
    header(spec, SIGNATURE_HEADERS.signature)?.toLowerCase(),
  ]);
}

export type Verdict =
  /** Everything signed is intact (a replay): may be answered, must change nothing new. */
  | { readonly kind: 'replay' }
  /** A signed byte changed: refused, with these statuses allowed. */
  | { readonly kind: 'refused'; readonly statuses: readonly number[]; readonly why: string };

/**
 * Whether the mutated request must be refused, and how. 401 whenever the request reaches the
 * signature check; before it, routing and body parsing may refuse first: an unknown path or
 * method (404, or 400 for a malformed URL), a body over the route's limit (413), or a content
 * type no parser accepts (415).
 */
export function verdict(endpoint: Endpoint, original: RequestSpec, mutated: RequestSpec): Verdict {
  // A v1/v2 signature alone is valid when v3 is absent (HubSpot's older schemes): the
  // mutated request is compared with the original on the path the server will take.
  const path = pathTaken(mutated, endpoint.policy);
  const originalHasLegacy = header(original, SIGNATURE_HEADERS.signature) !== undefined;
  const before =
    path === 'v3' || originalHasLegacy
      ? signedMaterial(original, endpoint.policy, path)
      : undefined;
  const after = signedMaterial(mutated, endpoint.policy, path);
  if (before !== undefined && before === after) return { kind: 'replay' };
  if (pathOf(mutated.url) !== pathOf(original.url) || mutated.method !== original.method) {
    return { kind: 'refused', statuses: [400, 401, 404, 405, 413, 415], why: 'route changed' };
  }
  const statuses = [401];
  const bodyBytes = mutated.body?.length ?? 0;
  const given = header(mutated, 'content-type');
  const type = (given ?? '').trim();
  if (mutated.method !== 'GET' && (bodyBytes > 0 || given !== undefined)) {
    if (isJson(type)) {
      if (bodyBytes > endpoint.bodyLimit) statuses.push(413);
    } else if (/^application\/x-www-form-urlencoded\s*(;.*)?$/i.test(type)) {
      if (bodyBytes > 64 * 1024) statuses.push(413);
    } else if (/^text\/plain\s*(;.*)?$/i.test(type)) {
      if (bodyBytes > 1024 * 1024) statuses.push(413);
    } else {
      // No parser for this type (or none given with a body).
      statuses.push(415);
    }
  }
  return { kind: 'refused', statuses, why: 'signed bytes changed' };
}

/** The tables a request could write to (audit rows of refusals are allowed). */
export const WATCHED_TABLES = [
  'contracts',
  'contract_files',
  'contract_status_changes',
  'hubspot_workflow_executions',
  'hubspot_webhook_events',
  'hubspot_deal_sync',
  'hubspot_card_requests',
  'hubspot_decision_callbacks',
  'hubspot_portal_settings',
  'organization_integrations',
] as const;

export interface Snapshot {
  readonly counts: Readonly<Record<string, number>>;
  /**
   * Per table, the row count and the newest row version's transaction id: any insert or
   * update makes a row version with a newer `xmin`, so this catches updates as well.
   */
  readonly digest: string;
}

/** Row counts and a change marker of the watched tables, in one round trip. */
export async function snapshot(db: Database): Promise<Snapshot> {
  const columns = WATCHED_TABLES.map(
    (table) =>
      sql`(select count(*)::int || ':' || coalesce(max(xmin::text::bigint), 0) from ${sql.table(table)}) as ${sql.ref(table)}`,
  );
  const result = await sql<Record<string, string>>`select ${sql.join(columns)}`.execute(db);
  const row = result.rows[0];
  if (!row) throw new Error('no snapshot row');
  const counts: Record<string, number> = {};
  for (const table of WATCHED_TABLES) counts[table] = Number(String(row[table]).split(':')[0]);
  return { counts, digest: WATCHED_TABLES.map((table) => row[table]).join(',') };
}

export function describeSpec(spec: RequestSpec): string {
  const headers = Object.entries(spec.headers)
    .map(([k, v]) => `${k}: ${v.slice(0, 60)}`)
    .join('; ');
  return `${spec.method} ${spec.url.slice(0, 300)} [${headers}] body ${spec.body?.length ?? 0} B`;
}

/** A 4xx/5xx answer carries the JSON error envelope with a stable snake_case code. */
export function expectErrorEnvelope(response: LightMyRequestResponse, context: string): void {
  const code = (response.json<{ error?: { code?: unknown } }>().error ?? {}).code;
  expect(code, `${context} → ${response.statusCode} ${response.body.slice(0, 200)}`).toMatch(
    /^[a-z_]+$/,
  );
}

/**
 * Sends one mutated request and checks it: never 5xx; refused as `verdict` says when a signed
 * byte changed (and then not a single watched row changed, inserts or updates); a replay may
 * be answered but creates no row.
 */
export async function checkMutated(
  app: FastifyInstance,
  db: Database,
  endpoint: Endpoint,
  original: RequestSpec,
  mutated: RequestSpec,
  label: string,
  /** The watched tables' state before this request (default: read now). */
  previous?: Snapshot,
): Promise<{ verdict: Verdict; response: LightMyRequestResponse; after: Snapshot }> {
  const judged = verdict(endpoint, original, mutated);
  const before = previous ?? (await snapshot(db));
  const response = await send(app, mutated);
  const context = `${endpoint.name}: ${label} (${judged.kind}) ${describeSpec(mutated)}`;
  expect(response.statusCode, `${context} → ${response.body.slice(0, 300)}`).toBeLessThan(500);
  const after = await snapshot(db);
  expect(after.counts, context).toEqual(before.counts);
  if (judged.kind === 'refused') {
    expect(
      judged.statuses,
      `${context} → ${response.statusCode} ${response.body.slice(0, 200)}`,
    ).toContain(response.statusCode);
    expect(after.digest, `${context}: a refused request changed a row`).toBe(before.digest);
    expectErrorEnvelope(response, context);
    if (response.statusCode === 401) {
      expect(response.json<{ error: { code: string } }>().error.code).toBe('invalid_signature');
    }
  }
  return { verdict: judged, response, after };
}

/** Runs `fn` with `Date.now()` frozen at `now` (timers stay real), for exact clock edges. */
export async function atFrozenTime<T>(now: number, fn: () => Promise<T>): Promise<T> {
  vi.useFakeTimers({ toFake: ['Date'], now });
  try {
    return await fn();
  } finally {
    vi.useRealTimers();
  }
}

/** A HubSpot workflow-action execution body, as the sandbox (and HubSpot) sends it. */
export function workflowExecution(input: {
  portalId: number;
  dealId: string;
  callbackId?: string;
  inputFields?: Record<string, unknown>;
}): Record<string, unknown> {
  return {
    callbackId: input.callbackId ?? `ap-${input.portalId}-${randomUUID()}`,
    origin: {
      portalId: input.portalId,
      actionDefinitionId: 1_000_001,
      actionDefinitionVersion: 1,
      actionExecutionIndexIdentifier: { enrollmentId: 1001, actionExecutionIndex: 0 },
    },
    context: { source: 'WORKFLOWS', workflowId: 192_814_114, actionId: 1 },
    object: {
      objectId: Number(input.dealId),
      objectType: 'DEAL',
      properties: { dealname: 'Hostile deal', amount: '1000' },
    },
    inputFields: input.inputFields ?? {},
  };
}

/** A webhook batch (HubSpot shape) of property changes on one deal. */
export function webhookBatch(input: {
  portalId: number;
  appId: string;
  dealId: string;
  count?: number;
}): Record<string, unknown>[] {
  const now = Date.now();
  return Array.from({ length: input.count ?? 3 }, (_, i) => ({
    eventId: 700_000_000 + Math.floor(Math.random() * 1_000_000) * 10 + i,
    subscriptionId: 3_000_001,
    portalId: input.portalId,
    appId: Number(input.appId),
    occurredAt: now - 1000 + i,
    subscriptionType: 'object.propertyChange',
    attemptNumber: 0,
    objectId: Number(input.dealId),
    objectTypeId: '0-3',
    propertyName: 'dealstage',
    propertyValue: 'appointmentscheduled',
    changeSource: 'CRM_UI',
  }));
}

/** The query `hubspot.fetch` appends for a user of a portal. */
export function fetchQuery(input: {
  portalId: string;
  appId: string;
  userId?: string;
  userEmail?: string;
}): Record<string, string> {
  return {
    userId: input.userId ?? '5101',
    userEmail: input.userEmail ?? 'owner+hostile@example.com',
    appId: input.appId,
    portalId: input.portalId,
  };
}
