import type { Flash } from './layout.ts';

/**
 * Messages shown after a redirect, chosen by a fixed code in the query string: the page
 * never reflects text from the URL.
 */
const NOTICES: Record<string, Flash> = {
  hubspot_connected: {
    kind: 'success',
    message: 'HubSpot is connected. Deals can now be sent to legal review.',
  },
  hubspot_reconnected: { kind: 'success', message: 'HubSpot is connected again.' },
  hubspot_disconnected: {
    kind: 'info',
    message:
      'HubSpot is disconnected. The app was uninstalled from the portal; your contracts are kept.',
  },
  hubspot_access_denied: {
    kind: 'error',
    message: 'The HubSpot install was cancelled: access was not granted.',
  },
  hubspot_state_invalid: {
    kind: 'error',
    message:
      'The HubSpot install could not be verified (the link expired, was already used, or was opened in another browser). Start again with Connect HubSpot.',
  },
  hubspot_exchange_failed: {
    kind: 'error',
    message:
      'HubSpot did not accept the install (the authorization code was refused). Start again with Connect HubSpot.',
  },
  hubspot_portal_taken: {
    kind: 'error',
    message:
      'That HubSpot portal is already connected to another LexiContract organization. Disconnect it there first.',
  },
  hubspot_unavailable: {
    kind: 'error',
    message: 'HubSpot could not be reached. Try again in a minute.',
  },
  hubspot_not_connected: { kind: 'error', message: 'HubSpot is not connected.' },
  provisioning_retried: { kind: 'info', message: 'Setting up the HubSpot portal again.' },
  sync_retried: { kind: 'info', message: 'Failed HubSpot updates are queued again.' },
  api_key_revoked: { kind: 'info', message: 'The API key was revoked.' },
  api_key_already_revoked: { kind: 'info', message: 'That API key was already revoked.' },
  signed_out: { kind: 'info', message: 'You are signed out.' },
};

export function noticeFromQuery(query: unknown): Flash | null {
  const code = (query as Record<string, unknown> | undefined)?.notice;
  return typeof code === 'string' ? (NOTICES[code] ?? null) : null;
}

export function isKnownNotice(code: string): boolean {
  return code in NOTICES;
}
