import {
  Alert,
  Button,
  EmptyState,
  ErrorState,
  Link,
  LoadingSpinner,
  StatusTag,
  Table,
  Text,
  hubspot,
} from '@hubspot/ui-extensions';
import { createRenderer } from '@hubspot/ui-extensions/testing';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';

import {
  CompanyCardDataSchema,
  type CompanyCardData,
} from '../../hubspot-app/app/cards/company-api-schemas.ts';
import { CompanyContractsCard } from '../../hubspot-app/app/cards/CompanyContractsCard.tsx';
import { cardNotConnected, errorHubSpotUnavailable } from '../fixtures/hubspot-ui-extensions.ts';

const ORIGIN = 'https://lexicontract.example.com';
const CARD_URL = (companyId: string) =>
  `${ORIGIN}/api/v1/integrations/hubspot/card/company?companyId=${companyId}`;

const companyReady = {
  state: 'ready',
  company: { id: '3001' },
  dealCount: 2,
  truncated: false,
  contracts: [
    {
      id: '0b6a9c3e-3f55-4b8f-9d71-3c1f8e0f4a11',
      title: 'Acme renewal 2027',
      status: 'changes_requested',
      statusLabel: 'Changes requested',
      open: true,
      importState: 'complete',
      lastChangedAt: '2026-11-20T10:15:00.000Z',
      url: `${ORIGIN}/contracts/0b6a9c3e-3f55-4b8f-9d71-3c1f8e0f4a11`,
      dealId: '1001',
    },
    {
      id: '5d0e3b4a-96c2-4e0f-8a0d-7b7c2f4b9e22',
      title: 'Acme pilot',
      status: 'signed',
      statusLabel: 'Signed',
      open: false,
      importState: null,
      lastChangedAt: '2026-10-02T08:00:00.000Z',
      url: `${ORIGIN}/contracts/5d0e3b4a-96c2-4e0f-8a0d-7b7c2f4b9e22`,
      dealId: '1004',
    },
  ],
} satisfies CompanyCardData;

const companyNeedsScope = {
  state: 'needs_scope',
  message:
    'LexiContract cannot read this company’s deals yet: re-authorize to see company contracts (it needs read access to companies). The deal cards keep working.',
  reauthorizeUrl: `${ORIGIN}/api/v1/integrations/hubspot/auth`,
} satisfies CompanyCardData;

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json' },
  });
}

function stubFetch(answers: Record<string, (Response | Error)[]>) {
  return vi.spyOn(hubspot, 'fetch').mockImplementation(async (url) => {
    const next = answers[String(url)]?.shift();
    if (next === undefined) throw new Error(`unexpected hubspot.fetch ${String(url)}`);
    if (next instanceof Error) throw next;
    return next;
  });
}

