import Fastify, { type FastifyError, type FastifyRequest } from 'fastify';

import { SandboxControlError, SandboxHttpError, hubspotError, oauthError } from './errors.ts';
import { controlRoutes, createControl, guardControlRequest } from './control.ts';
import { companyPages } from './company-pages.ts';
import { createCardHost } from './card-host/card-host.ts';
import { dealPages } from './deal-pages.ts';
import { seedDemoPortal, type DemoPortal } from './demo.ts';
import { WebhookDispatcher } from './outbound.ts';
import { apiRoutes } from './api-routes.ts';
import { crmObjectsControlRoutes, crmObjectsRoutes } from './crm-objects-routes.ts';
import { filesUploadRoutes } from './files-upload-routes.ts';
import { notesSearchRoutes } from './notes-search.ts';
import { oauthRoutes } from './oauth-routes.ts';
import { SandboxRuntime } from './runtime.ts';
import {
  ensureSnapshotDirectory,
  loadSnapshot,
  SnapshotWriter,
  type PersistenceLog,
  type SnapshotContent,
} from './persistence.ts';
import { startOverForm, startOverRoutes } from './start-over.ts';
import { sameToken } from './tokens.ts';
import { SandboxState } from './state.ts';
import type { SandboxHandle, SandboxOptions } from './types.ts';

export type * from './types.ts';
export { expectedFileSha256, type FileKind } from './file-content.ts';
export { DEMO_PORTAL_ID, type DemoPortal } from './demo.ts';
export { SANDBOX_PIPELINE_ID, SANDBOX_STAGE_IDS, LEGAL_REVIEW_STAGE_LABEL } from './state.ts';

function bearer(request: FastifyRequest): string | undefined {
  const value = request.headers.authorization;
  return typeof value === 'string' && value.startsWith('Bearer ') ? value.slice(7) : undefined;
}

export const DEFAULT_RATE_LIMIT = { max: 110, windowMs: 10_000 } as const;

/** The seeded demo portal of a sandbox started with `seedDemoPortal: true`. */
const demoPortals = new WeakMap<SandboxHandle, DemoPortal>();
export function demoPortalOf(handle: SandboxHandle): DemoPortal | undefined {
  return demoPortals.get(handle);
}

/**
 * Starts a local HTTP server that behaves like the parts of HubSpot this app uses: OAuth
 * (2026-03), CRM deals/notes/associations, files with signed URLs, properties, pipelines,
 * workflow action callbacks, and HubSpot's outbound calls (workflow actions, webhooks, card
 * fetches). State lives in memory (saved to `stateFile` when given); `control` drives it.
 */
