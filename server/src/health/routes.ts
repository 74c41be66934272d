import { sql } from 'kysely';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';

import { ErrorEnvelopeSchema } from '../platform/http/schemas.ts';

const LiveSchema = z.object({ status: z.literal('ok') });
const ReadySchema = z.object({ status: z.literal('ready') });

/** Liveness says the process serves requests; readiness says it can reach Postgres. */
export const healthRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get('/healthz', { schema: { response: { 200: LiveSchema } } }, async () => ({
    status: 'ok' as const,
  }));

  app.get(
    '/readyz',
    { schema: { response: { 200: ReadySchema, 503: ErrorEnvelopeSchema } } },
    async (_request, reply) => {
      if (app.draining) {
        return reply.status(503).send({
          error: { code: 'shutting_down', message: 'This instance is shutting down' },
        });
      }
      try {
        await sql`select 1`.execute(app.db);
        return { status: 'ready' as const };
      } catch {
        return reply.status(503).send({
          error: { code: 'database_unavailable', message: 'The database cannot be reached' },
        });
      }
    },
  );
};
