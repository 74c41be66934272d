import { randomBytes } from 'node:crypto';

import { describe, expect, it } from 'vitest';

import { ConfigError, loadConfig } from '../../../server/src/platform/config/env.ts';

const KEY_1 = randomBytes(32).toString('base64');
const KEY_2 = randomBytes(32).toString('base64');
const SESSION_SECRET = `session-${randomBytes(32).toString('base64url')}`;
const CLIENT_SECRET = `client-secret-${randomBytes(16).toString('hex')}`;

const LIVE_ENV = {
  PORT: '8080',
  HOST: '0.0.0.0',
  PUBLIC_BASE_URL: 'https://lexicontract.example.com/',
  DATABASE_URL: 'postgres://app:pw@db.internal:5432/lexi',
  HUBSPOT_CLIENT_ID: 'client-id-123',
  HUBSPOT_CLIENT_SECRET: CLIENT_SECRET,
  HUBSPOT_APP_ID: '1234567',
  TOKEN_ENCRYPTION_KEYS: `k2:${KEY_2},k1:${KEY_1}`,
  SESSION_SECRET,
  LOG_LEVEL: 'warn',
};

/** Runs loadConfig expecting a ConfigError and returns it. */
function configError(env: NodeJS.ProcessEnv): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected loadConfig to throw a ConfigError');
}

function variables(error: ConfigError): string[] {
  return error.problems.map((p) => p.variable);
}

