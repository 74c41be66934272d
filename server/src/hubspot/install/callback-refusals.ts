import type { FastifyBaseLogger } from 'fastify';
import type { Kysely } from 'kysely';

import { recordAudit } from '../../core/audit/audit-log.ts';
import type { DB } from '../../platform/db/schema.ts';
import type { InstallStarter } from './install-state.ts';

/**
 * Where a refused or failed install callback is recorded. When the install belongs to an
 * organization (started by one of its signed-in users), in that organization's audit log.
 * When no organization is known (a bogus callback, a marketplace install that went wrong),
 * in the log and a counter: the audit log is append-only and per customer, so anonymous
 * rows there could be neither attributed nor deleted, and anyone could add them.
 */

const anonymousRefusals = new Map<string, number>();

/** Anonymous callback refusals counted in this process, by reason (a metrics counter). */
export function anonymousCallbackRefusals(): Readonly<Record<string, number>> {
  return Object.fromEntries(anonymousRefusals);
}

export async function recordCallbackRefusal(
  db: Kysely<DB>,
  log: FastifyBaseLogger,
  entry: {
    readonly starter: InstallStarter | null;
    readonly action: 'hubspot.oauth.callback' | 'hubspot.oauth.exchange';
    readonly outcome: 'refused' | 'failure';
    readonly reason: string;
    readonly target?: string;
  },
): Promise<void> {
  const organizationId = entry.starter?.organizationId ?? null;
  if (organizationId !== null) {
    const userId = entry.starter?.userId ?? null;
    await recordAudit(db, {
      organizationId,
      actor: userId ? `user:${userId}` : 'anonymous',
      action: entry.action,
      target: entry.target ?? null,
      outcome: entry.outcome,
      details: { reason: entry.reason },
    });
    return;
  }
  const key = `${entry.action}:${entry.reason}`;
  const count = (anonymousRefusals.get(key) ?? 0) + 1;
  anonymousRefusals.set(key, count);
  log.warn(
    { action: entry.action, reason: entry.reason, countInProcess: count },
    'anonymous HubSpot install callback refused',
  );
}
