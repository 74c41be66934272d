import { fileURLToPath } from 'node:url';

import { build, type BuildResult, type Message } from 'esbuild';

import type { ExtensionMeta } from './extensions.ts';

/**
 * Bundles one extension's own `.tsx` for the browser with esbuild, `@hubspot/ui-extensions`
 * aliased to the sandbox's DOM stand-in (browser/ui-extensions.tsx) and React from the tree.
 * esbuild is a devDependency; its install script is disabled in package.json because the
 * platform binary arrives as its own optional package and needs no download.
 */

const SHIM = fileURLToPath(new URL('./browser/ui-extensions.tsx', import.meta.url));
/** React and zod for extensions outside this tree too (the tests' temp projects). */
const NODE_MODULES = fileURLToPath(new URL('../../node_modules', import.meta.url));

export class CardBundleError extends Error {
  readonly code = 'card_bundle_failed';
}

function describe(messages: readonly Message[]): string {
  return messages
    .slice(0, 5)
    .map((m) => {
      const where = m.location
        ? `${m.location.file}:${m.location.line}:${m.location.column}: `
        : '';
      const missing = /No matching export in "[^"]*ui-extensions\.tsx" for import "([^"]+)"/.exec(
        m.text,
      );
      return missing
        ? `${where}the sandbox's @hubspot/ui-extensions stand-in has no "${missing[1]}" (add it to sandbox/card-host/browser/ui-extensions.tsx)`
        : `${where}${m.text}`;
    })
    .join('\n');
}

/** The browser script of one extension (an IIFE; no eval, so a strict CSP runs it). */
export async function bundleExtension(
  extension: Pick<ExtensionMeta, 'uid' | 'entry'>,
): Promise<string> {
  let result: BuildResult<{ write: false }>;
  try {
    result = await build({
      entryPoints: [extension.entry],
      bundle: true,
      write: false,
      format: 'iife',
      platform: 'browser',
      target: ['es2022'],
      jsx: 'automatic',
      minify: true,
      sourcemap: false,
      legalComments: 'none',
      logLevel: 'silent',
      alias: { '@hubspot/ui-extensions': SHIM },
      nodePaths: [NODE_MODULES],
      define: { 'process.env.NODE_ENV': '"production"' },
      banner: { js: `/* ${extension.uid}: bundled by the HubSpot sandbox's card host */` },
    });
  } catch (error) {
    const errors = (error as { errors?: Message[] }).errors;
    throw new CardBundleError(
      `card host: ${extension.uid} does not bundle:\n${errors ? describe(errors) : String(error)}`,
    );
  }
  const text = result.outputFiles[0]?.text;
  if (text === undefined)
    throw new CardBundleError(`card host: ${extension.uid} bundled to nothing`);
  return text;
}

/** Bundles each extension once per process, on first request. */
export class BundleCache {
  private readonly bundles = new Map<string, Promise<string>>();

  get(extension: Pick<ExtensionMeta, 'uid' | 'entry'>): Promise<string> {
    let bundle = this.bundles.get(extension.uid);
    if (!bundle) {
      bundle = bundleExtension(extension);
      // A failed bundle is retried on the next request (the file may be fixed meanwhile).
      bundle.catch(() => this.bundles.delete(extension.uid));
      this.bundles.set(extension.uid, bundle);
    }
    return bundle;
  }
}
