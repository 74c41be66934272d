import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';

import { Components } from '@hubspot/project-parsing-lib/constants';
import { translate } from '@hubspot/project-parsing-lib/translate';
import { validateUid } from '@hubspot/project-parsing-lib/uid';

/**
 * Offline checks of the HubSpot developer project (`hsproject.json` + its `srcDir`), run by
 * `npm run check:hubspot-app` and by the test suite: HubSpot's own parser
 * (`translate(..., { skipValidation: true })`; schema validation needs a HubSpot account)
 * plus this project's rules: valid unique uids, files in their feature folders, object type
 * casing per component type, and every URL on the backend origin at its fixed path.
 */

/** Paths the backend serves at fixed places (SPEC §5). */
export const FIXED_PATHS = {
  callback: '/api/v1/integrations/hubspot/callback',
  workflowAction: '/api/v1/integrations/hubspot/webhook',
  events: '/api/v1/integrations/hubspot/events',
  card: '/api/v1/integrations/hubspot/card',
  cardSend: '/api/v1/integrations/hubspot/card/send',
  settingsDryRun: '/api/v1/integrations/hubspot/settings/dry-run',
} as const;

const HUBSPOT_PREFIX = '/api/v1/integrations/hubspot/';

interface HsMetaFile {
  readonly file: string;
  readonly json: { uid?: unknown; type?: unknown; config?: Record<string, unknown> };
}

async function walk(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const files: string[] = [];
  for (const entry of entries) {
    if (entry.name === 'node_modules') continue;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) files.push(...(await walk(full)));
    else files.push(full);
  }
  return files;
}

