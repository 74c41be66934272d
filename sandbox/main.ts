import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { pino } from 'pino';
import { z } from 'zod';

import { DEMO_PORTAL_ID, startSandbox } from './index.ts';
import { ensureSnapshotDirectory, removeSnapshot } from './persistence.ts';

/**
 * `npm run sandbox`: the HubSpot sandbox on its own (port SANDBOX_PORT or 4010) with the demo
 * portal seeded. Prints its URL and the app credentials to use against it. Its state is kept
 * under DATA_DIR (default `./.data`) across restarts; `npm run sandbox -- --reset` starts over.
 */
const logger = pino({ level: process.env.LOG_LEVEL ?? 'info' });
const args = process.argv.slice(2);
const unknown = args.filter((a) => a !== '--reset');
if (unknown.length > 0) {
  logger.fatal({ arguments: unknown }, 'unknown arguments; the only one is --reset');
  process.exit(2);
}
const dataDir = process.env.DATA_DIR ?? '.data';
const stateFile = path.join(dataDir, 'sandbox-standalone.v8');
const secretFile = path.join(dataDir, 'sandbox-standalone-secret.json');
ensureSnapshotDirectory(stateFile);
if (args.includes('--reset')) {
  removeSnapshot(stateFile);
  logger.info({ stateFile }, 'sandbox state removed: starting over with a fresh demo portal');
}

/**
 * The app's client secret, the same at every start (the app configured against this sandbox
 * keeps working after a restart): SANDBOX_CLIENT_SECRET, else one generated once and kept.
 */
function clientSecret(): string {
  if (process.env.SANDBOX_CLIENT_SECRET) return process.env.SANDBOX_CLIENT_SECRET;
  try {
    const saved = z
      .object({ clientSecret: z.string().min(16) })
      .safeParse(JSON.parse(readFileSync(secretFile, 'utf8')));
    if (saved.success) return saved.data.clientSecret;
  } catch {
    // None yet (or unreadable): make one.
  }
  const secret = randomBytes(24).toString('base64url');
  writeFileSync(secretFile, JSON.stringify({ clientSecret: secret }), { mode: 0o600 });
  return secret;
}
const port = Number(process.env.SANDBOX_PORT ?? 4010);
if (!Number.isInteger(port) || port < 0 || port > 65_535) {
  logger.fatal({ SANDBOX_PORT: process.env.SANDBOX_PORT }, 'SANDBOX_PORT must be a port number');
  process.exit(1);
}

const sandbox = await startSandbox({
  port,
  host: process.env.SANDBOX_HOST ?? '127.0.0.1',
  seedDemoPortal: true,
  stateFile,
  logger: logger.child({ component: 'hubspot-sandbox' }, { level: 'warn' }),
  app: {
    clientId: process.env.SANDBOX_CLIENT_ID ?? 'sandbox-client-id',
    clientSecret: clientSecret(),
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