function renderCard(companyId: number) {
  const renderer = createRenderer('crm.record.tab');
  renderer.mocks.context.crm.objectId = companyId;
  renderer.mocks.context.crm.objectTypeId = '0-2';
  renderer.render(<CompanyContractsCard />);
  return renderer;
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('the company card component', () => {
  it('is declared for company records, and its fixtures are valid answers', async () => {
    const meta = JSON.parse(
      await readFile(
        path.resolve(
          import.meta.dirname,
          '../../hubspot-app/app/cards/company-contracts-card-hsmeta.json',
        ),
        'utf8',
      ),
    ) as { type: string; config: Record<string, unknown> };
    expect(meta.type).toBe('card');
    expect(meta.config).toMatchObject({
      location: 'crm.record.tab',
      objectTypes: ['companies'],
      entrypoint: '/app/cards/CompanyContractsCard.tsx',
    });
    for (const fixture of [companyReady, companyNeedsScope, cardNotConnected]) {
      expect(CompanyCardDataSchema.safeParse(fixture).success).toBe(true);
    }
  });
});

describe('CompanyContractsCard', () => {
  it('lists the contracts across the company’s deals with status labels and links', async () => {
    const fetch = stubFetch({ [CARD_URL('3001')]: [json(200, companyReady)] });
    const renderer = renderCard(3001);
    expect(renderer.find(LoadingSpinner).props.label).toBe('Loading contracts…');
    await renderer.waitFor(() => {
      expect(renderer.maybeFind(Table)).not.toBeNull();
    });
    expect(fetch).toHaveBeenCalledWith(CARD_URL('3001'), { method: 'GET', timeout: 8_000 });
    const [changes, signed] = companyReady.contracts;
    if (!changes || !signed) throw new Error('the fixture lists two contracts');
    expect(renderer.findByTestId(StatusTag, `status-${changes.id}`).text).toBe('Changes requested');
    expect(renderer.findByTestId(StatusTag, `status-${changes.id}`).props.variant).toBe('warning');
    expect(renderer.findByTestId(StatusTag, `status-${signed.id}`).props.variant).toBe('success');
    expect(renderer.findByTestId(Link, `contract-link-${changes.id}`).props.href).toBe(changes.url);
    expect(renderer.findByTestId(Link, `contract-link-${signed.id}`).text).toBe('Acme pilot');
    expect(renderer.findByTestId(Text, 'summary').text).toBe('2 contracts across 2 deals.');
  });

  it('says when the list is cut to the most recent contracts', async () => {
    stubFetch({
      [CARD_URL('3001')]: [json(200, { ...companyReady, truncated: true, dealCount: 40 })],
    });
    const renderer = renderCard(3001);
    await renderer.waitFor(() => {
      expect(renderer.maybeFind(Table)).not.toBeNull();
    });
    expect(renderer.findByTestId(Text, 'summary').text).toContain(
      'The 2 most recently changed contracts across 40 deals',
    );
  });

  it('shows the empty state for a company without deals and for deals never sent', async () => {
    stubFetch({
      [CARD_URL('3002')]: [json(200, { ...companyReady, contracts: [], dealCount: 0 })],
      [CARD_URL('3003')]: [json(200, { ...companyReady, contracts: [], dealCount: 3 })],
    });
    const none = renderCard(3002);
    await none.waitFor(() => {
      expect(none.maybeFind(EmptyState)).not.toBeNull();
    });
    expect(none.find(EmptyState).find(Text).text).toContain('This company has no deals');
    const unsent = renderCard(3003);
    await unsent.waitFor(() => {
      expect(unsent.maybeFind(EmptyState)).not.toBeNull();
    });
    expect(unsent.find(EmptyState).find(Text).text).toContain('has been sent to legal review');
  });

  it('says "re-authorize to see company contracts" with the link when the scope is missing', async () => {
    stubFetch({ [CARD_URL('3001')]: [json(200, companyNeedsScope)] });
    const renderer = renderCard(3001);
    await renderer.waitFor(() => {
      expect(renderer.maybeFind(Alert)).not.toBeNull();
    });
    expect(renderer.find(Alert).props.title).toBe('Re-authorize to see company contracts');
    expect(renderer.find(Alert).find(Text).text).toContain('re-authorize to see company contracts');
    expect(renderer.findByTestId(Link, 'reauthorize-link').props.href).toBe(
      companyNeedsScope.reauthorizeUrl,
    );
    expect(renderer.maybeFind(Table)).toBeNull();
  });

  it('shows the not-connected state with its link', async () => {
    stubFetch({ [CARD_URL('3001')]: [json(200, cardNotConnected)] });
    const renderer = renderCard(3001);
    await renderer.waitFor(() => {
      expect(renderer.maybeFind(Alert)).not.toBeNull();
    });
    expect(renderer.find(Alert).props.title).toBe('LexiContract is not connected');
    expect(renderer.find(Link).props.href).toBe(cardNotConnected.reconnectUrl);
  });

  it('shows the error state for an error answer and an unparsable one, and recovers on "Try again"', async () => {
    stubFetch({
      [CARD_URL('3001')]: [
        json(502, errorHubSpotUnavailable),
        json(200, { state: 'ready', company: 'nope' }),
        json(200, companyReady),
      ],
    });
    const renderer = renderCard(3001);
    await renderer.waitFor(() => {
      expect(renderer.maybeFind(ErrorState)).not.toBeNull();
    });
    expect(renderer.find(ErrorState).find(Text).text).toBe(errorHubSpotUnavailable.error.message);
    renderer.find(Button, { testId: 'retry' }).trigger('onClick');
    await renderer.waitFor(() => {
      expect(renderer.maybeFind(ErrorState)?.find(Text).text).toContain('does not understand');
    });
    renderer.find(Button, { testId: 'retry' }).trigger('onClick');
    await renderer.waitFor(() => {
      expect(renderer.maybeFind(Table)).not.toBeNull();
    });
  });
});
