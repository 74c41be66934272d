import { describe, expect, it } from 'vitest';

import { HubSpotErrorSchema, RateLimitErrorSchema } from '../../server/src/hubspot/wire/index.ts';
import { api, installedPortal, sandbox, testSandbox } from './helpers.ts';

/**
 * The sandbox's CRM search over notes, as HubSpot documents it: a deal's notes found by the
 * `associations.deal` pseudo-property, paged, under its own 5-per-second limit (and outside
 * the ten-secondly one), with new notes found only after an indexing delay.
 */

const handle = await sandbox();
const SEARCH = '/crm/objects/2026-03/notes/search';

function byDeal(dealId: string, extra: Record<string, unknown> = {}) {
  return {
    filterGroups: [
      { filters: [{ propertyName: 'associations.deal', operator: 'EQ', value: dealId }] },
    ],
    properties: ['hs_attachment_ids'],
    sorts: [],
    limit: 100,
    after: '0',
    ...extra,
  };
}

describe('notes search', () => {
  it('finds the notes of one deal and only those, with the asked properties', async () => {
    const { portalId, accessToken } = installedPortal(handle);
    const deal = handle.control.createDeal(portalId, { dealname: 'Searched' });
    const other = handle.control.createDeal(portalId, { dealname: 'Other' });
    const mine = handle.control.attachNoteWithFiles(portalId, deal.id, [
      { name: 'MSA.pdf', text: 'Master services agreement' },
    ]);
    handle.control.attachNoteWithFiles(portalId, other.id, [{ name: 'NDA.pdf', text: 'NDA' }]);
    const result = await api(handle, accessToken, 'POST', SEARCH, byDeal(deal.id));
    expect(result.status).toBe(200);
    const body = result.body as {
      total: number;
      results: Array<{ id: string; properties: Record<string, string | null> }>;
    };
    expect(body.results.map((n) => n.properties.hs_attachment_ids)).toEqual([
      mine.fileIds.join(';'),
    ]);
    expect(body.total).toBe(1);
  });

  it('pages with after and paging.next', async () => {
    const { portalId, accessToken } = installedPortal(handle);
    const deal = handle.control.createDeal(portalId, { dealname: 'Many notes' });
    for (let i = 0; i < 3; i += 1) {
      handle.control.attachNoteWithFiles(portalId, deal.id, [
        { name: `F${String(i)}.pdf`, text: 'x' },
      ]);
    }
    const first = await api(handle, accessToken, 'POST', SEARCH, byDeal(deal.id, { limit: 2 }));
    const page = first.body as { results: unknown[]; paging?: { next: { after: string } } };
    expect(page.results).toHaveLength(2);
    expect(page.paging?.next.after).toBe('2');
    const rest = await api(
      handle,
      accessToken,
      'POST',
      SEARCH,
      byDeal(deal.id, { limit: 2, after: page.paging?.next.after }),
    );
    const last = rest.body as { results: unknown[]; paging?: unknown };
    expect(last.results).toHaveLength(1);
    expect(last.paging).toBeUndefined();
  });

  it('rejects what HubSpot rejects and what the sandbox does not serve, by name', async () => {
    const { accessToken } = installedPortal(handle);
    const cases: Array<[unknown, string]> = [
      [{ ...byDeal('1'), limit: 201 }, 'limit'],
      [{ filterGroups: [], properties: [], limit: 10 }, 'sorts'],
      [byDeal('1', { query: 'MSA' }), 'query'],
      [
        byDeal('1', {
          filterGroups: [
            { filters: [{ propertyName: 'hs_note_body', operator: 'EQ', value: 'x' }] },
          ],
        }),
        'hs_note_body',
      ],
      [
        byDeal('1', {
          filterGroups: [
            { filters: [{ propertyName: 'associations.deal', operator: 'GT', value: '1' }] },
          ],
        }),
        'GT',
      ],
    ];
    for (const [body, named] of cases) {
      const result = await api(handle, accessToken, 'POST', SEARCH, body);
      expect(result.status).toBe(400);
      expect(HubSpotErrorSchema.parse(result.body).message).toContain(named);
    }
  });

  it('needs a notes read scope', async () => {
    const { accessToken } = installedPortal(handle, ['oauth', 'crm.objects.deals.read']);
    const result = await api(handle, accessToken, 'POST', SEARCH, byDeal('1'));
    expect(result.status).toBe(403);
  });

  it('answers the sixth search in a second with a SECONDLY 429 and leaves the ten-secondly budget alone', async () => {
    const { portalId, accessToken } = installedPortal(handle);
    const deal = handle.control.createDeal(portalId, { dealname: 'Busy' });
    const statuses = await Promise.all(
      Array.from({ length: 6 }, async () => {
        const result = await api(handle, accessToken, 'POST', SEARCH, byDeal(deal.id));
        return { status: result.status, body: result.body };
      }),
    );
    expect(statuses.filter((s) => s.status === 200)).toHaveLength(5);
    const refused = statuses.find((s) => s.status === 429);
    expect(RateLimitErrorSchema.parse(refused?.body)).toMatchObject({
      policyName: 'SECONDLY',
      message: 'You have reached your secondly limit.',
    });
    // None of the six counted in the portal's 110 per 10 s.
    const read = await api(handle, accessToken, 'GET', `/crm/objects/2026-03/deals/${deal.id}`);
    expect(read.headers.get('x-hubspot-ratelimit-remaining')).toBe('109');
  });

  it('finds a new note only once it is indexed', async () => {
    let now = 1_800_000_000_000;
    const clocked = await testSandbox({ clock: () => now, searchIndexDelayMs: 2_000 });
    const { portalId, accessToken } = installedPortal(clocked);
    const deal = clocked.control.createDeal(portalId, { dealname: 'Fresh' });
    clocked.control.attachNoteWithFiles(portalId, deal.id, [{ name: 'A.pdf', text: 'a' }]);
    const early = await api(clocked, accessToken, 'POST', SEARCH, byDeal(deal.id));
    expect((early.body as { results: unknown[] }).results).toEqual([]);
    now += 2_000;
    const later = await api(clocked, accessToken, 'POST', SEARCH, byDeal(deal.id));
    expect((later.body as { results: unknown[] }).results).toHaveLength(1);
    // The control moves the delay for what is searched from now on.
    clocked.control.setSearchIndexDelay(10_000);
    const hidden = await api(clocked, accessToken, 'POST', SEARCH, byDeal(deal.id));
    expect((hidden.body as { results: unknown[] }).results).toEqual([]);
  });
});
