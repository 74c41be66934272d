import { describe, expect, it } from 'vitest';

import { api, installedPortal, sandbox } from './helpers.ts';

const handle = await sandbox();

describe('date versions', () => {
  it('serves a deal in 2026-03 and 2026-09 alike', async () => {
    const { portalId, accessToken } = installedPortal(handle);
    const deal = handle.control.createDeal(portalId, { dealname: 'Versions' });
    for (const version of ['2026-03', '2026-09']) {
      const read = await api(
        handle,
        accessToken,
        'GET',
        `/crm/objects/${version}/deals/${deal.id}`,
      );
      expect(read.status).toBe(200);
      expect(read.body).toMatchObject({ id: deal.id, properties: { dealname: 'Versions' } });
    }
  });

  it('answers 404 for endpoints the 2026-09 documents do not have, and unknown versions', async () => {
    const { portalId, accessToken } = installedPortal(handle);
    const deal = handle.control.createDeal(portalId, { dealname: 'Versions' });
    const { fileIds } = handle.control.attachNoteWithFiles(portalId, deal.id, [
      { name: 'a.pdf', text: 'a' },
    ]);
    const fileId = fileIds[0] ?? '';
    expect((await api(handle, accessToken, 'GET', `/files/2026-03/files/${fileId}`)).status).toBe(
      200,
    );
    for (const path of [
      `/files/2026-09/files/${fileId}`,
      `/files/2026-09/files/${fileId}/signed-url`,
      `/crm/objects/2026-09/deals/${deal.id}/associations/notes`,
      `/crm/objects/2025-09/deals/${deal.id}`,
    ]) {
      expect((await api(handle, accessToken, 'GET', path)).status, path).toBe(404);
    }
  });
});
