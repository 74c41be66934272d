import { randomBytes } from 'node:crypto';

import { pino } from 'pino';

import { DEMO_PORTAL_ID, startSandbox } from './index.ts';

/**
 * `npm run sandbox`: the HubSpot sandbox on its own (port SANDBOX_PORT or 4010) with the demo
 * portal seeded. Prints its URL and the app credentials to use against it.
 */
const logger = pino({ level: process.env.LOG_LEVEL ?? 'info' });
const port = Number(process.env.SANDBOX_PORT ?? 4010);
if (!Number.isInteger(port) || port < 0 || port > 65_535) {
  logger.fatal({ SANDBOX_PORT: process.env.SANDBOX_PORT }, 'SANDBOX_PORT must be a port number');
  process.exit(1);
}

const sandbox = await startSandbox({
  port,
  host: process.env.SANDBOX_HOST ?? '127.0.0.1',
  seedDemoPortal: true,
  logger: logger.child({ component: 'hubspot-sandbox' }, { level: 'warn' }),
  app: {
    clientId: process.env.SANDBOX_CLIENT_ID ?? 'sandbox-client-id',
    clientSecret: process.env.SANDBOX_CLIENT_SECRET ?? randomBytes(24).toString('base64url'),
    appId: process.env.SANDBOX_APP_ID ?? '4242001',
    name: 'LexiContract (sandbox)',
    requiredScopes: [
      'oauth',
      'crm.objects.deals.read',
      'crm.objects.deals.write',
      'crm.schemas.deals.read',
      'crm.schemas.deals.write',
      'crm.objects.contacts.read',
      'files.ui_hidden.read',
      'automation',
    ],
    optionalScopes: [
      'files',
      'crm.objects.contacts.write',
      'crm.objects.companies.read',
      'crm.objects.line_items.read',
    ],
    ...(process.env.SANDBOX_ACTION_URL ? { actionUrl: process.env.SANDBOX_ACTION_URL } : {}),
    ...(process.env.SANDBOX_WEBHOOK_URL
      ? { webhookTargetUrl: process.env.SANDBOX_WEBHOOK_URL }
      : {}),
  },
});

logger.info(
  {
    url: sandbox.url,
    authorizeUrl: sandbox.authorizeUrl,
    clientId: sandbox.app.clientId,
    clientSecret: sandbox.app.clientSecret,
    appId: sandbox.app.appId,
    demoPortalId: DEMO_PORTAL_ID,
  },
  `HubSpot SANDBOX listening on ${sandbox.url} (not real HubSpot; demo portal ${DEMO_PORTAL_ID})`,
);

const shutdown = (): void => {
  void sandbox.close().then(() => process.exit(0));
};
process.once('SIGINT', shutdown);
process.once('SIGTERM', shutdown);
