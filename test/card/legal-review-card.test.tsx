import {
  Alert,
  Button,
  Checkbox,
  EmptyState,
  ErrorState,
  Link,
  LoadingButton,
  LoadingSpinner,
  StatusTag,
  Text,
  hubspot,
} from '@hubspot/ui-extensions';
import { createRenderer } from '@hubspot/ui-extensions/testing';
import { afterEach, describe, expect, it, vi } from 'vitest';

import {
  CardDataSchema,
  CardSendBodySchema,
  CardSendResultSchema,
} from '../../hubspot-app/app/cards/api-schemas.ts';
import { LegalReviewCard } from '../../hubspot-app/app/cards/LegalReviewCard.tsx';
import {
  cardAfterSend,
  cardEmpty,
  cardNeedsReconnect,
  cardNotConnected,
  cardReadyNotSent,
  cardReadyWithOpenContract,
  errorHubSpotUnavailable,
  errorNeedsReconnect,
  sendCreated,
  sendNewVersion,
} from '../fixtures/hubspot-ui-extensions.ts';

const ORIGIN = 'https://lexicontract.example.com';
const CARD_URL = (dealId: string) => `${ORIGIN}/api/v1/integrations/hubspot/card?dealId=${dealId}`;
const SEND_URL = `${ORIGIN}/api/v1/integrations/hubspot/card/send`;

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json' },
  });
}

type Answer = Response | Promise<Response> | Error;

/** Stubs hubspot.fetch: answers are taken in order, per URL. */
function stubFetch(answers: Record<string, Answer[]>) {
  return vi.spyOn(hubspot, 'fetch').mockImplementation(async (url) => {
    const queue = answers[String(url)];
    const next = queue?.shift();
    if (next === undefined) throw new Error(`unexpected hubspot.fetch ${String(url)}`);
    if (next instanceof Error) throw next;
    return next;
  });
}

function renderCard(dealId: number) {
  const renderer = createRenderer('crm.record.tab');
  renderer.mocks.context.crm.objectId = dealId;
  renderer.mocks.context.crm.objectTypeId = '0-3';
  renderer.render(<LegalReviewCard />);
  return renderer;
}

