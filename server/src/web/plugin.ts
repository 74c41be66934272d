import { fileURLToPath } from 'node:url';

import fastifyHelmet from '@fastify/helmet';
import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsync } from 'fastify';

import { webCsrfGuard } from '../core/auth/session-plugin.ts';
import { accountRoutes } from './account-routes.ts';
import { apiKeysPages } from './api-keys-pages.ts';
import { auditLogPage } from './audit-log-page.ts';
import { contractsPages } from './contracts-pages.ts';
import { integrationsPage } from './integrations-page.ts';

/** Where the stylesheet is served (the CSP allows styles from our own origin only). */
export const ASSETS_PREFIX = '/assets/';

/**
 * The web scope: the server-rendered pages with what protects them, in one encapsulated
 * plugin so every page route gets it and nothing outside does.
 * - Headers (helmet): a strict CSP (`default-src 'self'`, no inline script or style,
 *   `frame-ancestors 'none'`), `X-Frame-Options: DENY`, `nosniff`, `Referrer-Policy:
 *   same-origin`; and `Cache-Control: no-store` on every page (they show a signed-in
 *   organization's data; the stylesheet alone is cacheable).
 * - One CSRF hook for every unsafe method (see `webCsrfGuard`).
 * - The stylesheet, the favicon and `app.js` (copy buttons), from `public/`.
 */
export const webPlugin: FastifyPluginAsync = async (app) => {
  const https = app.config.publicBaseUrl.startsWith('https://');
  await app.register(fastifyHelmet, {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        baseUri: ["'none'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        objectSrc: ["'none'"],
        scriptSrc: ["'self'"],
        scriptSrcAttr: ["'none'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'"],
        ...(https ? { upgradeInsecureRequests: [] } : {}),
      },
    },
    frameguard: { action: 'deny' },
    // Not `no-referrer`: under it browsers send `Origin: null` on our own form posts, which
    // the CSRF guard must refuse. `same-origin` still gives other sites no referrer.
    referrerPolicy: { policy: 'same-origin' },
    strictTransportSecurity: https ? { maxAge: 31_536_000, includeSubDomains: false } : false,
  });
  app.addHook('onSend', async (_request, reply, payload) => {
    if (reply.getHeader('cache-control') === undefined)
      void reply.header('cache-control', 'no-store');
    return payload;
  });
  app.addHook('preHandler', webCsrfGuard(app.config.publicBaseUrl));

  await app.register(fastifyStatic, {
    root: fileURLToPath(new URL('./public/', import.meta.url)),
    prefix: ASSETS_PREFIX,
    // Only the files present at startup; no directory listings, no dotfiles.
    wildcard: false,
    index: false,
    dotfiles: 'deny',
    maxAge: '1h',
  });

  await app.register(accountRoutes);
  await app.register(apiKeysPages);
  await app.register(auditLogPage);
  await app.register(integrationsPage);
  await app.register(contractsPages);
};
