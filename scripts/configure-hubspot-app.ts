/**
 * `npm run configure:hubspot-app -- --origin https://lexicontract.acme.com [--support-email E]`
 *
 * Sets the backend's public origin in the one place it is chosen: every origin in the
 * HubSpot project's `*-hsmeta.json` files (OAuth redirect, `permittedUrls.fetch`, workflow
 * action URLs, the webhook target), the support fields (documentation and support URLs on
 * the origin, `support@<host>` unless `--support-email` is given), and `BACKEND_ORIGIN` in
 * both UI extensions' `api-schemas.ts`. Paths are kept; only the origin changes. Then run
 * `npm run check:hubspot-app`, which refuses any URL that is not on the one origin.
 */
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';

const root = path.resolve(import.meta.dirname, '..');
const appDir = path.join(root, 'hubspot-app', 'app');
const API_SCHEMAS = ['cards/api-schemas.ts', 'settings/api-schemas.ts'];

function fail(message: string): never {
  process.stderr.write(`configure:hubspot-app: ${message}\n`);
  process.exit(2);
}

const { values } = parseArgs({
  options: { origin: { type: 'string' }, 'support-email': { type: 'string' } },
  strict: true,
});
if (!values.origin) fail('give the public origin: --origin https://lexicontract.example.com');
let origin: string;
try {
  const url = new URL(values.origin);
  if (url.protocol !== 'https:')
    fail('HubSpot calls only https origins (use a tunnel in development)');
  if (url.pathname !== '/' || url.search || url.hash || url.username)
    fail(`give a bare origin (scheme, host, port), not ${values.origin}`);
  origin = url.origin;
} catch {
  fail(`not a URL: ${values.origin}`);
}
const host = new URL(origin).host;
const supportEmail = values['support-email'] ?? `support@${new URL(origin).hostname}`;
if (!/^[^\s@]{1,64}@[^\s@]{1,255}$/.test(supportEmail)) fail(`not an email: ${supportEmail}`);

async function hsmetaFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const found: string[] = [];
  for (const entry of entries) {
    if (entry.name === 'node_modules') continue;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) found.push(...(await hsmetaFiles(full)));
    else if (entry.name.endsWith('-hsmeta.json')) found.push(full);
  }
  return found;
}

/** Every string value in the JSON, with the key it sits under. */
function stringsOf(value: unknown, key = ''): { key: string; value: string }[] {
  if (typeof value === 'string') return [{ key, value }];
  if (Array.isArray(value)) return value.flatMap((v) => stringsOf(v, key));
  if (value && typeof value === 'object')
    return Object.entries(value as Record<string, unknown>).flatMap(([k, v]) => stringsOf(v, k));
  return [];
}

/** The URL on the new origin, path and query kept. */
function onOrigin(raw: string): string {
  const url = new URL(raw);
  const rest = `${url.pathname}${url.search}`;
  return `${origin}${rest === '/' && !raw.endsWith('/') ? '' : rest}`;
}

// Text-level replacement of whole JSON string literals keeps the files' formatting.
const changed: string[] = [];
for (const file of await hsmetaFiles(appDir)) {
  const before = await readFile(file, 'utf8');
  let after = before;
  for (const { key, value } of stringsOf(JSON.parse(before))) {
    const next =
      key === 'supportEmail' ? supportEmail : /^https?:\/\//.test(value) ? onOrigin(value) : value;
    if (next !== value) after = after.replaceAll(JSON.stringify(value), JSON.stringify(next));
  }
  if (after !== before) {
    await writeFile(file, after);
    changed.push(path.relative(root, file));
  }
}
for (const relative of API_SCHEMAS) {
  const file = path.join(appDir, relative);
  const before = await readFile(file, 'utf8');
  const pattern = /export const BACKEND_ORIGIN = '[^'\n]*';/;
  if (!pattern.test(before)) fail(`${relative}: no BACKEND_ORIGIN line to set`);
  const after = before.replace(pattern, `export const BACKEND_ORIGIN = '${origin}';`);
  if (after !== before) {
    await writeFile(file, after);
    changed.push(path.relative(root, file));
  }
}
process.stdout.write(
  `origin ${origin} (${host}), support ${supportEmail}\n${
    changed.length === 0 ? 'nothing to change\n' : changed.map((f) => `  wrote ${f}\n`).join('')
  }next: npm run check:hubspot-app\n`,
);
