import { describe, expect, it } from 'vitest';
import { z } from 'zod';

import {
  AssociationsPageSchema,
  BatchResponseSchema,
  CrmObjectWithAssociationsSchema,
  FileMetadataSchema,
  HubSpotErrorSchema,
  PipelineListSchema,
  PropertyGroupSchema,
  PropertyListSchema,
  PropertySchema,
  SignedUrlSchema,
  parseAttachmentIds,
} from '../../server/src/hubspot/wire/index.ts';
import { SANDBOX_STAGE_IDS, expectedFileSha256 } from '../../sandbox/index.ts';
import { api, installedPortal, sandbox, testSandbox } from './helpers.ts';

/** The app reads less of a signed-url answer than the sandbox promises (`expiresAt`). */
const SignedUrlAnswer = SignedUrlSchema.extend({ expiresAt: z.string() });

const handle = await sandbox();

const STATUS_PROPERTY = {
  name: 'lexicontract_status',
  label: 'LexiContract status',
  type: 'enumeration',
  fieldType: 'select',
  groupName: 'lexicontract',
  options: ['pending_review', 'in_review', 'approved', 'cancelled'].map((value, i) => ({
    label: value,
    value,
    displayOrder: i,
    hidden: false,
  })),
};

async function provision(token: string): Promise<void> {
  expect(
    (
      await api(handle, token, 'POST', '/crm/properties/2026-03/deals/groups', {
        name: 'lexicontract',
        label: 'LexiContract',
      })
    ).status,
  ).toBe(201);
  expect(
    (await api(handle, token, 'POST', '/crm/properties/2026-03/deals', STATUS_PROPERTY)).status,
  ).toBe(201);
}