function asRecord(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

/** Problems found in the project at `rootDir` (empty = all good). */
export async function checkHubSpotProject(rootDir: string): Promise<string[]> {
  const problems: string[] = [];
  const project = asRecord(
    JSON.parse(await readFile(path.join(rootDir, 'hsproject.json'), 'utf8')),
  );
  const srcDir = typeof project.srcDir === 'string' ? project.srcDir : 'src';
  const platformVersion =
    typeof project.platformVersion === 'string' ? project.platformVersion : '';
  if (platformVersion !== '2026.03')
    problems.push(`hsproject.json: platformVersion must be 2026.03`);
  const projectSourceDir = path.join(rootDir, srcDir);

  // 1. HubSpot's own parser.
  let parsedUids: string[] = [];
  try {
    const { intermediateRepresentation, skippedHsMetaFiles } = await translate(
      { projectSourceDir, platformVersion },
      { skipValidation: true },
    );
    for (const skipped of skippedHsMetaFiles) {
      problems.push(`${skipped}: not in a folder HubSpot reads components from`);
    }
    parsedUids = Object.keys(intermediateRepresentation.intermediateNodesIndexedByUid);
  } catch (error) {
    problems.push(
      `HubSpot's project parser failed: ${error instanceof Error ? error.message : String(error)}`,
    );
  }

  // 2. Every *-hsmeta.json: valid JSON with a valid, unique uid, in its type's folder.
  const files: HsMetaFile[] = [];
  for (const file of (await walk(projectSourceDir)).filter((f) => f.endsWith('-hsmeta.json'))) {
    const relative = path.relative(projectSourceDir, file).split(path.sep).join('/');
    try {
      files.push({ file: relative, json: asRecord(JSON.parse(await readFile(file, 'utf8'))) });
    } catch {
      problems.push(`${relative}: not valid JSON`);
    }
  }
  const seen = new Map<string, string>();
  for (const { file, json } of files) {
    const uid = typeof json.uid === 'string' ? json.uid : '';
    const uidProblem = validateUid(uid);
    if (uidProblem !== undefined) problems.push(`${file}: uid "${uid}": ${uidProblem}`);
    const previous = seen.get(uid);
    if (previous !== undefined) problems.push(`${file}: uid "${uid}" is also used by ${previous}`);
    seen.set(uid, file);
    if (!parsedUids.includes(uid)) problems.push(`${file}: HubSpot's parser did not read it`);
    const type = typeof json.type === 'string' ? json.type : '';
    const component = (Components as Record<string, { dir: string; parentComponent?: string }>)[
      type
    ];
    if (!component) {
      problems.push(`${file}: unknown component type "${type}"`);
      continue;
    }
    const expectedDir = component.parentComponent
      ? `${(Components as Record<string, { dir: string }>)[component.parentComponent]?.dir ?? ''}/${component.dir}`
      : component.dir;
    if (path.posix.dirname(file) !== expectedDir) {
      problems.push(`${file}: a ${type} component belongs directly in ${expectedDir}/`);
    }
  }
  const byType = (type: string) => files.filter((f) => f.json.type === type);

  // 3. The app: the backend origin every URL must use.
  const apps = byType('app');
  if (apps.length !== 1) problems.push(`expected exactly one app component, found ${apps.length}`);
  const app = asRecord(apps[0]?.json.config);
  const origins = strings(asRecord(app.permittedUrls).fetch);
  if (origins.length !== 1)
    problems.push('app: permittedUrls.fetch must list exactly the backend origin');
  const origin = origins[0] ?? '';
  try {
    const url = new URL(origin);
    if (url.protocol !== 'https:' || url.origin !== origin) {
      problems.push(`app: permittedUrls.fetch "${origin}" must be a bare https origin`);
    }
  } catch {
    problems.push(`app: permittedUrls.fetch "${origin}" is not a URL`);
  }
  const checkUrl = (where: string, raw: unknown, fixedPath?: string) => {
    let url: URL;
    try {
      url = new URL(String(raw));
    } catch {
      problems.push(`${where}: "${String(raw)}" is not a URL`);
      return;
    }
    if (url.origin !== origin)
      problems.push(`${where}: ${url.href} is not on the backend origin ${origin}`);
    if (url.search !== '' || url.hash !== '')
      problems.push(`${where}: ${url.href} carries a query or fragment`);
    if (fixedPath !== undefined && url.pathname !== fixedPath) {
      problems.push(`${where}: must point at ${fixedPath}, not ${url.pathname}`);
    }
    if (fixedPath === undefined && !url.pathname.startsWith(HUBSPOT_PREFIX)) {
      problems.push(`${where}: ${url.pathname} is outside ${HUBSPOT_PREFIX}`);
    }
  };
  // The support links point at the same deployment (`configure:hubspot-app` writes them).
  const support = asRecord(app.support);
  for (const field of ['documentationUrl', 'supportUrl'] as const) {
    const raw = support[field];
    if (raw === undefined) continue;
    if (typeof raw !== 'string') {
      problems.push(`app support.${field} must be a URL string`);
      continue;
    }
    try {
      const url = new URL(raw);
      if (url.origin !== origin)
        problems.push(`app support.${field}: ${url.href} is not on the backend origin ${origin}`);
    } catch {
      problems.push(`app support.${field}: "${raw}" is not a URL`);
    }
  }
  const redirects = strings(asRecord(app.auth).redirectUrls);
  if (redirects.length === 0) problems.push('app: auth.redirectUrls is empty');
  redirects.forEach((u) => {
    checkUrl('app auth.redirectUrls', u, FIXED_PATHS.callback);
  });

  // 4. Cards: lowercase plural CRM object names, an entrypoint that exists.
  for (const { file, json } of byType('card')) {
    const config = asRecord(json.config);
    const objectTypes = strings(config.objectTypes);
    if (objectTypes.length === 0) problems.push(`${file}: objectTypes is empty`);
    for (const t of objectTypes) {
      if (!/^[a-z_]+s$/.test(t))
        problems.push(`${file}: card objectTypes use lowercase plural names ("deals"), not "${t}"`);
    }
    if (typeof config.location !== 'string' || !config.location.startsWith('crm.')) {
      problems.push(`${file}: location must be a CRM location`);
    }
  }
  // 5. Workflow actions: uppercase singular object types; the send action at the fixed path.
  const actions = byType('workflow-action');
  for (const { file, json } of actions) {
    const config = asRecord(json.config);
    for (const t of strings(config.objectTypes)) {
      if (!/^[A-Z_]+$/.test(t) || t.endsWith('S')) {
        problems.push(
          `${file}: workflow action objectTypes use uppercase singular names ("DEAL"), not "${t}"`,
        );
      }
    }
    checkUrl(`${file} actionUrl`, config.actionUrl);
  }
  if (
    actions.length > 0 &&
    !actions.some((a) =>
      String(asRecord(a.json.config).actionUrl).endsWith(FIXED_PATHS.workflowAction),
    )
  ) {
    problems.push(`no workflow action points at ${FIXED_PATHS.workflowAction}`);
  }
  // 6. Webhooks: lowercase singular object types; the fixed events path.
  for (const { file, json } of byType('webhooks')) {
    const config = asRecord(json.config);
    checkUrl(`${file} settings.targetUrl`, asRecord(config.settings).targetUrl, FIXED_PATHS.events);
    const subscriptions = asRecord(config.subscriptions);
    for (const sub of Array.isArray(subscriptions.crmObjects) ? subscriptions.crmObjects : []) {
      const objectType = asRecord(sub).objectType;
      if (
        typeof objectType !== 'string' ||
        !/^[a-z_]+$/.test(objectType) ||
        objectType.endsWith('s')
      ) {
        problems.push(
          `${file}: webhook objectType uses lowercase singular names ("deal"), not "${String(objectType)}"`,
        );
      }
    }
  }
  // 7. UI extensions: entrypoints exist.
  for (const { file, json } of [...byType('card'), ...byType('settings')]) {
    const entrypoint = asRecord(json.config).entrypoint;
    if (typeof entrypoint !== 'string' || !/\.(tsx|jsx)$/.test(entrypoint)) {
      problems.push(`${file}: entrypoint must name a .tsx or .jsx file`);
      continue;
    }
    try {
      await readFile(path.join(projectSourceDir, entrypoint), 'utf8');
    } catch {
      problems.push(`${file}: entrypoint ${entrypoint} does not exist`);
    }
  }
  return problems;
}

/** The URLs the UI extensions call, checked against the app's origin and the fixed paths. */
export function checkExtensionUrls(
  origin: string,
  calls: {
    readonly where: string;
    readonly origin: string;
    readonly path: string;
    readonly fixedPath?: string;
  }[],
): string[] {
  const problems: string[] = [];
  for (const call of calls) {
    if (call.origin !== origin)
      problems.push(`${call.where}: calls ${call.origin}, not the permitted origin ${origin}`);
    if (call.fixedPath !== undefined && call.path !== call.fixedPath) {
      problems.push(`${call.where}: calls ${call.path}, not ${call.fixedPath}`);
    }
    if (!call.path.startsWith(HUBSPOT_PREFIX))
      problems.push(`${call.where}: ${call.path} is outside ${HUBSPOT_PREFIX}`);
  }
  return problems;
}
