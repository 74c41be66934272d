import type { Kysely } from 'kysely';

import { recordAudit } from '../../core/audit/audit-log.ts';
import type { Keyring } from '../../platform/crypto/keyring.ts';
import type { DB } from '../../platform/db/schema.ts';
import {
  findIntegrationByExternalAccount,
  PortalLinkedToOtherOrganizationError,
  upsertOrganizationIntegration,
} from '../../core/integrations/organization-integrations.ts';
import { createOrganization } from '../../core/organizations/organizations.ts';
import { findOrCreateUser } from '../../core/organizations/users.ts';
import type { TokenSet } from '../client/token-endpoint.ts';

/**
 * Decides which LexiContract organization a finished HubSpot install belongs to, and stores
 * the connection. Started from a signed-in session: that organization. Started from the
 * marketplace with no session: the organization already linked to the portal (re-link), or
 * a new one named after the portal. A portal linked to another organization is refused,
 * never moved.
 */
export interface InstalledPortal {
  readonly portalId: string;
  readonly portalDomain: string | undefined;
  readonly installerEmail: string | undefined;
  readonly installerUserId: string | undefined;
  readonly scopes: readonly string[];
}

export interface InstallOutcome {
  readonly organizationId: string;
  readonly userId: string;
  readonly integrationId: string;
  readonly reconnected: boolean;
  readonly createdOrganization: boolean;
}

export async function completeInstall(
  db: Kysely<DB>,
  keyring: Keyring,
  input: { sessionOrganizationId: string | null; portal: InstalledPortal; tokens: TokenSet },
): Promise<InstallOutcome> {
  const { portal, tokens } = input;
  return db.transaction().execute(async (trx) => {
    const existing = await findIntegrationByExternalAccount(trx, 'hubspot', portal.portalId);
    let organizationId = input.sessionOrganizationId;
    let createdOrganization = false;
    if (organizationId && existing && existing.organization_id !== organizationId) {
      throw new PortalLinkedToOtherOrganizationError('hubspot', portal.portalId);
    }
    if (!organizationId) {
      if (existing) {
        organizationId = existing.organization_id;
      } else {
        organizationId = (
          await createOrganization(trx, portal.portalDomain ?? `HubSpot portal ${portal.portalId}`)
        ).id;
        createdOrganization = true;
      }
    }
    const user = await findOrCreateUser(trx, {
      organizationId,
      email:
        portal.installerEmail ??
        `hubspot-user-${portal.installerUserId ?? 'unknown'}@${portal.portalId}.hubspot`,
      hubspotUserId: portal.installerUserId ?? null,
    });
    const view = await upsertOrganizationIntegration(trx, keyring, {
      organizationId,
      integrationId: 'hubspot',
      externalAccountId: portal.portalId,
      externalAccountName: portal.portalDomain ?? null,
      accessToken: tokens.accessToken,
      refreshToken: tokens.refreshToken,
      accessTokenExpiresAt: tokens.expiresAt,
      grantedScopes: portal.scopes,
      installerUserId: portal.installerUserId ?? null,
      installerEmail: portal.installerEmail ?? null,
    });
    await trx
      .updateTable('organization_integrations')
      .set({ provisioning_status: 'pending', provisioning_error: null })
      .where('id', '=', view.id)
      .execute();
    const reconnected = existing !== undefined;
    await recordAudit(trx, {
      organizationId,
      actor: `hubspot:user:${portal.installerUserId ?? 'unknown'}`,
      action: reconnected ? 'hubspot.reconnected' : 'hubspot.connected',
      target: `hubspot:portal:${portal.portalId}`,
      outcome: 'success',
      details: {
        scopes: portal.scopes,
        createdOrganization,
        installer: portal.installerEmail ?? null,
      },
    });
    return {
      organizationId,
      userId: user.id,
      integrationId: view.id,
      reconnected,
      createdOrganization,
    };
  });
}
