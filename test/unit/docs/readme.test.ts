import { readFile } from 'node:fs/promises';

import { describe, expect, it } from 'vitest';

import { CONFIG_VARIABLES } from '../../../server/src/platform/config/env.ts';

function configTableVariables(readme: string): string[] {
  const section = readme.split('## Configuration')[1]?.split('\n## ')[0] ?? '';
  return [...section.matchAll(/^\| `([A-Z_]+)` \|/gm)].map((m) => m[1] ?? '');
}

describe('README and .env.example stay true to the config schema', () => {
  it("the README's configuration table lists exactly the variables the schema reads", async () => {
    const readme = await readFile('README.md', 'utf8');
    expect(configTableVariables(readme).sort()).toEqual([...CONFIG_VARIABLES].sort());
  });

  it('.env.example lists every variable', async () => {
    const example = await readFile('.env.example', 'utf8');
    const listed = [...example.matchAll(/^([A-Z_]+)=/gm)].map((m) => m[1] ?? '');
    expect(listed.sort()).toEqual([...CONFIG_VARIABLES].sort());
  });

  it('every npm script the README names exists', async () => {
    const readme = await readFile('README.md', 'utf8');
    const pkg = JSON.parse(await readFile('package.json', 'utf8')) as {
      scripts: Record<string, string>;
    };
    const named = [...readme.matchAll(/npm run ([a-z:-]+)/g)].map((m) => m[1] ?? '');
    expect(named.length).toBeGreaterThan(0);
    for (const script of named) expect(Object.keys(pkg.scripts)).toContain(script);
  });
});
