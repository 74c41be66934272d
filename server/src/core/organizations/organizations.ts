import type { Kysely } from 'kysely';

import type { DB, OrganizationRow } from '../../platform/db/schema.ts';
import { NotFoundError, ValidationError } from '../../platform/errors.ts';

export interface Organization {
  readonly id: string;
  readonly name: string;
  readonly createdAt: Date;
}

export function toOrganization(row: OrganizationRow): Organization {
  return { id: row.id, name: row.name, createdAt: row.created_at };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(value: string): boolean {
  return UUID.test(value);
}

export async function createOrganization(db: Kysely<DB>, name: string): Promise<Organization> {
  const trimmed = name.trim();
  if (trimmed.length === 0 || trimmed.length > 200) {
    throw new ValidationError(
      'Organization name must be 1 to 200 characters',
      undefined,
      'invalid_name',
    );
  }
  const row = await db
    .insertInto('organizations')
    .values({ name: trimmed })
    .returningAll()
    .executeTakeFirstOrThrow();
  return toOrganization(row);
}

export async function getOrganization(db: Kysely<DB>, id: string): Promise<Organization> {
  const row = isUuid(id)
    ? await db.selectFrom('organizations').selectAll().where('id', '=', id).executeTakeFirst()
    : undefined;
  if (!row) throw new NotFoundError('organization_not_found', `No organization with id ${id}`);
  return toOrganization(row);
}

export interface OrganizationListing extends Organization {
  /** External accounts linked to this organization, by integration (e.g. HubSpot portal ids). */
  readonly linkedAccounts: Record<string, string[]>;
}

export async function listOrganizations(db: Kysely<DB>): Promise<OrganizationListing[]> {
  const rows = await db
    .selectFrom('organizations as o')
    .leftJoin('organization_integrations as oi', (join) =>
      join.onRef('oi.organization_id', '=', 'o.id').on('oi.external_account_id', 'is not', null),
    )
    .select(['o.id', 'o.name', 'o.created_at', 'oi.integration_id', 'oi.external_account_id'])
    .orderBy('o.created_at')
    .execute();
  const byId = new Map<string, OrganizationListing>();
  for (const row of rows) {
    const existing = byId.get(row.id) ?? {
      id: row.id,
      name: row.name,
      createdAt: row.created_at,
      linkedAccounts: {},
    };
    if (row.integration_id && row.external_account_id) {
      (existing.linkedAccounts[row.integration_id] ??= []).push(row.external_account_id);
    }
    byId.set(row.id, existing);
  }
  return [...byId.values()];
}
