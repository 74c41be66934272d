import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

import { describe, expect, it } from 'vitest';

/**
 * Table ownership (server/src/README.md): only core/contracts has SQL on the contract tables,
 * and only core/integrations writes the token ciphertext columns. A scan of the sources, so a
 * new query elsewhere fails here instead of slipping past review.
 */
const root = path.resolve(import.meta.dirname, '../../..');

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(path.join(root, dir))) {
    const rel = path.join(dir, name);
    if (statSync(path.join(root, rel)).isDirectory()) out.push(...sources(rel));
    else if (name.endsWith('.ts')) out.push(rel);
  }
  return out;
}

const CONTRACT_TABLES = [
  'contracts',
  'contract_files',
  'contract_file_chunks',
  'contract_status_changes',
];
const TOKEN_COLUMNS = ['access_token_ciphertext', 'refresh_token_ciphertext'];

/**
 * A table named in a query: a query-builder call taking it (`selectFrom('contracts'`,
 * `.leftJoin('contracts as c'`, …) or SQL text (`from contracts`, `update contracts`, …).
 */
export function namesTable(source: string, table: string): boolean {
  for (const quote of ["'", '"']) {
    let at = source.indexOf(`(${quote}${table}`);
    while (at !== -1) {
      const after = source[at + 2 + table.length] ?? '';
      if (after === quote || after === ' ') return true;
      at = source.indexOf(`(${quote}${table}`, at + 1);
    }
  }
  const lower = source.toLowerCase();
  for (const keyword of ['from ', 'join ', 'update ', 'into ', 'table ']) {
    let at = lower.indexOf(keyword + table);
    while (at !== -1) {
      const after = lower[at + keyword.length + table.length] ?? ' ';
      if (!/[a-z0-9_]/.test(after)) return true;
      at = lower.indexOf(keyword + table, at + 1);
    }
  }
  return false;
}

/** A write of the column: a `.set({ … column: …` / `.values({ … column: …` object key. */
export function writesColumn(source: string, column: string): boolean {
  for (const marker of ['.set(', '.values(']) {
    let at = source.indexOf(marker);
    while (at !== -1) {
      const close = source.indexOf('})', at);
      const body = source.slice(at, close === -1 ? undefined : close);
      if (body.includes(`${column}:`)) return true;
      at = source.indexOf(marker, at + marker.length);
    }
  }
  return false;
}

const files = sources('server/src').filter(
  (f) =>
    !f.startsWith('server/src/platform/db/migrations/') && f !== 'server/src/platform/db/schema.ts',
);

describe('table ownership', () => {
  it('the scanner sees a table named in a query, and not a longer name', () => {
    expect(namesTable(`db.selectFrom('contracts')`, 'contracts')).toBe(true);
    expect(namesTable(`.selectFrom('contracts as c')`, 'contracts')).toBe(true);
    expect(namesTable('sql`update contracts set x = 1`', 'contracts')).toBe(true);
    expect(namesTable(`db.selectFrom('contracts_archive')`, 'contracts')).toBe(false);
    expect(namesTable(`.innerJoin("contract_files", 'x')`, 'contract_files')).toBe(true);
    expect(namesTable(`// imports contracts from HubSpot`, 'contracts')).toBe(false);
    expect(namesTable(`tags: ['contracts']`, 'contracts')).toBe(false);
    expect(
      writesColumn(`.set({ a: 1, access_token_ciphertext: x })`, 'access_token_ciphertext'),
    ).toBe(true);
    expect(
      writesColumn(`if (row.access_token_ciphertext === null)`, 'access_token_ciphertext'),
    ).toBe(false);
  });

  it('only core/contracts has SQL on the contract tables', () => {
    const offenders = files.filter(
      (f) =>
        !f.startsWith('server/src/core/contracts/') &&
        CONTRACT_TABLES.some((t) => namesTable(readFileSync(path.join(root, f), 'utf8'), t)),
    );
    expect(offenders).toEqual([]);
  });

  it('only core/integrations writes the token ciphertext columns', () => {
    const writers = files.filter((f) =>
      TOKEN_COLUMNS.some((c) => writesColumn(readFileSync(path.join(root, f), 'utf8'), c)),
    );
    expect(writers.length).toBeGreaterThan(0);
    expect(
      writers.filter((f) => f !== 'server/src/core/integrations/organization-integrations.ts'),
    ).toEqual([]);
  });
});
