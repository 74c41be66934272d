import { describe, expect, it } from 'vitest';

import { CardDataSchema, type CardReady } from '../../../../hubspot-app/app/cards/api-schemas.ts';
import { startHubSpotTestEnv } from '../../../helpers/hubspot-env.ts';
import { createTestDatabase } from '../../../helpers/test-db.ts';
import { hubspotPaths } from '../../../../server/src/hubspot/wire/api-versions.ts';

/**
 * The HubSpot calls one card load makes (counted in the sandbox's request log): a first load
 * reads the deal with its note ids and, beside it, searches the deal's notes, then reads each
 * file's metadata; notes the search did not bring are read by id. A repeat load within the
 * caches' minute makes ONE call, the deal read (the ownership check, which also brings the
 * current note ids), so a portal's 110 calls per 10 s serve 11 loads/s.
 * Two loads of one deal at the same moment (a deal page shows the tab and the sidebar card)
 * share one set of reads.
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

/** A connected portal with a deal whose one note carries one file (MSA.pdf). */
async function dealWithOneFile(dealname: string) {
  const { portalId } = await env.connectPortal();
  const deal = control.createDeal(Number(portalId), { dealname });
  const { fileIds } = control.attachNoteWithFiles(Number(portalId), deal.id, [
    { name: 'MSA.pdf', text: 'Master services agreement' },
  ]);
  return { portalId, deal, fileIds };
}

describe('card load HubSpot calls', () => {
  it('a first load reads the deal beside a notes search, then each file; a repeat reads only the deal', async () => {
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
        `POST ${hubspotPaths.notesSearch()}`,
        ...fileIds.map((id) => `GET ${hubspotPaths.file(id)}`),
      ].sort(),
    );

    const second = await loadCard(portalId, deal.id);
    expect(ready(second.response.body).attachments.map((a) => a.id)).toEqual(fileIds);
    expect(second.calls).toEqual([`GET ${hubspotPaths.deal(deal.id)}`]);
  });

  it('the tab and the sidebar card opening the same deal at once share one set of reads', async () => {
    const { portalId, deal, fileIds } = await dealWithOneFile('Deal page');
    // The deal read answers slowly, so the second load starts while the first still waits.
    control.injectFault({ path: hubspotPaths.deal(deal.id), latencyMs: 400 });
    const since = Date.now();
    const [tab, sidebar] = await Promise.all([
      loadCard(portalId, deal.id),
      loadCard(portalId, deal.id),
    ]);
    for (const load of [tab, sidebar]) {
      expect(load.response.status).toBe(200);
      expect(ready(load.response.body).attachments.map((a) => a.id)).toEqual(fileIds);
    }
    const calls = control
      .requestLog({ since })
      .filter((e) => e.portalId === Number(portalId))
      .map((e) => `${e.method} ${e.path.replace(/\?.*$/, '')}`);
    expect(calls.sort()).toEqual(
      [
        `GET ${hubspotPaths.deal(deal.id)}`,
        `POST ${hubspotPaths.notesSearch()}`,
        `GET ${hubspotPaths.file(fileIds[0] ?? '')}`,
      ].sort(),
    );
  });

  it('reads the files of the searched notes while a slow deal read is still out', async () => {
    const { portalId, deal, fileIds } = await dealWithOneFile('Slow deal read');
    control.injectFault({ path: hubspotPaths.deal(deal.id), latencyMs: 400 });
    const load = await loadCard(portalId, deal.id);
    expect(ready(load.response.body).attachments.map((a) => a.id)).toEqual(fileIds);
    // The log is in order of answers: the file's metadata came back before the deal did.
    expect(load.calls).toEqual([
      `POST ${hubspotPaths.notesSearch()}`,
      `GET ${hubspotPaths.file(fileIds[0] ?? '')}`,
      `GET ${hubspotPaths.deal(deal.id)}`,
    ]);
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

  it('a note the search has not indexed yet is read by id, so a just-logged file is listed', async () => {
    const { portalId } = await env.connectPortal();
    const deal = control.createDeal(Number(portalId), { dealname: 'Fresh note deal' });
    const older = control.attachNoteWithFiles(Number(portalId), deal.id, [
      { name: 'MSA.pdf', text: 'Master services agreement' },
    ]);
    // HubSpot's search shows new records late: the note logged now is not found by it for
    // 1.5 s, the one logged 1.6 s ago is.
    await new Promise((resolve) => setTimeout(resolve, 1_600));
    control.setSearchIndexDelay(1_500);
    try {
      const fresh = control.attachNoteWithFiles(Number(portalId), deal.id, [
        { name: 'Order form.pdf', text: 'Order form' },
      ]);
      const load = await loadCard(portalId, deal.id);
      expect(ready(load.response.body).attachments.map((a) => a.id)).toEqual([
        ...older.fileIds,
        ...fresh.fileIds,
      ]);
      // The search brought the older note; the fresh one was read by id.
      expect(load.calls.filter((c) => c.includes('/notes/')).sort()).toEqual(
        [`POST ${hubspotPaths.notesBatchRead()}`, `POST ${hubspotPaths.notesSearch()}`].sort(),
      );
    } finally {
      control.setSearchIndexDelay(0);
    }
  });

  it('with the portal’s search budget taken, cold loads read the notes by id and see no 429', async () => {
    const { portalId } = await env.connectPortal();
    const deals = Array.from({ length: 7 }, (_, i) => {
      const deal = control.createDeal(Number(portalId), { dealname: `Burst ${String(i)}` });
      control.attachNoteWithFiles(Number(portalId), deal.id, [
        { name: `MSA ${String(i)}.pdf`, text: 'Master services agreement' },
      ]);
      return deal;
    });
    const since = Date.now();
    const loads = await Promise.all(deals.map((deal) => loadCard(portalId, deal.id)));
    for (const load of loads) {
      expect(load.response.status).toBe(200);
      expect(ready(load.response.body).attachments).toHaveLength(1);
    }
    const log = control.requestLog({ since }).filter((e) => e.portalId === Number(portalId));
    const searches = log.filter((e) => e.path.startsWith(hubspotPaths.notesSearch()));
    const byId = log.filter((e) => e.path.startsWith(hubspotPaths.notesBatchRead()));
    // HubSpot allows 5 searches per second per portal; the app takes at most 4 of them.
    expect(searches.length).toBeLessThanOrEqual(4);
    expect(searches.length + byId.length).toBe(deals.length);
    expect(log.filter((e) => e.status === 429)).toEqual([]);
  });

  it('a 429 from the search is not taken for the portal’s limit: the load goes on by id', async () => {
    const { portalId, deal, fileIds } = await dealWithOneFile('Search refused');
    control.injectFault({ path: hubspotPaths.notesSearch(), status: 429 });
    const load = await loadCard(portalId, deal.id);
    expect(ready(load.response.body).attachments.map((a) => a.id)).toEqual(fileIds);
    expect(load.calls).toContain(`POST ${hubspotPaths.notesBatchRead()}`);
    const pauses = await db
      .selectFrom('hubspot_rate_pauses')
      .select('portal_id')
      .where('portal_id', '=', portalId)
      .execute();
    expect(pauses).toEqual([]);
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
