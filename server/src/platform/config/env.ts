import ipaddr from 'ipaddr.js';
import { z } from 'zod';

import { parseKeyring, type Keyring } from '../crypto/keyring.ts';

/**
 * The process configuration (SPEC §4). Parsed once at start from the environment; a bad
 * value stops the process with a message naming the variable. Secret values are never
 * echoed back in messages: only their names and what is wrong with their shape.
 */

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export type LogLevel = (typeof LOG_LEVELS)[number];

/** Largest HubSpot attachment the deal import downloads (100 MB). */
export const DEFAULT_IMPORT_MAX_FILE_BYTES = 100 * 1024 * 1024;

export interface HubSpotLiveConfig {
  readonly mode: 'live';
  readonly clientId: string;
  readonly clientSecret: string;
  readonly appId: string;
  readonly apiBaseUrl: string;
  readonly authorizeUrl: string;
}

/** No credentials configured: the app runs against the bundled HubSpot sandbox. */
export interface HubSpotSandboxConfig {
  readonly mode: 'sandbox';
}

export interface Config {
  readonly port: number;
  readonly host: string;
  /** External origin of this backend, without a trailing slash. */
  readonly publicBaseUrl: string;
  readonly databaseUrl: string | undefined;
  readonly hubspot: HubSpotLiveConfig | HubSpotSandboxConfig;
  /** Required outside sandbox mode; sandbox mode generates and persists its own. */
  readonly tokenEncryptionKeys: Keyring | undefined;
  readonly sessionSecret: string | undefined;
  readonly logLevel: LogLevel;
  /** Where the embedded Postgres and sandbox secrets live. */
  readonly dataDir: string;
  /** Attachments larger than this are skipped by the deal import; default 100 MB. */
  readonly importMaxFileBytes?: number;
  /** The maintenance sweep's cadence (stuck imports, retention); default every minute. */
  readonly sweepIntervalSeconds?: number;
  /** An import still `importing` this long with no live job is failed by the sweep. */
  readonly importStuckAfterSeconds?: number;
  /** `GET /metrics` on its own listener (on HOST) at this port; undefined: not served apart. */
  readonly metricsPort?: number | undefined;
  /** `GET /metrics` on the main port, for a request bearing this token; undefined: not there. */
  readonly metricsToken?: string | undefined;
  /** Sandbox mode only: the operator allowed a non-loopback `HOST` (`SANDBOX_ALLOW_REMOTE=1`). */
  readonly sandboxAllowRemote?: boolean;
  /**
   * Host suffixes attachment downloads may go to, replacing the built-in HubSpot CDN list
   * (`HUBSPOT_FILE_HOST_SUFFIXES`); undefined = the built-in list.
   */
  readonly hubspotFileHostSuffixes?: readonly string[] | undefined;
}

export const DEFAULT_SWEEP_INTERVAL_SECONDS = 60;
export const DEFAULT_IMPORT_STUCK_AFTER_SECONDS = 10 * 60;

/**
 * The cron expression for a sweep every `seconds` (pg-boss reads a six-field expression as
 * having seconds first); undefined when `seconds` does not divide a minute or an hour evenly.
 */
export function sweepCron(seconds: number): string | undefined {
  if (seconds >= 1 && seconds < 60 && 60 % seconds === 0) return `*/${String(seconds)} * * * * *`;
  if (seconds === 60) return '* * * * *';
  const minutes = seconds / 60;
  if (Number.isInteger(minutes) && minutes < 60 && 60 % minutes === 0) {
    return `*/${String(minutes)} * * * *`;
  }
  return undefined;
}

export class ConfigError extends Error {
  readonly problems: readonly { variable: string; problem: string }[];

