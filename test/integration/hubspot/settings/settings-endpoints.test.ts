import { describe, expect, it } from 'vitest';

import {
  ApiErrorSchema,
  RetryResultSchema,
  ReturnPathOptionsSchema,
  SettingsDataSchema,
  SettingsOptionsSchema,
} from '../../../../hubspot-app/app/settings/api-schemas.ts';
import { getHubSpotSettings } from '../../../../server/src/hubspot/legal-review/settings-store.ts';
import {
  keyShape,
  retryResult,
  savedOptionsMatching,
  savedReturnPath,
  settingsConnected,
  settingsNeedsReconnect,
  settingsNotConnected,
} from '../../../fixtures/hubspot-ui-extensions.ts';
import { startHubSpotTestEnv } from '../../../helpers/hubspot-env.ts';
import { createTestDatabase } from '../../../helpers/test-db.ts';

const database = await createTestDatabase();
const db = database.db;
const env = await startHubSpotTestEnv({ db });
const BASE = `${env.baseUrl}/api/v1/integrations/hubspot/settings`;

function call(
  portalId: string | number,
  method: 'GET' | 'PUT' | 'POST',
  path: string,
  body?: Record<string, unknown>,
) {
  return env.sandbox.control.signedCardFetch({
    portalId: Number(portalId),
    userId: 11,
    userEmail: 'admin@example.com',
    method,
    url: `${BASE}${path}`,
    ...(body !== undefined ? { body } : {}),
  });
}

async function failedSync(organizationId: string, portalId: string, dealId: string) {
  await db
    .insertInto('hubspot_deal_sync')
    .values({
      portal_id: portalId,
      deal_id: dealId,
      organization_id: organizationId,
      desired_status: 'in_review',
      desired_contract_url: `${env.baseUrl}/contracts/x`,
      state: 'failed',
      failure_cause: 'validation_error',
      last_error: 'HubSpot answered 400: Property values were not valid',
    })
    .execute();
}

describe('GET /api/v1/integrations/hubspot/settings', () => {
  it('answers the connection, the sync health with failures and the default options', async () => {
    const { organizationId, portalId } = await env.connectPortal({ name: 'Acme Legal' });
    await failedSync(organizationId, portalId, '555');
    const response = await call(portalId, 'GET', '');
    expect(response.status).toBe(200);
    const data = SettingsDataSchema.parse(response.body);
    expect(data.connection).toMatchObject({
      state: 'connected',
      portalId,
      organizationName: 'Acme Legal',
      installUrl: `${env.baseUrl}/api/v1/integrations/hubspot/auth`,
      manageUrl: `${env.baseUrl}/integrations`,
    });
    expect(data.health).toMatchObject({
      failedCount: 1,
      pendingCount: 0,
      causes: [{ cause: 'validation_error', count: 1 }],
    });
    expect(data.health?.failures).toEqual([
      expect.objectContaining({
        dealId: '555',
        cause: 'HubSpot answered 400: Property values were not valid',
      }),
    ]);
    expect(data.options).toEqual(settingsConnected.options);
    expect(keyShape(data)).toEqual(keyShape(settingsConnected));
  });

  it('answers not-connected (with the installer) for a portal no organization connected', async () => {
    const { portalId } = env.sandbox.control.createPortal({ name: 'Stranger' });
    const response = await call(portalId, 'GET', '');
    expect(response.status).toBe(200);
    const data = SettingsDataSchema.parse(response.body);
    expect(data).toMatchObject({
      connection: { state: 'not_connected', portalId: String(portalId), organizationName: null },
      health: null,
      options: null,
    });
    expect(keyShape(data)).toEqual(keyShape(settingsNotConnected));
  });

  it('answers needs-reconnect with the stored cause', async () => {
    const { portalId } = await env.connectPortal();
    await db
      .updateTable('organization_integrations')
      .set({
        status: 'needs_reconnect',
        last_error: 'HubSpot refused the refresh token (invalid_grant).',
      })
      .where('external_account_id', '=', portalId)
      .execute();
    const data = SettingsDataSchema.parse((await call(portalId, 'GET', '')).body);
    expect(data.connection).toMatchObject({
      state: 'needs_reconnect',
      lastError: 'HubSpot refused the refresh token (invalid_grant).',
    });
    expect(keyShape({ ...data, health: { ...data.health, causes: [], failures: [] } })).toEqual(
      keyShape(settingsNeedsReconnect),
    );
  });

  it('refuses an unsigned request', async () => {
    const { portalId } = await env.connectPortal();
    const response = await fetch(
      `${BASE}?userId=1&userEmail=a%40b.c&appId=${env.config.hubspot.appId}&portalId=${portalId}`,
    );
    expect(response.status).toBe(401);
  });
});

