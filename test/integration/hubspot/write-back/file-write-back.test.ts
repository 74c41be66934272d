import { describe, expect, it } from 'vitest';

import { createApiKey } from '../../../../server/src/core/organizations/api-keys.ts';
import { withPortalToken } from '../../../../server/src/hubspot/client/access-tokens.ts';
import { hubspotAdapter } from '../../../../server/src/hubspot/adapter.ts';
import {
  writeBackFiles,
  type WriteBackFilesPayload,
} from '../../../../server/src/hubspot/legal-review/file-write-back.ts';
import { REQUIRED_SCOPES } from '../../../../server/src/hubspot/install/scopes.ts';
import {
  getContract,
  getContractDetail,
} from '../../../../server/src/core/contracts/contracts-service.ts';
import {
  writeTimelineNote,
  type TimelineNotePayload,
} from '../../../../server/src/hubspot/legal-review/timeline-notes.ts';
import { startHubSpotTestEnv } from '../../../helpers/hubspot-env.ts';
import { createTestDatabase } from '../../../helpers/test-db.ts';
import { waitFor } from '../../../helpers/wait-for.ts';
import { hubspotContract } from '../sync/sync-fixtures.ts';

/**
 * Issue 15 "done when", end to end against the sandbox over HTTP: legal uploads a reviewed
 * file through the REST API and approves; the worker writes it back (HubSpot Files upload,
 * a note on the deal attaching it); the file downloads byte-identical from the sandbox's
 * Files API; the decision lands on the deal's timeline and the report properties on the
 * deal; a replayed job adds nothing; a portal without the new scopes is skipped with a
 * re-authorization message while its status sync keeps working.
 */
const { db } = await createTestDatabase();
const env = await startHubSpotTestEnv({ db });
await env.startWorkers();
const control = env.sandbox.control;

const REVIEWED = Buffer.concat([
  Buffer.from('%PDF-1.7\n% reviewed by legal\n'),
  Buffer.from(Array.from({ length: 70_000 }, (_, i) => (i * 31) % 256)),
  Buffer.from('\n%%EOF\n'),
]);

function multipart(fileName: string, body: Buffer) {
  const boundary = '----lexicontract-test-boundary';
  const payload = Buffer.concat([
    Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${fileName}"\r\n` +
        'Content-Type: application/pdf\r\n\r\n',
    ),
    body,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  return { payload, headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } };
}

