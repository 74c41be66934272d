import type { Kysely } from 'kysely';
import { fromKysely, PgBoss, type Job } from 'pg-boss';
import type { z } from 'zod';

import type { DB } from '../db/schema.ts';
import { isDatabaseUnavailableError, ThrottledReport } from '../db/unavailable.ts';
import { addScrapeCollector, jobQueueDepth } from '../metrics.ts';

/**
 * Background jobs on Postgres (pg-boss): the job row lives in the application's database,
 * so a job enqueued inside a transaction commits or rolls back with the change that caused
 * it (the transactional outbox). Workers heartbeat; a worker that dies (even SIGKILLed)
 * stops heartbeating and its jobs are retried by the survivors within ~1 minute. Any number
 * of web and worker processes may share one database.
 */

export interface JobDefinition<S extends z.ZodType> {
  readonly name: string;
  /** Payloads are re-parsed when a job runs: they may come from older code. */
  readonly schema: S;
  readonly retryLimit?: number;
  readonly retryDelaySeconds?: number;
  readonly expireInSeconds?: number;
  /** Jobs run at most this many at once per worker process. */
  readonly concurrency?: number;
  readonly policy?: 'standard' | 'singleton' | 'stately';
}

export interface JobLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export type JobHandler<S extends z.ZodType> = (
  payload: z.output<S>,
  job: { id: string; retryCount: number; signal: AbortSignal },
) => Promise<void>;

const HEARTBEAT_SECONDS = 10;

export type JobState = 'created' | 'retry' | 'active' | 'completed' | 'cancelled' | 'failed';

/** States of a job that may still run (queued, waiting to retry, running). */
export const LIVE_JOB_STATES: ReadonlySet<JobState> = new Set(['created', 'retry', 'active']);

export function defineJob<S extends z.ZodType>(definition: JobDefinition<S>): JobDefinition<S> {
  return definition;
}

export class JobQueue {
  private readonly boss: PgBoss;
  private readonly log: JobLogger;
  private readonly created = new Set<string>();
  private starting: Promise<void> | undefined;
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(options: {
    connectionString: string;
    log: JobLogger;
    worker: boolean;
    maxConnections?: number;
  }) {
    this.log = options.log;
    this.boss = new PgBoss({
      connectionString: options.connectionString,
      max: options.maxConnections ?? 4,
      // Only worker processes run pg-boss's maintenance and monitoring (expiry, heartbeats).
      supervise: options.worker,
      // Only worker processes evaluate cron schedules (`schedule()`).
      schedule: options.worker,
      // A SIGKILLed worker stops heartbeating; check every 10 s (default 60) so its jobs are
      // failed and retried well within 90 s (heartbeat 10 s + check 10 s + retry delay).
      monitorIntervalSeconds: 10,
      superviseIntervalSeconds: 10,
    });
    // pg-boss polls and supervises on timers: while Postgres is down every tick fails, so
    // those failures are logged once per interval with their count.
    const unavailable = new ThrottledReport(10_000);
    this.boss.on('error', (err: unknown) => {
      if (isDatabaseUnavailableError(err)) {
        const report = unavailable.take();
        if (report) {
          this.log.error(
            { err, occurrences: report.occurrences },
            'job queue: database unavailable',
          );
        }
        return;
      }
      this.log.error({ err }, 'job queue error');
    });
  }

  /** Creates pg-boss's schema on first use and starts it; safe to call repeatedly. */
  async start(): Promise<void> {
    this.starting ??= this.boss.start().then(() => undefined);
    await this.starting;
  }

  private async ensureQueue(definition: JobDefinition<z.ZodType>): Promise<void> {
    if (this.created.has(definition.name)) return;
    await this.start();
    await this.boss.createQueue(definition.name, {
      policy: definition.policy ?? 'standard',
      retryLimit: definition.retryLimit ?? 5,
      retryDelay: definition.retryDelaySeconds ?? 5,
      retryBackoff: true,
      retryDelayMax: 300,
      expireInSeconds: definition.expireInSeconds ?? 15 * 60,
      heartbeatSeconds: HEARTBEAT_SECONDS,
    });
    this.created.add(definition.name);
  }

