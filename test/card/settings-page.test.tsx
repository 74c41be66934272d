import {
  Alert,
  Button,
  ErrorState,
  Form,
  Input,
  Link,
  LoadingButton,
  LoadingSpinner,
  Select,
  StatusTag,
  Table,
  TableCell,
  Text,
  hubspot,
} from '@hubspot/ui-extensions';
import { createRenderer } from '@hubspot/ui-extensions/testing';
import { afterEach, describe, expect, it, vi } from 'vitest';

import {
  RetryResultSchema,
  SettingsDataSchema,
  SettingsOptionsSchema,
} from '../../hubspot-app/app/settings/api-schemas.ts';
import { SettingsPage } from '../../hubspot-app/app/settings/SettingsPage.tsx';
import {
  retryResult,
  savedOptionsMatching,
  settingsConnected,
  settingsNeedsReconnect,
  settingsNotConnected,
} from '../fixtures/hubspot-ui-extensions.ts';

const ORIGIN = 'https://lexicontract.example.com';
const SETTINGS = `${ORIGIN}/api/v1/integrations/hubspot/settings`;
const OPTIONS = `${ORIGIN}/api/v1/integrations/hubspot/settings/options`;
const RETRY = `${ORIGIN}/api/v1/integrations/hubspot/settings/retry-failed`;

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

