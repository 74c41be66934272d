import type { Kysely } from 'kysely';

import { findUsersForDisplay } from '../core/organizations/users.ts';
import type { DB } from '../platform/db/schema.ts';

/**
 * Who did something, as a person reads it. Actors are stored as `user:<uuid>`,
 * `hubspot:user:<id>`, `hubspot:portal:<id>[:workflow:<id>]`, `api_key:<prefix>`, `system`,
 * `cli`; the page shows one format: a name or email for our users and for HubSpot users we
 * know, otherwise a described kind with its id.
 */
const USER = /^user:([0-9a-f-]{36})$/;
const HUBSPOT_USER = /^hubspot:user(?:Id)?:([0-9]{1,20})$/;
const HUBSPOT_WORKFLOW = /^hubspot:portal:([0-9]{1,20}):workflow:([0-9A-Za-z_-]{1,40})$/;
const HUBSPOT_PORTAL = /^hubspot:portal:([0-9]{1,20})$/;
const API_KEY = /^api_key:([A-Za-z0-9_-]{1,40})$/;

export async function describeActors(
  db: Kysely<DB>,
  organizationId: string,
  actors: Iterable<string | null>,
): Promise<Map<string, string>> {
  const unique = [...new Set([...actors].filter((a): a is string => typeof a === 'string'))];
  const ids = unique.flatMap((a) => USER.exec(a)?.[1] ?? []);
  const hubspotUserIds = unique.flatMap((a) => HUBSPOT_USER.exec(a)?.[1] ?? []);
  const users = await findUsersForDisplay(db, organizationId, { ids, hubspotUserIds });
  const label = (u: { name: string | null; email: string }) =>
    u.name ? `${u.name} (${u.email})` : u.email;
  const described = new Map<string, string>();
  for (const actor of unique) {
    described.set(actor, describe(actor));
  }
  return described;

  function describe(actor: string): string {
    const user = USER.exec(actor);
    if (user) {
      const found = users.find((u) => u.id === user[1]);
      return found ? label(found) : 'A removed user';
    }
    const hubspotUser = HUBSPOT_USER.exec(actor);
    if (hubspotUser) {
      const found = users.find((u) => u.hubspotUserId === hubspotUser[1]);
      return found ? `${label(found)} in HubSpot` : `HubSpot user ${hubspotUser[1] ?? ''}`;
    }
    const workflow = HUBSPOT_WORKFLOW.exec(actor);
    if (workflow) return `HubSpot workflow ${workflow[2] ?? ''} (portal ${workflow[1] ?? ''})`;
    const portal = HUBSPOT_PORTAL.exec(actor);
    if (portal) return `HubSpot portal ${portal[1] ?? ''}`;
    const key = API_KEY.exec(actor);
    if (key) return `API key ${key[1] ?? ''}…`;
    if (actor === 'system') return 'LexiContract (automatic)';
    if (actor === 'cli') return 'Administrator (CLI)';
    return actor;
  }
}
