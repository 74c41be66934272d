import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

import { z } from 'zod';

import { formatKeyring, parseKeyring, type Keyring } from '../crypto/keyring.ts';
import type { Config } from './env.ts';

/** The HubSpot app the backend acts as: the real one, or the sandbox's stand-in. */
export interface HubSpotAppConfig {
  readonly sandbox: boolean;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly appId: string;
  readonly apiBaseUrl: string;
  readonly authorizeUrl: string;
  /** `HUBSPOT_FILE_HOST_SUFFIXES`; undefined = the built-in HubSpot CDN list. */
  readonly fileHostSuffixes?: readonly string[] | undefined;
}

/** Everything the app needs, with sandbox-mode gaps filled in. */
export interface AppConfig extends Omit<
  Config,
  'hubspot' | 'tokenEncryptionKeys' | 'sessionSecret'
> {
  readonly hubspot: HubSpotAppConfig;
  readonly tokenEncryptionKeys: Keyring;
  readonly sessionSecret: string;
}

const SandboxSecretsSchema = z.object({
  tokenEncryptionKeys: z.string(),
  sessionSecret: z.string().min(32),
  clientId: z.string(),
  clientSecret: z.string(),
  appId: z.string(),
});

export type SandboxSecrets = z.infer<typeof SandboxSecretsSchema>;

/**
 * Sandbox mode generates its own key ring, session secret and sandbox app credentials
 * once and keeps them under the data dir (mode 0600), so data survives restarts.
 */
export async function loadOrCreateSandboxSecrets(dataDir: string): Promise<SandboxSecrets> {
  const file = path.join(dataDir, 'sandbox-secrets.json');
  try {
    return SandboxSecretsSchema.parse(JSON.parse(await readFile(file, 'utf8')));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const secrets: SandboxSecrets = {
    tokenEncryptionKeys: formatKeyring([{ id: 'sandbox1', key: randomBytes(32) }]),
    sessionSecret: randomBytes(32).toString('base64url'),
    clientId: `sandbox-${randomBytes(8).toString('hex')}`,
    clientSecret: randomBytes(24).toString('base64url'),
    appId: String(1_000_000 + randomBytes(3).readUIntBE(0, 3)),
  };
  await mkdir(dataDir, { recursive: true });
  await writeFile(file, JSON.stringify(secrets, null, 2), { mode: 0o600 });
  return secrets;
}

export function resolveAppConfig(
  config: Config,
  sandbox?: { secrets: SandboxSecrets; apiBaseUrl: string; authorizeUrl: string },
): AppConfig {
  if (config.hubspot.mode === 'live') {
    if (!config.tokenEncryptionKeys || !config.sessionSecret) {
      throw new Error('live mode requires TOKEN_ENCRYPTION_KEYS and SESSION_SECRET');
    }
    return {
      ...config,
      hubspot: {
        sandbox: false,
        ...config.hubspot,
        fileHostSuffixes: config.hubspotFileHostSuffixes,
      },
      tokenEncryptionKeys: config.tokenEncryptionKeys,
      sessionSecret: config.sessionSecret,
    };
  }
  if (!sandbox) throw new Error('sandbox mode needs the sandbox to be started first');
  const parsed = parseKeyring(sandbox.secrets.tokenEncryptionKeys);
  if (!parsed.ok) throw new Error(`sandbox key ring is damaged: ${parsed.problem}`);
  return {
    ...config,
    hubspot: {
      sandbox: true,
      clientId: sandbox.secrets.clientId,
      clientSecret: sandbox.secrets.clientSecret,
      appId: sandbox.secrets.appId,
      apiBaseUrl: sandbox.apiBaseUrl,
      authorizeUrl: sandbox.authorizeUrl,
      fileHostSuffixes: config.hubspotFileHostSuffixes,
    },
    // Explicitly configured keys and secrets win over generated ones.
    tokenEncryptionKeys: config.tokenEncryptionKeys ?? parsed.keyring,
    sessionSecret: config.sessionSecret ?? sandbox.secrets.sessionSecret,
  };
}
