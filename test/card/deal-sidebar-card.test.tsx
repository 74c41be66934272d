import {
  Alert,
  Button,
  ErrorState,
  Link,
  LoadingButton,
  LoadingSpinner,
  StatusTag,
  Text,
  hubspot,
} from '@hubspot/ui-extensions';
import { createRenderer } from '@hubspot/ui-extensions/testing';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';

import { CardDataSchema, CardSendBodySchema } from '../../hubspot-app/app/cards/api-schemas.ts';
import { DealSidebarCard } from '../../hubspot-app/app/cards/DealSidebarCard.tsx';
import {
  cardAfterSend,
  cardNeedsReconnect,
  cardReadyNotSent,
  cardReadyWithOpenContract,
  errorHubSpotUnavailable,
  errorNeedsReconnect,
  sendCreated,
} from '../fixtures/hubspot-ui-extensions.ts';

const ORIGIN = 'https://lexicontract.example.com';
const CARD_URL = (dealId: string) => `${ORIGIN}/api/v1/integrations/hubspot/card?dealId=${dealId}`;
const SEND_URL = `${ORIGIN}/api/v1/integrations/hubspot/card/send`;

const writeBackNotice = {
  message:
    'LexiContract cannot put reviewed files on deals yet: re-authorize to write files back (it needs HubSpot Files and notes access). Everything else keeps working.',
  reauthorizeUrl: `${ORIGIN}/api/v1/integrations/hubspot/auth`,
};

/** A deal whose only contract was decided (no open one): Open and Send both offered. */
const [openContract] = cardReadyWithOpenContract.contracts;
if (!openContract) throw new Error('the fixture lists an open contract');
const cardDecided = {
  ...cardReadyWithOpenContract,
  contracts: [
    {
      ...openContract,
      status: 'signed',
      statusLabel: 'Signed',
      open: false,
    },
  ],
  openContractId: null,
  writeBackNotice,
};

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

