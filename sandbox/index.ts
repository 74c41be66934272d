import Fastify, { type FastifyError, type FastifyRequest } from 'fastify';

import { SandboxControlError, SandboxHttpError, hubspotError, oauthError } from './errors.ts';
import { controlRoutes, createControl, guardControlRequest } from './control.ts';
import { dealPages } from './deal-pages.ts';
import { seedDemoPortal, type DemoPortal } from './demo.ts';
import { WebhookDispatcher } from './outbound.ts';
import { apiRoutes } from './api-routes.ts';
import { crmObjectsControlRoutes, crmObjectsRoutes } from './crm-objects-routes.ts';
import { filesUploadRoutes } from './files-upload-routes.ts';
import { oauthRoutes } from './oauth-routes.ts';
import { SandboxRuntime } from './runtime.ts';
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
 * fetches). State lives in memory; `control` drives it.
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
  const state = new SandboxState({
    app: { ...options.app },
    now: options.clock ?? Date.now,
    accessTokenTtlSeconds: options.accessTokenTtlSeconds ?? 1800,
    authCodeTtlSeconds: options.authCodeTtlSeconds ?? 300,
  });
  const runtime = new SandboxRuntime(state, options.rateLimit ?? { ...DEFAULT_RATE_LIMIT });
  runtime.leanAnswers = options.leanAnswers ?? false;
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
    await crmObjectsRoutes(scope, runtime);
    await controlRoutes(scope, control, runtime);
    await crmObjectsControlRoutes(scope, control);
    await dealPages(scope, runtime, control, { appBaseUrl: options.app.appBaseUrl });
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
    async close() {
      runtime.closing.abort();
      webhooks.close();
      await app.close();
    },
  };
  if (options.seedDemoPortal === true) demoPortals.set(handle, seedDemoPortal(control));
  return handle;
}
