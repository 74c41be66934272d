/**
 * `npm run db:types`: regenerates `server/src/platform/db/schema.ts` with kysely-codegen from
 * a scratch database migrated to the latest migration.
 * `npm run db:types:check` (`--check`): generates the same text in memory and fails, with a
 * line diff summary, when the committed file differs.
 *
 * The scratch database is a uniquely named one created (and dropped) on the `DATABASE_URL`
 * server when that is set, else a throwaway embedded PostgreSQL in a temp dir. Options come
 * from `.kysely-codegenrc.json`; the JSON text is validated with kysely-codegen's own schema.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { sql } from 'kysely';
import { configSchema, generate, getDialect, type DatabaseMetadata } from 'kysely-codegen';
import pg from 'pg';
import { format, resolveConfig } from 'prettier';

import { createDatabase, type Database } from '../server/src/platform/db/database.ts';
import { startEmbeddedPostgres } from '../server/src/platform/db/embedded.ts';
import { migrateToLatest } from '../server/src/platform/db/migrate.ts';
import { summarizeLineDiff } from './db-types-diff.ts';

const root = path.resolve(import.meta.dirname, '..');
const CONFIG_FILE = path.join(root, '.kysely-codegenrc.json');
const OUT_FILE = path.join(root, 'server/src/platform/db/schema.ts');
/** The hand-kept module every `customImports` entry points at (relative to OUT_FILE). */
const COLUMN_TYPES_MODULE = './column-types.ts';

/** Row aliases the application imports from schema.ts by name: alias → table. */
const ROW_ALIASES: Readonly<Record<string, string>> = {
  AuditLogRow: 'audit_log',
  ContractFileRow: 'contract_files',
  ContractRow: 'contracts',
  ContractStatusChangeRow: 'contract_status_changes',
  OrganizationIntegrationRow: 'organization_integrations',
  OrganizationRow: 'organizations',
};

const HEADER = `/**
 * GENERATED FILE: do not edit. kysely-codegen writes it from the migrated database, with the
 * options in .kysely-codegenrc.json, through scripts/db-types.ts.
 * Regenerate: npm run db:types (after adding a migration or changing the options).
 * Check: npm run db:types:check (CI fails when this file is stale).
 * int8 columns are numbers (see database.ts); text columns limited by a check constraint get
 * their unions from column-types.ts.
 */
`;

class DbTypesError extends Error {
  readonly code = 'db_types_failed';
}

type CodegenConfig = ReturnType<typeof configSchema.parse>;

async function loadConfig(): Promise<CodegenConfig> {
  const raw: unknown = JSON.parse(await readFile(CONFIG_FILE, 'utf8'));
  const parsed = configSchema.strict().safeParse(raw);
  if (!parsed.success) {
    throw new DbTypesError(`${CONFIG_FILE} is not a valid config: ${parsed.error.message}`);
  }
  const config = parsed.data;
  if (config.dialect !== 'postgres') {
    throw new DbTypesError(`${CONFIG_FILE}: dialect must be "postgres"`);
  }
  for (const [name, module] of Object.entries(config.customImports ?? {})) {
    if (module !== COLUMN_TYPES_MODULE) {
      throw new DbTypesError(`customImports.${name} must come from ${COLUMN_TYPES_MODULE}`);
    }
  }
  return config;
}

/**
 * Overrides are written out in full (kysely-codegen adds neither `Generated<>` nor `| null` to
 * them), so each one is checked against the introspected column: a stale or mistyped override
 * fails here rather than typing a column wrongly.
 */
function checkAgainstMetadata(config: CodegenConfig, metadata: DatabaseMetadata): void {
  const problems: string[] = [];
  const findTable = (name: string) => metadata.tables.find((table) => table.name === name);
  for (const [key, override] of Object.entries(config.overrides?.columns ?? {})) {
    const [tableName, columnName, extra] = key.split('.');
    const column = findTable(tableName ?? '')?.columns.find((c) => c.name === columnName);
    if (extra !== undefined || !column) {
      problems.push(`overrides.columns["${key}"] names no column of the migrated database`);
      continue;
    }
    if (typeof override !== 'string') continue;
    const saysNullable = /\|\s*null\b/.test(override);
    if (saysNullable !== column.isNullable) {
      problems.push(
        `overrides.columns["${key}"]: the column is ${column.isNullable ? '' : 'not '}nullable, ` +
          `the override ${saysNullable ? 'allows' : 'does not allow'} null`,
      );
    }
    const hasDefault = column.hasDefaultValue || column.isAutoIncrementing;
    const saysOptional = override.startsWith('Generated<') || override.includes('undefined');
    if (hasDefault !== saysOptional) {
      problems.push(
        `overrides.columns["${key}"]: the column ${hasDefault ? 'has' : 'has no'} default, ` +
          `so the override should ${hasDefault ? '' : 'not '}be Generated<...>`,
      );
    }
  }
  for (const [alias, table] of Object.entries(ROW_ALIASES)) {
    if (!findTable(table)) problems.push(`${alias}: no table ${table} in the migrated database`);
  }
  if (problems.length > 0) {
    throw new DbTypesError(
      `kysely-codegen options disagree with the database:\n- ${problems.join('\n- ')}`,
    );
  }
}

/**
 * A text column limited by `check (col in (...))` has a union type the database cannot give
 * kysely-codegen: without an override it is generated as plain `string`. Said, not failed, so
 * a new migration never blocks regeneration; the fix is a union in column-types.ts and an
 * override.
 */
