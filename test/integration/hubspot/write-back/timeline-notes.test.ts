import { afterAll, describe, expect, it } from 'vitest';

import { changeContractStatus } from '../../../../server/src/core/contracts/contracts-service.ts';
import { withPortalToken } from '../../../../server/src/hubspot/client/access-tokens.ts';
import { hubspotContractHooks } from '../../../../server/src/hubspot/legal-review/contract-hooks.ts';
import { requestLegalReview } from '../../../../server/src/hubspot/legal-review/import-service.ts';
import { saveReturnPathSettings } from '../../../../server/src/hubspot/legal-review/settings-store.ts';
import { writeTimelineNote } from '../../../../server/src/hubspot/legal-review/timeline-notes.ts';
import { startHubSpotTestEnv } from '../../../helpers/hubspot-env.ts';
import { createTestDatabase } from '../../../helpers/test-db.ts';
import { waitFor } from '../../../helpers/wait-for.ts';

/**
 * The deal's timeline (issue 15 item 5) against the sandbox: "sent to legal" with the files
 * and their SHA-256 once per contract (a re-send adds none), "new version sent" for a new
 * contract of the same deal, a decision note per decision, and nothing when switched off.
 */
const { db } = await createTestDatabase();
const env = await startHubSpotTestEnv({ db });
await env.startWorkers();
afterAll(async () => {
  await env.jobs.stop(5_000);
});
const control = env.sandbox.control;
const deps = { db, jobs: env.jobs, config: env.config };

async function hubspotGet(portalId: string, path: string): Promise<unknown> {
  return withPortalToken(env.tokenDeps, portalId, async (token) => {
    const response = await fetch(`${env.sandbox.url}${path}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(response.status, path).toBe(200);
    return response.json();
  });
}

/** The bodies of the deal's notes that LexiContract wrote (the timeline). */
async function timeline(portalId: string, dealId: string): Promise<string[]> {
  const deal = (await hubspotGet(
    portalId,
    `/crm/objects/2026-03/deals/${dealId}?associations=notes`,
  )) as { associations?: { notes?: { results: { id: string }[] } } };
  const bodies = await Promise.all(
    (deal.associations?.notes?.results ?? []).map(async (r) => {
      const note = (await hubspotGet(
        portalId,
        `/crm/objects/2026-03/notes/${r.id}?properties=hs_note_body`,
      )) as { properties: { hs_note_body?: string | null } };
      return note.properties.hs_note_body ?? '';
    }),
  );
  return bodies.filter((b) => b.startsWith('<p><strong>LexiContract:'));
}

async function rows(contractId: string) {
  return db
    .selectFrom('hubspot_timeline_notes')
    .select(['event_key', 'state', 'hubspot_note_id'])
    .where('contract_id', '=', contractId)
    .orderBy('event_key')
    .execute();
}

async function sentDeal() {
  const { organizationId, portalId } = await env.connectPortal();
  const { id: dealId } = control.createDeal(Number(portalId), { dealname: 'Globex MSA' });
  control.attachNoteWithFiles(Number(portalId), dealId, [
    { name: 'Globex MSA.pdf', text: 'Master services agreement' },
  ]);
  const request = {
    organizationId,
    portalId,
    dealId,
    trigger: 'card' as const,
    actor: 'hubspot:user:7',
  };
  return { organizationId, portalId, dealId, request };
}

describe('timeline notes on the deal', () => {
  it('notes "sent to legal" with the files and their hashes once, then "new version sent"', async () => {
    const { portalId, dealId, request } = await sentDeal();
    const first = await requestLegalReview(deps, request);
    await waitFor(async () => (await rows(first.contract.id))[0]?.state === 'written');
    const [file] = await db
      .selectFrom('contract_files')
      .select(['name', 'sha256'])
      .where('contract_id', '=', first.contract.id)
      .execute();
    expect(file?.sha256).toMatch(/^[0-9a-f]{64}$/);
    const [sent] = await timeline(portalId, dealId);
    expect(sent).toContain('sent to legal');
    expect(sent).toContain('hubspot:user:7');
    expect(sent).toContain(`Globex MSA.pdf (SHA-256 ${file?.sha256 ?? ''})`);

    // A re-send onto the open contract: imported again, noted once.
    await requestLegalReview(deps, request);
    await waitFor(async () => {
      const contract = await db
        .selectFrom('contracts')
        .select('import_state')
        .where('id', '=', first.contract.id)
        .executeTakeFirstOrThrow();
      return contract.import_state === 'complete';
    });
    // A new version: a second contract of the same deal.
    const next = await requestLegalReview(deps, { ...request, newVersion: true });
    await waitFor(async () => (await rows(next.contract.id))[0]?.state === 'written');
    expect((await rows(next.contract.id)).map((r) => r.event_key)).toEqual(['new_version_sent']);
    expect((await rows(first.contract.id)).map((r) => r.event_key)).toEqual(['sent_to_legal']);
    const notes = await timeline(portalId, dealId);
    expect(notes.filter((n) => n.includes('sent to legal'))).toHaveLength(1);
    expect(notes.filter((n) => n.includes('new version sent'))).toHaveLength(1);
  });

  it('notes each decision (who, when, outcome) once, and nothing once switched off', async () => {
    const { organizationId, portalId, dealId, request } = await sentDeal();
    const { contract } = await requestLegalReview(deps, request);
    await waitFor(async () => (await rows(contract.id)).length === 1);
    const move = (to: 'in_review' | 'approved' | 'signed') =>
      changeContractStatus(
        db,
        { organizationId, contractId: contract.id, to, source: 'api', actor: 'api_key:lxc_legal' },
        hubspotContractHooks(env.config, env.jobs),
      );
    await move('in_review');
    const approved = await move('approved');
    await waitFor(async () =>
      (await rows(contract.id)).some(
        (r) => r.state === 'written' && r.event_key.startsWith('decision:'),
      ),
    );
    const decision = (await timeline(portalId, dealId)).find((n) => n.includes('legal decision'));
    expect(decision).toContain('Outcome: Approved, by api_key:lxc_legal');
    expect(decision).toContain(approved.change.at.toISOString());
    // A replay of the same event writes nothing.
    const payload = {
      organizationId,
      contractId: contract.id,
      portalId,
      dealId,
      event: { kind: 'decision' as const, changeId: approved.change.id },
    };
    const noteDeps = { db, tokenDeps: env.tokenDeps, publicBaseUrl: env.config.publicBaseUrl };
    expect(await writeTimelineNote(noteDeps, payload)).toBe('already_written');

    await saveReturnPathSettings(
      db,
      organizationId,
      { writeBackFiles: true, timelineNotes: false },
      'test',
    );
    const signed = await move('signed');
    expect(
      await writeTimelineNote(noteDeps, {
        ...payload,
        event: { kind: 'decision', changeId: signed.change.id },
      }),
    ).toBe('off');
    await waitFor(
      () => control.getDeal(Number(portalId), dealId)?.properties.lexicontract_status === 'signed',
    );
    expect((await rows(contract.id)).map((r) => r.event_key)).toEqual([
      `decision:${String(approved.change.id)}`,
      'sent_to_legal',
    ]);
    expect(
      (await timeline(portalId, dealId)).filter((n) => n.includes('legal decision')),
    ).toHaveLength(1);
  });
});
