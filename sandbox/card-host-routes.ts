import type { FastifyInstance } from 'fastify';
import { z } from 'zod';

import { BundleCache, CardBundleError } from './card-host/bundle.ts';
import type { CardHost } from './card-host/card-host.ts';
import { SandboxControlError } from './errors.ts';
import { cardFetch } from './outbound.ts';
import type { SandboxRuntime } from './runtime.ts';

const FetchInputSchema = z.object({
  extension: z.string().max(64),
  portalId: z.number().int().positive(),
  userId: z.number().int().positive(),
  url: z.url().max(4096),
  method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']),
  body: z.record(z.string(), z.unknown()).optional(),
});

const BundleParams = z.object({ file: z.string().regex(/^[A-Za-z0-9_-]{1,64}\.js$/) });

/**
 * The card host's routes. `/card-host/fetch` is reached only by the sandbox's own pages
 * (same origin, JSON), like `hubspot.fetch` is reachable only from a card HubSpot renders.
 */
export async function cardHostRoutes(
  app: FastifyInstance,
  runtime: SandboxRuntime,
  host: CardHost,
): Promise<void> {
  const bundles = new BundleCache();

  app.get('/card-host/extensions/:file', async (request, reply) => {
    const { file } = BundleParams.parse(request.params);
    const uid = file.slice(0, -'.js'.length);
    const extension = (await host.extensions()).find((e) => e.uid === uid);
    if (!extension) throw new SandboxControlError(`no extension ${uid} in hubspot-app`, 404);
    let script: string;
    try {
      script = await bundles.get(extension);
    } catch (error) {
      if (!(error instanceof CardBundleError)) throw error;
      request.log.error({ err: error }, 'sandbox: an extension does not bundle');
      // A script that says so where the extension would be (a failed script would say nothing).
      script = `(function(){var m=${JSON.stringify(error.message)};console.error(m);document.querySelectorAll('[data-card-host-mount=${JSON.stringify(uid)}]').forEach(function(e){var p=document.createElement('pre');p.className='hs-alert hs-alert-danger';p.setAttribute('data-testid','extension-bundle-error');p.textContent=m;e.replaceChildren(p);});})();`;
    }
    return reply
      .type('text/javascript; charset=utf-8')
      .header('cache-control', 'no-cache')
      .header('x-content-type-options', 'nosniff')
      .send(script);
  });

  app.post('/card-host/fetch', async (request, reply) => {
    const origin = request.headers.origin;
    if (origin !== undefined && origin !== `http://${request.headers.host ?? ''}`) {
      throw new SandboxControlError('hubspot.fetch is reachable from sandbox pages only', 403);
    }
    if (!(request.headers['content-type'] ?? '').startsWith('application/json')) {
      throw new SandboxControlError('hubspot.fetch takes JSON', 415);
    }
    const input = FetchInputSchema.parse(request.body);
    const portal = runtime.state.portals.get(input.portalId);
    const user = portal?.users.find((u) => u.id === input.userId);
    if (!portal || !user || !portal.installed) {
      throw new SandboxControlError('no such portal user, or the app is not installed there', 404);
    }
    const target = new URL(input.url);
    // `permittedUrls.fetch` of app-hsmeta.json, then the origin proxied to the app's base URL,
    // as `hs project dev` does with local.json: the card keeps its production origin.
    const { permittedFetchOrigins } = await host.appMeta();
    const base = runtime.state.app.appBaseUrl;
    if (
      !permittedFetchOrigins.includes(target.origin) &&
      target.origin !== (base && new URL(base).origin)
    ) {
      throw new SandboxControlError(
        `${target.origin} is not in the app's permittedUrls.fetch`,
        403,
      );
    }
    if (base === undefined) throw new SandboxControlError('the app has no base URL', 503);
    const forwarded = `${base.endsWith('/') ? base.slice(0, -1) : base}${target.pathname}${target.search}`;
    try {
      const result = await cardFetch(runtime, {
        portalId: portal.portalId,
        userId: user.id,
        userEmail: user.email,
        method: input.method,
        url: forwarded,
        ...(input.body !== undefined ? { body: input.body } : {}),
      });
      return await reply.send({ status: result.status, body: result.body });
    } catch (error) {
      if (error instanceof SandboxControlError) throw error;
      return reply.code(502).send({
        error: { code: 'app_unreachable', message: 'The app did not answer hubspot.fetch.' },
      });
    }
  });
}
