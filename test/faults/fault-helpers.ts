import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';

import { sql, type Kysely } from 'kysely';
import { afterAll } from 'vitest';

import type { DB } from '../../server/src/platform/db/schema.ts';
import type { WebhookEvent } from '../../server/src/hubspot/wire/index.ts';
import { SIGNATURE_HEADERS, signV3 } from '../../server/src/hubspot/signature/index.ts';
import { BATCH_PATH } from '../integration/hubspot/sync/sync-fixtures.ts';
import type { SandboxHandle } from '../../sandbox/index.ts';
import { findFreePort } from '../../server/src/platform/db/embedded.ts';

export { BATCH_PATH };

/** The app's webhook `targetUrl` path. */
export const EVENTS_PATH = '/api/v1/integrations/hubspot/events';

const children = new Set<ChildProcess>();
afterAll(() => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
});

/**
 * Spawns `node <script>` (TypeScript runs as is) and resolves once a line of its stdout
 * contains `readyText`; killed after the test file if still running.
 */
export async function spawnNodeChild(
  script: string,
  options: {
    args?: string[];
    env?: Record<string, string>;
    readyText: string;
    onStdout?: (text: string) => void;
    stderr?: 'inherit' | 'pipe';
  },
): Promise<ChildProcess> {
  const child = spawn(process.execPath, [script, ...(options.args ?? [])], {
    env: { ...process.env, ...options.env },
    stdio: ['pipe', 'pipe', options.stderr ?? 'inherit'],
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  await new Promise<void>((resolve, reject) => {
    let seen = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      const text = chunk.toString();
      options.onStdout?.(text);
      seen = (seen + text).slice(-10_000);
      if (seen.includes(options.readyText)) resolve();
    });
    child.once('exit', (code, signal) => {
      reject(new Error(`${script} exited before it was ready (${String(code ?? signal)})`));
    });
  });
  return child;
}

/**
 * A free port whose next port is free too, for a sandbox-mode app (it listens on PORT and,
 * for the sandbox, PORT + 1). The kernel hands out listening ports of one parity and
 * connections' local ports of the other, so PORT + 1 is where the TIME_WAIT sockets of
 * earlier drills' connections sit: checking only PORT is not enough.
 */
export async function findFreePortPair(): Promise<number> {
  for (;;) {
    const port = await findFreePort();
    if (await canListen(port + 1)) return port;
  }
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => {
      resolve(false);
    });
    server.listen(port, '127.0.0.1', () => {
      server.close(() => {
        resolve(true);
      });
    });
  });
}

/** Resolves with the exit code (or signal) once the child has exited. */
export function exited(child: ChildProcess): Promise<number | NodeJS.Signals | null> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  if (child.signalCode !== null) return Promise.resolve(child.signalCode);
  return new Promise((resolve) => {
    child.once('exit', (code, signal) => {
      resolve(code ?? signal);
    });
  });
}

/** pg-boss jobs in a given state (default: active), by queue name. */
export async function pgBossJobs(
  db: Kysely<DB>,
  state: 'active' | 'created' | 'retry' | 'failed' = 'active',
): Promise<Array<{ name: string; singleton_key: string | null }>> {
  const result = await sql<{ name: string; singleton_key: string | null }>`
    select name, singleton_key from pgboss.job where state = ${state}::pgboss.job_state
  `.execute(db);
  return result.rows;
}

/** Runs of a portal's deal-sync jobs so far (each retry of a job is one more run). */
export async function syncJobRuns(db: Kysely<DB>, portalId: string): Promise<number> {
  const result = await sql<{ runs: number }>`
    select coalesce(sum(retry_count + case when state in ('created', 'retry') then 0 else 1 end), 0)::int as runs
      from pgboss.job
     where name = 'hubspot-sync-portal-deals' and data->>'portalId' = ${portalId}
  `.execute(db);
  return result.rows[0]?.runs ?? 0;
}

/** Signed (v3) headers for a POST of `body` to `url` as HubSpot would send it. */
export function signedHeaders(
  clientSecret: string,
  url: string,
  body: string,
): Record<string, string> {
  const timestamp = String(Date.now());
  return {
    'content-type': 'application/json',
    [SIGNATURE_HEADERS.v3]: signV3({
      clientSecret,
      method: 'POST',
      uri: url,
      rawBody: body,
      timestamp,
    }),
    [SIGNATURE_HEADERS.timestamp]: timestamp,
  };
}

let nextEventId = 700_000_000 + Math.floor(Math.random() * 100_000_000);

/** A webhook delivery of `count` property changes on distinct deals of a portal. */
export function webhookBatch(
  portalId: string,
  appId: string,
  count: number,
): { events: WebhookEvent[]; ids: number[] } {
  const events: WebhookEvent[] = Array.from({ length: count }, () => {
    const eventId = nextEventId++;
    return {
      eventId,
      subscriptionId: 4242,
      portalId: Number(portalId),
      appId: Number(appId),
      occurredAt: Date.now(),
      subscriptionType: 'object.propertyChange',
      attemptNumber: 0,
      objectId: 900_000 + (eventId % 50_000),
      objectTypeId: '0-3',
      propertyName: 'dealname',
      propertyValue: `renamed ${eventId}`,
      changeSource: 'CRM_UI',
    };
  });
  return { events, ids: events.map((e) => e.eventId) };
}

/** Event ids of a portal stored by the webhook intake. */
export async function storedEventIds(db: Kysely<DB>, portalId: string): Promise<Set<number>> {
  const rows = await db
    .selectFrom('hubspot_webhook_events')
    .select('event_id')
    .where('portal_id', '=', portalId)
    .execute();
  return new Set(rows.map((r) => r.event_id));
}

/**
 * HubSpot's change history of one deal property, as the sandbox emitted it (first delivery
 * attempts, in the order the changes happened): deal id → values in order.
 */
export function propertyHistory(
  sandbox: SandboxHandle,
  portalId: string,
  propertyName: string,
): Map<string, string[]> {
  const events = sandbox.control
    .webhookDeliveries()
    .filter((d) => d.attempt === 0)
    .flatMap((d) => d.events)
    .filter(
      (e) =>
        e.portalId === Number(portalId) &&
        e.subscriptionType === 'object.propertyChange' &&
        e.propertyName === propertyName,
    )
    .sort((a, b) => a.eventId - b.eventId);
  const history = new Map<string, string[]>();
  for (const event of events) {
    const id = String(event.objectId);
    const list = history.get(id) ?? [];
    list.push(event.propertyValue ?? '');
    history.set(id, list);
  }
  return history;
}

/** The request log's batch-update calls for a portal. */
export function batchCallsOf(sandbox: SandboxHandle, portalId: string) {
  return sandbox.control
    .requestLog()
    .filter((e) => e.path === BATCH_PATH && e.portalId === Number(portalId));
}

export function randomInt(min: number, max: number): number {
  return min + Math.floor(Math.random() * (max - min + 1));
}

export function pick<T>(items: readonly T[]): T {
  const item = items[Math.floor(Math.random() * items.length)];
  if (item === undefined) throw new Error('pick from an empty list');
  return item;
}
