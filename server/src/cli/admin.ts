import { parseArgs, type ParseArgsOptionsConfig } from 'node:util';

import { recordAudit } from '../core/audit/audit-log.ts';
import { loadDotEnv } from '../platform/config/dotenv.ts';
import { ConfigError, loadConfig, type Config } from '../platform/config/env.ts';
import { loadOrCreateSandboxSecrets } from '../platform/config/runtime.ts';
import { KeyringRejectedError, registerKeyring } from '../core/integrations/key-registry.ts';
import { parseKeyring, type Keyring } from '../platform/crypto/keyring.ts';
import { rotateTokenKeys } from '../core/integrations/rotate-keys.ts';
import type { Database } from '../platform/db/database.ts';
import { migrateToLatest } from '../platform/db/migrate.ts';
import { openDatabaseFromConfig } from '../platform/db/open.ts';
import { DomainError } from '../platform/errors.ts';
import { createApiKey } from '../core/organizations/api-keys.ts';
import { createOrganization, listOrganizations } from '../core/organizations/organizations.ts';
import { createSignInLink } from '../core/auth/sign-in-links.ts';

/**
 * Admin CLI: `npm run admin -- <command> [options]`. Reads the same configuration as the app
 * (`DATABASE_URL`, or the embedded PostgreSQL under `.data/`), applies pending migrations
 * first, then runs one command. Results are JSON on stdout; errors are one line on stderr
 * and a non-zero exit (2 for usage errors).
 */

const USAGE = `Usage: npm run admin -- <command> [options]

Commands:
  org create --name <name>                 create an organization
  org list                                 list organizations with their linked HubSpot portal ids
  api-key create --org <id> [--name <n>]   create an API key for an organization (shown once)
  db migrate                               apply pending database migrations
  keys rotate [--batch-size <n>]           re-encrypt every stored token under the current key
  keys status                              key ids, fingerprints and the connections using each
  user login-link --org <id> [--email <e>] a one-time sign-in link for the web pages
`;

class UsageError extends Error {}

interface CommandContext {
  readonly config: Readonly<Config>;
  readonly db: Database;
  readonly applied: readonly string[];
  readonly values: Readonly<Record<string, string | undefined>>;
}

interface Command {
  readonly options: ParseArgsOptionsConfig;
  /** Checked before anything touches the database. */
  readonly required?: readonly string[];
  /** Returns the JSON result; `exitCode` ≠ 0 reports an incomplete outcome. */
  run(ctx: CommandContext): Promise<{ result: unknown; exitCode?: number; warning?: string }>;
}

function required(values: CommandContext['values'], name: string): string {
  const value = values[name];
  if (value === undefined || value.trim() === '') throw new UsageError(`--${name} is required`);
  return value;
}

async function resolveKeyring(config: Readonly<Config>): Promise<Keyring> {
  // Explicitly configured keys win over the ones sandbox mode generated (as in the app).
  if (config.tokenEncryptionKeys) return config.tokenEncryptionKeys;
  if (config.hubspot.mode !== 'sandbox') {
    throw new ConfigError([{ variable: 'TOKEN_ENCRYPTION_KEYS', problem: 'required' }]);
  }
  const secrets = await loadOrCreateSandboxSecrets(config.dataDir);
  const parsed = parseKeyring(secrets.tokenEncryptionKeys);
  if (!parsed.ok) throw new Error(`the sandbox key ring is damaged: ${parsed.problem}`);
  return parsed.keyring;
}

