import { describe, expect, it } from 'vitest';

import { isDealEvent } from '../../../server/src/hubspot/webhooks/event-intake.ts';
import type { WebhookEvent } from '../../../server/src/hubspot/wire/index.ts';

const base: WebhookEvent = {
  eventId: 1,
  subscriptionId: 2,
  portalId: 3,
  appId: 4,
  occurredAt: 5,
  attemptNumber: 0,
  objectId: 6,
};

describe('isDealEvent', () => {
  it('takes legacy deal.* events and generic object.* events of object type 0-3', () => {
    expect(isDealEvent({ ...base, subscriptionType: 'deal.propertyChange' })).toBe(true);
    expect(isDealEvent({ ...base, eventType: 'deal.deletion' })).toBe(true);
    expect(
      isDealEvent({ ...base, subscriptionType: 'object.propertyChange', objectTypeId: '0-3' }),
    ).toBe(true);
  });

  it('refuses every other object type, and generic events that do not say theirs', () => {
    expect(
      isDealEvent({ ...base, subscriptionType: 'object.propertyChange', objectTypeId: '0-2' }),
    ).toBe(false);
    expect(isDealEvent({ ...base, subscriptionType: 'object.propertyChange' })).toBe(false);
    expect(isDealEvent({ ...base, subscriptionType: 'company.propertyChange' })).toBe(false);
    expect(
      isDealEvent({ ...base, subscriptionType: 'contact.deletion', objectTypeId: '0-3' }),
    ).toBe(false);
    expect(isDealEvent(base)).toBe(false);
  });
});
