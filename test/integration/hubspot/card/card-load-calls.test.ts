import { describe, expect, it } from 'vitest';

import { CardDataSchema, type CardReady } from '../../../../hubspot-app/app/cards/api-schemas.ts';
import { startHubSpotTestEnv } from '../../../helpers/hubspot-env.ts';
import { createTestDatabase } from '../../../helpers/test-db.ts';
import { hubspotPaths } from '../../../../server/src/hubspot/wire/api-versions.ts';

/**
 * The HubSpot calls one card load makes (counted in the sandbox's request log): a first load
 * reads the deal with its note ids in one call, then the notes, then each file's metadata; a
 * repeat load within the caches' minute makes ONE call, the deal read (the ownership check,
 * which also brings the current note ids), so a portal's 110 calls per 10 s serve 11 loads/s.
 */

const { db } = await createTestDatabase();
const env = await startHubSpotTestEnv({ db });
const control = env.sandbox.control;
const CARD = `${env.baseUrl}/api/v1/integrations/hubspot/card`;

async function loadCard(portalId: string, dealId: string) {
  const since = Date.now();
  const response = await control.signedCardFetch({
    portalId: Number(portalId),
    userId: 7,
    userEmail: 'rep7@example.com',
    method: 'GET',
    url: `${CARD}?dealId=${dealId}`,
  });
  const calls = control
    .requestLog({ since })
    .filter((e) => e.portalId === Number(portalId))
    .map((e) => `${e.method} ${e.path.replace(/\?.*$/, '')}`);
  return { response, calls };
}

function ready(body: unknown): CardReady {
  const data = CardDataSchema.parse(body);
  if (data.state !== 'ready') throw new Error(`expected the ready state, got ${data.state}`);
  return data;
}

describe('card load HubSpot calls', () => {
  it('a first load reads deal+notes ids, the notes and each file; a repeat reads only the deal', async () => {
    const { portalId } = await env.connectPortal();
    const deal = control.createDeal(Number(portalId), { dealname: 'Calls deal' });
    const { fileIds } = control.attachNoteWithFiles(Number(portalId), deal.id, [
      { name: 'MSA.pdf', text: 'Master services agreement' },
      { name: 'SOW.pdf', text: 'Statement of work' },
    ]);

    const first = await loadCard(portalId, deal.id);
    expect(first.response.status).toBe(200);
    expect(ready(first.response.body).attachments.map((a) => a.id)).toEqual(fileIds);
    expect(first.calls.filter((c) => c.includes('/associations/'))).toEqual([]);
    expect(first.calls.sort()).toEqual(
      [
        `GET ${hubspotPaths.deal(deal.id)}`,
        `POST ${hubspotPaths.notesBatchRead()}`,
        ...fileIds.map((id) => `GET ${hubspotPaths.file(id)}`),
      ].sort(),
    );

    const second = await loadCard(portalId, deal.id);
    expect(ready(second.response.body).attachments.map((a) => a.id)).toEqual(fileIds);
    expect(second.calls).toEqual([`GET ${hubspotPaths.deal(deal.id)}`]);
  });

  it('a note added since the last load shows its files on the next load', async () => {
    const { portalId } = await env.connectPortal();
    const deal = control.createDeal(Number(portalId), { dealname: 'Growing deal' });
    const first = control.attachNoteWithFiles(Number(portalId), deal.id, [
      { name: 'MSA.pdf', text: 'Master services agreement' },
    ]);
    expect(ready((await loadCard(portalId, deal.id)).response.body).attachments).toHaveLength(1);

    const added = control.attachNoteWithFiles(Number(portalId), deal.id, [
      { name: 'Amendment.pdf', text: 'Amendment' },
    ]);
    const next = await loadCard(portalId, deal.id);
    expect(ready(next.response.body).attachments.map((a) => a.id)).toEqual([
      ...first.fileIds,
      ...added.fileIds,
    ]);
    // Only the new note and the new file's metadata are read.
    expect(next.calls.filter((c) => c.startsWith('GET /files/'))).toEqual(
      added.fileIds.map((id) => `GET ${hubspotPaths.file(id)}`),
    );
    expect(next.calls.filter((c) => c.includes('/notes/'))).toEqual([
      `POST ${hubspotPaths.notesBatchRead()}`,
    ]);
  });

  it('a deal deleted since the last load is not found, and nothing of it is shown', async () => {
    const { portalId } = await env.connectPortal();
    const deal = control.createDeal(Number(portalId), { dealname: 'Doomed deal' });
    control.attachNoteWithFiles(Number(portalId), deal.id, [{ name: 'MSA.pdf', text: 'MSA' }]);
    expect((await loadCard(portalId, deal.id)).response.status).toBe(200);

    control.deleteDeal(Number(portalId), deal.id);
    const after = await loadCard(portalId, deal.id);
    expect(after.response.status).toBe(404);
    expect(JSON.stringify(after.response.body)).not.toContain('MSA');
  });

  it('the same deal id in another portal is not served from the first portal’s load', async () => {
    const a = await env.connectPortal();
    const deal = control.createDeal(Number(a.portalId), { dealname: 'Portal A deal' });
    control.attachNoteWithFiles(Number(a.portalId), deal.id, [{ name: 'Secret.pdf', text: 'x' }]);
    expect((await loadCard(a.portalId, deal.id)).response.status).toBe(200);

    const b = await env.connectPortal();
    const other = await loadCard(b.portalId, deal.id);
    expect(other.response.status).toBe(404);
    expect(JSON.stringify(other.response.body)).not.toContain('Secret');
  });
});