describe('deals', () => {
  it('gets a deal by 0-3 and by deals, with requested properties and note associations', async () => {
    const { portalId, accessToken } = installedPortal(handle);
    const deal = handle.control.createDeal(portalId, { dealname: 'Acme MSA', amount: '1000' });
    const { noteId } = handle.control.attachNoteWithFiles(portalId, deal.id, [{ name: 'a.pdf' }]);
    for (const type of ['0-3', 'deals']) {
      const result = await api(
        handle,
        accessToken,
        'GET',
        `/crm/objects/2026-03/${type}/${deal.id}?properties=dealname,amount&properties=closedate,nonexistent&associations=notes`,
      );
      expect(result.status).toBe(200);
      const body = CrmObjectWithAssociationsSchema.parse(result.body);
      expect(body.id).toBe(deal.id);
      expect(body.properties).toMatchObject({
        dealname: 'Acme MSA',
        amount: '1000',
        closedate: null,
        hs_object_id: deal.id,
      });
      expect(body.properties).not.toHaveProperty('nonexistent');
      const raw = result.body as { associations: { notes: { results: unknown[] } } };
      expect(raw.associations.notes.results).toEqual([{ id: noteId, type: 'deal_to_note' }]);
    }
    const defaults = CrmObjectWithAssociationsSchema.parse(
      (await api(handle, accessToken, 'GET', `/crm/objects/2026-03/deals/${deal.id}`)).body,
    );
    expect(Object.keys(defaults.properties)).toEqual(
      expect.arrayContaining(['dealname', 'amount', 'dealstage', 'pipeline', 'createdate']),
    );
    expect(defaults.associations).toBeUndefined();
  });

  it('404s an unknown deal with HubSpot’s envelope', async () => {
    const { accessToken } = installedPortal(handle);
    const result = await api(handle, accessToken, 'GET', '/crm/objects/2026-03/deals/123');
    expect(result.status).toBe(404);
    expect(HubSpotErrorSchema.parse(result.body)).toMatchObject({
      status: 'error',
      category: 'OBJECT_NOT_FOUND',
    });
    expect(HubSpotErrorSchema.parse(result.body).correlationId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('patches a deal and validates properties once the custom property exists', async () => {
    const { portalId, accessToken } = installedPortal(handle);
    const deal = handle.control.createDeal(portalId, { dealname: 'Patch me' });
    const unknown = await api(
      handle,
      accessToken,
      'PATCH',
      `/crm/objects/2026-03/deals/${deal.id}`,
      {
        properties: { lexicontract_status: 'in_review' },
      },
    );
    expect(unknown.status).toBe(400);
    const error = HubSpotErrorSchema.parse(unknown.body);
    expect(error.category).toBe('VALIDATION_ERROR');
    expect(error.errors?.[0]).toMatchObject({ code: 'PROPERTY_DOESNT_EXIST' });
    await provision(accessToken);
    const ok = await api(handle, accessToken, 'PATCH', `/crm/objects/2026-03/0-3/${deal.id}`, {
      properties: { lexicontract_status: 'in_review' },
    });
    expect(ok.status).toBe(200);
    expect(handle.control.getDeal(portalId, deal.id)?.properties.lexicontract_status).toBe(
      'in_review',
    );
    const badOption = await api(
      handle,
      accessToken,
      'PATCH',
      `/crm/objects/2026-03/deals/${deal.id}`,
      {
        properties: { lexicontract_status: 'bogus' },
      },
    );
    expect(badOption.status).toBe(400);
    expect(HubSpotErrorSchema.parse(badOption.body).errors?.[0]).toMatchObject({
      code: 'INVALID_OPTION',
    });
    const readOnly = await api(
      handle,
      accessToken,
      'PATCH',
      `/crm/objects/2026-03/deals/${deal.id}`,
      {
        properties: { hs_object_id: '5' },
      },
    );
    expect(readOnly.status).toBe(400);
    const notObject = await api(
      handle,
      accessToken,
      'PATCH',
      `/crm/objects/2026-03/deals/${deal.id}`,
      { props: 1 },
    );
    expect(HubSpotErrorSchema.parse(notObject.body).category).toBe('VALIDATION_ERROR');
  });

  it('batch reads deals: 200 when all exist, 207 with errors[] for missing ids', async () => {
    const { portalId, accessToken } = installedPortal(handle);
    const a = handle.control.createDeal(portalId, { dealname: 'A' });
    const b = handle.control.createDeal(portalId, { dealname: 'B' });
    const all = await api(handle, accessToken, 'POST', '/crm/objects/2026-03/deals/batch/read', {
      inputs: [{ id: a.id }, { id: b.id }],
      properties: ['dealname'],
      propertiesWithHistory: [],
    });
    expect(all.status).toBe(200);
    expect(
      BatchResponseSchema.parse(all.body)
        .results.map((r) => r.properties.dealname)
        .sort(),
    ).toEqual(['A', 'B']);
    const partial = await api(handle, accessToken, 'POST', '/crm/objects/2026-03/0-3/batch/read', {
      inputs: [{ id: a.id }, { id: '999' }],
      properties: ['dealname'],
      propertiesWithHistory: [],
    });
    expect(partial.status).toBe(207);
    const body = BatchResponseSchema.parse(partial.body);
    expect(body.results).toHaveLength(1);
    expect((partial.body as { numErrors?: number }).numErrors).toBe(1);
    expect(body.errors?.[0]).toMatchObject({
      category: 'OBJECT_NOT_FOUND',
      context: { ids: ['999'] },
    });
    // `BatchReadInputSimplePublicObjectId` requires `properties` and `propertiesWithHistory`.
    const incomplete = await api(
      handle,
      accessToken,
      'POST',
      '/crm/objects/2026-03/deals/batch/read',
      {
        inputs: [{ id: a.id }],
        properties: ['dealname'],
      },
    );
    expect(incomplete.status).toBe(400);
    expect(HubSpotErrorSchema.parse(incomplete.body).category).toBe('VALIDATION_ERROR');
  });

  it('batch updates ≤ 100 distinct deals, 207 for missing ids, 400 for duplicates, too many or bad values', async () => {
    const { portalId, accessToken } = installedPortal(handle);
    await provision(accessToken);
    const ids = Array.from(
      { length: 100 },
      (_, i) => handle.control.createDeal(portalId, { dealname: `D${i}` }).id,
    );
    const full = await api(handle, accessToken, 'POST', '/crm/objects/2026-03/deals/batch/update', {
      inputs: ids.map((id) => ({ id, properties: { lexicontract_status: 'approved' } })),
    });
    expect(full.status).toBe(200);
    BatchResponseSchema.parse(full.body);
    expect(full.body).toMatchObject({ status: 'COMPLETE' });
    expect(
      ids.every(
        (id) => handle.control.getDeal(portalId, id)?.properties.lexicontract_status === 'approved',
      ),
    ).toBe(true);
    const tooMany = await api(
      handle,
      accessToken,
      'POST',
      '/crm/objects/2026-03/deals/batch/update',
      {
        inputs: [...ids, ids[0]].map((id) => ({ id, properties: { dealname: 'x' } })),
      },
    );
    expect(tooMany.status).toBe(400);
    expect(HubSpotErrorSchema.parse(tooMany.body).category).toBe('VALIDATION_ERROR');
    const duplicate = await api(
      handle,
      accessToken,
      'POST',
      '/crm/objects/2026-03/deals/batch/update',
      {
        inputs: [ids[0], ids[0]].map((id) => ({ id, properties: { dealname: 'x' } })),
      },
    );
    expect(duplicate.status).toBe(400);
    expect(HubSpotErrorSchema.parse(duplicate.body).message).toContain('Duplicate');
    const badEnum = await api(
      handle,
      accessToken,
      'POST',
      '/crm/objects/2026-03/deals/batch/update',
      {
        inputs: [{ id: ids[1], properties: { lexicontract_status: 'nope' } }],
      },
    );
    expect(badEnum.status).toBe(400);
    expect(HubSpotErrorSchema.parse(badEnum.body).category).toBe('VALIDATION_ERROR');
    const missing = await api(
      handle,
      accessToken,
      'POST',
      '/crm/objects/2026-03/deals/batch/update',
      {
        inputs: [
          { id: ids[2], properties: { lexicontract_status: 'cancelled' } },
          { id: '424242', properties: { lexicontract_status: 'cancelled' } },
        ],
      },
    );
    expect(missing.status).toBe(207);
    const body = BatchResponseSchema.parse(missing.body);
    expect(body.results.map((r) => r.id)).toEqual([ids[2]]);
    expect(body.errors?.[0]?.context).toEqual({ ids: ['424242'] });
  });
});

describe('notes and files', () => {
  it('walks deal → notes (paged) → hs_attachment_ids → file metadata → signed URL → bytes', async () => {
    const { portalId, accessToken } = installedPortal(handle);
    const deal = handle.control.createDeal(portalId, { dealname: 'Files' });
    const first = handle.control.attachNoteWithFiles(portalId, deal.id, [
      { name: 'MSA.pdf', text: 'Master Services Agreement' },
      { name: 'DPA.docx' },
    ]);
    const second = handle.control.attachNoteWithFiles(portalId, deal.id, [
      { name: 'notes.txt', text: 'hello' },
    ]);

    const page1 = await api(
      handle,
      accessToken,
      'GET',
      `/crm/objects/2026-03/deals/${deal.id}/associations/notes?limit=1`,
    );
    const parsed1 = AssociationsPageSchema.parse(page1.body);
    expect(parsed1.results.map((r) => r.toObjectId)).toEqual([first.noteId]);
    // The app does not read association types; the sandbox still answers them.
    const raw1 = page1.body as { results: { associationTypes: unknown[] }[] };
    expect(raw1.results[0]?.associationTypes[0]).toMatchObject({
      category: 'HUBSPOT_DEFINED',
      typeId: 213,
    });
    const after = parsed1.paging?.next?.after ?? '';
    const page2 = AssociationsPageSchema.parse(
      (
        await api(
          handle,
          accessToken,
          'GET',
          `/crm/objects/2026-03/deals/${deal.id}/associations/notes?limit=1&after=${after}`,
        )
      ).body,
    );
    expect(page2.results.map((r) => r.toObjectId)).toEqual([second.noteId]);
    expect(page2.paging).toBeUndefined();

    const notes = await api(handle, accessToken, 'POST', '/crm/objects/2026-03/notes/batch/read', {
      inputs: [{ id: first.noteId }, { id: second.noteId }],
      properties: ['hs_attachment_ids'],
      propertiesWithHistory: [],
    });
    expect(notes.status).toBe(200);
    const byId = new Map(BatchResponseSchema.parse(notes.body).results.map((n) => [n.id, n]));
    expect(parseAttachmentIds(byId.get(first.noteId)?.properties.hs_attachment_ids)).toEqual(
      first.fileIds,
    );
    expect(byId.get(first.noteId)?.properties.hs_attachment_ids).toBe(first.fileIds.join(';'));

    const fileId = first.fileIds[0] ?? '';
    const meta = FileMetadataSchema.parse(
      (await api(handle, accessToken, 'GET', `/files/2026-03/files/${fileId}`)).body,
    );
    expect(meta).toMatchObject({
      id: fileId,
      name: 'MSA',
      extension: 'pdf',
      access: 'HIDDEN_PRIVATE',
      type: 'DOCUMENT',
    });
    const signed = SignedUrlAnswer.parse(
      (
        await api(
          handle,
          accessToken,
          'GET',
          `/files/2026-03/files/${fileId}/signed-url?expirationSeconds=60`,
        )
      ).body,
    );
    expect(signed.size).toBe(meta.size);
    expect(Date.parse(signed.expiresAt)).toBeGreaterThan(Date.now());
    const download = await fetch(signed.url);
    expect(download.status).toBe(200);
    expect(download.headers.get('content-type')).toBe('application/pdf');
    const bytes = Buffer.from(await download.arrayBuffer());
    expect(bytes.length).toBe(meta.size);
    expect(bytes.subarray(0, 5).toString()).toBe('%PDF-');
    const { createHash } = await import('node:crypto');
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(
      expectedFileSha256({ name: 'MSA.pdf', text: 'Master Services Agreement' }),
    );
    expect(await handle.control.fileSha256(portalId, fileId)).toBe(
      createHash('sha256').update(bytes).digest('hex'),
    );
  });

  it('answers 404 for a sensitive file and for a signed URL that never existed', async () => {
    const { portalId, accessToken } = installedPortal(handle);
    const deal = handle.control.createDeal(portalId, { dealname: 'Sensitive' });
    const { fileIds } = handle.control.attachNoteWithFiles(portalId, deal.id, [
      { name: 'payroll.pdf', access: 'HIDDEN_SENSITIVE' },
    ]);
    for (const path of [
      `/files/2026-03/files/${fileIds[0]}`,
      `/files/2026-03/files/${fileIds[0]}/signed-url`,
    ]) {
      const result = await api(handle, accessToken, 'GET', path);
      expect(result.status).toBe(404);
      expect(HubSpotErrorSchema.parse(result.body).category).toBe('OBJECT_NOT_FOUND');
    }
    expect((await fetch(`${handle.url}/signed-files/nope/x.pdf`)).status).toBe(404);
  });

  it('expires signed URLs', async () => {
    let now = Date.now();
    const clocked = await testSandbox({ clock: () => now });
    const { portalId, accessToken } = installedPortal(clocked);
    const deal = clocked.control.createDeal(portalId, { dealname: 'Expiring' });
    const { fileIds } = clocked.control.attachNoteWithFiles(portalId, deal.id, [{ name: 'x.pdf' }]);
    const signed = SignedUrlSchema.parse(
      (
        await api(
          clocked,
          accessToken,
          'GET',
          `/files/2026-03/files/${fileIds[0]}/signed-url?expirationSeconds=30`,
        )
      ).body,
    );
    now += 31_000;
    expect((await fetch(signed.url)).status).toBe(403);
  });
});

describe('properties and pipelines', () => {
  it('creates, reads and patches groups and properties; duplicates get 409', async () => {
    const { accessToken } = installedPortal(handle);
    await provision(accessToken);
    const dupGroup = await api(
      handle,
      accessToken,
      'POST',
      '/crm/properties/2026-03/deals/groups',
      {
        name: 'lexicontract',
        label: 'Again',
      },
    );
    expect(dupGroup.status).toBe(409);
    expect(HubSpotErrorSchema.parse(dupGroup.body).category).toBe('OBJECT_ALREADY_EXISTS');
    const dupProperty = await api(
      handle,
      accessToken,
      'POST',
      '/crm/properties/2026-03/deals',
      STATUS_PROPERTY,
    );
    expect(dupProperty.status).toBe(409);

    const group = PropertyGroupSchema.parse(
      (await api(handle, accessToken, 'GET', '/crm/properties/2026-03/deals/groups/lexicontract'))
        .body,
    );
    expect(group).toMatchObject({ name: 'lexicontract', label: 'LexiContract', archived: false });
    const renamed = await api(
      handle,
      accessToken,
      'PATCH',
      '/crm/properties/2026-03/deals/groups/lexicontract',
      {
        label: 'LexiContract AI',
      },
    );
    expect(PropertyGroupSchema.parse(renamed.body).label).toBe('LexiContract AI');

    const property = PropertySchema.parse(
      (await api(handle, accessToken, 'GET', '/crm/properties/2026-03/deals/lexicontract_status'))
        .body,
    );
    expect(property.options.map((o) => o.value)).toContain('in_review');
    const patched = await api(
      handle,
      accessToken,
      'PATCH',
      '/crm/properties/2026-03/deals/lexicontract_status',
      {
        options: [
          ...STATUS_PROPERTY.options,
          { label: 'Importing', value: 'importing', displayOrder: 9, hidden: false },
        ],
      },
    );
    expect(PropertySchema.parse(patched.body).options.map((o) => o.value)).toContain('importing');
    const list = PropertyListSchema.parse(
      (await api(handle, accessToken, 'GET', '/crm/properties/2026-03/deals')).body,
    );
    expect(list.results.map((p) => p.name)).toEqual(
      expect.arrayContaining(['dealname', 'lexicontract_status']),
    );
    const missing = await api(handle, accessToken, 'GET', '/crm/properties/2026-03/deals/nope');
    expect(missing.status).toBe(404);
    const badGroup = await api(handle, accessToken, 'POST', '/crm/properties/2026-03/deals', {
      ...STATUS_PROPERTY,
      name: 'other',
      groupName: 'missing',
    });
    expect(HubSpotErrorSchema.parse(badGroup.body).category).toBe('VALIDATION_ERROR');
  });

  it('lists the deal pipeline with Legal Review and a closed-lost stage', async () => {
    const { accessToken } = installedPortal(handle);
    const pipelines = PipelineListSchema.parse(
      (await api(handle, accessToken, 'GET', '/crm/pipelines/2026-03/deals')).body,
    );
    const stages = pipelines.results[0]?.stages ?? [];
    expect(stages.find((s) => s.label === 'Legal Review')?.id).toBe(SANDBOX_STAGE_IDS.legalReview);
    expect(stages.find((s) => s.id === 'closedlost')?.metadata).toEqual({
      isClosed: 'true',
      probability: '0.0',
    });
    const stagesOnly = await api(
      handle,
      accessToken,
      'GET',
      '/crm/pipelines/2026-03/deals/default/stages',
    );
    expect(stagesOnly.status).toBe(200);
  });
});

describe('callback completion', () => {
  it('records outputs with 204; unknown callbacks and other portals get 404', async () => {
    // The action target is not listening: the execution fails, but its callback is registered.
    const app = await testSandbox({ app: { actionUrl: 'http://127.0.0.1:9/unreachable' } });
    const { portalId, accessToken } = installedPortal(app);
    const deal = app.control.createDeal(portalId, { dealname: 'Callback' });
    const fired = await app.control.fireWorkflowAction(portalId, deal.id);
    expect(fired.status).toBe(0);
    const path = `/automation/actions/callbacks/2026-03/${fired.callbackId}/complete`;
    const outputFields = { hs_execution_state: 'SUCCESS', contractId: 'c-1' };
    const typedOutputs = {};
    const other = installedPortal(app);
    expect(
      (await api(app, other.accessToken, 'POST', path, { outputFields, typedOutputs })).status,
    ).toBe(404);
    // `CallbackCompletionRequest` requires `typedOutputs` as well as `outputFields`.
    const untyped = await api(app, accessToken, 'POST', path, { outputFields });
    expect(untyped.status).toBe(400);
    expect(app.control.callbackCompletions(fired.callbackId)).toEqual([]);
    expect((await api(app, accessToken, 'POST', path, { outputFields, typedOutputs })).status).toBe(
      204,
    );
    expect(app.control.callbackCompletions(fired.callbackId)).toEqual([
      expect.objectContaining({ callbackId: fired.callbackId, outputFields, portalId }),
    ]);
    const unknown = await api(
      app,
      accessToken,
      'POST',
      '/automation/actions/callbacks/2026-03/ap-unknown/complete',
      { outputFields, typedOutputs },
    );
    expect(unknown.status).toBe(404);
    const invalid = await api(app, accessToken, 'POST', path, { outputs: {} });
    expect(HubSpotErrorSchema.parse(invalid.body).category).toBe('VALIDATION_ERROR');
  });
});
