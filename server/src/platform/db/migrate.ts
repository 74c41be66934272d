import { Migrator, type Migration, type MigrationProvider } from 'kysely/migration';

import type { Database } from './database.ts';
import * as m0001 from './migrations/0001_foundation.ts';
import * as m0004 from './migrations/0004_web_sessions_and_oauth.ts';
import * as m0005 from './migrations/0005_hubspot_deal_sync.ts';
import * as m0006 from './migrations/0006_hubspot_import.ts';
import * as m0007 from './migrations/0007_hubspot_sync_webhooks.ts';
import * as m0008 from './migrations/0008_hubspot_card_and_settings.ts';
import * as m0009 from './migrations/0009_hubspot_sync_batching.ts';
import * as m0010 from './migrations/0010_hubspot_rate_slot_function.ts';
import * as m0011 from './migrations/0011_oauth_state_sealed_verifier.ts';
import * as m0012 from './migrations/0012_reviewed_files_write_back.ts';
import * as m0013 from './migrations/0013_retention_indexes.ts';
import * as m0014 from './migrations/0014_report_properties_and_timeline.ts';
import * as m0015 from './migrations/0015_deal_context_field_mapping.ts';
import * as m0016 from './migrations/0016_hubspot_routing_rules.ts';
import * as m0019 from './migrations/0019_hubspot_sync_pacing.ts';

/**
 * Numbered, forward-only migrations. Listed explicitly (rather than read from disk) so the
 * set is type-checked and works the same from any working directory.
 */
const MIGRATIONS: Record<string, Migration> = {
  '0001_foundation': m0001,
  '0004_web_sessions_and_oauth': m0004,
  '0005_hubspot_deal_sync': m0005,
  '0006_hubspot_import': m0006,
  '0007_hubspot_sync_webhooks': m0007,
  '0008_hubspot_card_and_settings': m0008,
  '0009_hubspot_sync_batching': m0009,
  '0010_hubspot_rate_slot_function': m0010,
  '0011_oauth_state_sealed_verifier': m0011,
  '0012_reviewed_files_write_back': m0012,
  '0013_retention_indexes': m0013,
  '0014_report_properties_and_timeline': m0014,
  '0015_deal_context_field_mapping': m0015,
  '0016_hubspot_routing_rules': m0016,
  '0019_hubspot_sync_pacing': m0019,
};

class StaticMigrationProvider implements MigrationProvider {
  getMigrations(): Promise<Record<string, Migration>> {
    return Promise.resolve(MIGRATIONS);
  }
}

export class MigrationFailedError extends Error {
  readonly code = 'migration_failed';
}

export async function migrateToLatest(db: Database): Promise<string[]> {
  const migrator = new Migrator({ db, provider: new StaticMigrationProvider() });
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((r) => r.status === 'Error');
  if (error !== undefined || failed) {
    const cause = error instanceof Error ? error.message : 'see the migration log';
    throw new MigrationFailedError(
      `migration ${failed?.migrationName ?? '(unknown)'} failed: ${cause}`,
      { cause: error },
    );
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