export async function startSandbox(options: SandboxOptions): Promise<SandboxHandle> {
  const logger = options.logger === undefined ? false : options.logger;
  const app = Fastify({
    ...(logger === false ? { logger: false } : { loggerInstance: logger }),
    bodyLimit: options.bodyLimitBytes ?? 3 * 1024 * 1024,
    // Fastify's request log lines carry the full URL, and with it OAuth `state` and codes;
    // the sandbox logs its own line without the query string instead (onResponse).
    disableRequestLogging: true,
    trustProxy: false,
    forceCloseConnections: true,
  });
  const stateOptions = {
    app: { ...options.app },
    now: options.clock ?? Date.now,
    accessTokenTtlSeconds: options.accessTokenTtlSeconds ?? 1800,
    authCodeTtlSeconds: options.authCodeTtlSeconds ?? 300,
  };
  const state = new SandboxState(stateOptions);
  const runtime = new SandboxRuntime(state, options.rateLimit ?? { ...DEFAULT_RATE_LIMIT });
  runtime.leanAnswers = options.leanAnswers ?? false;
  if (options.searchRateLimit) runtime.searchRateLimit = { ...options.searchRateLimit };
  runtime.searchIndexDelayMs = options.searchIndexDelayMs ?? 0;
  const webhooks = new WebhookDispatcher(
    runtime,
    options.webhooks ?? {},
    logger === false ? undefined : logger,
  );
  state.onDealChanges = (changes) => {
    webhooks.onDealChanges(changes);
  };
  const control = createControl({
    runtime,
    webhooks,
    actionDefinitionId: options.actionDefinitionId ?? 1_000_001,
    actionObjectProperties: options.actionObjectProperties,
  });

  // Persistence (only when asked for): the saved state replaces the fresh one before the
  // first request; every request may change something, so each one schedules a save.
  const persistLog: PersistenceLog =
    logger === false
      ? { info: () => undefined, warn: () => undefined, error: () => undefined }
      : {
          info: (obj, msg) => {
            logger.info(obj, msg);
          },
          warn: (obj, msg) => {
            logger.warn(obj, msg);
          },
          error: (obj, msg) => {
            logger.error(obj, msg);
          },
        };
  let demo: DemoPortal | undefined;
  const capture = (): SnapshotContent => ({
    state: state.snapshotData(),
    runtime: { callbacks: runtime.callbacks, completions: runtime.completions },
    ...(demo !== undefined ? { demo } : {}),
  });
  const writer =
    options.stateFile === undefined
      ? undefined
      : new SnapshotWriter(options.stateFile, capture, persistLog);
  let restored = false;
  if (options.stateFile !== undefined) {
    ensureSnapshotDirectory(options.stateFile);
    const saved = loadSnapshot(options.stateFile, persistLog);
    if (saved !== undefined) {
      try {
        state.restoreData(saved.state);
        restoreRuntime(runtime, saved.runtime);
        demo = saved.demo as DemoPortal | undefined;
        restored = true;
      } catch (error) {
        persistLog.warn(
          { file: options.stateFile, reason: (error as Error).message },
          'sandbox state file does not fit this build; starting with a fresh sandbox',
        );
        state.restoreData(new SandboxState(stateOptions).snapshotData());
      }
    }
  }
  const startOver = async (): Promise<void> => {
    // Fresh data, but ids keep counting up: a deal or user id the app still remembers from
    // before never names a new record.
    const previous = state.snapshotData();
    const fresh = new SandboxState(stateOptions).snapshotData();
    for (const [key, value] of Object.entries(previous)) {
      const start = fresh[key];
      if (typeof value === 'number' && typeof start === 'number' && value > start) {
        fresh[key] = value;
      }
    }
    state.restoreData(fresh);
    runtime.reset();
    runtime.callbacks.clear();
    webhooks.deliveries.length = 0;
    demo = options.seedDemoPortal === true ? seedDemoPortal(control) : undefined;
    if (demo !== undefined) demoPortals.set(handle, demo);
    await writer?.saveNow();
    persistLog.info({}, 'sandbox started over: a fresh demo portal');
  };

  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string' },
    (_request, body, done) => {
      done(null, Object.fromEntries(new URLSearchParams(body as string)));
    },
  );

  app.addHook('onRequest', async (request, reply) => {
    if (request.url.startsWith('/_sandbox/')) {
      guardControlRequest(request, runtime.origin);
      if (options.controlToken !== undefined && !sameToken(bearer(request), options.controlToken)) {
        throw new SandboxControlError(
          'the control API needs its token (Authorization: Bearer)',
          401,
        );
      }
      return;
    }
    await runtime.applyFault(request, reply);
  });
  app.addHook('onResponse', async (request, reply) => {
    writer?.changed();
    const path = request.url.split('?')[0] ?? request.url;
    // A signed-file URL's token is its credential: it stays out of the log line too.
    const loggedPath = path.startsWith('/signed-files/') ? '/signed-files/[token]' : path;
    request.log.info(
      { method: request.method, path: loggedPath, statusCode: reply.statusCode },
      'sandbox: request completed',
    );
    if (request.url.startsWith('/_sandbox/')) return;
    const portalId = runtime.requestPortal.get(request);
    runtime.requestLog.push({
      method: request.method,
      path,
      ...(portalId !== undefined ? { portalId } : {}),
      status: reply.statusCode,
      time: state.now(),
      ...(runtime.faultedRequests.has(request) ? { fault: true } : {}),
    });
  });

  app.setErrorHandler(
    async (error: FastifyError | SandboxHttpError | SandboxControlError, request, reply) => {
      if (error instanceof SandboxHttpError) {
        return reply.code(error.statusCode).headers(error.headers).send(error.body);
      }
      if (error instanceof SandboxControlError) {
        return reply
          .code(error.statusCode)
          .send({ error: { code: 'sandbox_control', message: error.message } });
      }
      const statusCode =
        typeof error.statusCode === 'number' && error.statusCode >= 400 ? error.statusCode : 500;
      if (statusCode >= 500) request.log.error({ err: error }, 'sandbox: unexpected error');
      const message = statusCode >= 500 ? 'internal error' : error.message;
      if (request.url.startsWith('/_sandbox/')) {
        return reply.code(statusCode).send({ error: { code: 'sandbox_control', message } });
      }
      if (request.url.startsWith('/oauth/')) {
        const mapped = oauthError(statusCode, 'invalid_request', 'BAD_REQUEST', message);
        return reply.code(mapped.statusCode).send(mapped.body);
      }
      const category =
        statusCode === 413
          ? 'VALIDATION_ERROR'
          : statusCode >= 500
            ? 'INTERNAL_ERROR'
            : 'VALIDATION_ERROR';
      const mapped = hubspotError(statusCode, category, message);
      return reply.code(mapped.statusCode).send(mapped.body);
    },
  );

  await app.register(async (scope) => {
    await oauthRoutes(scope, runtime, { controlToken: options.controlToken });
    await apiRoutes(scope, runtime);
    await filesUploadRoutes(scope, runtime);
    await notesSearchRoutes(scope, runtime);
    await crmObjectsRoutes(scope, runtime);
    await controlRoutes(scope, control, runtime);
    await crmObjectsControlRoutes(scope, control);
    await startOverRoutes(scope, {
      origin: () => runtime.origin,
      controlToken: options.controlToken,
      startOver: () => startOver(),
    });
    const cardHost = createCardHost({ appId: state.app.appId });
    await dealPages(scope, runtime, control, {
      cardHost,
      startOverForm: startOverForm(options.controlToken !== undefined, writer !== undefined),
    });
    await companyPages(scope, runtime, cardHost);
  });

  await app.listen({ host: options.host ?? '127.0.0.1', port: options.port ?? 0 });
  const address = app.server.address();
  if (address === null || typeof address === 'string') throw new Error('sandbox: no TCP address');
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  runtime.origin = `http://${host}:${address.port}`;

  const handle: SandboxHandle = {
    url: runtime.origin,
    authorizeUrl: `${runtime.origin}/oauth/authorize`,
    app: state.app,
    control,
    startOver,
    async close() {
      runtime.closing.abort();
      webhooks.close();
      await app.close();
      await writer?.close();
    },
  };
  if (!restored && options.seedDemoPortal === true) {
    demo = seedDemoPortal(control);
    await writer?.saveNow();
  }
  if (demo !== undefined) demoPortals.set(handle, demo);
  return handle;
}

/** Puts the saved workflow callbacks and completions back (see `capture`). */
function restoreRuntime(runtime: SandboxRuntime, saved: Record<string, unknown>): void {
  const { callbacks, completions } = saved;
  if (callbacks instanceof Map) {
    for (const [id, value] of callbacks as Map<string, { portalId: number; dealId: string }>) {
      runtime.callbacks.set(id, value);
    }
  }
  if (Array.isArray(completions)) {
    runtime.completions.push(...(completions as SandboxRuntime['completions']));
  }
}