async function renderPage() {
  const renderer = createRenderer('settings');
  renderer.render(<SettingsPage />);
  await renderer.waitFor(() => {
    expect(renderer.maybeFind(LoadingSpinner)).toBeNull();
  });
  return renderer;
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('SettingsPage', () => {
  it('has valid fixtures', () => {
    for (const fixture of [settingsConnected, settingsNeedsReconnect, settingsNotConnected]) {
      expect(SettingsDataSchema.safeParse(fixture).success).toBe(true);
    }
    expect(SettingsOptionsSchema.safeParse(savedOptionsMatching).success).toBe(true);
    expect(RetryResultSchema.safeParse(retryResult).success).toBe(true);
  });

  it('shows the connection, the sync health with its failures, and the options', async () => {
    const fetch = stubFetch({ [SETTINGS]: [json(200, settingsConnected)] });
    const renderer = await renderPage();
    expect(fetch).toHaveBeenCalledWith(SETTINGS, { method: 'GET', timeout: 8_000 });
    expect(renderer.findByTestId(StatusTag, 'connection-state').text).toBe('Connected');
    expect(renderer.maybeFind(Link, { testId: 'install-link' })).toBeNull();
    expect(renderer.findByTestId(Link, 'manage-link').props.href).toBe(
      settingsConnected.connection.manageUrl,
    );
    const cells = renderer.findByTestId(Table, 'failures').findAll(TableCell);
    expect(cells.map((cell) => cell.text)).toContain(settingsConnected.health.failures[0]?.cause);
    expect(renderer.findByTestId(Text, 'causes').text).toBe('Causes: validation_error (1)');
    expect(renderer.findByTestId(LoadingButton, 'retry-failed').props.variant).toBe('secondary');
    expect(renderer.findByTestId(Select, 'closed-lost').props.value).toBe('cancel_contract');
    expect(renderer.findByTestId(Select, 'filter-mode').props.value).toBe('all');
    expect(renderer.maybeFind(Input)).toBeNull();
    // One primary button on the page: Save.
    const primaries = renderer
      .findAll(LoadingButton)
      .filter((button) => button.props.variant === 'primary');
    expect(primaries.map((b) => b.text)).toEqual(['Save']);
  });

  it('offers the installer when the account is not connected, without health or options', async () => {
    stubFetch({ [SETTINGS]: [json(200, settingsNotConnected)] });
    const renderer = await renderPage();
    expect(renderer.findByTestId(StatusTag, 'connection-state').text).toBe('Not connected');
    expect(renderer.findByTestId(Alert, 'not-connected').props.title).toBe('Connect LexiContract');
    expect(renderer.findByTestId(Link, 'install-link').props.href).toBe(
      settingsNotConnected.connection.installUrl,
    );
    expect(renderer.maybeFind(Form)).toBeNull();
    expect(renderer.maybeFind(Table)).toBeNull();
  });

  it('explains a connection that needs reconnecting', async () => {
    stubFetch({ [SETTINGS]: [json(200, settingsNeedsReconnect)] });
    const renderer = await renderPage();
    expect(renderer.findByTestId(StatusTag, 'connection-state').text).toBe('Needs reconnect');
    expect(renderer.findByTestId(Alert, 'needs-reconnect').text).toContain('invalid_grant');
    expect(renderer.findByTestId(Link, 'install-link').text).toBe('Reconnect HubSpot');
  });

  it('saves the options through a signed PUT and confirms', async () => {
    const fetch = stubFetch({
      [SETTINGS]: [json(200, settingsConnected)],
      [OPTIONS]: [json(200, savedOptionsMatching)],
    });
    const renderer = await renderPage();
    renderer.findByTestId(Select, 'closed-lost').trigger('onChange', 'do_nothing' as never);
    renderer.findByTestId(Select, 'filter-mode').trigger('onChange', 'matching' as never);
    await renderer.waitFor(() => {
      expect(renderer.maybeFind(Input)).not.toBeNull();
    });
    renderer.findByTestId(Input, 'pattern').trigger('onChange', ' MSA* ' as never);
    await renderer.waitFor(() => {
      expect(renderer.findByTestId(Input, 'pattern').props.value).toBe(' MSA* ');
    });
    renderer.find(Form).trigger('onSubmit');
    await renderer.waitFor(() => {
      expect(renderer.mocks.actions.addAlert.calls).toHaveLength(1);
    });
    expect(fetch).toHaveBeenCalledWith(OPTIONS, {
      method: 'PUT',
      timeout: 8_000,
      body: savedOptionsMatching,
    });
    expect(renderer.mocks.actions.addAlert.calls[0]?.[0]).toMatchObject({ type: 'success' });
    expect(renderer.findByTestId(Select, 'closed-lost').props.value).toBe('do_nothing');
  });

  it('asks for a pattern instead of saving "matching" without one', async () => {
    const fetch = stubFetch({ [SETTINGS]: [json(200, settingsConnected)] });
    const renderer = await renderPage();
    renderer.findByTestId(Select, 'filter-mode').trigger('onChange', 'matching' as never);
    await renderer.waitFor(() => {
      expect(renderer.maybeFind(Input)).not.toBeNull();
    });
    renderer.find(Form).trigger('onSubmit');
    await renderer.waitFor(() => {
      expect(renderer.findByTestId(Input, 'pattern').props.error).toBe(true);
    });
    // Nothing was saved (the page's other sections load their own data).
    expect(fetch.mock.calls.filter(([url]) => String(url) === OPTIONS)).toHaveLength(0);
  });

  it('shows a failure alert when saving is refused', async () => {
    stubFetch({
      [SETTINGS]: [json(200, settingsConnected)],
      [OPTIONS]: [
        json(409, { error: { code: 'hubspot_needs_reconnect', message: 'Reconnect first.' } }),
      ],
    });
    const renderer = await renderPage();
    renderer.find(Form).trigger('onSubmit');
    await renderer.waitFor(() => {
      expect(renderer.mocks.actions.addAlert.calls).toHaveLength(1);
    });
    expect(renderer.mocks.actions.addAlert.calls[0]?.[0]).toEqual({
      type: 'danger',
      title: 'Not saved',
      message: 'Reconnect first.',
    });
  });

  it('retries the failed syncs and reloads the health', async () => {
    const healed = {
      ...settingsConnected,
      health: {
        ...settingsConnected.health,
        pendingCount: 1,
        failedCount: 0,
        causes: [],
        failures: [],
      },
    };
    const fetch = stubFetch({
      [SETTINGS]: [json(200, settingsConnected), json(200, healed)],
      [RETRY]: [json(200, retryResult)],
    });
    const renderer = await renderPage();
    renderer.findByTestId(LoadingButton, 'retry-failed').trigger('onClick');
    await renderer.waitFor(() => {
      expect(renderer.maybeFind(Table)).toBeNull();
    });
    expect(fetch).toHaveBeenCalledWith(RETRY, { method: 'POST', timeout: 8_000 });
    expect(renderer.mocks.actions.addAlert.calls[0]?.[0]).toMatchObject({
      type: 'success',
      message: '1 deal update was queued again.',
    });
    expect(renderer.maybeFind(LoadingButton, { testId: 'retry-failed' })).toBeNull();
  });

  it('shows the error state when the backend cannot be reached, and recovers', async () => {
    stubFetch({ [SETTINGS]: [new Error('timeout'), json(200, settingsConnected)] });
    const renderer = await renderPage();
    expect(renderer.find(ErrorState).props.title).toBe('The settings could not be loaded');
    renderer.find(Button, { testId: 'retry-load' }).trigger('onClick');
    await renderer.waitFor(() => {
      expect(renderer.maybeFind(Form)).not.toBeNull();
    });
  });
});