describe('PUT /api/v1/integrations/hubspot/settings/options', () => {
  it('saves the options of the signed portal’s organization and audits who did it', async () => {
    const { organizationId, portalId } = await env.connectPortal();
    const response = await call(portalId, 'PUT', '/options', savedOptionsMatching);
    expect(response.status).toBe(200);
    expect(SettingsOptionsSchema.parse(response.body)).toEqual(savedOptionsMatching);
    expect(await getHubSpotSettings(db, organizationId)).toEqual({
      ...savedOptionsMatching,
      writeBackFiles: true,
      timelineNotes: true,
    });
    const data = SettingsDataSchema.parse((await call(portalId, 'GET', '')).body);
    expect(data.options).toEqual(savedOptionsMatching);
    const audit = await db
      .selectFrom('audit_log')
      .select(['actor', 'action'])
      .where('organization_id', '=', organizationId)
      .where('action', '=', 'hubspot.settings.update')
      .execute();
    expect(audit).toEqual([{ actor: 'hubspot:user:11', action: 'hubspot.settings.update' }]);
  });

  it('refuses invalid options and changes nothing', async () => {
    const { organizationId, portalId } = await env.connectPortal();
    for (const body of [
      { closedLostBehavior: 'do_nothing', attachmentFilter: { mode: 'matching' } },
      { closedLostBehavior: 'explode', attachmentFilter: { mode: 'all' } },
      { closedLostBehavior: 'do_nothing', attachmentFilter: { mode: 'all' }, portalId: '1' },
    ]) {
      const response = await call(portalId, 'PUT', '/options', body);
      expect(response.status).toBe(400);
      expect(ApiErrorSchema.parse(response.body).error.code).toBe('invalid_request');
    }
    expect(await getHubSpotSettings(db, organizationId)).toEqual({
      ...settingsConnected.options,
      writeBackFiles: true,
      timelineNotes: true,
    });
  });

  it('refuses to save for a portal that is not connected', async () => {
    const { portalId } = env.sandbox.control.createPortal({ name: 'Stranger' });
    const response = await call(portalId, 'PUT', '/options', savedOptionsMatching);
    expect(response.status).toBe(409);
    expect(ApiErrorSchema.parse(response.body).error.code).toBe('hubspot_not_connected');
  });
});

describe('PUT /api/v1/integrations/hubspot/settings/return-path', () => {
  it('saves the write-back and timeline switches, keeps the options, and audits who did it', async () => {
    const { organizationId, portalId } = await env.connectPortal();
    expect(SettingsDataSchema.parse((await call(portalId, 'GET', '')).body).returnPath).toEqual({
      writeBackFiles: true,
      timelineNotes: true,
    });
    const response = await call(portalId, 'PUT', '/return-path', savedReturnPath);
    expect(response.status).toBe(200);
    expect(ReturnPathOptionsSchema.parse(response.body)).toEqual(savedReturnPath);
    expect(await getHubSpotSettings(db, organizationId)).toEqual({
      ...settingsConnected.options,
      ...savedReturnPath,
    });
    const data = SettingsDataSchema.parse((await call(portalId, 'GET', '')).body);
    expect(data.returnPath).toEqual(savedReturnPath);
    const audit = await db
      .selectFrom('audit_log')
      .select(['actor', 'details'])
      .where('organization_id', '=', organizationId)
      .where('action', '=', 'hubspot.settings.update')
      .execute();
    expect(audit).toEqual([{ actor: 'hubspot:user:11', details: savedReturnPath }]);
  });

  it('refuses invalid switches and changes nothing', async () => {
    const { organizationId, portalId } = await env.connectPortal();
    for (const body of [
      { writeBackFiles: 'no', timelineNotes: true },
      { writeBackFiles: false },
      { writeBackFiles: false, timelineNotes: false, portalId: '1' },
    ]) {
      const response = await call(portalId, 'PUT', '/return-path', body);
      expect(response.status).toBe(400);
      expect(ApiErrorSchema.parse(response.body).error.code).toBe('invalid_request');
    }
    const settings = await getHubSpotSettings(db, organizationId);
    expect([settings.writeBackFiles, settings.timelineNotes]).toEqual([true, true]);
  });
});

describe('POST /api/v1/integrations/hubspot/settings/retry-failed', () => {
  it('puts the portal’s failed deal syncs back to pending, and only those', async () => {
    const mine = await env.connectPortal();
    const other = await env.connectPortal();
    await failedSync(mine.organizationId, mine.portalId, '601');
    await failedSync(other.organizationId, other.portalId, '602');
    const response = await call(mine.portalId, 'POST', '/retry-failed');
    expect(response.status).toBe(200);
    expect(RetryResultSchema.parse(response.body)).toEqual(retryResult);
    const rows = await db
      .selectFrom('hubspot_deal_sync')
      .select(['deal_id', 'state', 'desired_status'])
      .where('deal_id', 'in', ['601', '602'])
      .orderBy('deal_id')
      .execute();
    expect(rows).toEqual([
      { deal_id: '601', state: 'pending', desired_status: 'in_review' },
      { deal_id: '602', state: 'failed', desired_status: 'in_review' },
    ]);
  });
});