describe('loadConfig', () => {
  it('parses a complete live configuration', () => {
    const config = loadConfig(LIVE_ENV);
    expect(config.port).toBe(8080);
    expect(config.host).toBe('0.0.0.0');
    expect(config.publicBaseUrl).toBe('https://lexicontract.example.com');
    expect(config.databaseUrl).toBe(LIVE_ENV.DATABASE_URL);
    expect(config.logLevel).toBe('warn');
    expect(config.sessionSecret).toBe(SESSION_SECRET);
    expect(config.hubspot).toEqual({
      mode: 'live',
      clientId: 'client-id-123',
      clientSecret: CLIENT_SECRET,
      appId: '1234567',
      apiBaseUrl: 'https://api.hubapi.com',
      authorizeUrl: 'https://app.hubspot.com/oauth/authorize',
    });
    const keys = config.tokenEncryptionKeys;
    expect(keys?.current.id).toBe('k2');
    expect(keys?.current.key.equals(Buffer.from(KEY_2, 'base64'))).toBe(true);
    expect([...(keys?.keys.keys() ?? [])]).toEqual(['k2', 'k1']);
  });

  it('defaults to sandbox mode with the documented defaults on an empty environment', () => {
    const config = loadConfig({});
    expect(config.port).toBe(3000);
    expect(config.host).toBe('127.0.0.1');
    expect(config.publicBaseUrl).toBe('http://localhost:3000');
    expect(config.databaseUrl).toBeUndefined();
    expect(config.hubspot).toEqual({ mode: 'sandbox' });
    expect(config.tokenEncryptionKeys).toBeUndefined();
    expect(config.logLevel).toBe('info');
  });

  it('treats empty strings as unset', () => {
    const config = loadConfig({ PORT: '', DATABASE_URL: ' ', HUBSPOT_CLIENT_ID: '' });
    expect(config.port).toBe(3000);
    expect(config.databaseUrl).toBeUndefined();
    expect(config.hubspot.mode).toBe('sandbox');
  });

  describe('refuses, naming the variable and never echoing a secret', () => {
    const shortKey = randomBytes(31).toString('base64');
    const cases: { what: string; env: NodeJS.ProcessEnv; variable: string; secret?: string }[] = [
      {
        what: 'a 31-byte key',
        env: { TOKEN_ENCRYPTION_KEYS: `k1:${shortKey}` },
        variable: 'TOKEN_ENCRYPTION_KEYS',
        secret: shortKey,
      },
      {
        what: 'a key that is not base64',
        env: { TOKEN_ENCRYPTION_KEYS: 'k1:not*base64!secret-material' },
        variable: 'TOKEN_ENCRYPTION_KEYS',
        secret: 'secret-material',
      },
      {
        what: 'a duplicate key id',
        env: { TOKEN_ENCRYPTION_KEYS: `k1:${KEY_1},k1:${KEY_2}` },
        variable: 'TOKEN_ENCRYPTION_KEYS',
        secret: KEY_2,
      },
      {
        what: 'a key entry without an id',
        env: { TOKEN_ENCRYPTION_KEYS: KEY_1 },
        variable: 'TOKEN_ENCRYPTION_KEYS',
        secret: KEY_1,
      },
      {
        what: 'PUBLIC_BASE_URL without a scheme',
        env: { PUBLIC_BASE_URL: 'lexicontract.example.com' },
        variable: 'PUBLIC_BASE_URL',
      },
      {
        what: 'PUBLIC_BASE_URL with a non-http scheme',
        env: { PUBLIC_BASE_URL: 'ftp://lexicontract.example.com' },
        variable: 'PUBLIC_BASE_URL',
      },
      { what: 'a non-numeric PORT', env: { PORT: '80a' }, variable: 'PORT' },
      { what: 'an out-of-range PORT', env: { PORT: '70000' }, variable: 'PORT' },
      {
        what: 'a non-numeric HubSpot app id',
        env: { ...LIVE_ENV, HUBSPOT_APP_ID: 'my-app' },
        variable: 'HUBSPOT_APP_ID',
        secret: CLIENT_SECRET,
      },
      { what: 'an unknown LOG_LEVEL', env: { LOG_LEVEL: 'verbose' }, variable: 'LOG_LEVEL' },
      {
        what: 'a DATABASE_URL that is not postgres',
        env: { DATABASE_URL: 'mysql://user:hunter2-password@db/lexi' },
        variable: 'DATABASE_URL',
        secret: 'hunter2-password',
      },
      {
        what: 'a short SESSION_SECRET',
        env: { SESSION_SECRET: 'short-secret-value' },
        variable: 'SESSION_SECRET',
        secret: 'short-secret-value',
      },
    ];
    for (const c of cases) {
      it(c.what, () => {
        const error = configError(c.env);
        expect(variables(error)).toEqual([c.variable]);
        expect(error.message).toContain(c.variable);
        if (c.secret) expect(error.message).not.toContain(c.secret);
      });
    }
  });

  it('never prints key material, even from a key that is otherwise fine', () => {
    const short = randomBytes(31).toString('base64');
    const error = configError({ TOKEN_ENCRYPTION_KEYS: `k2:${KEY_2},k1:${short}` });
    expect(error.message).toContain('TOKEN_ENCRYPTION_KEYS');
    expect(error.message).toContain('k1');
    expect(error.message).not.toContain(short);
    expect(error.message).not.toContain(KEY_2);
  });

  it('names each missing HubSpot credential when only two of three are set', () => {
    const error = configError({
      HUBSPOT_CLIENT_ID: 'client-id-123',
      HUBSPOT_CLIENT_SECRET: CLIENT_SECRET,
      TOKEN_ENCRYPTION_KEYS: `k1:${KEY_1}`,
      SESSION_SECRET,
    });
    expect(variables(error)).toEqual(['HUBSPOT_APP_ID']);
    expect(error.message).toContain('HUBSPOT_APP_ID');
    expect(error.message).not.toContain(CLIENT_SECRET);
    expect(error.message).not.toContain(KEY_1);
    expect(error.message).not.toContain(SESSION_SECRET);
  });

  it('requires the key ring and the session secret in live mode', () => {
    const error = configError({
      ...LIVE_ENV,
      TOKEN_ENCRYPTION_KEYS: '',
      SESSION_SECRET: undefined,
    });
    expect(variables(error).sort()).toEqual(['SESSION_SECRET', 'TOKEN_ENCRYPTION_KEYS']);
    expect(error.message).not.toContain(CLIENT_SECRET);
  });

  it('reads HUBSPOT_FILE_HOST_SUFFIXES as a list and refuses what is not a host suffix', () => {
    expect(loadConfig({}).hubspotFileHostSuffixes).toBeUndefined();
    expect(
      loadConfig({ HUBSPOT_FILE_HOST_SUFFIXES: ' Files.Example.test, cdn.example.net ,' })
        .hubspotFileHostSuffixes,
    ).toEqual(['files.example.test', 'cdn.example.net']);
    for (const bad of ['https://files.example.test', 'files.example.test:443', 'localhost', ',']) {
      expect(variables(configError({ HUBSPOT_FILE_HOST_SUFFIXES: bad }))).toEqual([
        'HUBSPOT_FILE_HOST_SUFFIXES',
      ]);
    }
  });

  it('lists every bad variable at once', () => {
    const error = configError({ PORT: 'abc', LOG_LEVEL: 'loud', PUBLIC_BASE_URL: 'example.com' });
    expect(variables(error).sort()).toEqual(['LOG_LEVEL', 'PORT', 'PUBLIC_BASE_URL']);
  });
});
