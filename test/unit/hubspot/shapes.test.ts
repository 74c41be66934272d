import { describe, expect, it } from 'vitest';

import {
  AssociationsPageSchema,
  BatchUpdateInputSchema,
  TokenIntrospectionSchema,
  TokenRequestSchema,
  WebhookEventBatchSchema,
  WorkflowActionExecutionSchema,
  isClosedStage,
  parseAttachmentIds,
} from '../../../server/src/hubspot/wire/index.ts';

describe('HubSpot shapes', () => {
  it('splits hs_attachment_ids', () => {
    expect(parseAttachmentIds('67890;123456')).toEqual(['67890', '123456']);
    expect(parseAttachmentIds(' 1 ;;2; ')).toEqual(['1', '2']);
    expect(parseAttachmentIds('')).toEqual([]);
    expect(parseAttachmentIds(null)).toEqual([]);
  });

  it('reads toObjectId as a string whether HubSpot sends a string or a number', () => {
    const page = AssociationsPageSchema.parse({
      results: [
        {
          toObjectId: 5,
          associationTypes: [{ category: 'HUBSPOT_DEFINED', typeId: 213, label: null }],
        },
        { toObjectId: '6', associationTypes: [] },
      ],
      paging: { next: { after: '2' } },
    });
    expect(page.results.map((r) => r.toObjectId)).toEqual(['5', '6']);
  });

  it('parses a documented workflow action execution and a v1 webhook batch', () => {
    const execution = WorkflowActionExecutionSchema.parse({
      callbackId: 'ap-102670506-56776413549-7-0',
      origin: { portalId: 102670506, actionDefinitionId: 10646377, actionDefinitionVersion: 1 },
      context: { source: 'WORKFLOWS', workflowId: 192814114 },
      object: { objectId: 904, objectType: 'CONTACT', properties: { email: 'a@b.c' } },
      inputFields: { staticInput: 'My Static Input' },
    });
    expect(execution.origin.portalId).toBe(102670506);
    const batch = WebhookEventBatchSchema.parse([
      {
        eventId: 1,
        subscriptionId: 12345,
        portalId: 62515,
        occurredAt: 1564113600000,
        subscriptionType: 'contact.creation',
        attemptNumber: 0,
        objectId: 123,
        changeSource: 'CRM',
        changeFlag: 'NEW',
        appId: 54321,
      },
    ]);
    expect(batch[0]?.objectId).toBe(123);
    expect(WebhookEventBatchSchema.safeParse(new Array(101).fill(batch[0])).success).toBe(false);
  });

  it('tells token grants and introspection variants apart', () => {
    expect(
      TokenRequestSchema.safeParse({
        grant_type: 'refresh_token',
        client_id: 'a',
        client_secret: 'b',
      }).success,
    ).toBe(false);
    expect(TokenIntrospectionSchema.parse({ active: false })).toEqual({ active: false });
    expect(
      BatchUpdateInputSchema.safeParse({ inputs: [{ id: '1', properties: { a: 1 } }] }).success,
    ).toBe(false);
  });

  it('reads closed stages from string metadata', () => {
    const stage = {
      id: 'closedlost',
      label: 'Closed Lost',
      displayOrder: 6,
      metadata: { isClosed: 'true', probability: '0.0' },
      archived: false,
      createdAt: '',
      updatedAt: '',
    };
    expect(isClosedStage(stage)).toBe(true);
    expect(isClosedStage({ ...stage, metadata: { isClosed: 'false' } })).toBe(false);
  });
});
