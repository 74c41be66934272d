import { cp, mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import * as cardApi from '../../../hubspot-app/app/cards/api-schemas.ts';
import * as settingsApi from '../../../hubspot-app/app/settings/api-schemas.ts';
import { SETTINGS_DRY_RUN_PATH } from '../../../hubspot-app/app/settings/routing-schemas.ts';
import {
  checkExtensionUrls,
  checkHubSpotProject,
  FIXED_PATHS,
} from '../../../scripts/hubspot-project-checks.ts';

const scratchDirs: string[] = [];
afterAll(async () => {
  await Promise.all(scratchDirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

/** A copy of this project's HubSpot files to break on purpose. */
async function copyProject(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'lexicontract-project-'));
  scratchDirs.push(dir);
  await cp('hsproject.json', path.join(dir, 'hsproject.json'));
  await cp('hubspot-app', path.join(dir, 'hubspot-app'), {
    recursive: true,
    filter: (source) => !source.includes('node_modules'),
  });
  return dir;
}

/** Sets the value at `keys` in one hsmeta file of the copy. */
async function edit(dir: string, file: string, keys: (string | number)[], value: unknown) {
  const full = path.join(dir, 'hubspot-app/app', file);
  const json: unknown = JSON.parse(await readFile(full, 'utf8'));
  let node = json as Record<string | number, unknown>;
  for (const key of keys.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
  node[keys[keys.length - 1] ?? ''] = value;
  await writeFile(full, JSON.stringify(json));
}

describe('the HubSpot project checks', () => {
  it('pass on this project', async () => {
    expect(await checkHubSpotProject(process.cwd())).toEqual([]);
    const app = JSON.parse(await readFile('hubspot-app/app/app-hsmeta.json', 'utf8')) as {
      config: { permittedUrls: { fetch: string[] } };
    };
    expect(
      checkExtensionUrls(app.config.permittedUrls.fetch[0] ?? '', [
        {
          where: 'card',
          origin: cardApi.BACKEND_ORIGIN,
          path: cardApi.CARD_PATH,
          fixedPath: FIXED_PATHS.card,
        },
        {
          where: 'send',
          origin: cardApi.BACKEND_ORIGIN,
          path: cardApi.CARD_SEND_PATH,
          fixedPath: FIXED_PATHS.cardSend,
        },
        { where: 'settings', origin: settingsApi.BACKEND_ORIGIN, path: settingsApi.SETTINGS_PATH },
        {
          where: 'dry run',
          origin: settingsApi.BACKEND_ORIGIN,
          path: SETTINGS_DRY_RUN_PATH,
          fixedPath: FIXED_PATHS.settingsDryRun,
        },
      ]),
    ).toEqual([]);
  });

  it('catch wrong object type casing for each component type', async () => {
    const dir = await copyProject();
    await edit(dir, 'cards/legal-review-card-hsmeta.json', ['config', 'objectTypes'], ['DEAL']);
    await edit(
      dir,
      'workflow-actions/send-to-legal-review-hsmeta.json',
      ['config', 'objectTypes'],
      ['deals'],
    );
    await edit(
      dir,
      'webhooks/webhooks-hsmeta.json',
      ['config', 'subscriptions', 'crmObjects', 0, 'objectType'],
      'deals',
    );
    const problems = (await checkHubSpotProject(dir)).join('\n');
    expect(problems).toContain('card objectTypes use lowercase plural names ("deals"), not "DEAL"');
    expect(problems).toContain('uppercase singular names ("DEAL"), not "deals"');
    expect(problems).toContain(
      'webhook objectType uses lowercase singular names ("deal"), not "deals"',
    );
  });

  it('catch invalid and duplicate uids', async () => {
    const dir = await copyProject();
    await edit(dir, 'settings/settings-hsmeta.json', ['uid'], 'legal_review_card');
    await edit(dir, 'webhooks/webhooks-hsmeta.json', ['uid'], 'not a valid uid!');
    const problems = (await checkHubSpotProject(dir)).join('\n');
    expect(problems).toContain('uid "legal_review_card" is also used by');
    expect(problems).toContain('uid "not a valid uid!"');
  });

  it('catch misplaced and unparsable files', async () => {
    const dir = await copyProject();
    await mkdir(path.join(dir, 'hubspot-app/app/cards/nested'));
    await writeFile(
      path.join(dir, 'hubspot-app/app/cards/nested/extra-hsmeta.json'),
      JSON.stringify({ uid: 'extra', type: 'card', config: {} }),
    );
    await writeFile(path.join(dir, 'hubspot-app/app/workflow-actions/broken-hsmeta.json'), '{');
    const problems = (await checkHubSpotProject(dir)).join('\n');
    expect(problems).toContain('app/cards/nested/extra-hsmeta.json: not in a folder HubSpot reads');
    expect(problems).toContain('a card component belongs directly in app/cards/');
    expect(problems).toContain('app/workflow-actions/broken-hsmeta.json: not valid JSON');
  });

  it('catch URLs off the backend origin or off their fixed paths, and missing entrypoints', async () => {
    const dir = await copyProject();
    await edit(
      dir,
      'app-hsmeta.json',
      ['config', 'auth', 'redirectUrls'],
      ['https://lexicontract.example.com/oauth/callback'],
    );
    await edit(
      dir,
      'webhooks/webhooks-hsmeta.json',
      ['config', 'settings', 'targetUrl'],
      'https://elsewhere.example.com/api/v1/integrations/hubspot/events',
    );
    await edit(
      dir,
      'cards/legal-review-card-hsmeta.json',
      ['config', 'entrypoint'],
      '/app/cards/Missing.tsx',
    );
    const problems = (await checkHubSpotProject(dir)).join('\n');
    expect(problems).toContain(`must point at ${FIXED_PATHS.callback}, not /oauth/callback`);
    expect(problems).toContain('is not on the backend origin https://lexicontract.example.com');
    expect(problems).toContain('entrypoint /app/cards/Missing.tsx does not exist');
    expect(
      checkExtensionUrls('https://lexicontract.example.com', [
        {
          where: 'card',
          origin: 'https://other.example.com',
          path: '/card',
          fixedPath: FIXED_PATHS.card,
        },
      ]),
    ).toHaveLength(3);
  });
});