const COMMANDS: Record<string, Command> = {
  'org create': {
    options: { name: { type: 'string' } },
    required: ['name'],
    async run({ db, values }) {
      const organization = await createOrganization(db, required(values, 'name'));
      await recordAudit(db, {
        organizationId: organization.id,
        actor: 'cli',
        action: 'organization.created',
        target: `organization:${organization.id}`,
        outcome: 'success',
      });
      return { result: organization };
    },
  },
  'org list': {
    options: {},
    async run({ db }) {
      // SPEC §5: the listing names each organization's HubSpot portal ids.
      return {
        result: (await listOrganizations(db)).map((o) => ({
          ...o,
          hubspotPortalIds: o.linkedAccounts.hubspot ?? [],
        })),
      };
    },
  },
  'api-key create': {
    options: { org: { type: 'string' }, name: { type: 'string' } },
    required: ['org'],
    async run({ db, values }) {
      const name = values.name?.trim();
      const created = await createApiKey(
        db,
        required(values, 'org'),
        name === undefined || name === '' ? undefined : name,
      );
      await recordAudit(db, {
        organizationId: created.organizationId,
        actor: 'cli',
        action: 'api_key.created',
        target: `api_key:${created.id}`,
        outcome: 'success',
        details: { prefix: created.prefix, name: created.name },
      });
      return { result: created };
    },
  },
  'db migrate': {
    options: {},
    async run({ applied }) {
      return { result: { applied } };
    },
  },
  'keys rotate': {
    options: { 'batch-size': { type: 'string' } },
    async run({ config, db, values }) {
      const rawBatch = values['batch-size'];
      if (rawBatch !== undefined && !/^[1-9]\d{0,3}$/.test(rawBatch)) {
        throw new UsageError('--batch-size must be a whole number from 1 to 9999');
      }
      const keyring = await resolveKeyring(config);
      const registration = await registerKeyring(db, keyring);
      const outcome = await rotateTokenKeys(db, keyring, {
        ...(rawBatch === undefined ? {} : { batchSize: Number(rawBatch) }),
      });
      const complete = outcome.failed === 0 && outcome.remaining === 0;
      await recordAudit(db, {
        organizationId: null,
        actor: 'cli',
        action: 'encryption_keys.rotated',
        target: `encryption_key:${outcome.currentKeyId}`,
        outcome: complete ? 'success' : 'failure',
        details: {
          rotated: outcome.rotated,
          failed: outcome.failed,
          remaining: outcome.remaining,
        },
      });
      const result = { ...outcome, newlyRegistered: registration.newlyRegistered, complete };
      if (complete) return { result };
      return {
        result,
        exitCode: 1,
        warning:
          `rotation incomplete: ${outcome.failed} connection(s) could not be decrypted, ` +
          `${outcome.remaining} still locked on an old key; run it again before removing old keys`,
      };
    },
  },
  'keys status': {
    options: {},
    async run({ config, db }) {
      const keyring = await resolveKeyring(config);
      const registration = await registerKeyring(db, keyring);
      const [registered, usage] = await Promise.all([
        db.selectFrom('encryption_keys').select(['id', 'fingerprint']).orderBy('id').execute(),
        db
          .selectFrom('organization_integrations')
          .select(['token_key_id', (eb) => eb.fn.countAll<number>().as('connections')])
          .where('token_key_id', 'is not', null)
          .groupBy('token_key_id')
          .execute(),
      ]);
      const counts = new Map(usage.map((row) => [row.token_key_id, row.connections]));
      return {
        result: {
          currentKeyId: registration.currentKeyId,
          keys: registered.map((key) => ({
            id: key.id,
            fingerprint: key.fingerprint,
            inKeyring: keyring.keys.has(key.id),
            current: key.id === registration.currentKeyId,
            connections: counts.get(key.id) ?? 0,
          })),
        },
      };
    },
  },
  'user login-link': {
    options: { org: { type: 'string' }, email: { type: 'string' } },
    required: ['org'],
    async run({ config, db, values }) {
      const email = values.email?.trim();
      const link = await createSignInLink(db, config, {
        organizationId: required(values, 'org'),
        ...(email === undefined || email === '' ? {} : { email }),
      });
      return { result: link };
    },
  },
};

function parseCommand(argv: readonly string[]): {
  name: string;
  command: Command;
  values: Record<string, string | undefined>;
} {
  const name = argv.slice(0, 2).join(' ');
  const command = COMMANDS[name];
  if (!command) {
    throw new UsageError(
      argv.length === 0 ? 'no command given' : `unknown command: ${argv.join(' ')}`,
    );
  }
  let parsed;
  try {
    parsed = parseArgs({
      args: argv.slice(2),
      options: command.options,
      strict: true,
      allowPositionals: false,
    });
  } catch (error) {
    throw new UsageError(`${name}: ${error instanceof Error ? error.message : String(error)}`);
  }
  const values: Record<string, string | undefined> = {};
  for (const [key, value] of Object.entries(parsed.values)) {
    if (typeof value === 'string') values[key] = value;
  }
  for (const option of command.required ?? []) required(values, option);
  return { name, command, values };
}

function writeError(code: string, message: string, details?: unknown): void {
  process.stderr.write(
    `${JSON.stringify({ error: { code, message, ...(details === undefined ? {} : { details }) } })}\n`,
  );
}

async function main(argv: readonly string[]): Promise<number> {
  if (argv[0] === 'help' || argv[0] === '--help' || argv[0] === '-h') {
    process.stdout.write(USAGE);
    return 0;
  }
  let parsed;
  try {
    parsed = parseCommand(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`${error.message}\n\n${USAGE}`);
    return 2;
  }

  let config: Readonly<Config>;
  try {
    loadDotEnv();
    config = loadConfig(process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    writeError('invalid_configuration', error.message.replace(/\n\s*/g, ' '), error.problems);
    return 1;
  }

  const database = await openDatabaseFromConfig(config, { applicationName: 'lexicontract-admin' });
  try {
    const applied = await migrateToLatest(database.db);
    const outcome = await parsed.command.run({
      config,
      db: database.db,
      applied,
      values: parsed.values,
    });
    process.stdout.write(`${JSON.stringify(outcome.result, null, 2)}\n`);
    if (outcome.warning) writeError('incomplete', outcome.warning);
    return outcome.exitCode ?? 0;
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`${error.message}\n\n${USAGE}`);
      return 2;
    }
    if (error instanceof DomainError) {
      writeError(error.code, error.message, error.details);
    } else if (error instanceof KeyringRejectedError) {
      writeError(error.code, error.message);
    } else if (error instanceof ConfigError) {
      writeError('invalid_configuration', error.message.replace(/\n\s*/g, ' '), error.problems);
    } else {
      writeError('command_failed', error instanceof Error ? error.message : String(error));
    }
    return 1;
  } finally {
    await database.close();
  }
}

/**
 * Exits explicitly once both streams are flushed, so the exit code is the command's whatever
 * handle a dependency may still hold open.
 */
function exitWith(code: number): void {
  process.stdout.write('', () => {
    process.stderr.write('', () => {
      process.exit(code);
    });
  });
}

main(process.argv.slice(2)).then(exitWith, (error: unknown) => {
  writeError('command_failed', error instanceof Error ? error.message : String(error));
  exitWith(1);
});
