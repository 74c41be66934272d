import { describe, expect, expectTypeOf, it } from 'vitest';

import {
  CONTRACT_STATUSES,
  type ContractStatus,
} from '../../../hubspot-app/app/cards/api-schemas.ts';
import {
  NEGOTIATION_STATUS_LABELS,
  NEGOTIATION_STATUSES,
  type NegotiationStatus,
} from '../../../server/src/core/contracts/status.ts';
import {
  NEGOTIATION_STATUS_LABELS as DEAL_STATUS_LABELS,
  type LexiContractStatusValue,
} from '../../../server/src/hubspot/wire/status-property.ts';

/**
 * The status vocabulary is defined once, in core/contracts/status.ts. The HubSpot app bundle
 * cannot import the server, so its copy is held equal here: `tsc` fails on the type-level
 * checks (typecheck runs over the tests), vitest on the runtime ones.
 */
describe('the status vocabulary', () => {
  it('the Deal card knows exactly the contract statuses, in the same order', () => {
    expectTypeOf<ContractStatus>().toEqualTypeOf<NegotiationStatus>();
    expect([...CONTRACT_STATUSES]).toEqual([...NEGOTIATION_STATUSES]);
  });

  it('the deal property has the contract statuses plus the two import states, same labels', () => {
    expectTypeOf<LexiContractStatusValue>().toEqualTypeOf<
      NegotiationStatus | 'importing' | 'import_failed'
    >();
    for (const status of NEGOTIATION_STATUSES) {
      expect(DEAL_STATUS_LABELS[status]).toBe(NEGOTIATION_STATUS_LABELS[status]);
    }
  });
});