async function hubspotGet(portalId: string, path: string): Promise<unknown> {
  return withPortalToken(env.tokenDeps, portalId, async (token) => {
    const response = await fetch(`${env.sandbox.url}${path}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(response.status, path).toBe(200);
    return response.json();
  });
}

async function dealNotes(portalId: string, dealId: string) {
  const deal = (await hubspotGet(
    portalId,
    `/crm/objects/2026-03/deals/${dealId}?associations=notes`,
  )) as { associations?: { notes?: { results: { id: string }[] } } };
  const ids = deal.associations?.notes?.results.map((r) => r.id) ?? [];
  return Promise.all(
    ids.map(
      async (id) =>
        (await hubspotGet(
          portalId,
          `/crm/objects/2026-03/notes/${id}?properties=hs_note_body,hs_attachment_ids`,
        )) as { id: string; properties: Record<string, string | null> },
    ),
  );
}

async function reviewedContract(scopes?: string[]) {
  const { organizationId, portalId } = await env.connectPortal(scopes ? { scopes } : {});
  const { id: dealId } = control.createDeal(Number(portalId), { dealname: 'ACME MSA' });
  const contract = await hubspotContract(db, {
    organizationId,
    portalId,
    dealId,
    title: 'ACME MSA',
  });
  const key = await createApiKey(db, organizationId, 'legal');
  const auth = { authorization: `Bearer ${key.key}` };
  const upload = multipart('ACME MSA - reviewed.pdf', REVIEWED);
  const uploaded = await env.app.inject({
    method: 'POST',
    url: `/api/v1/contracts/${contract.id}/files`,
    headers: { ...auth, ...upload.headers },
    payload: upload.payload,
  });
  expect(uploaded.statusCode).toBe(201);
  const move = async (status: string) => {
    const response = await env.app.inject({
      method: 'PATCH',
      url: `/api/v1/contracts/${contract.id}`,
      headers: auth,
      payload: { negotiation_status: status },
    });
    expect(response.statusCode).toBe(200);
  };
  return {
    organizationId,
    portalId,
    dealId,
    contract,
    move,
    fileId: uploaded.json<{ id: string }>().id,
  };
}

const uploadsOf = (portalId: string) =>
  control
    .requestLog()
    .filter(
      (e) =>
        e.method === 'POST' &&
        e.path === '/files/2026-03/files' &&
        e.portalId === Number(portalId) &&
        e.status === 201,
    ).length;

describe('the reviewed paper written back to the deal', () => {
  it('uploads the reviewed file and attaches it to the deal through a note, once', async () => {
    const { organizationId, portalId, dealId, contract, move } = await reviewedContract();
    await move('in_review');
    await move('approved');

    // Two notes: the reviewed paper (with the file attached) and the decision on the timeline.
    const notes = await waitFor(async () => {
      const found = await dealNotes(portalId, dealId);
      return found.length >= 2 ? found : undefined;
    });
    expect(notes).toHaveLength(2);
    const note = notes.find((n) => (n.properties.hs_attachment_ids ?? '') !== '');
    const timeline = notes.find((n) => n !== note);
    expect(timeline?.properties.hs_note_body).toContain('legal decision on “ACME MSA”');
    expect(timeline?.properties.hs_note_body).toContain('Outcome: Approved, by api_key:');
    expect(note?.properties.hs_note_body).toContain('ACME MSA');
    expect(note?.properties.hs_note_body).toContain('Approved by api_key:');
    expect(note?.properties.hs_note_body).toContain(`/contracts/${contract.id}`);
    const attachmentIds = (note?.properties.hs_attachment_ids ?? '').split(';');
    expect(attachmentIds).toHaveLength(1);

    const metadata = (await hubspotGet(portalId, `/files/2026-03/files/${attachmentIds[0]}`)) as {
      access: string;
      path: string;
    };
    expect(metadata.access).toBe('PRIVATE');
    expect(metadata.path.startsWith('/LexiContract/')).toBe(true);
    const signed = (await hubspotGet(
      portalId,
      `/files/2026-03/files/${attachmentIds[0]}/signed-url`,
    )) as { url: string };
    const download = await fetch(signed.url);
    expect(download.status).toBe(200);
    expect(Buffer.from(await download.arrayBuffer()).equals(REVIEWED)).toBe(true);

    // The report-ready properties ride on the status's batch.
    const deal = await waitFor(() => {
      const d = control.getDeal(Number(portalId), dealId);
      return d?.properties.lexicontract_decision === 'approved' ? d : undefined;
    });
    const created = await getContract(db, organizationId, contract.id);
    expect(deal.properties).toMatchObject({
      lexicontract_status: 'approved',
      lexicontract_decision: 'approved',
      lexicontract_submitted_at: created.createdAt.toISOString(),
      lexicontract_open_contracts: '1',
    });
    expect(deal.properties.lexicontract_reviewer).toMatch(/^api_key:/);
    const decidedAt = Date.parse(deal.properties.lexicontract_decided_at ?? '');
    expect(decidedAt).toBeGreaterThanOrEqual(created.createdAt.getTime());
    expect(deal.properties.lexicontract_days_in_review).toBe(
      String(Math.round(((decidedAt - created.createdAt.getTime()) / 86_400_000) * 10) / 10),
    );

    // A replayed job (the same payload again) uploads nothing and writes no second note.
    await waitFor(
      async () =>
        (
          await db
            .selectFrom('hubspot_file_writebacks')
            .select('state')
            .where('contract_id', '=', contract.id)
            .executeTakeFirst()
        )?.state === 'written',
    );
    const uploadsBefore = uploadsOf(portalId);
    const payload: WriteBackFilesPayload = {
      organizationId,
      contractId: contract.id,
      portalId,
      dealId,
      decision: 'approved',
    };
    const deps = { db, tokenDeps: env.tokenDeps, publicBaseUrl: env.config.publicBaseUrl };
    await writeBackFiles(deps, payload);
    await writeBackFiles(deps, payload);
    expect(uploadsOf(portalId)).toBe(uploadsBefore);
    // The decision's timeline note replayed: written once.
    const change = (await getContractDetail(db, organizationId, contract.id)).history.at(-1);
    const timelinePayload: TimelineNotePayload = {
      organizationId,
      contractId: contract.id,
      portalId,
      dealId,
      event: { kind: 'decision', changeId: change?.id ?? 0 },
    };
    expect(await writeTimelineNote(deps, timelinePayload)).toBe('already_written');
    expect(await dealNotes(portalId, dealId)).toHaveLength(2);
  });

  it('skips a portal installed without the new scopes, saying to re-authorize, and still syncs the status', async () => {
    const { organizationId, portalId, dealId, contract, move } = await reviewedContract([
      ...REQUIRED_SCOPES,
    ]);
    await move('in_review');
    await move('approved');
    const row = await waitFor(() =>
      db
        .selectFrom('hubspot_file_writebacks')
        .selectAll()
        .where('contract_id', '=', contract.id)
        .where('state', '=', 'skipped')
        .executeTakeFirst(),
    );
    expect(row.last_error).toContain('re-authorize to write files back');
    const timelineRow = await waitFor(() =>
      db
        .selectFrom('hubspot_timeline_notes')
        .selectAll()
        .where('contract_id', '=', contract.id)
        .where('state', '=', 'skipped')
        .executeTakeFirst(),
    );
    expect(timelineRow.last_error).toContain('re-authorize');
    expect(uploadsOf(portalId)).toBe(0);
    expect(await dealNotes(portalId, dealId)).toHaveLength(0);

    await waitFor(
      () =>
        control.getDeal(Number(portalId), dealId)?.properties.lexicontract_status === 'approved',
    );
    const current = await getContract(db, organizationId, contract.id);
    const states = await hubspotAdapter.syncStates(db, organizationId, [current]);
    expect(states.get(contract.id)?.filesWriteBackProblem).toContain(
      're-authorize to write files back',
    );
    expect(states.get(contract.id)?.timelineProblem).toContain('re-authorize');

    // The card and the settings page say so, with the re-authorization link.
    const signed = (url: string) =>
      control.signedCardFetch({
        portalId: Number(portalId),
        userId: 5,
        userEmail: 'rep@example.com',
        method: 'GET',
        url,
      });
    const hub = `${env.baseUrl}/api/v1/integrations/hubspot`;
    const card = await signed(`${hub}/card?dealId=${dealId}`);
    expect(card.status).toBe(200);
    const settings = await signed(`${hub}/settings`);
    expect(settings.status).toBe(200);
    const cardNotice = (
      card.body as { writeBackNotice?: { message: string; reauthorizeUrl: string } }
    ).writeBackNotice;
    const settingsNotice = (
      settings.body as {
        connection: { writeBackNotice?: { message: string; reauthorizeUrl: string } };
      }
    ).connection.writeBackNotice;
    for (const notice of [cardNotice, settingsNotice]) {
      expect(notice?.message).toContain('re-authorize to write files back');
      expect(notice?.reauthorizeUrl).toBe(
        `${env.config.publicBaseUrl}/api/v1/integrations/hubspot/auth`,
      );
    }
  });

  it('shows no re-authorization notice to a portal that granted the scopes', async () => {
    const { portalId, dealId } = await reviewedContract();
    const card = await control.signedCardFetch({
      portalId: Number(portalId),
      userId: 5,
      userEmail: 'rep@example.com',
      method: 'GET',
      url: `${env.baseUrl}/api/v1/integrations/hubspot/card?dealId=${dealId}`,
    });
    expect(card.status).toBe(200);
    expect((card.body as { state: string }).state).toBe('ready');
    expect((card.body as { writeBackNotice?: unknown }).writeBackNotice).toBeUndefined();
  });
});
