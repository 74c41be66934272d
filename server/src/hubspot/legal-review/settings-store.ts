import type { Kysely } from 'kysely';

import { recordAudit } from '../../core/audit/audit-log.ts';
import type { DB } from '../../platform/db/schema.ts';
import type {
  ReturnPathOptions,
  SettingsOptions,
} from '../../../../hubspot-app/app/settings/api-schemas.ts';

/**
 * An organization's HubSpot options (`hubspot_portal_settings`; no row = the defaults).
 * Read by the Deal card (default attachment filter), the import (same filter) and the
 * inbound sync (what a closed-lost deal does to its open contracts).
 */
export type HubSpotSettings = SettingsOptions &
  /**
   * What goes back onto deals (issue 15), both on by default: the newest reviewed files on
   * approval or signature (`writeBackFiles`), and the timeline notes (`timelineNotes`).
   */
  ReturnPathOptions;

export const DEFAULT_HUBSPOT_SETTINGS: HubSpotSettings = {
  closedLostBehavior: 'cancel_contract',
  attachmentFilter: { mode: 'all' },
  writeBackFiles: true,
  timelineNotes: true,
};

export async function getHubSpotSettings(
  db: Kysely<DB>,
  organizationId: string,
): Promise<HubSpotSettings> {
  const row = await db
    .selectFrom('hubspot_portal_settings')
    .select([
      'closed_lost_behavior',
      'attachment_filter_mode',
      'attachment_name_pattern',
      'write_back_files',
      'timeline_notes',
    ])
    .where('organization_id', '=', organizationId)
    .executeTakeFirst();
  if (!row) return DEFAULT_HUBSPOT_SETTINGS;
  return {
    closedLostBehavior: row.closed_lost_behavior,
    attachmentFilter:
      row.attachment_filter_mode === 'matching' && row.attachment_name_pattern !== null
        ? { mode: 'matching', pattern: row.attachment_name_pattern }
        : { mode: 'all' },
    writeBackFiles: row.write_back_files,
    timelineNotes: row.timeline_notes,
  };
}

/** Stores the options (already validated) and records who changed them. */
export async function saveHubSpotSettings(
  db: Kysely<DB>,
  organizationId: string,
  options: SettingsOptions,
  actor: string,
): Promise<SettingsOptions> {
  const values = {
    closed_lost_behavior: options.closedLostBehavior,
    attachment_filter_mode: options.attachmentFilter.mode,
    attachment_name_pattern:
      options.attachmentFilter.mode === 'matching' ? options.attachmentFilter.pattern : null,
    updated_by: actor,
    updated_at: new Date(),
  };
  await db.transaction().execute(async (trx) => {
    await trx
      .insertInto('hubspot_portal_settings')
      .values({ organization_id: organizationId, ...values })
      .onConflict((oc) => oc.column('organization_id').doUpdateSet(values))
      .execute();
    await recordAudit(trx, {
      organizationId,
      actor,
      action: 'hubspot.settings.update',
      target: `organization:${organizationId}`,
      outcome: 'success',
      details: {
        closedLostBehavior: options.closedLostBehavior,
        attachmentFilter: options.attachmentFilter,
      },
    });
  });
  return settingsPageOptions(await getHubSpotSettings(db, organizationId));
}

/** The options the settings page edits (its strict schema), without backend-only switches. */
export function settingsPageOptions(settings: HubSpotSettings): SettingsOptions {
  return {
    closedLostBehavior: settings.closedLostBehavior,
    attachmentFilter: settings.attachmentFilter,
  };
}

/** The return-path switches the settings page edits. */
export function returnPathOptions(settings: HubSpotSettings): ReturnPathOptions {
  return { writeBackFiles: settings.writeBackFiles, timelineNotes: settings.timelineNotes };
}

/** Stores the return-path switches (already validated) and records who changed them. */
export async function saveReturnPathSettings(
  db: Kysely<DB>,
  organizationId: string,
  options: ReturnPathOptions,
  actor: string,
): Promise<ReturnPathOptions> {
  const values = {
    write_back_files: options.writeBackFiles,
    timeline_notes: options.timelineNotes,
    updated_by: actor,
    updated_at: new Date(),
  };
  await db.transaction().execute(async (trx) => {
    await trx
      .insertInto('hubspot_portal_settings')
      .values({ organization_id: organizationId, ...values })
      .onConflict((oc) => oc.column('organization_id').doUpdateSet(values))
      .execute();
    await recordAudit(trx, {
      organizationId,
      actor,
      action: 'hubspot.settings.update',
      target: `organization:${organizationId}`,
      outcome: 'success',
      details: { writeBackFiles: options.writeBackFiles, timelineNotes: options.timelineNotes },
    });
  });
  return returnPathOptions(await getHubSpotSettings(db, organizationId));
}
