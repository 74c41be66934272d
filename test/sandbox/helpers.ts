import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import { afterAll, onTestFinished } from 'vitest';

import {
  startSandbox,
  type SandboxAppRegistration,
  type SandboxHandle,
  type SandboxOptions,
} from '../../sandbox/index.ts';

export const APP_SCOPES = [
  'oauth',
  'crm.objects.deals.read',
  'crm.objects.deals.write',
  'crm.schemas.deals.read',
  'crm.schemas.deals.write',
  'crm.objects.contacts.read',
  'files.ui_hidden.read',
  'automation',
];

export const REDIRECT_URI = 'https://app.lexicontract.test/api/v1/integrations/hubspot/callback';

export function testApp(overrides: Partial<SandboxAppRegistration> = {}): SandboxAppRegistration {
  return {
    clientId: `client-${randomBytes(4).toString('hex')}`,
    clientSecret: randomBytes(24).toString('base64url'),
    appId: '4242001',
    name: 'LexiContract test',
    redirectUrls: [REDIRECT_URI],
    requiredScopes: APP_SCOPES,
    ...overrides,
  };
}

type TestSandboxOptions = Omit<Partial<SandboxOptions>, 'app'> & {
  app?: Partial<SandboxAppRegistration>;
};

/** A sandbox for a whole test file (call at module level); closed after the file. */
export async function sandbox(options: TestSandboxOptions = {}): Promise<SandboxHandle> {
  const { app, ...rest } = options;
  const handle = await startSandbox({ ...rest, app: testApp(app) });
  afterAll(async () => {
    await handle.close();
  });
  return handle;
}

/** A sandbox for one test (call inside the test); closed when the test ends. */
export async function testSandbox(options: TestSandboxOptions = {}): Promise<SandboxHandle> {
  const { app, ...rest } = options;
  const handle = await startSandbox({ ...rest, app: testApp(app) });
  onTestFinished(async () => {
    await handle.close();
  });
  return handle;
}

/** A portal with the app installed; returns its id and a token response. */
export function installedPortal(handle: SandboxHandle, scopes: string[] = APP_SCOPES) {
  const { portalId } = handle.control.createPortal();
  const tokens = handle.control.installApp(portalId, { scopes });
  return { portalId, tokens, accessToken: tokens.access_token };
}

export async function api(
  handle: SandboxHandle,
  token: string | undefined,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: unknown; headers: Headers }> {
  const response = await fetch(handle.url + path, {
    method,
    headers: {
      ...(token !== undefined ? { authorization: `Bearer ${token}` } : {}),
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  return {
    status: response.status,
    body: text ? (JSON.parse(text) as unknown) : null,
    headers: response.headers,
  };
}

export async function postForm(
  handle: SandboxHandle,
  path: string,
  form: Record<string, string>,
): Promise<{ status: number; body: unknown }> {
  const response = await fetch(handle.url + path, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form).toString(),
  });
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as unknown) : null };
}

export function pkcePair(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

export interface Received {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  rawBody: Buffer;
}

/**
 * A tiny HTTP server standing in for the app (call inside a test): records each request with
 * its raw body and answers through `respond` (default 200 `{}`).
 */
export async function receiver(
  respond: (req: Received, res: ServerResponse, index: number) => void | Promise<void> = (
    _r,
    res,
  ) => {
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  },
): Promise<{ url: string; received: Received[]; close: () => Promise<void> }> {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const entry = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        rawBody: Buffer.concat(chunks),
      };
      received.push(entry);
      void Promise.resolve(respond(entry, res, received.length - 1));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const close = async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => {
      server.close(() => {
        resolve();
      });
    });
  };
  onTestFinished(close);
  return { url: `http://127.0.0.1:${port}`, received, close };
}
