import Fastify, { type FastifyInstance } from 'fastify';

/**
 * The same-run baseline: Fastify's hello world (with a response schema, as in
 * fastify/benchmarks), served by this process next to the app, no logger.
 */
export async function startHelloServer(): Promise<{ url: string; app: FastifyInstance }> {
  const app = Fastify({ logger: false });
  app.get(
    '/hello',
    {
      schema: {
        response: { 200: { type: 'object', properties: { hello: { type: 'string' } } } },
      },
    },
    async () => ({ hello: 'world' }),
  );
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return { url: `http://127.0.0.1:${String(port)}`, app };
}
