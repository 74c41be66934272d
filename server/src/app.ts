import fastifyCookie from '@fastify/cookie';
import fastifyFormbody from '@fastify/formbody';
import Fastify, {
  type FastifyInstance,
  type FastifyReply,
  type FastifyServerOptions,
} from 'fastify';

import { lexiContractApi } from './api/routes.ts';
import type { AppConfig } from './platform/config/runtime.ts';
import type { Database } from './platform/db/database.ts';
import type { JobQueue } from './platform/jobs/queue.ts';
import { healthRoutes } from './health/routes.ts';
import { installErrorHandler } from './platform/http/error-handler.ts';
import { loggerOptions } from './platform/http/logger.ts';
import { hubspotAdapter } from './hubspot/adapter.ts';
import type { CrmAdapter, CrmWebKit } from './crm/port.ts';
import { CrmRegistry } from './crm/registry.ts';
import { useZodSchemas } from './platform/http/schemas.ts';
import { page } from './web/layout.ts';
import { webErrorPage } from './web/error-pages.ts';
import { webPlugin } from './web/plugin.ts';

declare module 'fastify' {
  interface FastifyInstance {
    config: AppConfig;
    db: Database;
    jobs: JobQueue;
    /** Set when the process begins shutting down (see `main.ts`). */
    draining: boolean;
  }
}

/**
 * The CRM adapters of this product: the one list a second CRM joins (see
 * `server/src/README.md`). `worker.ts` starts their jobs from the same list.
 */
export const CRM_ADAPTERS: readonly CrmAdapter[] = [hubspotAdapter];

export interface AppDeps {
  readonly config: AppConfig;
  readonly db: Database;
  /** Enqueues background jobs (this process need not run them). */
  readonly jobs: JobQueue;
  /** Override the logger (tests pass `false` or a stream-backed pino config). */
  readonly logger?: FastifyServerOptions['logger'];
}

/**
 * Builds the HTTP app without listening: `main.ts` listens, tests use `inject` or listen
 * on an ephemeral port. Feature plugins are registered explicitly, in order.
 */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    logger: deps.logger ?? loggerOptions(deps.config.logLevel),
    // Behind the configured public URL; never trust client-supplied forwarding headers.
    trustProxy: false,
    bodyLimit: 1024 * 1024,
    requestTimeout: 30_000,
    return503OnClosing: true,
    // Errors Fastify raises before routing (e.g. a malformed percent-encoding in the URL)
    // get the same JSON envelope as everything else.
    frameworkErrors: (error, _request, reply) => {
      const body = JSON.stringify({
        error: {
          code: error.code === 'FST_ERR_BAD_URL' ? 'invalid_url' : 'bad_request',
          message: 'The request URL is malformed.',
        },
      });
      (reply as unknown as FastifyReply).status(400).type('application/json').send(body);
    },
  });
  app.decorate('config', deps.config);
  app.decorate('db', deps.db);
  app.decorate('jobs', deps.jobs);
  app.decorate('draining', false);
  app.decorate('crm', new CrmRegistry(CRM_ADAPTERS));
  // While draining, every answer asks the client to close its connection, so keep-alive
  // sockets end cleanly after their last response instead of being cut by `close()`.
  app.addHook('onSend', async (_request, reply, payload) => {
    if (app.draining) void reply.header('connection', 'close');
    return payload;
  });
  installErrorHandler(app, { htmlErrorPage: webErrorPage });
  useZodSchemas(app);

  // Signed cookies (sessions, OAuth browser binding) and HTML form bodies, app-wide.
  await app.register(fastifyCookie, { secret: deps.config.sessionSecret });
  await app.register(fastifyFormbody, { bodyLimit: 64 * 1024 });

  await app.register(healthRoutes);
  await app.register(lexiContractApi, {
    prefix: '/api/v1',
    contractHooks: app.crm.contractHooks(deps.config, deps.jobs),
  });
  await app.register(webPlugin);
  // Each adapter's routes under its own prefix, with the web kit for the pages it renders.
  const kit: CrmWebKit = { page: ({ title, body }) => page({ title, session: null, body }) };
  app.decorate('crmWebKit', kit);
  for (const adapter of app.crm.adapters) {
    await app.register(async (scope) => adapter.routes(scope, kit), {
      prefix: `/api/v1/integrations/${adapter.id}`,
    });
  }
  return app;
}