  constructor(problems: readonly { variable: string; problem: string }[]) {
    super(
      'Invalid configuration:\n' +
        problems.map((p) => `  - ${p.variable}: ${p.problem}`).join('\n'),
    );
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

const emptyToUndefined = (value: unknown) =>
  typeof value === 'string' && value.trim() === '' ? undefined : value;

/** A DNS host name of at least two labels (letters, digits, inner hyphens), label by label. */
function isHostSuffix(value: string): boolean {
  const labels = value.split('.');
  return (
    value.length <= 253 &&
    labels.length >= 2 &&
    labels.every(
      (label) => /^[a-z0-9-]{1,63}$/.test(label) && !label.startsWith('-') && !label.endsWith('-'),
    )
  );
}

const optionalString = z.preprocess(emptyToUndefined, z.string().optional());

const httpUrl = (what: string) =>
  z
    .string()
    .refine((value) => {
      try {
        const url = new URL(value);
        return (url.protocol === 'http:' || url.protocol === 'https:') && value.includes('://');
      } catch {
        return false;
      }
    }, `must be an absolute http(s) URL with a scheme (${what})`)
    .transform((value) => value.replace(/\/+$/, ''));

const EnvSchema = z.object({
  PORT: z.preprocess(
    emptyToUndefined,
    z
      .string()
      .regex(/^\d+$/, 'must be a whole number')
      .transform(Number)
      .refine((n) => n >= 0 && n <= 65535, 'must be between 0 and 65535')
      .default(3000),
  ),
  HOST: z.preprocess(emptyToUndefined, z.string().default('127.0.0.1')),
  PUBLIC_BASE_URL: z.preprocess(
    emptyToUndefined,
    httpUrl('e.g. https://lexicontract.example.com').optional(),
  ),
  DATABASE_URL: z.preprocess(
    emptyToUndefined,
    z
      .string()
      .refine(
        (value) => /^postgres(ql)?:\/\//.test(value),
        'must be a postgres:// or postgresql:// connection string',
      )
      .optional(),
  ),
  HUBSPOT_CLIENT_ID: optionalString,
  HUBSPOT_CLIENT_SECRET: optionalString,
  HUBSPOT_APP_ID: z.preprocess(
    emptyToUndefined,
    z.string().regex(/^\d+$/, 'must be the numeric HubSpot app id').optional(),
  ),
  HUBSPOT_API_BASE_URL: z.preprocess(
    emptyToUndefined,
    httpUrl('e.g. https://api.hubapi.com').default('https://api.hubapi.com'),
  ),
  HUBSPOT_AUTHORIZE_URL: z.preprocess(
    emptyToUndefined,
    httpUrl('e.g. https://app.hubspot.com/oauth/authorize').default(
      'https://app.hubspot.com/oauth/authorize',
    ),
  ),
  HUBSPOT_FILE_HOST_SUFFIXES: z.preprocess(
    emptyToUndefined,
    z
      .string()
      .transform((value) =>
        value
          .split(',')
          .map((suffix) => suffix.trim().toLowerCase())
          .filter((suffix) => suffix !== ''),
      )
      .refine((list) => list.length > 0, 'must list at least one host suffix')
      .refine(
        (list) => list.every(isHostSuffix),
        'must be comma-separated host names such as hubspotusercontent-na1.net (no scheme, port or path)',
      )
      .optional(),
  ),
  TOKEN_ENCRYPTION_KEYS: optionalString,
  SESSION_SECRET: z.preprocess(
    emptyToUndefined,
    z.string().min(32, 'must be at least 32 characters').optional(),
  ),
  LOG_LEVEL: z.preprocess(emptyToUndefined, z.enum(LOG_LEVELS).default('info')),
  IMPORT_MAX_FILE_BYTES: z.preprocess(
    emptyToUndefined,
    z
      .string()
      .regex(/^\d+$/, 'must be a whole number of bytes')
      .transform(Number)
      .refine((n) => n >= 1 && Number.isSafeInteger(n), 'must be at least 1')
      .default(DEFAULT_IMPORT_MAX_FILE_BYTES),
  ),
  SWEEP_INTERVAL_SECONDS: z.preprocess(
    emptyToUndefined,
    z
      .string()
      .regex(/^\d+$/, 'must be a whole number of seconds')
      .transform(Number)
      .refine(
        (n) => sweepCron(n) !== undefined,
        'must divide a minute (1-30) or an hour (60, 120, ... 1800) evenly',
      )
      .default(DEFAULT_SWEEP_INTERVAL_SECONDS),
  ),
  IMPORT_STUCK_AFTER_SECONDS: z.preprocess(
    emptyToUndefined,
    z
      .string()
      .regex(/^\d+$/, 'must be a whole number of seconds')
      .transform(Number)
      .refine((n) => n >= 1 && Number.isSafeInteger(n), 'must be at least 1')
      .default(DEFAULT_IMPORT_STUCK_AFTER_SECONDS),
  ),
  METRICS_PORT: z.preprocess(
    emptyToUndefined,
    z
      .string()
      .regex(/^\d+$/, 'must be a whole number')
      .transform(Number)
      .refine((n) => n >= 0 && n <= 65535, 'must be between 0 and 65535')
      .optional(),
  ),
  METRICS_TOKEN: z.preprocess(
    emptyToUndefined,
    z.string().min(16, 'must be at least 16 characters').optional(),
  ),
  SANDBOX_ALLOW_REMOTE: z.preprocess(
    emptyToUndefined,
    z.enum(['0', '1'], 'must be 1 (allow) or 0').default('0'),
  ),
});

/**
 * Whether a listen address is reachable from this machine only. The sandbox signs whatever
 * its consent page and control API are asked for, so it must not listen further than that
 * unless the operator says so.
 */
export function isLoopbackHost(host: string): boolean {
  const name = host
    .trim()
    .toLowerCase()
    .replace(/^\[|\]$/g, '');
  if (name === 'localhost') return true;
  if (!ipaddr.isValid(name)) return false;
  const address = ipaddr.process(name);
  return address.range() === 'loopback';
}

/** Every environment variable the app reads (the README's table is checked against it). */
export const CONFIG_VARIABLES = Object.keys(EnvSchema.shape);

/** Parses the environment once. Throws {@link ConfigError} listing every bad variable. */
export function loadConfig(
  env: NodeJS.ProcessEnv,
  options: { dataDir?: string } = {},
): Readonly<Config> {
  const parsed = EnvSchema.safeParse(env);
  const problems: { variable: string; problem: string }[] = [];
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      // Never include the received value: it may be a secret.
      problems.push({ variable: String(issue.path[0] ?? 'environment'), problem: issue.message });
    }
    throw new ConfigError(problems);
  }
  const e = parsed.data;

