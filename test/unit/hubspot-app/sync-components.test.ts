import { readFile } from 'node:fs/promises';

import { describe, expect, it } from 'vitest';
import { z } from 'zod';

import { WAIT_FOR_DECISION_PATH } from '../../../server/src/hubspot/decision/routes.ts';
import { WEBHOOK_EVENTS_PATH } from '../../../server/src/hubspot/webhooks/routes.ts';

const PREFIX = '/api/v1/integrations/hubspot';
const ORIGIN = 'https://lexicontract.example.com';

async function json(path: string): Promise<unknown> {
  return JSON.parse(await readFile(path, 'utf8')) as unknown;
}

const WebhooksSchema = z.object({
  uid: z.string().min(1),
  type: z.literal('webhooks'),
  config: z.object({
    settings: z.object({ targetUrl: z.url(), maxConcurrentRequests: z.number().int().min(5) }),
    subscriptions: z.object({
      crmObjects: z.array(
        z.object({
          subscriptionType: z.string(),
          objectType: z.string(),
          propertyName: z.string().optional(),
          active: z.boolean(),
        }),
      ),
      legacyCrmObjects: z.array(z.unknown()),
      hubEvents: z.array(z.unknown()),
    }),
  }),
});

const ActionSchema = z.object({
  uid: z.string().min(1),
  type: z.literal('workflow-action'),
  config: z.object({
    actionUrl: z.url(),
    isPublished: z.boolean(),
    supportedClients: z.array(z.object({ client: z.string() })),
    objectTypes: z.array(z.string()),
    inputFields: z.array(
      z.object({ typeDefinition: z.object({ name: z.string(), type: z.string() }) }),
    ),
    outputFields: z.array(
      z.object({
        typeDefinition: z.object({
          name: z.string(),
          type: z.string(),
          options: z.array(z.object({ value: z.string(), label: z.string() })).optional(),
        }),
      }),
    ),
    labels: z.object({ en: z.object({ actionName: z.string().min(1) }) }),
  }),
});

describe('hubspot-app/app/webhooks/webhooks-hsmeta.json', () => {
  it('targets the events route on the public origin', async () => {
    const component = WebhooksSchema.parse(
      await json('hubspot-app/app/webhooks/webhooks-hsmeta.json'),
    );
    const url = new URL(component.config.settings.targetUrl);
    expect(url.origin).toBe(ORIGIN);
    expect(url.pathname).toBe(`${PREFIX}${WEBHOOK_EVENTS_PATH}`);
  });

  it('subscribes to deal lexicontract_status and dealstage changes and deal deletion', async () => {
    const component = WebhooksSchema.parse(
      await json('hubspot-app/app/webhooks/webhooks-hsmeta.json'),
    );
    const subs = component.config.subscriptions.crmObjects.map((s) => ({
      type: s.subscriptionType,
      object: s.objectType,
      property: s.propertyName ?? null,
      active: s.active,
    }));
    expect(subs).toHaveLength(3);
    expect(subs).toEqual(
      expect.arrayContaining([
        {
          type: 'object.propertyChange',
          object: 'deal',
          property: 'lexicontract_status',
          active: true,
        },
        { type: 'object.propertyChange', object: 'deal', property: 'dealstage', active: true },
        { type: 'object.deletion', object: 'deal', property: null, active: true },
      ]),
    );
  });
});

describe('hubspot-app/app/workflow-actions/wait-for-legal-decision-hsmeta.json', () => {
  it('is a published deal action calling the wait-for-decision route with output `decision`', async () => {
    const action = ActionSchema.parse(
      await json('hubspot-app/app/workflow-actions/wait-for-legal-decision-hsmeta.json'),
    );
    const url = new URL(action.config.actionUrl);
    expect(url.origin).toBe(ORIGIN);
    expect(url.pathname).toBe(`${PREFIX}${WAIT_FOR_DECISION_PATH}`);
    expect(action.config.isPublished).toBe(true);
    expect(action.config.objectTypes).toEqual(['DEAL']);
    expect(action.config.supportedClients).toContainEqual({ client: 'WORKFLOWS' });
    const decision = action.config.outputFields.find((f) => f.typeDefinition.name === 'decision');
    expect(decision?.typeDefinition.options?.map((o) => o.value).sort()).toEqual([
      'approved',
      'cancelled',
      'rejected',
      'signed',
      'timed_out',
    ]);
    expect(action.config.inputFields.map((f) => f.typeDefinition.name)).toEqual([
      'expiration_days',
    ]);
  });
});
