import { mkdir } from 'node:fs/promises';
import path from 'node:path';

import { chromium, type Browser } from 'playwright-core';
import { afterAll } from 'vitest';

/** Debian's Chromium (`apt-get install chromium`), driven headless by playwright-core. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Screenshots the browser tests keep (referenced from the README). */
export const ARTIFACTS_DIR = path.resolve('docs/screenshots');

export async function launchBrowser(): Promise<Browser> {
  await mkdir(ARTIFACTS_DIR, { recursive: true });
  const browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
  afterAll(async () => {
    await browser.close();
  });
  return browser;
}