  const credentials = {
    HUBSPOT_CLIENT_ID: e.HUBSPOT_CLIENT_ID,
    HUBSPOT_CLIENT_SECRET: e.HUBSPOT_CLIENT_SECRET,
    HUBSPOT_APP_ID: e.HUBSPOT_APP_ID,
  };
  const present = Object.entries(credentials).filter(([, v]) => v !== undefined);
  const missing = Object.entries(credentials).filter(([, v]) => v === undefined);
  if (present.length > 0 && missing.length > 0) {
    for (const [name] of missing) {
      problems.push({
        variable: name,
        problem: `missing: set all three of HUBSPOT_CLIENT_ID, HUBSPOT_CLIENT_SECRET and HUBSPOT_APP_ID, or none of them for sandbox mode`,
      });
    }
  }
  const live = present.length === 3;

  let keyring: Keyring | undefined;
  if (e.TOKEN_ENCRYPTION_KEYS !== undefined) {
    const result = parseKeyring(e.TOKEN_ENCRYPTION_KEYS);
    if (result.ok) keyring = result.keyring;
    else problems.push({ variable: 'TOKEN_ENCRYPTION_KEYS', problem: result.problem });
  } else if (live) {
    problems.push({
      variable: 'TOKEN_ENCRYPTION_KEYS',
      problem: 'required when HubSpot credentials are set, e.g. k1:<base64 of 32 random bytes>',
    });
  }
  if (e.SESSION_SECRET === undefined && live) {
    problems.push({
      variable: 'SESSION_SECRET',
      problem: 'required when HubSpot credentials are set (at least 32 characters)',
    });
  }
  if (!live && e.SANDBOX_ALLOW_REMOTE !== '1' && !isLoopbackHost(e.HOST)) {
    problems.push({
      variable: 'HOST',
      problem:
        'sandbox mode (no HubSpot credentials) listens on loopback only: its consent page signs anyone in and its control API drives it. Use HOST=127.0.0.1, set the HubSpot credentials, or set SANDBOX_ALLOW_REMOTE=1 to expose the sandbox on purpose (its control API then needs the token printed at start)',
    });
  }
  if (problems.length > 0) throw new ConfigError(problems);

  const hubspot: HubSpotLiveConfig | HubSpotSandboxConfig = live
    ? {
        mode: 'live',
        clientId: e.HUBSPOT_CLIENT_ID ?? '',
        clientSecret: e.HUBSPOT_CLIENT_SECRET ?? '',
        appId: e.HUBSPOT_APP_ID ?? '',
        apiBaseUrl: e.HUBSPOT_API_BASE_URL,
        authorizeUrl: e.HUBSPOT_AUTHORIZE_URL,
      }
    : { mode: 'sandbox' };

  return Object.freeze({
    port: e.PORT,
    host: e.HOST,
    publicBaseUrl: e.PUBLIC_BASE_URL ?? `http://localhost:${e.PORT}`,
    databaseUrl: e.DATABASE_URL,
    hubspot,
    tokenEncryptionKeys: keyring,
    sessionSecret: e.SESSION_SECRET,
    logLevel: e.LOG_LEVEL,
    dataDir: options.dataDir ?? '.data',
    importMaxFileBytes: e.IMPORT_MAX_FILE_BYTES,
    sweepIntervalSeconds: e.SWEEP_INTERVAL_SECONDS,
    importStuckAfterSeconds: e.IMPORT_STUCK_AFTER_SECONDS,
    metricsPort: e.METRICS_PORT,
    metricsToken: e.METRICS_TOKEN,
    sandboxAllowRemote: !live && e.SANDBOX_ALLOW_REMOTE === '1',
    hubspotFileHostSuffixes: e.HUBSPOT_FILE_HOST_SUFFIXES,
  });
}
