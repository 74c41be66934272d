import type { Kysely } from 'kysely';

import { recordAudit } from '../../core/audit/audit-log.ts';
import type { DB } from '../../platform/db/schema.ts';
import { StoredFieldMappingSchema, type FieldMapping } from '../mapping/field-mapping.ts';

/**
 * An organization's field mappings (`hubspot_field_mappings`): every save is a new version,
 * the newest is in force, and a contract records the version its send used. Also the
 * admin's choice of a deal's primary company (`hubspot_primary_company_choices`).
 */

export interface VersionedMapping {
  readonly version: number;
  readonly mapping: FieldMapping;
  readonly createdBy: string;
  readonly createdAt: Date;
}

export async function currentFieldMapping(
  db: Kysely<DB>,
  organizationId: string,
): Promise<VersionedMapping | null> {
  const row = await db
    .selectFrom('hubspot_field_mappings')
    .select(['version', 'mapping', 'created_by', 'created_at'])
    .where('organization_id', '=', organizationId)
    .orderBy('version', 'desc')
    .limit(1)
    .executeTakeFirst();
  if (!row) return null;
  // A stored version that no longer parses (written by a newer release) counts as none.
  const parsed = StoredFieldMappingSchema.safeParse(row.mapping);
  if (!parsed.success) return null;
  return {
    version: row.version,
    mapping: parsed.data,
    createdBy: row.created_by,
    createdAt: row.created_at,
  };
}

/** Stores the (validated) mapping as the next version; returns it. */
export async function saveFieldMapping(
  db: Kysely<DB>,
  organizationId: string,
  mapping: FieldMapping,
  actor: string,
): Promise<VersionedMapping> {
  return db.transaction().execute(async (trx) => {
    // One writer at a time per organization: the lock orders concurrent saves.
    await trx
      .selectFrom('organizations')
      .select('id')
      .where('id', '=', organizationId)
      .forUpdate()
      .executeTakeFirst();
    const last = await trx
      .selectFrom('hubspot_field_mappings')
      .select((eb) => eb.fn.max('version').as('version'))
      .where('organization_id', '=', organizationId)
      .executeTakeFirst();
    const version = (last?.version ?? 0) + 1;
    const row = await trx
      .insertInto('hubspot_field_mappings')
      .values({
        organization_id: organizationId,
        version,
        mapping: JSON.stringify(mapping),
        created_by: actor,
      })
      .returning(['created_at'])
      .executeTakeFirstOrThrow();
    await recordAudit(trx, {
      organizationId,
      actor,
      action: 'hubspot.field_mapping.update',
      target: `organization:${organizationId}`,
      outcome: 'success',
      details: { version, fields: mapping.fields.map((f) => f.field) },
    });
    return { version, mapping, createdBy: actor, createdAt: row.created_at };
  });
}

export async function primaryCompanyChoice(
  db: Kysely<DB>,
  organizationId: string,
  dealId: string,
): Promise<string | undefined> {
  const row = await db
    .selectFrom('hubspot_primary_company_choices')
    .select('company_id')
    .where('organization_id', '=', organizationId)
    .where('deal_id', '=', dealId)
    .executeTakeFirst();
  return row?.company_id;
}

export async function choosePrimaryCompanyFor(
  db: Kysely<DB>,
  organizationId: string,
  input: { dealId: string; companyId: string },
  actor: string,
): Promise<void> {
  const values = { company_id: input.companyId, chosen_by: actor, chosen_at: new Date() };
  await db.transaction().execute(async (trx) => {
    await trx
      .insertInto('hubspot_primary_company_choices')
      .values({ organization_id: organizationId, deal_id: input.dealId, ...values })
      .onConflict((oc) => oc.columns(['organization_id', 'deal_id']).doUpdateSet(values))
      .execute();
    await recordAudit(trx, {
      organizationId,
      actor,
      action: 'hubspot.primary_company.choose',
      target: `hubspot:deal:${input.dealId}`,
      outcome: 'success',
      details: { companyId: input.companyId },
    });
  });
}
