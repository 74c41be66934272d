import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from 'vitest';

// The sandbox is an independent witness of HubSpot's behaviour: if it imported the app's wire
// schemas or signing, a wrong field name would be mirrored on both sides and pass. This test
// reads every `sandbox/**/*.ts` file and fails when an import or export specifier (static,
// type-only, side-effect, dynamic or `require`) resolves into `server/`.

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SANDBOX = path.join(ROOT, 'sandbox');
const SERVER = path.join(ROOT, 'server');

// `from '…'`, `import '…'`, `import('…')`, `require('…')`: a keyword, optional `(`, a quoted
// string without line breaks. One pass, no nested quantifiers.
const SPECIFIER = /\b(?:from|import|require)\s*\(?\s*(['"`])([^'"`\r\n]*)\1/g;
// `import(` or `require(` whose argument is not a plain string literal cannot be checked.
const COMPUTED = /\b(?:import|require)\s*\(\s*(?![\s'"`])/g;

interface Finding {
  readonly specifier: string;
  readonly problem: 'resolves into server/' | 'computed specifier';
}

function insideServer(target: string): boolean {
  const relative = path.relative(SERVER, target);
  return relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative));
}

/** Findings for one file's source text; `file` anchors relative specifiers. */
function scanSource(file: string, source: string): Finding[] {
  const findings: Finding[] = [];
  for (const match of source.matchAll(SPECIFIER)) {
    const specifier = match[2] ?? '';
    let target: string | undefined;
    if (specifier.startsWith('.')) target = path.resolve(path.dirname(file), specifier);
    else if (specifier.startsWith('/')) target = path.resolve(specifier);
    else if (specifier.startsWith('file:')) target = fileURLToPath(specifier);
    // Bare specifiers are packages or Node built-ins, unless they spell a path from the root.
    else if (specifier === 'server' || specifier.startsWith('server/')) {
      target = path.join(ROOT, specifier);
    }
    if (target !== undefined && insideServer(target)) {
      findings.push({ specifier, problem: 'resolves into server/' });
    }
  }
  for (const match of source.matchAll(COMPUTED)) {
    findings.push({ specifier: match[0], problem: 'computed specifier' });
  }
  return findings;
}

function sandboxFiles(): string[] {
  return readdirSync(SANDBOX, { recursive: true, encoding: 'utf8' })
    .filter((name) => name.endsWith('.ts'))
    .map((name) => path.join(SANDBOX, name))
    .sort();
}

describe('the sandbox imports nothing from server/', () => {
  it('scans every sandbox/**/*.ts file and finds no import into server/', () => {
    const files = sandboxFiles();
    expect(files).toContain(path.join(SANDBOX, 'index.ts'));
    expect(files).toContain(path.join(SANDBOX, 'signing.ts'));
    const findings = files.flatMap((file) =>
      scanSource(file, readFileSync(file, 'utf8')).map((finding) => ({
        file: path.relative(ROOT, file),
        ...finding,
      })),
    );
    expect(findings).toEqual([]);
  });

  it('sees the sandbox’s own imports, so an empty result means something', () => {
    const file = path.join(SANDBOX, 'api-routes.ts');
    const source = readFileSync(file, 'utf8');
    const specifiers = [...source.matchAll(SPECIFIER)].map((m) => m[2]);
    expect(specifiers).toEqual(expect.arrayContaining(['fastify', './wire.ts', './errors.ts']));
  });

  it('catches every way of reaching server/', () => {
    const file = path.join(SANDBOX, 'nested', 'example.ts');
    const wrong = [
      "import { x } from '../../server/src/hubspot/wire/index.ts';",
      'import type { Y } from "../../server/src/hubspot/wire/crm.ts";',
      "export * from '../../server/src/hubspot/signature/index.ts';",
      "export { z } from '../../server';",
      "import '../../server/src/main.ts';",
      "const m = await import('../../server/src/app.ts');",
      'const n = await import ( `../../server/src/worker.ts` );',
      "const r = require('../../server/src/app.ts');",
      `import { a } from '${path.join(ROOT, 'server', 'src', 'app.ts')}';`,
      "import { b } from 'server/src/app.ts';",
    ];
    for (const line of wrong) {
      expect(scanSource(file, line), line).toEqual([
        expect.objectContaining({ problem: 'resolves into server/' }),
      ]);
    }
    expect(scanSource(file, 'const c = await import(name);')).toEqual([
      expect.objectContaining({ problem: 'computed specifier' }),
    ]);
  });

  it('lets sandbox, package and look-alike paths through', () => {
    const file = path.join(SANDBOX, 'example.ts');
    const fine = [
      "import { z } from 'zod';",
      "import { createHash } from 'node:crypto';",
      "import { wire } from './wire.ts';",
      "import { x } from '../serverless/x.ts';",
      "import { y } from '../test/sandbox/helpers.ts';",
      'const meta = import.meta.url;',
    ];
    for (const line of fine) expect(scanSource(file, line), line).toEqual([]);
  });
});
