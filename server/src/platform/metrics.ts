import { timingSafeEqual } from 'node:crypto';

import Fastify, { type FastifyInstance } from 'fastify';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * The process's Prometheus metrics (prom-client). Counters live here, in platform/, so core
 * and the HubSpot adapter can count into them without importing each other; what needs the
 * database (queue depth, sync lag) is read at scrape time by collectors the composition root
 * registers. Served by `GET /metrics` on `METRICS_PORT` and/or, with `METRICS_TOKEN`, on the
 * main port (see `main.ts`), never on the public surface without one of them.
 */
export const metricsRegistry = new Registry();

export const hubspotCalls = new Counter({
  name: 'lexicontract_hubspot_calls_total',
  help: 'HubSpot API calls by endpoint family and HTTP status (0: no answer)',
  labelNames: ['family', 'status'] as const,
  registers: [metricsRegistry],
});

export const rateLimitWaits = new Counter({
  name: 'lexicontract_hubspot_rate_limit_waits_total',
  help: 'Times a HubSpot call waited for the per-portal rate budget',
  labelNames: ['lane'] as const,
  registers: [metricsRegistry],
});

export const rateLimitWaitSeconds = new Counter({
  name: 'lexicontract_hubspot_rate_limit_wait_seconds_total',
  help: 'Seconds HubSpot calls spent waiting for the per-portal rate budget',
  labelNames: ['lane'] as const,
  registers: [metricsRegistry],
});

export const importDurationSeconds = new Histogram({
  name: 'lexicontract_import_duration_seconds',
  help: 'Duration of deal import runs, by result code',
  labelNames: ['result'] as const,
  buckets: [0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900, 1800],
  registers: [metricsRegistry],
});

export const importBytes = new Counter({
  name: 'lexicontract_import_bytes_total',
  help: 'Bytes of attachments stored by deal imports',
  registers: [metricsRegistry],
});

export const webhookEvents = new Counter({
  name: 'lexicontract_webhook_events_total',
  help: 'HubSpot webhook events received: accepted (new), deduplicated, ignored (unknown portal)',
  labelNames: ['outcome'] as const,
  registers: [metricsRegistry],
});

export const jobQueueDepth = new Gauge({
  name: 'lexicontract_job_queue_depth',
  help: 'Jobs queued (waiting or retrying) and active, by queue',
  labelNames: ['queue', 'state'] as const,
  registers: [metricsRegistry],
});

export const syncLagSeconds = new Gauge({
  name: 'lexicontract_sync_lag_seconds',
  help: 'Per portal: age of the oldest deal change not yet written to HubSpot (portals with none pending are left out)',
  labelNames: ['portal'] as const,
  registers: [metricsRegistry],
});

/** Reads what lives in the database into the gauges, right before a scrape. */
export type ScrapeCollector = () => Promise<void>;

const collectors: ScrapeCollector[] = [];

export function addScrapeCollector(collector: ScrapeCollector): void {
  collectors.push(collector);
}

/** The exposition text: collectors first (one failing, say the database down, skips its gauges). */
export async function renderMetrics(): Promise<{ contentType: string; body: string }> {
  await Promise.allSettled(collectors.map((collect) => collect()));
  return { contentType: metricsRegistry.contentType, body: await metricsRegistry.metrics() };
}

function tokenMatches(header: string | undefined, token: string): boolean {
  if (header === undefined || !header.startsWith('Bearer ')) return false;
  const presented = Buffer.from(header.slice('Bearer '.length).trim());
  const expected = Buffer.from(token);
  return presented.length === expected.length && timingSafeEqual(presented, expected);
}

/**
 * Adds `GET /metrics` to `app`; with `token`, only for `Authorization: Bearer <token>` (404
 * otherwise, so the route does not show on the public surface).
 */
export function registerMetricsRoute(app: FastifyInstance, options: { token?: string }): void {
  app.get('/metrics', { schema: { hide: true } }, async (request, reply) => {
    if (
      options.token !== undefined &&
      !tokenMatches(request.headers.authorization, options.token)
    ) {
      return reply.status(404).send({
        error: { code: 'not_found', message: 'No route for GET /metrics' },
      });
    }
    const { contentType, body } = await renderMetrics();
    return reply.type(contentType).header('cache-control', 'no-store').send(body);
  });
}

/** A listener of its own serving only `GET /metrics` (for `METRICS_PORT`). */
export async function startMetricsServer(options: {
  host: string;
  port: number;
  token?: string;
}): Promise<{ url: string; close(): Promise<void> }> {
  const server = Fastify({ logger: false });
  registerMetricsRoute(server, options.token === undefined ? {} : { token: options.token });
  const address = await server.listen({ host: options.host, port: options.port });
  return { url: address, close: () => server.close() };
}