function renderCard(dealId: number) {
  const renderer = createRenderer('crm.record.sidebar');
  renderer.mocks.context.crm.objectId = dealId;
  renderer.mocks.context.crm.objectTypeId = '0-3';
  renderer.render(<DealSidebarCard />);
  return renderer;
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('the sidebar card component', () => {
  it('is declared for the deal sidebar, its entrypoint this component', async () => {
    const meta = JSON.parse(
      await readFile(
        path.resolve(
          import.meta.dirname,
          '../../hubspot-app/app/cards/deal-sidebar-card-hsmeta.json',
        ),
        'utf8',
      ),
    ) as { type: string; config: Record<string, unknown> };
    expect(meta.type).toBe('card');
    expect(meta.config).toMatchObject({
      location: 'crm.record.sidebar',
      objectTypes: ['deals'],
      entrypoint: '/app/cards/DealSidebarCard.tsx',
    });
    expect(CardDataSchema.safeParse(cardDecided).success).toBe(true);
  });
});

describe('DealSidebarCard', () => {
  it('shows the open contract: status label, last change, Open in LexiContract, no send', async () => {
    const fetch = stubFetch({ [CARD_URL('1001')]: [json(200, cardReadyWithOpenContract)] });
    const renderer = renderCard(1001);
    expect(renderer.find(LoadingSpinner).props.label).toBe('Loading legal review…');
    await renderer.waitFor(() => {
      expect(renderer.maybeFind(LoadingSpinner)).toBeNull();
    });
    expect(fetch).toHaveBeenCalledWith(CARD_URL('1001'), { method: 'GET', timeout: 8_000 });
    expect(renderer.findByTestId(StatusTag, 'status').text).toBe('In review');
    expect(renderer.findByTestId(StatusTag, 'status').props.variant).toBe('info');
    expect(renderer.findByTestId(Text, 'last-change').text).toMatch(/^Last change .*2026/);
    expect(renderer.findByTestId(Button, 'open').props.href).toEqual({
      url: openContract.url,
      external: true,
    });
    // Under review already: sending again belongs to the tab card (new version + files).
    expect(renderer.maybeFind(LoadingButton)).toBeNull();
    expect(renderer.findByTestId(Text, 'more-contracts').text).toContain('1 earlier contract');
    expect(renderer.maybeFind(Alert)).toBeNull();
  });

  it('offers Send to Legal Review for a deal never sent, and sends with the default filter', async () => {
    const fetch = stubFetch({
      [CARD_URL('1002')]: [json(200, cardReadyNotSent), json(200, cardAfterSend)],
      [SEND_URL]: [json(200, sendCreated)],
    });
    const renderer = renderCard(1002);
    await renderer.waitFor(() => {
      expect(renderer.maybeFind(LoadingButton)).not.toBeNull();
    });
    expect(renderer.findByTestId(Text, 'not-sent').text).toContain('Not sent');
    expect(renderer.find(LoadingButton).text).toBe('Send to Legal Review');
    expect(renderer.find(LoadingButton).props.variant).toBe('primary');
    expect(renderer.maybeFind(Button, { testId: 'open' })).toBeNull();

    renderer.find(LoadingButton).trigger('onClick');
    await renderer.waitFor(() => {
      expect(renderer.maybeFind(Button, { testId: 'open' })).not.toBeNull();
    });
    const call = fetch.mock.calls.find(([url]) => String(url) === SEND_URL);
    expect(call?.[1]).toMatchObject({ method: 'POST', timeout: 14_000 });
    const body = CardSendBodySchema.parse(call?.[1]?.body);
    expect(body).toMatchObject({ dealId: '1002', newVersion: false });
    expect(body.fileIds).toBeUndefined();
    expect(body.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(renderer.mocks.actions.addAlert.calls).toEqual([
      [{ type: 'success', title: 'Sent to legal review', message: sendCreated.message }],
    ]);
    expect(renderer.mocks.actions.refreshObjectProperties.calls).toHaveLength(1);
    expect(renderer.findByTestId(StatusTag, 'status').text).toBe('Pending review');
    expect(renderer.maybeFind(LoadingButton)).toBeNull();
  });

  it('offers both Open and Send once the contract is decided, and the write-back notice', async () => {
    stubFetch({ [CARD_URL('1001')]: [json(200, cardDecided)] });
    const renderer = renderCard(1001);
    await renderer.waitFor(() => {
      expect(renderer.maybeFind(LoadingSpinner)).toBeNull();
    });
    expect(renderer.findByTestId(StatusTag, 'status').props.variant).toBe('success');
    expect(renderer.findByTestId(Button, 'open').props.variant).toBe('primary');
    expect(renderer.find(LoadingButton).props.variant).toBe('secondary');
    const notice = renderer.findByTestId(Alert, 'write-back-notice');
    expect(notice.find(Text).text).toContain('re-authorize to write files back');
    expect(renderer.findByTestId(Link, 'write-back-reauthorize').props.href).toBe(
      writeBackNotice.reauthorizeUrl,
    );
    expect(renderer.maybeFind(Text, { testId: 'more-contracts' })).toBeNull();
  });

  it('shows the needs-reconnect state with its link', async () => {
    stubFetch({ [CARD_URL('1001')]: [json(200, cardNeedsReconnect)] });
    const renderer = renderCard(1001);
    await renderer.waitFor(() => {
      expect(renderer.maybeFind(Alert)).not.toBeNull();
    });
    expect(renderer.find(Alert).props.title).toBe('Reconnect LexiContract');
    expect(renderer.find(Link).props.href).toBe(cardNeedsReconnect.reconnectUrl);
    expect(renderer.maybeFind(LoadingButton)).toBeNull();
  });

  it('shows the error state and recovers on "Try again"', async () => {
    stubFetch({
      [CARD_URL('1002')]: [json(502, errorHubSpotUnavailable), json(200, cardReadyNotSent)],
    });
    const renderer = renderCard(1002);
    await renderer.waitFor(() => {
      expect(renderer.maybeFind(ErrorState)).not.toBeNull();
    });
    expect(renderer.find(ErrorState).find(Text).text).toBe(errorHubSpotUnavailable.error.message);
    renderer.find(Button, { testId: 'retry' }).trigger('onClick');
    await renderer.waitFor(() => {
      expect(renderer.maybeFind(LoadingButton)).not.toBeNull();
    });
  });

  it('alerts on a failed send and turns to needs-reconnect when the connection is gone', async () => {
    stubFetch({
      [CARD_URL('1002')]: [json(200, cardReadyNotSent), json(200, cardNeedsReconnect)],
      [SEND_URL]: [json(409, errorNeedsReconnect)],
    });
    const renderer = renderCard(1002);
    await renderer.waitFor(() => {
      expect(renderer.maybeFind(LoadingButton)).not.toBeNull();
    });
    renderer.find(LoadingButton).trigger('onClick');
    await renderer.waitFor(() => {
      expect(renderer.maybeFind(Alert, { testId: 'needs-reconnect' })).not.toBeNull();
    });
    expect(renderer.mocks.actions.addAlert.calls).toEqual([
      [{ type: 'danger', title: 'Not sent', message: errorNeedsReconnect.error.message }],
    ]);
    expect(renderer.mocks.actions.refreshObjectProperties.calls).toHaveLength(0);
  });
});
