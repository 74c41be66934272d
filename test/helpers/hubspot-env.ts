import { randomBytes } from 'node:crypto';

import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { afterAll } from 'vitest';

import { buildApp } from '../../server/src/app.ts';
import type { AppConfig } from '../../server/src/platform/config/runtime.ts';
import type { Database } from '../../server/src/platform/db/database.ts';
import { findFreePort } from '../../server/src/platform/db/embedded.ts';
import { loggerOptions } from '../../server/src/platform/http/logger.ts';
import { upsertOrganizationIntegration } from '../../server/src/core/integrations/organization-integrations.ts';
import type { HubSpotTokenDeps } from '../../server/src/hubspot/client/access-tokens.ts';
import { provisionPortal } from '../../server/src/hubspot/install/provisioning.ts';
import { OPTIONAL_SCOPES, REQUIRED_SCOPES } from '../../server/src/hubspot/install/scopes.ts';
import type { JobQueue } from '../../server/src/platform/jobs/queue.ts';
import { createOrganization } from '../../server/src/core/organizations/organizations.ts';
import { startSandbox, type SandboxHandle, type SandboxOptions } from '../../sandbox/index.ts';
import { startWorkers } from '../../server/src/worker.ts';
import { createTestJobQueue, testConfig } from './test-app.ts';

/**
 * The real app listening on a real port, and the HubSpot sandbox registered with that app's
 * credentials and URLs, so the two talk over HTTP exactly as in production (the sandbox
 * calls the app's workflow-action and webhook endpoints; the app calls the sandbox's API).
 */
export interface HubSpotTestEnv {
  readonly app: FastifyInstance;
  readonly sandbox: SandboxHandle;
  readonly config: AppConfig;
  readonly jobs: JobQueue;
  /** `http://127.0.0.1:<port>`: the app's PUBLIC_BASE_URL. */
  readonly baseUrl: string;
  readonly tokenDeps: HubSpotTokenDeps;
  /** Runs this process's job handlers (import, sync) against the test database. */
  startWorkers(): Promise<void>;
  /**
   * A new organization connected to a new sandbox portal (installed through the sandbox,
   * tokens stored encrypted, LexiContract properties provisioned).
   */
  connectPortal(options?: {
    name?: string;
    provision?: boolean;
    /** What the install grants; default the app's required and optional scopes. */
    scopes?: string[];
  }): Promise<{ organizationId: string; portalId: string }>;
}

export async function startHubSpotTestEnv(options: {
  db: Database;
  sandbox?: Partial<Omit<SandboxOptions, 'app'>>;
  config?: Omit<Partial<AppConfig>, 'hubspot'>;
  /** HubSpot settings beyond the sandbox's credentials (e.g. live mode against the sandbox). */
  hubspot?: {
    sandbox?: boolean;
    fileHostSuffixes?: readonly string[];
    /** The API base the app uses, from the sandbox's URL (default: that URL). */
    apiBaseUrl?: (sandboxUrl: string) => string;
  };
  /** Capture the app's logs (with production redaction) into this stream. */
  logStream?: NodeJS.WritableStream;
}): Promise<HubSpotTestEnv> {
  const port = await findFreePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const credentials = {
    clientId: `test-${randomBytes(4).toString('hex')}`,
    clientSecret: randomBytes(24).toString('base64url'),
    appId: String(100_000 + Math.floor(Math.random() * 800_000)),
  };
  const sandbox = await startSandbox({
    ...options.sandbox,
    app: {
      ...credentials,
      name: 'LexiContract (test)',
      redirectUrls: [`${baseUrl}/api/v1/integrations/hubspot/callback`],
      requiredScopes: [...REQUIRED_SCOPES],
      optionalScopes: [...OPTIONAL_SCOPES],
      actionUrl: `${baseUrl}/api/v1/integrations/hubspot/webhook`,
      webhookTargetUrl: `${baseUrl}/api/v1/integrations/hubspot/events`,
      appBaseUrl: baseUrl,
    },
  });
  const config = testConfig({
    ...options.config,
    publicBaseUrl: baseUrl,
    hubspot: {
      ...credentials,
      apiBaseUrl: options.hubspot?.apiBaseUrl?.(sandbox.url) ?? sandbox.url,
      authorizeUrl: sandbox.authorizeUrl,
      ...(options.hubspot?.sandbox !== undefined ? { sandbox: options.hubspot.sandbox } : {}),
      ...(options.hubspot?.fileHostSuffixes
        ? { fileHostSuffixes: options.hubspot.fileHostSuffixes }
        : {}),
    },
  });
  const jobs = createTestJobQueue(options.db, { worker: true });
  const logger = options.logStream
    ? { ...(loggerOptions('debug') as object), stream: options.logStream }
    : false;
  const app = await buildApp({ db: options.db, config, jobs, logger });
  await app.listen({ port, host: '127.0.0.1' });
  const tokenDeps: HubSpotTokenDeps = {
    db: options.db,
    keyring: config.tokenEncryptionKeys,
    hubspot: config.hubspot,
  };
  // Jobs first: a running job talking to an already closed sandbox would wait out its
  // timeouts and retries before the queue could stop.
  afterAll(async () => {
    await jobs.stop(5_000);
    await app.close();
    await sandbox.close();
  });

  return {
    app,
    sandbox,
    config,
    jobs,
    baseUrl,
    tokenDeps,
    async startWorkers() {
      const log = options.logStream
        ? pino(loggerOptions('debug') as pino.LoggerOptions, options.logStream)
        : pino({ level: 'silent' });
      await startWorkers({ config, db: options.db, jobs, log });
    },
    async connectPortal(connect = {}) {
      const { portalId } = sandbox.control.createPortal({ name: connect.name ?? 'Test portal' });
      const tokens = sandbox.control.installApp(
        portalId,
        connect.scopes ? { scopes: connect.scopes } : {},
      );
      const organization = await createOrganization(
        options.db,
        connect.name ?? `Org of portal ${portalId}`,
      );
      await upsertOrganizationIntegration(options.db, config.tokenEncryptionKeys, {
        organizationId: organization.id,
        integrationId: 'hubspot',
        externalAccountId: String(portalId),
        externalAccountName: `portal-${portalId}.sandbox.hubspot`,
        accessToken: tokens.access_token,
        refreshToken: tokens.refresh_token,
        accessTokenExpiresAt: new Date(Date.now() + tokens.expires_in * 1000),
        grantedScopes: tokens.scopes ?? [...REQUIRED_SCOPES],
      });
      if (connect.provision !== false) {
        await provisionPortal(tokenDeps, String(portalId));
        // Recorded as the install's setup does (the deal sync relies on it).
        await options.db
          .updateTable('organization_integrations')
          .set({ provisioning_status: 'done', provisioned_at: new Date() })
          .where('integration_id', '=', 'hubspot')
          .where('external_account_id', '=', String(portalId))
          .execute();
      }
      return { organizationId: organization.id, portalId: String(portalId) };
    },
  };
}
