/**
 * `npm run check:hubspot-app`: the offline checks of the HubSpot developer project (no
 * HubSpot account, no network to HubSpot; the npm registry is used to install the UI
 * extension folders' own lint dependencies into a scratch copy).
 *
 * 1. HubSpot's project parser over every `*-hsmeta.json` plus this project's rules.
 * 2. The URLs the card and the settings page call: the permitted origin, the fixed paths.
 * 3. `tsc` over the cards and the settings page with their own tsconfig.
 * 4. `hs project lint --install-missing-deps=false` in a scratch copy of the project whose
 *    cards/ and settings/ folders got `npm ci` (HubSpot's linter wants each folder's own
 *    node_modules; the repository keeps those folders free of them).
 */
import { spawnSync } from 'node:child_process';
import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import * as cardApi from '../hubspot-app/app/cards/api-schemas.ts';
import * as companyCardApi from '../hubspot-app/app/cards/company-api-schemas.ts';
import * as settingsApi from '../hubspot-app/app/settings/api-schemas.ts';
import {
  SETTINGS_DRY_RUN_PATH,
  SETTINGS_RULES_PATH,
} from '../hubspot-app/app/settings/routing-schemas.ts';
import { checkExtensionUrls, checkHubSpotProject, FIXED_PATHS } from './hubspot-project-checks.ts';

const root = path.resolve(import.meta.dirname, '..');
const UI_FOLDERS = ['hubspot-app/app/cards', 'hubspot-app/app/settings'];
const outcome = { failed: false };

function report(title: string, problems: readonly string[]): void {
  if (problems.length === 0) {
    process.stdout.write(`ok   ${title}\n`);
    return;
  }
  outcome.failed = true;
  process.stdout.write(`FAIL ${title}\n${problems.map((p) => `     - ${p}`).join('\n')}\n`);
}

/**
 * The environment without what `npm run` adds (`npm_*`, `INIT_CWD`): it points npm and the
 * HubSpot CLI back at this repository instead of the scratch copy.
 */
const cleanEnv = Object.fromEntries(
  Object.entries(process.env).filter(
    ([key]) => !key.toLowerCase().startsWith('npm_') && key !== 'INIT_CWD',
  ),
);

function run(title: string, command: string, args: string[], cwd: string): boolean {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8', env: cleanEnv });
  const ok = result.status === 0;
  const output = `${result.stdout}${result.stderr}`.trim();
  report(title, ok ? [] : [output || `exit ${String(result.status)}`]);
  return ok;
}

// 1.
report('HubSpot project parse and project rules', await checkHubSpotProject(root));

// 2.
const app = JSON.parse(
  await readFile(path.join(root, 'hubspot-app/app/app-hsmeta.json'), 'utf8'),
) as {
  config: { permittedUrls: { fetch: string[] } };
};
const origin = app.config.permittedUrls.fetch[0] ?? '';
report(
  'UI extension backend URLs',
  checkExtensionUrls(origin, [
    {
      where: 'card GET',
      origin: cardApi.BACKEND_ORIGIN,
      path: cardApi.CARD_PATH,
      fixedPath: FIXED_PATHS.card,
    },
    {
      where: 'card send',
      origin: cardApi.BACKEND_ORIGIN,
      path: cardApi.CARD_SEND_PATH,
      fixedPath: FIXED_PATHS.cardSend,
    },
    {
      where: 'company card GET',
      origin: cardApi.BACKEND_ORIGIN,
      path: companyCardApi.COMPANY_CARD_PATH,
    },
    { where: 'settings GET', origin: settingsApi.BACKEND_ORIGIN, path: settingsApi.SETTINGS_PATH },
    {
      where: 'settings save',
      origin: settingsApi.BACKEND_ORIGIN,
      path: settingsApi.SETTINGS_OPTIONS_PATH,
    },
    {
      where: 'settings retry',
      origin: settingsApi.BACKEND_ORIGIN,
      path: settingsApi.SETTINGS_RETRY_PATH,
    },
    { where: 'routing rules', origin: settingsApi.BACKEND_ORIGIN, path: SETTINGS_RULES_PATH },
    {
      where: 'dry run',
      origin: settingsApi.BACKEND_ORIGIN,
      path: SETTINGS_DRY_RUN_PATH,
      fixedPath: FIXED_PATHS.settingsDryRun,
    },
  ]),
);

// 3.
const tsc = path.join(root, 'node_modules/typescript/bin/tsc');
for (const folder of UI_FOLDERS) {
  run(
    `tsc -p ${folder}`,
    process.execPath,
    [tsc, '-p', path.join(root, folder, 'tsconfig.json')],
    root,
  );
}

// 4.
const scratch = await mkdtemp(path.join(tmpdir(), 'lexicontract-hs-lint-'));
try {
  await cp(path.join(root, 'hsproject.json'), path.join(scratch, 'hsproject.json'));
  await cp(path.join(root, 'hubspot-app'), path.join(scratch, 'hubspot-app'), {
    recursive: true,
    filter: (source) => !/[/\\](node_modules|local\.json)([/\\]|$)/.test(source),
  });
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  let installed = true;
  for (const folder of UI_FOLDERS) {
    installed &&= run(
      `npm ci in ${folder} (scratch copy)`,
      npm,
      ['ci', '--no-audit', '--no-fund', '--ignore-scripts', '--loglevel=error'],
      path.join(scratch, folder),
    );
  }
  if (installed) {
    run(
      'hs project lint --install-missing-deps=false',
      process.execPath,
      [
        path.join(root, 'node_modules/@hubspot/cli/bin/hs.js'),
        'project',
        'lint',
        '--install-missing-deps=false',
      ],
      scratch,
    );
  }
} finally {
  await rm(scratch, { recursive: true, force: true });
}

process.exitCode = outcome.failed ? 1 : 0;