function sentBody(fetch: ReturnType<typeof stubFetch>) {
  const call = fetch.mock.calls.find(([url]) => String(url) === SEND_URL);
  if (!call) throw new Error('no send request');
  return call[1];
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('the fixtures', () => {
  it('are valid answers of the card API', () => {
    for (const fixture of [
      cardReadyWithOpenContract,
      cardReadyNotSent,
      cardEmpty,
      cardNeedsReconnect,
      cardNotConnected,
      cardAfterSend,
    ]) {
      expect(CardDataSchema.safeParse(fixture).success).toBe(true);
    }
    expect(CardSendResultSchema.safeParse(sendCreated).success).toBe(true);
    expect(CardSendResultSchema.safeParse(sendNewVersion).success).toBe(true);
  });
});

describe('LegalReviewCard states', () => {
  it('shows a spinner while loading, from a GET with an explicit timeout', async () => {
    const fetch = stubFetch({ [CARD_URL('1002')]: [new Promise<Response>(() => undefined)] });
    const renderer = renderCard(1002);
    expect(renderer.find(LoadingSpinner).props.label).toBe('Loading legal review…');
    // The load starts in an effect, right after the first render.
    await vi.waitFor(() => {
      expect(fetch).toHaveBeenCalledWith(CARD_URL('1002'), { method: 'GET', timeout: 8_000 });
    });
    expect(renderer.find(LoadingSpinner).props.label).toBe('Loading legal review…');
  });

  it('lists contracts with status tags, last change and links, and the attachments', async () => {
    stubFetch({ [CARD_URL('1001')]: [json(200, cardReadyWithOpenContract)] });
    const renderer = renderCard(1001);
    await renderer.waitFor(() => {
      expect(renderer.maybeFind(LoadingSpinner)).toBeNull();
    });

    const [open, cancelled] = cardReadyWithOpenContract.contracts;
    if (!open || !cancelled) throw new Error('the fixture lists two contracts');
    expect(renderer.findByTestId(StatusTag, `status-${open.id}`).text).toBe('In review');
    expect(renderer.findByTestId(StatusTag, `status-${open.id}`).props.variant).toBe('info');
    expect(renderer.findByTestId(StatusTag, `status-${cancelled.id}`).text).toBe('Cancelled');
    expect(renderer.findByTestId(Link, `contract-link-${open.id}`).props.href).toBe(open.url);

    const pdf = renderer.findByTestId(Checkbox, 'file-2001');
    const docx = renderer.findByTestId(Checkbox, 'file-2002');
    const png = renderer.findByTestId(Checkbox, 'file-2003');
    expect([pdf.props.checked, docx.props.checked, png.props.checked]).toEqual([
      true,
      false,
      false,
    ]);
    expect(png.props.readOnly).toBe(true);
    expect(png.props.description).toMatch(/only PDF, DOCX, DOC, RTF and TXT/);
    expect(docx.props.description).toContain('MSA*');
    // An open contract exists: the one primary button sends a new version.
    expect(renderer.find(LoadingButton).text).toBe('Send new version');
    expect(renderer.find(LoadingButton).props.variant).toBe('primary');
    expect(renderer.findAll(Button)).toHaveLength(0);
  });

  it('shows the empty state for a deal never sent and without attachments', async () => {
    stubFetch({ [CARD_URL('1003')]: [json(200, cardEmpty)] });
    const renderer = renderCard(1003);
    await renderer.waitFor(() => {
      expect(renderer.maybeFind(EmptyState)).not.toBeNull();
    });
    expect(renderer.find(EmptyState).props.title).toBe('Not sent to legal review yet');
    expect(renderer.findByTestId(Text, 'no-attachments').text).toContain('No attachments');
    expect(renderer.find(LoadingButton).text).toBe('Send to Legal Review');
  });

  it('shows the needs-reconnect state with the link to LexiContract', async () => {
    stubFetch({ [CARD_URL('1001')]: [json(200, cardNeedsReconnect)] });
    const renderer = renderCard(1001);
    await renderer.waitFor(() => {
      expect(renderer.maybeFind(Alert)).not.toBeNull();
    });
    expect(renderer.find(Alert).props.title).toBe('Reconnect LexiContract');
    expect(renderer.find(Link).props.href).toBe(cardNeedsReconnect.reconnectUrl);
    expect(renderer.maybeFind(LoadingButton)).toBeNull();
  });

  it('shows the not-connected variant of that state', async () => {
    stubFetch({ [CARD_URL('1001')]: [json(200, cardNotConnected)] });
    const renderer = renderCard(1001);
    await renderer.waitFor(() => {
      expect(renderer.maybeFind(Alert)).not.toBeNull();
    });
    expect(renderer.find(Alert).props.title).toBe('LexiContract is not connected');
    expect(renderer.find(Link).props.href).toBe(cardNotConnected.reconnectUrl);
  });

  it('shows the error state when the backend cannot be reached, and recovers on "Try again"', async () => {
    stubFetch({
      [CARD_URL('1002')]: [new Error('timeout'), json(200, cardReadyNotSent)],
    });
    const renderer = renderCard(1002);
    await renderer.waitFor(() => {
      expect(renderer.maybeFind(ErrorState)).not.toBeNull();
    });
    expect(renderer.find(ErrorState).find(Text).text).toContain('could not be reached');
    renderer.find(Button, { testId: 'retry' }).trigger('onClick');
    await renderer.waitFor(() => {
      expect(renderer.maybeFind(LoadingButton)).not.toBeNull();
    });
    expect(renderer.find(LoadingButton).text).toBe('Send to Legal Review');
  });

  it('shows the error state for an answer it cannot parse, and for an error answer', async () => {
    stubFetch({ [CARD_URL('1002')]: [json(200, { state: 'ready', deal: 'nope' })] });
    const broken = renderCard(1002);
    await broken.waitFor(() => {
      expect(broken.maybeFind(ErrorState)).not.toBeNull();
    });
    expect(broken.find(ErrorState).find(Text).text).toContain('does not understand');

    stubFetch({ [CARD_URL('1002')]: [json(502, errorHubSpotUnavailable)] });
    const failing = renderCard(1002);
    await failing.waitFor(() => {
      expect(failing.maybeFind(ErrorState)).not.toBeNull();
    });
    expect(failing.find(ErrorState).find(Text).text).toBe(errorHubSpotUnavailable.error.message);
  });
});

describe('LegalReviewCard sending', () => {
  it('sends the selected attachments, alerts, refreshes the record and reloads the card', async () => {
    const fetch = stubFetch({
      [CARD_URL('1002')]: [json(200, cardReadyNotSent), json(200, cardAfterSend)],
      [SEND_URL]: [json(200, sendCreated)],
    });
    const renderer = renderCard(1002);
    await renderer.waitFor(() => {
      expect(renderer.maybeFind(LoadingButton)).not.toBeNull();
    });
    renderer.find(LoadingButton).trigger('onClick');
    await renderer.waitFor(() => {
      expect(renderer.find(LoadingButton).text).toBe('Send new version');
    });

    const options = sentBody(fetch);
    expect(options).toMatchObject({ method: 'POST', timeout: 14_000 });
    const body = CardSendBodySchema.parse(options?.body);
    expect(body).toMatchObject({ dealId: '1002', fileIds: ['2101'], newVersion: false });
    expect(body.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(renderer.mocks.actions.addAlert.calls).toEqual([
      [{ type: 'success', title: 'Sent to legal review', message: sendCreated.message }],
    ]);
    expect(renderer.mocks.actions.refreshObjectProperties.calls).toHaveLength(1);
    expect(renderer.findByTestId(StatusTag, `status-${sendCreated.contract.id}`).text).toBe(
      'Pending review',
    );
  });

  it('sends no file the rep unchecked and says so', async () => {
    const fetch = stubFetch({
      [CARD_URL('1002')]: [json(200, cardReadyNotSent), json(200, cardAfterSend)],
      [SEND_URL]: [json(200, sendCreated)],
    });
    const renderer = renderCard(1002);
    await renderer.waitFor(() => {
      expect(renderer.maybeFind(Checkbox)).not.toBeNull();
    });
    // ui-extensions 0.17 types trigger()'s argument as the handler itself, hence the cast.
    renderer.findByTestId(Checkbox, 'file-2101').trigger('onChange', false as never);
    await renderer.waitFor(() => {
      expect(renderer.findByTestId(Checkbox, 'file-2101').props.checked).toBe(false);
    });
    expect(renderer.findByTestId(Text, 'no-selection').text).toContain('without files');
    renderer.find(LoadingButton).trigger('onClick');
    await renderer.waitFor(() => {
      expect(renderer.mocks.actions.addAlert.calls).toHaveLength(1);
    });
    expect(CardSendBodySchema.parse(sentBody(fetch)?.body).fileIds).toEqual([]);
  });

  it('asks for a new version when an open contract exists', async () => {
    const fetch = stubFetch({
      [CARD_URL('1001')]: [
        json(200, cardReadyWithOpenContract),
        json(200, cardReadyWithOpenContract),
      ],
      [SEND_URL]: [json(200, sendNewVersion)],
    });
    const renderer = renderCard(1001);
    await renderer.waitFor(() => {
      expect(renderer.maybeFind(LoadingButton)).not.toBeNull();
    });
    renderer.find(LoadingButton).trigger('onClick');
    await renderer.waitFor(() => {
      expect(renderer.mocks.actions.addAlert.calls).toHaveLength(1);
    });
    expect(CardSendBodySchema.parse(sentBody(fetch)?.body)).toMatchObject({
      dealId: '1001',
      fileIds: ['2001'],
      newVersion: true,
    });
    expect(renderer.mocks.actions.addAlert.calls[0]?.[0]).toMatchObject({
      type: 'success',
      title: 'New version sent',
    });
  });

  it('shows a failure alert and leaves the record alone when the send fails', async () => {
    stubFetch({
      [CARD_URL('1002')]: [json(200, cardReadyNotSent)],
      [SEND_URL]: [json(502, errorHubSpotUnavailable)],
    });
    const renderer = renderCard(1002);
    await renderer.waitFor(() => {
      expect(renderer.maybeFind(LoadingButton)).not.toBeNull();
    });
    renderer.find(LoadingButton).trigger('onClick');
    await renderer.waitFor(() => {
      expect(renderer.mocks.actions.addAlert.calls).toHaveLength(1);
    });
    expect(renderer.mocks.actions.addAlert.calls[0]?.[0]).toEqual({
      type: 'danger',
      title: 'Not sent',
      message: errorHubSpotUnavailable.error.message,
    });
    expect(renderer.mocks.actions.refreshObjectProperties.calls).toHaveLength(0);
    expect(renderer.find(LoadingButton).props.loading).toBe(false);
  });

  it('switches to the needs-reconnect state when the send finds the connection gone', async () => {
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
    expect(renderer.mocks.actions.addAlert.calls[0]?.[0]).toMatchObject({ type: 'danger' });
  });
});
