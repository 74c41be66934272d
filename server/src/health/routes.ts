import { sql } from 'kysely';
import type { FastifyPluginAsync } from 'fastify';

/** Liveness says the process serves requests; readiness says it can reach Postgres. */
export const healthRoutes: FastifyPluginAsync = async (app) => {
  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/readyz', async (_request, reply) => {
    if (app.draining) {
      return reply.status(503).send({
        error: { code: 'shutting_down', message: 'This instance is shutting down' },
      });
    }
    try {
      await sql`select 1`.execute(app.db);
      return { status: 'ready' };
    } catch {
      return reply.status(503).send({
        error: { code: 'database_unavailable', message: 'The database cannot be reached' },
      });
    }
  });
};
