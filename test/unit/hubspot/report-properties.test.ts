import { describe, expect, it } from 'vitest';

import type { ContractReviewFacts } from '../../../server/src/core/contracts/review-facts.ts';
import type { NegotiationStatus } from '../../../server/src/core/contracts/status.ts';
import { reportPropertiesOf } from '../../../server/src/hubspot/outbox/report-properties.ts';

const DAY = 86_400_000;
const submitted = new Date('2026-11-02T09:00:00.000Z');

function facts(
  steps: [NegotiationStatus, number, string | null][],
  extra: { open?: number; snapshot?: unknown } = {},
): ContractReviewFacts {
  const last = steps.at(-1)?.[0] ?? 'pending_review';
  return {
    contract: {
      id: '00000000-0000-4000-8000-000000000001',
      organizationId: '00000000-0000-4000-8000-000000000002',
      title: 'MSA',
      externalSource: 'hubspot',
      externalId: '1',
      externalAccountId: '2',
      negotiationStatus: last,
      statusVersion: steps.length,
      sourceSnapshot: extra.snapshot ?? null,
      metadata: {},
      metadataMappingVersion: null,
      createdBySource: 'hubspot_card',
      createdBy: 'hubspot:user:1',
      createdAt: submitted,
      updatedAt: submitted,
    },
    history: [
      ['pending_review', 0, null] as [NegotiationStatus, number, string | null],
      ...steps,
    ].map(([to, days, email], index) => ({
      id: index + 1,
      contractId: '00000000-0000-4000-8000-000000000001',
      organizationId: '00000000-0000-4000-8000-000000000002',
      from: null,
      to,
      source: 'api',
      actor: `user:${String(index)}`,
      actorEmail: email,
      at: new Date(submitted.getTime() + days * DAY),
    })),
    openContractsOnRecord: extra.open ?? 1,
  };
}

describe('report-ready deal properties', () => {
  it('are empty decisions while open, with the submission time, open count and priority', () => {
    expect(
      reportPropertiesOf(
        facts([['in_review', 1, 'legal@example.com']], {
          open: 2,
          snapshot: { review: { priority: 'urgent', note: null } },
        }),
      ),
    ).toEqual({
      lexicontract_submitted_at: submitted.toISOString(),
      lexicontract_decided_at: '',
      lexicontract_decision: '',
      lexicontract_reviewer: '',
      lexicontract_days_in_review: '',
      lexicontract_open_contracts: '2',
      lexicontract_priority: 'urgent',
    });
  });

  it('measure submission to decision in days, one decimal, with the decider’s email', () => {
    const values = reportPropertiesOf(
      facts([
        ['in_review', 0.5, null],
        ['approved', 3.26, 'legal@example.com'],
      ]),
    );
    expect(values).toMatchObject({
      lexicontract_decision: 'approved',
      lexicontract_reviewer: 'legal@example.com',
      lexicontract_days_in_review: '3.3',
      lexicontract_decided_at: new Date(submitted.getTime() + 3.26 * DAY).toISOString(),
      lexicontract_priority: '',
    });
  });

  it('keep the approval as the decision time once signed, and clear a withdrawn decision', () => {
    const signed = reportPropertiesOf(
      facts([
        ['in_review', 1, null],
        ['approved', 2, 'legal@example.com'],
        ['signed', 9, 'sales@example.com'],
      ]),
    );
    expect(signed).toMatchObject({
      lexicontract_decision: 'signed',
      lexicontract_reviewer: 'legal@example.com',
      lexicontract_days_in_review: '2',
    });
    const reopened = reportPropertiesOf(
      facts([
        ['in_review', 1, null],
        ['approved', 2, 'legal@example.com'],
        ['changes_requested', 3, 'legal@example.com'],
      ]),
    );
    expect(reopened).toMatchObject({
      lexicontract_decision: '',
      lexicontract_decided_at: '',
      lexicontract_days_in_review: '',
    });
  });

  it('fall back to the actor when the decider is not a LexiContract user', () => {
    const values = reportPropertiesOf(facts([['rejected', 0.04, null]]));
    expect(values.lexicontract_reviewer).toBe('user:1');
    expect(values.lexicontract_days_in_review).toBe('0');
  });
});
