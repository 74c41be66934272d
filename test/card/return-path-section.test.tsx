import { Alert, Link, LoadingSpinner, Toggle, hubspot } from '@hubspot/ui-extensions';
import { createRenderer } from '@hubspot/ui-extensions/testing';
import { afterEach, describe, expect, it, vi } from 'vitest';

import {
  ReturnPathOptionsSchema,
  SettingsDataSchema,
} from '../../hubspot-app/app/settings/api-schemas.ts';
import { SettingsPage } from '../../hubspot-app/app/settings/SettingsPage.tsx';
import {
  savedReturnPath,
  settingsConnected,
  settingsMissingScopes,
  settingsNotConnected,
} from '../fixtures/hubspot-ui-extensions.ts';

const ORIGIN = 'https://lexicontract.example.com';
const SETTINGS = `${ORIGIN}/api/v1/integrations/hubspot/settings`;
const RETURN_PATH = `${ORIGIN}/api/v1/integrations/hubspot/settings/return-path`;

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json' },
  });
}

function stubFetch(answers: Record<string, Response[]>) {
  return vi.spyOn(hubspot, 'fetch').mockImplementation(async (url) => {
    const next = answers[String(url)]?.shift();
    if (next === undefined) throw new Error(`unexpected hubspot.fetch ${String(url)}`);
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

describe('SettingsPage: what comes back to HubSpot', () => {
  it('has valid fixtures', () => {
    expect(SettingsDataSchema.safeParse(settingsMissingScopes).success).toBe(true);
    expect(ReturnPathOptionsSchema.safeParse(savedReturnPath).success).toBe(true);
  });

  it('shows both switches as stored, and no notice when the scopes are granted', async () => {
    stubFetch({ [SETTINGS]: [json(200, settingsConnected)] });
    const renderer = await renderPage();
    expect(renderer.findByTestId(Toggle, 'write-back-files').props.checked).toBe(true);
    expect(renderer.findByTestId(Toggle, 'timeline-notes').props.checked).toBe(true);
    expect(renderer.maybeFind(Alert, { testId: 'reauthorize' })).toBeNull();
  });

  it('says "re-authorize to write files back" with the link when the scopes are missing', async () => {
    stubFetch({ [SETTINGS]: [json(200, settingsMissingScopes)] });
    const renderer = await renderPage();
    expect(renderer.findByTestId(Alert, 'reauthorize').text).toContain(
      're-authorize to write files back',
    );
    expect(renderer.findByTestId(Link, 'reauthorize-link').props.href).toBe(
      `${ORIGIN}/api/v1/integrations/hubspot/auth`,
    );
  });

  it('saves a flipped switch through a signed PUT and confirms', async () => {
    const fetch = stubFetch({
      [SETTINGS]: [json(200, settingsConnected)],
      [RETURN_PATH]: [json(200, savedReturnPath)],
    });
    const renderer = await renderPage();
    renderer.findByTestId(Toggle, 'timeline-notes').trigger('onChange', false as never);
    await renderer.waitFor(() => {
      expect(renderer.mocks.actions.addAlert.calls).toHaveLength(1);
    });
    expect(fetch).toHaveBeenCalledWith(RETURN_PATH, {
      method: 'PUT',
      timeout: 8_000,
      body: { writeBackFiles: true, timelineNotes: false },
    });
    expect(renderer.mocks.actions.addAlert.calls[0]?.[0]).toMatchObject({ type: 'success' });
    expect(renderer.findByTestId(Toggle, 'timeline-notes').props.checked).toBe(false);
  });

  it('puts the switch back and says why when saving is refused', async () => {
    stubFetch({
      [SETTINGS]: [json(200, settingsConnected)],
      [RETURN_PATH]: [
        json(409, { error: { code: 'hubspot_needs_reconnect', message: 'Reconnect first.' } }),
      ],
    });
    const renderer = await renderPage();
    renderer.findByTestId(Toggle, 'write-back-files').trigger('onChange', false as never);
    await renderer.waitFor(() => {
      expect(renderer.mocks.actions.addAlert.calls).toHaveLength(1);
    });
    expect(renderer.mocks.actions.addAlert.calls[0]?.[0]).toEqual({
      type: 'danger',
      title: 'Not saved',
      message: 'Reconnect first.',
    });
    expect(renderer.findByTestId(Toggle, 'write-back-files').props.checked).toBe(true);
  });

  it('has no switches while the account is not connected', async () => {
    stubFetch({ [SETTINGS]: [json(200, settingsNotConnected)] });
    const renderer = await renderPage();
    expect(renderer.maybeFind(Toggle)).toBeNull();
  });
});