  /**
   * Enqueues a job. Pass the transaction of the change that causes it, so both commit
   * together; `singletonKey` dedupes while a job with that key is queued.
   */
  async send<S extends z.ZodType>(
    db: Kysely<DB>,
    definition: JobDefinition<S>,
    payload: z.input<S>,
    options: { singletonKey?: string; startAfterSeconds?: number } = {},
  ): Promise<string | null> {
    await this.ensureQueue(definition);
    const data = definition.schema.parse(payload) as object;
    return this.boss.send(definition.name, data, {
      db: fromKysely(db),
      ...(options.singletonKey !== undefined ? { singletonKey: options.singletonKey } : {}),
      ...(options.startAfterSeconds !== undefined ? { startAfter: options.startAfterSeconds } : {}),
    });
  }

  async work<S extends z.ZodType>(
    definition: JobDefinition<S>,
    handler: JobHandler<S>,
  ): Promise<void> {
    await this.ensureQueue(definition);
    await this.boss.work(
      definition.name,
      { localConcurrency: definition.concurrency ?? 2, pollingIntervalSeconds: 0.5, batchSize: 1 },
      async (jobs: Job[]) => {
        for (const job of jobs) {
          const parsed = definition.schema.safeParse(job.data);
          if (!parsed.success) {
            // A payload no handler can read will not get better by retrying.
            this.log.error(
              { job: job.id, queue: definition.name },
              'job payload is invalid; dropping it',
            );
            continue;
          }
          await handler(parsed.data, {
            id: job.id,
            retryCount: job.retryCount,
            signal: job.signal,
          });
        }
      },
    );
  }

  /**
   * Runs the job on a cron expression (e.g. every minute). pg-boss keeps one schedule row
   * per queue and sends one job per occurrence, however many workers evaluate it.
   */
  async schedule<S extends z.ZodType>(
    definition: JobDefinition<S>,
    cron: string,
    payload: z.input<S> = {} as z.input<S>,
  ): Promise<void> {
    await this.ensureQueue(definition);
    const data = definition.schema.parse(payload) as object;
    await this.boss.schedule(definition.name, cron, data);
  }

  /**
   * Sends the job every `seconds` from this process, for a cadence finer than a minute: pg-boss
   * sends a cron schedule's job at most once per minute whatever the expression says. pg-boss
   * throttles the sends (`singletonSeconds`) to one job per interval across all processes.
   * Stopped by `stop()`.
   */
  repeat<S extends z.ZodType>(
    definition: JobDefinition<S>,
    seconds: number,
    payload: z.input<S> = {} as z.input<S>,
  ): void {
    const data = definition.schema.parse(payload) as object;
    const timer = setInterval(() => {
      void this.ensureQueue(definition)
        .then(() => this.boss.send(definition.name, data, { singletonSeconds: seconds }))
        .catch((err: unknown) => {
          // An outage is already reported (throttled) by the queue's error handler.
          if (!isDatabaseUnavailableError(err) && this.timers.has(timer)) {
            this.log.error({ err, queue: definition.name }, 'job queue: periodic send failed');
          }
        });
    }, seconds * 1000);
    timer.unref();
    this.timers.add(timer);
  }

  /**
   * The queue's jobs (any state, oldest first) whose payload contains `data`: to tell whether
   * work for a record is still queued or running, or how it ended.
   */
  async findJobs<S extends z.ZodType>(
    definition: JobDefinition<S>,
    data: Partial<z.input<S>>,
  ): Promise<Array<{ id: string; state: JobState; data: unknown; createdOn: Date }>> {
    await this.ensureQueue(definition);
    const found = await this.boss.findJobs(definition.name, { data: data as object });
    return found.map((job) => ({
      id: job.id,
      state: job.state,
      data: job.data,
      createdOn: job.createdOn,
    }));
  }

  /**
   * Sets `lexicontract_job_queue_depth` from pg-boss's counts at every scrape (queued, i.e.
   * waiting or retrying, and active, per queue).
   */
  exportDepthMetrics(): void {
    addScrapeCollector(async () => {
      await this.start();
      const queues = await this.boss.getQueues();
      jobQueueDepth.reset();
      for (const queue of queues) {
        jobQueueDepth.set({ queue: queue.name, state: 'queued' }, queue.queuedCount);
        jobQueueDepth.set({ queue: queue.name, state: 'active' }, queue.activeCount);
      }
    });
  }

  /** Finishes running jobs (up to `timeoutMs`), releases the rest for other workers. */
  async stop(timeoutMs = 15_000): Promise<void> {
    for (const timer of this.timers) clearInterval(timer);
    this.timers.clear();
    if (!this.starting) return;
    await this.starting;
    await this.boss.stop({ graceful: true, timeout: timeoutMs, close: true });
    this.starting = undefined;
  }
}
