import { mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import { chromium, type Browser } from 'playwright-core';
import { afterAll } from 'vitest';

/** Debian's Chromium (`apt-get install chromium`), driven headless by playwright-core. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * Where the browser tests write their screenshots: a temp dir, so `npm test` leaves the tree
 * as it found it; `npm run screenshots` sets UPDATE_SCREENSHOTS=1 to refresh the committed
 * ones in docs/screenshots (referenced from the README).
 */
export const ARTIFACTS_DIR =
  process.env.UPDATE_SCREENSHOTS === '1'
    ? path.resolve('docs/screenshots')
    : path.join(os.tmpdir(), 'lexicontract-screenshots');

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
