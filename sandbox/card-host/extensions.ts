import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { z } from 'zod';

/**
 * The app's UI extensions as HubSpot finds them: every `*-hsmeta.json` of type `card` under
 * `hubspot-app/app/cards` (its location and object types) and the `settings` page. The
 * sandbox reads the project's own files, so a new card is rendered without sandbox code.
 */

export const HUBSPOT_APP_DIR = fileURLToPath(new URL('../../hubspot-app', import.meta.url));

/** HubSpot's object type names in `objectTypes`, with their ids (deals are 0-3). */
export const OBJECT_TYPE_IDS: Readonly<Record<string, string>> = {
  contacts: '0-1',
  companies: '0-2',
  deals: '0-3',
  tickets: '0-5',
};

export type CardLocation = 'crm.record.tab' | 'crm.record.sidebar' | 'crm.preview';

export interface ExtensionMeta {
  readonly uid: string;
  readonly kind: 'card' | 'settings';
  readonly name: string;
  /** `settings` for the settings page. */
  readonly location: CardLocation | 'settings';
  /** HubSpot's names (`deals`, `companies`, …), upper-cased in some projects: kept lower. */
  readonly objectTypes: readonly string[];
  /** Absolute path of the entrypoint `.tsx`. */
  readonly entry: string;
}

const CardMetaSchema = z.object({
  uid: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/),
  type: z.literal('card'),
  config: z.object({
    name: z.string(),
    location: z.enum(['crm.record.tab', 'crm.record.sidebar', 'crm.preview']),
    entrypoint: z.string().startsWith('/app/'),
    objectTypes: z.array(z.string()).min(1),
  }),
});

const SettingsMetaSchema = z.object({
  uid: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/),
  type: z.literal('settings'),
  config: z.object({ entrypoint: z.string().startsWith('/app/') }),
});

async function metaFiles(dir: string): Promise<string[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  return names
    .filter((n) => n.endsWith('-hsmeta.json'))
    .sort()
    .map((n) => path.join(dir, n));
}

function entryPath(appDir: string, entrypoint: string): string {
  const entry = path.resolve(appDir, `.${entrypoint}`);
  if (!entry.startsWith(`${appDir}${path.sep}`)) {
    throw new Error(`card host: entrypoint ${entrypoint} is outside the project`);
  }
  return entry;
}

/** Reads the project's cards and settings page (in a stable order: by file name). */
export async function discoverExtensions(appDir = HUBSPOT_APP_DIR): Promise<ExtensionMeta[]> {
  const found: ExtensionMeta[] = [];
  for (const file of await metaFiles(path.join(appDir, 'app', 'cards'))) {
    const meta = CardMetaSchema.parse(JSON.parse(await readFile(file, 'utf8')));
    found.push({
      uid: meta.uid,
      kind: 'card',
      name: meta.config.name,
      location: meta.config.location,
      objectTypes: meta.config.objectTypes.map((t) => t.toLowerCase()),
      entry: entryPath(appDir, meta.config.entrypoint),
    });
  }
  for (const file of await metaFiles(path.join(appDir, 'app', 'settings'))) {
    const meta = SettingsMetaSchema.parse(JSON.parse(await readFile(file, 'utf8')));
    found.push({
      uid: meta.uid,
      kind: 'settings',
      name: 'Settings',
      location: 'settings',
      objectTypes: [],
      entry: entryPath(appDir, meta.config.entrypoint),
    });
  }
  return found;
}

const AppMetaSchema = z.object({
  config: z
    .object({
      name: z.string(),
      permittedUrls: z.object({ fetch: z.array(z.string()) }).loose(),
    })
    .loose(),
});

export interface AppMeta {
  readonly name: string;
  /** `permittedUrls.fetch` as origins: what `hubspot.fetch` may call. */
  readonly permittedFetchOrigins: readonly string[];
}

/** The app's name and `permittedUrls.fetch`, from app-hsmeta.json. */
export async function readAppMeta(appDir = HUBSPOT_APP_DIR): Promise<AppMeta> {
  const meta = AppMetaSchema.parse(
    JSON.parse(await readFile(path.join(appDir, 'app', 'app-hsmeta.json'), 'utf8')),
  );
  return {
    name: meta.config.name,
    permittedFetchOrigins: meta.config.permittedUrls.fetch.map((u) => new URL(u).origin),
  };
}