async function warnOfUntypedValueLists(config: CodegenConfig, db: Database): Promise<void> {
  const { rows } = await sql<{ table_name: string; column_name: string }>`
    select distinct cl.relname as table_name, a.attname as column_name
    from pg_constraint c
    join pg_class cl on cl.oid = c.conrelid
    join pg_namespace n on n.oid = cl.relnamespace
    join pg_attribute a on a.attrelid = c.conrelid and a.attnum = c.conkey[1]
    where c.contype = 'c' and n.nspname = 'public' and cardinality(c.conkey) = 1
      and pg_get_constraintdef(c.oid) like '%= ANY (ARRAY[%'
    order by 1, 2
  `.execute(db);
  const overridden = new Set(Object.keys(config.overrides?.columns ?? {}));
  for (const { table_name, column_name } of rows) {
    const key = `${table_name}.${column_name}`;
    if (!overridden.has(key)) {
      process.stderr.write(
        `warn ${key} has a check constraint listing its values but no override in ` +
          `.kysely-codegenrc.json: it is typed as plain string\n`,
      );
    }
  }
}

async function withScratchDatabase<T>(use: (url: string) => Promise<T>): Promise<T> {
  const serverUrl = process.env.DATABASE_URL;
  if (serverUrl) {
    const name = `lexi_dbtypes_${process.pid}_${Date.now().toString(36)}`;
    const admin = new pg.Client({ connectionString: serverUrl });
    await admin.connect();
    try {
      await admin.query(`create database ${name}`);
      const url = new URL(serverUrl);
      url.pathname = `/${name}`;
      return await use(url.toString());
    } finally {
      await admin.query(`drop database if exists ${name} with (force)`);
      await admin.end();
    }
  }
  const tempDir = await mkdtemp(path.join(tmpdir(), 'lexicontract-db-types-'));
  try {
    const embedded = await startEmbeddedPostgres({ dir: path.join(tempDir, 'data') });
    try {
      return await use(embedded.url);
    } finally {
      await embedded.stop();
    }
  } finally {
    await rm(tempDir, { recursive: true, force: true });
  }
}

async function generateSchemaText(config: CodegenConfig): Promise<string> {
  const body = await withScratchDatabase(async (url) => {
    const handle = createDatabase(url, {
      maxConnections: 2,
      applicationName: 'lexicontract-db-types',
    });
    try {
      await migrateToLatest(handle.db);
      const { dateParser, domains, numericParser, partitions, defaultSchemas } = config;
      return await generate({
        camelCase: config.camelCase,
        customImports: config.customImports,
        excludePattern: config.excludePattern,
        includePattern: config.includePattern,
        overrides: config.overrides,
        runtimeEnums: config.runtimeEnums,
        singularize: config.singularize,
        typeMapping: config.typeMapping,
        typeOnlyImports: config.typeOnlyImports,
        defaultSchemas,
        partitions,
        db: handle.db,
        dialect: getDialect('postgres', {
          dateParser,
          defaultSchemas,
          domains,
          numericParser,
          partitions,
        }),
        outFile: null,
        print: false,
        verify: false,
        skipAutogeneratedFileComment: true,
        postprocess: async ({ metadata }) => {
          checkAgainstMetadata(config, metadata);
          await warnOfUntypedValueLists(config, handle.db);
          return metadata;
        },
      });
    } finally {
      await handle.destroy();
    }
  });
  // The row aliases need `Selectable` from the import kysely-codegen already writes.
  const kyselyImport = /^import type \{ ([^}\n]*) \} from "kysely";$/m;
  if (!kyselyImport.test(body)) {
    throw new DbTypesError('kysely-codegen output has no `import type { ... } from "kysely"` line');
  }
  const withSelectable = body.replace(kyselyImport, (_line, names: string) => {
    const all = [...new Set([...names.split(',').map((n) => n.trim()), 'Selectable'])].sort();
    return `import type { ${all.join(', ')} } from "kysely";`;
  });
  const columnTypes = Object.keys(config.customImports ?? {}).sort();
  const trailer = [
    '',
    '// Names the application imports from here: the hand-kept column unions and row aliases.',
    columnTypes.length > 0
      ? `export type { ${columnTypes.join(', ')} } from '${COLUMN_TYPES_MODULE}';`
      : '',
    ...Object.entries(ROW_ALIASES)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([alias, table]) => `export type ${alias} = Selectable<DB['${table}']>;`),
    '',
  ].join('\n');
  const prettierOptions = (await resolveConfig(OUT_FILE)) ?? {};
  return format(`${HEADER}\n${withSelectable.trim()}\n${trailer}`, {
    ...prettierOptions,
    filepath: OUT_FILE,
  });
}

async function main(): Promise<void> {
  const check = process.argv.includes('--check');
  const relative = path.relative(root, OUT_FILE);
  const generated = await generateSchemaText(await loadConfig());
  if (!check) {
    await writeFile(OUT_FILE, generated);
    process.stdout.write(`wrote ${relative}\n`);
    return;
  }
  const committed = await readFile(OUT_FILE, 'utf8').catch(() => '');
  if (committed === generated) {
    process.stdout.write(`ok   ${relative} matches the migrations\n`);
    return;
  }
  const diff = summarizeLineDiff(committed, generated);
  process.stdout.write(
    `FAIL ${relative} is stale: it does not match what the migrations and ` +
      `.kysely-codegenrc.json generate (${diff.removed} line(s) only in the committed file, ` +
      `${diff.added} only in the generated one). Run \`npm run db:types\` and commit the result.\n` +
      `${diff.lines.map((line) => `     ${line}`).join('\n')}\n` +
      (diff.truncated ? '     ...\n' : ''),
  );
  process.exitCode = 1;
}

try {
  await main();
} catch (error) {
  if (!(error instanceof DbTypesError)) throw error;
  process.stdout.write(`FAIL ${error.message}\n`);
  process.exitCode = 1;
}
