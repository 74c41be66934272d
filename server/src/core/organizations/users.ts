import type { Kysely } from 'kysely';

import type { DB } from '../../platform/db/schema.ts';

export interface User {
  readonly id: string;
  readonly organizationId: string;
  readonly email: string;
  readonly name: string | null;
}

/** Finds the organization's user with this email or creates it (emails compare lowercased). */
export async function findOrCreateUser(
  db: Kysely<DB>,
  input: {
    organizationId: string;
    email: string;
    name?: string | null;
    hubspotUserId?: string | null;
  },
): Promise<User> {
  const email = input.email.trim().toLowerCase();
  const row = await db
    .insertInto('users')
    .values({
      organization_id: input.organizationId,
      email,
      name: input.name ?? null,
      hubspot_user_id: input.hubspotUserId ?? null,
    })
    .onConflict((oc) =>
      oc.columns(['organization_id', 'email']).doUpdateSet((eb) => ({
        name: eb.fn.coalesce(eb.ref('excluded.name'), eb.ref('users.name')),
        hubspot_user_id: eb.fn.coalesce(
          eb.ref('excluded.hubspot_user_id'),
          eb.ref('users.hubspot_user_id'),
        ),
      })),
    )
    .returning(['id', 'organization_id', 'email', 'name'])
    .executeTakeFirstOrThrow();
  return { id: row.id, organizationId: row.organization_id, email: row.email, name: row.name };
}

/** The organization's users by id and by HubSpot user id, for showing who did something. */
export async function findUsersForDisplay(
  db: Kysely<DB>,
  organizationId: string,
  input: { ids: readonly string[]; hubspotUserIds: readonly string[] },
): Promise<(User & { hubspotUserId: string | null })[]> {
  if (input.ids.length === 0 && input.hubspotUserIds.length === 0) return [];
  const rows = await db
    .selectFrom('users')
    .select(['id', 'organization_id', 'email', 'name', 'hubspot_user_id'])
    .where('organization_id', '=', organizationId)
    .where((eb) =>
      eb.or([
        ...(input.ids.length > 0 ? [eb('id', 'in', [...input.ids])] : []),
        ...(input.hubspotUserIds.length > 0
          ? [eb('hubspot_user_id', 'in', [...input.hubspotUserIds])]
          : []),
      ]),
    )
    .execute();
  return rows.map((r) => ({
    id: r.id,
    organizationId: r.organization_id,
    email: r.email,
    name: r.name,
    hubspotUserId: r.hubspot_user_id,
  }));
}
