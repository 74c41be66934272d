import { randomInt } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';

import type { FastifyBaseLogger } from 'fastify';

import { SandboxControlError } from './errors.ts';
import type { SandboxRuntime } from './runtime.ts';
import {
  REQUEST_TIMESTAMP_HEADER,
  SIGNATURE_HEADER,
  SIGNATURE_V3_HEADER,
  SIGNATURE_VERSION_HEADER,
  signV1,
  signV2,
  signV3,
} from './signing.ts';
import type { DealChange } from './state.ts';
import type {
  CardFetchRequest,
  CardFetchResult,
  SandboxWebhookOptions,
  WebhookDeliveryRecord,
  WebhookEventInput,
  WorkflowActionResult,
} from './types.ts';
import type { WebhookEvent, WorkflowActionExecution } from './wire.ts';

const USER_AGENT = 'HubSpot Connect 2.0 (http://dev.hubspot.com/) - Sandbox';

async function readBody(response: Response): Promise<unknown> {
  const text = await response.text();
  if (text === '') return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

function errorText(error: unknown): string {
  if (error instanceof Error) {
    const cause = (error as { cause?: unknown }).cause;
    return cause instanceof Error ? `${error.message}: ${cause.message}` : error.message;
  }
  return String(error);
}

interface Batch {
  readonly id: number;
  readonly events: readonly Omit<WebhookEvent, 'attemptNumber'>[];
}

/**
 * Delivers webhook batches (≤ 100 events) to the app's target URL like HubSpot: v1 and v3
 * signatures, retried on connection failure, non-2xx or a reply slower than the timeout.
 */
export class WebhookDispatcher {
  readonly deliveries: WebhookDeliveryRecord[] = [];
  private readonly runtime: SandboxRuntime;
  private readonly logger: FastifyBaseLogger | undefined;
  private readonly options: Required<Omit<SandboxWebhookOptions, 'propertyNames'>> & {
    propertyNames: string[] | undefined;
  };
  private queue: Array<Omit<WebhookEvent, 'attemptNumber'>> = [];
  private flushTimer: NodeJS.Timeout | undefined;
  private outstanding = 0;
  private waiters: Array<() => void> = [];
  private nextBatchId = 1;
  private nextEventId = 100_000_001;
  private readonly subscriptionIds = new Map<string, number>();

  constructor(
    runtime: SandboxRuntime,
    options: SandboxWebhookOptions,
    logger: FastifyBaseLogger | undefined,
  ) {
    this.runtime = runtime;
    this.logger = logger;
    this.options = {
      propertyNames: options.propertyNames,
      deletions: options.deletions ?? true,
      timeoutMs: options.timeoutMs ?? 5000,
      maxAttempts: options.maxAttempts ?? 10,
      retryDelayMs: options.retryDelayMs ?? 1000,
      batchDelayMs: options.batchDelayMs ?? 25,
    };
  }

  private subscriptionId(type: string, propertyName: string | undefined): number {
    const key = `${type}:${propertyName ?? ''}`;
    let id = this.subscriptionIds.get(key);
    if (id === undefined) {
      id = 3_000_001 + this.subscriptionIds.size;
      this.subscriptionIds.set(key, id);
    }
    return id;
  }

  toEvent(input: WebhookEventInput): Omit<WebhookEvent, 'attemptNumber'> {
    const subscriptionType = input.subscriptionType ?? 'object.propertyChange';
    return {
      eventId: input.eventId ?? this.nextEventId++,
      subscriptionId: this.subscriptionId(subscriptionType, input.propertyName),
      portalId: input.portalId,
      appId: Number(this.runtime.state.app.appId),
      occurredAt: input.occurredAt ?? this.runtime.state.now(),
      subscriptionType,
      objectId: Number(input.objectId),
      // Only generic `object.*` events name the object type; legacy `deal.*` ones do not.
      ...(subscriptionType.startsWith('object.')
        ? { objectTypeId: input.objectTypeId ?? '0-3' }
        : {}),
      ...(input.propertyName !== undefined ? { propertyName: input.propertyName } : {}),
      ...(input.propertyValue !== undefined ? { propertyValue: input.propertyValue } : {}),
      changeSource: input.changeSource ?? 'CRM_UI',
      ...(input.sourceId !== undefined ? { sourceId: input.sourceId } : {}),
      ...(subscriptionType === 'object.creation' ? { changeFlag: 'CREATED' } : {}),
    };
  }

  /** Called by the state for every deal change; keeps what the app subscribed to. */
  onDealChanges(changes: readonly DealChange[]): void {
    const state = this.runtime.state;
    if (!state.app.webhookTargetUrl) return;
    for (const change of changes) {
      const portal = state.portals.get(change.portalId);
      if (!portal?.installed) continue;
      if (change.subscriptionType === 'object.deletion' && !this.options.deletions) continue;
      if (change.subscriptionType === 'object.creation') continue;
      if (
        change.subscriptionType === 'object.propertyChange' &&
        this.options.propertyNames &&
        !this.options.propertyNames.includes(change.propertyName ?? '')
      ) {
        continue;
      }
      this.queue.push(this.toEvent(change));
    }
    if (this.queue.length > 0 && !this.flushTimer) {
      this.outstanding += 1;
      this.flushTimer = setTimeout(() => {
        this.flushTimer = undefined;
        this.flush();
        this.settle();
      }, this.options.batchDelayMs);
    }
  }

  private flush(): void {
    const byPortal = new Map<number, Array<Omit<WebhookEvent, 'attemptNumber'>>>();
    for (const event of this.queue) {
      const list = byPortal.get(event.portalId) ?? [];
      list.push(event);
      byPortal.set(event.portalId, list);
    }
    this.queue = [];
    for (const events of byPortal.values()) {
      for (let i = 0; i < events.length; i += 100) {
        this.outstanding += 1;
        void this.deliverWithRetries({
          id: this.nextBatchId++,
          events: events.slice(i, i + 100),
        }).finally(() => {
          this.settle();
        });
      }
    }
  }

  private settle(): void {
    this.outstanding -= 1;
    if (this.outstanding === 0) {
      const waiters = this.waiters;
      this.waiters = [];
      for (const resolve of waiters) resolve();
    }
  }

  idle(): Promise<void> {
    if (this.outstanding === 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private async deliverWithRetries(batch: Batch): Promise<void> {
    for (let attempt = 0; attempt < this.options.maxAttempts; attempt++) {
      if (this.runtime.closing.signal.aborted) return;
      const record = await this.deliverOnce(batch, attempt);
      if (record.ok) return;
      const delay = Math.min(this.options.retryDelayMs * 2 ** attempt, 60_000);
      try {
        await sleep(delay, undefined, { signal: this.runtime.closing.signal });
      } catch {
        return;
      }
    }
    this.logger?.warn({ batchId: batch.id }, 'sandbox: webhook batch dropped after all attempts');
  }

  /** One POST of a batch; never throws. */
  async deliverOnce(batch: Batch, attempt: number): Promise<WebhookDeliveryRecord> {
    const target = this.runtime.state.app.webhookTargetUrl;
    const events: WebhookEvent[] = batch.events.map((e) => ({ ...e, attemptNumber: attempt }));
    const base = {
      batchId: batch.id,
      attempt,
      eventCount: events.length,
      events,
      time: this.runtime.state.now(),
    };
    if (!target) {
      const record = { ...base, status: 0, ok: false, error: 'no webhookTargetUrl registered' };
      this.deliveries.push(record);
      return record;
    }
    const body = JSON.stringify(events);
    const secret = this.runtime.state.app.clientSecret;
    const timestamp = String(Date.now());
    const signal = AbortSignal.any([
      AbortSignal.timeout(this.options.timeoutMs),
      this.runtime.closing.signal,
    ]);
    let record: WebhookDeliveryRecord;
    try {
      const response = await fetch(target, {
        method: 'POST',
        body,
        signal,
        headers: {
          'content-type': 'application/json',
          'user-agent': USER_AGENT,
          [SIGNATURE_HEADER]: signV1(secret, body),
          [SIGNATURE_VERSION_HEADER]: 'v1',
          [SIGNATURE_V3_HEADER]: signV3(secret, 'POST', target, body, timestamp),
          [REQUEST_TIMESTAMP_HEADER]: timestamp,
        },
      });
      await response.arrayBuffer().catch(() => undefined);
      record = {
        ...base,
        status: response.status,
        ok: response.status >= 200 && response.status < 300,
      };
    } catch (error) {
      record = { ...base, status: 0, ok: false, error: errorText(error) };
    }
    this.deliveries.push(record);
    return record;
  }

  /** On-demand delivery (optionally with duplicates and shuffled order); one attempt each. */
  async deliverNow(
    inputs: readonly WebhookEventInput[],
    opts: { duplicate?: boolean; shuffle?: boolean },
  ): Promise<WebhookDeliveryRecord[]> {
    let events = inputs.map((input) => this.toEvent(input));
    if (opts.duplicate) events = events.flatMap((e) => [e, { ...e }]);
    if (opts.shuffle) {
      for (let i = events.length - 1; i > 0; i--) {
        const j = randomInt(i + 1);
        const a = events[i];
        const b = events[j];
        if (a && b) {
          events[i] = b;
          events[j] = a;
        }
      }
    }
    const records: WebhookDeliveryRecord[] = [];
    for (let i = 0; i < events.length; i += 100) {
      records.push(
        await this.deliverOnce({ id: this.nextBatchId++, events: events.slice(i, i + 100) }, 0),
      );
    }
    return records;
  }

  close(): void {
    if (this.flushTimer) {
      clearTimeout(this.flushTimer);
      this.flushTimer = undefined;
      this.settle();
    }
  }
}

/** POSTs a workflow action execution to the app's actionUrl like HubSpot (v2 + v3 signed). */
export async function sendWorkflowAction(
  runtime: SandboxRuntime,
  target: string,
  request: WorkflowActionExecution,
  dealId: string,
): Promise<WorkflowActionResult> {
  const secret = runtime.state.app.clientSecret;
  const body = JSON.stringify(request);
  const timestamp = String(Date.now());
  const base = {
    callbackId: request.callbackId,
    portalId: request.origin.portalId,
    dealId,
    request,
  };
  let result: WorkflowActionResult;
  try {
    const response = await fetch(target, {
      method: 'POST',
      body,
      signal: AbortSignal.any([AbortSignal.timeout(20_000), runtime.closing.signal]),
      headers: {
        'content-type': 'application/json',
        'user-agent': USER_AGENT,
        [SIGNATURE_HEADER]: signV2(secret, 'POST', target, body),
        [SIGNATURE_VERSION_HEADER]: 'v2',
        [SIGNATURE_V3_HEADER]: signV3(secret, 'POST', target, body, timestamp),
        [REQUEST_TIMESTAMP_HEADER]: timestamp,
      },
    });
    result = { ...base, status: response.status, body: await readBody(response) };
  } catch (error) {
    result = { ...base, status: 0, body: null, error: errorText(error) };
  }
  runtime.workflowExecutions.push(result);
  return result;
}

/** Calls the app like `hubspot.fetch`: query params appended, v3 signature over the full URL. */
/** The app's routes a card or settings page calls with `hubspot.fetch` (under its HubSpot prefix). */
const CARD_FETCH_ROUTES = ['/card', '/settings'] as const;
const HUBSPOT_PREFIX = '/api/v1/integrations/hubspot';

/**
 * HubSpot signs `hubspot.fetch` calls of an app's own cards only, to the URLs the app
 * declares. The sandbox does the same: a v3 signature is what every app route trusts (a
 * signed call to the webhook intake would be taken as a delivery), so it signs calls to the
 * app's card and settings routes on the configured app base URL, and nothing else.
 */
export function assertCardFetchTarget(runtime: SandboxRuntime, target: string): URL {
  const base = runtime.state.app.appBaseUrl;
  if (base === undefined) {
    throw new SandboxControlError('card fetches need the app base URL (app.appBaseUrl)', 403);
  }
  const url = new URL(target);
  const allowed =
    url.origin === new URL(base).origin &&
    CARD_FETCH_ROUTES.some((route) => {
      const path = `${HUBSPOT_PREFIX}${route}`;
      return url.pathname === path || url.pathname.startsWith(`${path}/`);
    });
  if (!allowed) {
    throw new SandboxControlError(
      `card fetches go to the app's card and settings routes only (${base}${HUBSPOT_PREFIX}/card, /settings)`,
      403,
    );
  }
  return url;
}

export async function cardFetch(
  runtime: SandboxRuntime,
  request: CardFetchRequest,
): Promise<CardFetchResult> {
  const url = assertCardFetchTarget(runtime, request.url);
  url.searchParams.append('userId', String(request.userId));
  url.searchParams.append('userEmail', request.userEmail);
  url.searchParams.append('appId', runtime.state.app.appId);
  url.searchParams.append('portalId', String(request.portalId));
  const uri = url.toString();
  const body =
    request.body !== undefined && request.method !== 'GET'
      ? JSON.stringify(request.body)
      : undefined;
  const attemptsAllowed = request.retry === false ? 1 : 2;
  let attempts = 0;
  let last: CardFetchResult | undefined;
  let lastError: unknown;
  const deadline = AbortSignal.timeout(15_000);
  while (attempts < attemptsAllowed) {
    attempts += 1;
    const timestamp = String(Date.now());
    try {
      const response = await fetch(uri, {
        method: request.method,
        ...(body !== undefined ? { body } : {}),
        signal: AbortSignal.any([deadline, runtime.closing.signal]),
        headers: {
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
          'user-agent': USER_AGENT,
          ...request.headers,
          [SIGNATURE_V3_HEADER]: signV3(
            runtime.state.app.clientSecret,
            request.method,
            uri,
            body ?? '',
            timestamp,
          ),
          [REQUEST_TIMESTAMP_HEADER]: timestamp,
        },
      });
      last = {
        status: response.status,
        body: await readBody(response),
        headers: Object.fromEntries(response.headers.entries()),
        attempts,
        url: uri,
      };
      if (response.status < 500) return last;
    } catch (error) {
      lastError = error;
    }
  }
  if (last) return last;
  throw new Error(`card fetch to ${request.url} failed: ${errorText(lastError)}`);
}
