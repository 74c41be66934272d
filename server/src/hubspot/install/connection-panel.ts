import {
  missingWriteBackScopes,
  REAUTHORIZE_MESSAGE,
  REAUTHORIZE_PATH,
} from '../legal-review/file-write-back.ts';
import type { Kysely } from 'kysely';

import {
  getOrganizationIntegration,
  toOrganizationIntegrationView,
} from '../../core/integrations/organization-integrations.ts';
import type { ConnectionPanel, PanelFact, PanelSection } from '../../crm/port.ts';
import type { DB } from '../../platform/db/schema.ts';
import { getSyncHealth, type SyncHealth } from '../outbox/health.ts';

const ROUTES = '/api/v1/integrations/hubspot';

function when(date: Date | null): string {
  return date ? `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC` : '—';
}

const STATUS_LABELS = {
  connected: 'Connected',
  needs_reconnect: 'Needs reconnect',
  disconnected: 'Disconnected',
  none: 'Not connected',
} as const;

function syncHealthSection(health: SyncHealth): PanelSection {
  const failed: PanelFact = {
    label: 'Failed',
    value:
      health.failedCount === 0
        ? { text: 'None', badge: 'ok' }
        : {
            text: String(health.failedCount),
            badge: 'bad',
            codes: health.failuresByCause.map((c) => `${c.cause} × ${c.count}`),
          },
    ...(health.failedCount > 0
      ? {
          action: {
            label: 'Retry failed',
            kind: 'post' as const,
            href: '/integrations/hubspot/retry-failed',
            style: 'secondary' as const,
          },
        }
      : {}),
  };
  return {
    title: 'Sync health',
    testId: 'sync-health',
    facts: [
      { label: 'Last update written to HubSpot', value: { text: when(health.lastOutboundAt) } },
      { label: 'Last update from HubSpot', value: { text: when(health.lastInboundAt) } },
      { label: 'Waiting to be written', value: { text: String(health.pendingCount) } },
      failed,
    ],
    ...(health.failedDeals.length > 0
      ? {
          table: {
            columns: ['Deal', 'Why', 'When'],
            rows: health.failedDeals.slice(0, 10).map((f) => [f.dealId, f.reason, when(f.at)]),
          },
        }
      : {}),
  };
}

/** The HubSpot card of the integrations page: connection, portal setup, sync health. */
export async function hubspotConnectionPanel(
  db: Kysely<DB>,
  organizationId: string,
): Promise<ConnectionPanel> {
  const row = await getOrganizationIntegration(db, organizationId, 'hubspot');
  const view = row ? toOrganizationIntegrationView(row) : undefined;
  const status = view?.status ?? 'none';
  const provisioning = row?.provisioning_status ?? 'pending';
  const health = view ? await getSyncHealth(db, organizationId) : undefined;

  const actions =
    status === 'connected'
      ? [
          {
            label: 'Disconnect',
            kind: 'post' as const,
            href: `${ROUTES}/disconnect`,
            style: 'danger' as const,
            confirm: 'The app is uninstalled from the portal; contracts stay in LexiContract.',
            testId: 'disconnect-hubspot',
          },
        ]
      : [
          {
            label: status === 'none' ? 'Connect HubSpot' : 'Reconnect HubSpot',
            kind: 'link' as const,
            href: `${ROUTES}/auth`,
            testId: 'connect-hubspot',
          },
        ];

  const facts: PanelFact[] = view
    ? [
        {
          label: 'Portal',
          testId: 'hubspot-portal',
          value: {
            text: `${view.externalAccountId ?? '—'}${view.externalAccountName ? ` · ${view.externalAccountName}` : ''}`,
          },
        },
        { label: 'Installed by', value: { text: view.installerEmail ?? '—' } },
        { label: 'Connected since', value: { text: when(view.connectedAt) } },
        ...(view.disconnectedAt && status === 'disconnected'
          ? [{ label: 'Disconnected', value: { text: when(view.disconnectedAt) } }]
          : []),
        {
          label: 'Granted scopes',
          value:
            view.grantedScopes.length > 0 ? { text: '', codes: view.grantedScopes } : { text: '—' },
        },
        ...(status === 'connected' && missingWriteBackScopes(view.grantedScopes).length > 0
          ? [
              {
                label: 'Files written back to deals',
                testId: 'hubspot-write-back-scopes',
                value: {
                  text: `Off: ${REAUTHORIZE_MESSAGE}`,
                  badge: 'warn' as const,
                  codes: missingWriteBackScopes(view.grantedScopes),
                  note: 'Reviewed files reach deals once the portal grants these scopes.',
                },
                action: {
                  label: 'Re-authorize',
                  kind: 'link' as const,
                  href: REAUTHORIZE_PATH,
                  testId: 'hubspot-reauthorize-write-back',
                },
              },
            ]
          : []),
        {
          label: 'Portal setup',
          testId: 'hubspot-provisioning',
          value:
            provisioning === 'done'
              ? { text: 'Done', badge: 'ok', note: 'LexiContract properties exist on deals' }
              : provisioning === 'failed'
                ? { text: 'Failed', badge: 'bad', note: row?.provisioning_error ?? '' }
                : { text: 'Pending', badge: 'plain' },
          ...(provisioning === 'failed' && status === 'connected'
            ? {
                action: {
                  label: 'Retry setup',
                  kind: 'post' as const,
                  href: `${ROUTES}/provisioning/retry`,
                  style: 'secondary' as const,
                },
              }
            : {}),
        },
        ...(view.lastError
          ? [
              {
                label: 'Last problem',
                value: { text: view.lastError, note: `(${when(view.lastErrorAt)})` },
              },
            ]
          : []),
      ]
    : [];

  return {
    status,
    statusLabel: STATUS_LABELS[status],
    pitch:
      "Connect a HubSpot portal to send deals to legal review from HubSpot and keep each deal's lexicontract_status up to date.",
    ...(status === 'needs_reconnect'
      ? {
          warning:
            'HubSpot no longer accepts this connection (the app was uninstalled or access was revoked). Deals are not synced until an admin reconnects.',
        }
      : {}),
    actions,
    facts,
    sections: health ? [syncHealthSection(health)] : [],
  };
}
