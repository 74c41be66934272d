import { Component, createContext, type ReactNode } from 'react';

import { render } from './dom-renderer.tsx';

/**
 * The host side of an extension in the sandbox: what HubSpot gives a card or settings page
 * (its context, `actions`, `hubspot.fetch`), read from the page the sandbox rendered. The page
 * marks each extension's place with `data-card-host-mount="<uid>"` and a JSON `data-context`;
 * the extension's script carries `data-extension="<uid>"`.
 */

export interface AlertInput {
  readonly type?: 'info' | 'warning' | 'success' | 'danger' | 'tip';
  readonly title?: string;
  readonly message: string;
}

export interface HostActions {
  addAlert(alert: AlertInput): void;
  refreshObjectProperties(): void;
  reloadPage(): void;
}

/** What the page tells the host (sandbox/card-host/panels.ts writes it). */
interface MountContext {
  readonly uid: string;
  readonly location: string;
  readonly portalId: number;
  readonly user: { readonly id: number; readonly email: string; readonly name: string };
  readonly appId: string;
  readonly appName: string;
  readonly cardTitle: string;
  readonly crm?: { readonly objectId: number; readonly objectTypeId: string };
  /** Where refreshObjectProperties fetches the record's properties (an HTML fragment). */
  readonly propertiesUrl?: string;
}

export interface HostValue {
  readonly context: Record<string, unknown>;
  readonly actions: HostActions;
  readonly mount: MountContext;
}

export const HostContext = createContext<HostValue | null>(null);

/** The extension currently running its top-level code (one per script), for hubspot.fetch. */
let currentMount: MountContext | null = null;

function mountOf(element: Element): MountContext {
  const raw = element.getAttribute('data-context');
  if (raw === null) throw new Error('card host: a mount without data-context');
  return JSON.parse(raw) as MountContext;
}

function hubspotContext(mount: MountContext): Record<string, unknown> {
  const [firstName = '', ...rest] = mount.user.name.split(' ');
  return {
    location: mount.location,
    user: {
      id: mount.user.id,
      email: mount.user.email,
      emails: [mount.user.email],
      firstName,
      lastName: rest.join(' '),
      roles: [],
      teams: [],
      locale: navigator.language,
      permissions: [],
    },
    portal: { id: mount.portalId, timezone: 'UTC' },
    extension: { appId: mount.appId, appName: mount.appName, cardTitle: mount.cardTitle },
    ...(mount.crm ? { crm: mount.crm } : {}),
  };
}

function alertsRegion(): HTMLElement {
  const existing = document.getElementById('card-host-alerts');
  if (existing) return existing;
  const region = document.createElement('div');
  region.id = 'card-host-alerts';
  region.className = 'hs-alerts';
  document.body.prepend(region);
  return region;
}

function actionsFor(mount: MountContext): HostActions {
  return {
    addAlert(alert) {
      const box = document.createElement('div');
      box.className = `hs-page-alert hs-alert hs-alert-${alert.type ?? 'info'}`;
      box.setAttribute('role', 'alert');
      box.setAttribute('data-testid', 'card-alert');
      const text = document.createElement('div');
      if (alert.title) {
        const title = document.createElement('strong');
        title.textContent = `${alert.title} `;
        text.append(title);
      }
      text.append(document.createTextNode(alert.message));
      const close = document.createElement('button');
      close.type = 'button';
      close.className = 'hs-alert-close';
      close.setAttribute('aria-label', 'Dismiss');
      close.textContent = '×';
      close.addEventListener('click', () => {
        box.remove();
      });
      box.append(text, close);
      alertsRegion().append(box);
    },
    refreshObjectProperties() {
      const url = mount.propertiesUrl;
      const target = document.querySelector('[data-card-host-properties]');
      if (url === undefined || target === null) return;
      void fetch(url, { headers: { accept: 'text/html' } })
        .then(async (response) => (response.ok ? response.text() : undefined))
        .then((html) => {
          if (html === undefined) return;
          // The sandbox's own escaped fragment (no scripts): the record's property table.
          target.innerHTML = html;
          target.setAttribute('data-refreshed', String(Date.now()));
        });
    },
    reloadPage() {
      window.location.reload();
    },
  };
}

/** `hubspot.fetch` in the sandbox: the sandbox signs and forwards it (sandbox/card-host/routes.ts). */
export async function hostFetch(
  url: string,
  options: {
    method?: string;
    body?: unknown;
    timeout?: number;
    headers?: Record<string, string>;
  } = {},
): Promise<Response> {
  const mount = currentMount;
  if (mount === null) throw new Error('card host: hubspot.fetch outside an extension');
  const response = await fetch('/card-host/fetch', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      extension: mount.uid,
      portalId: mount.portalId,
      userId: mount.user.id,
      url,
      method: options.method ?? 'GET',
      ...(options.body !== undefined ? { body: options.body } : {}),
    }),
    ...(options.timeout !== undefined ? { signal: AbortSignal.timeout(options.timeout) } : {}),
  });
  const answer = (await response.json()) as {
    status?: number;
    body?: unknown;
    error?: { message?: string };
  };
  if (!response.ok || typeof answer.status !== 'number') {
    // HubSpot rejects when it cannot reach the app; so does the sandbox.
    throw new TypeError(answer.error?.message ?? 'hubspot.fetch failed');
  }
  const nullBody = answer.status === 204 || answer.status === 205 || answer.status === 304;
  return new Response(
    nullBody || answer.body === undefined
      ? null
      : typeof answer.body === 'string'
        ? answer.body
        : JSON.stringify(answer.body),
    { status: answer.status, headers: { 'content-type': 'application/json' } },
  );
}

class Boundary extends Component<{ children: ReactNode }, { error: Error | null }> {
  override state = { error: null as Error | null };
  static getDerivedStateFromError(error: Error) {
    return { error };
  }
  override componentDidCatch(error: Error) {
    console.error('card host: the extension crashed', error);
  }
  override render() {
    if (this.state.error) {
      return (
        <div className="hs-alert hs-alert-danger" role="alert" data-testid="extension-crashed">
          <strong>This extension crashed. </strong>
          {this.state.error.message}
        </div>
      );
    }
    return this.props.children;
  }
}

export type ExtendRender = (api: {
  context: Record<string, unknown>;
  actions: HostActions;
}) => ReactNode;

/** `hubspot.extend`: renders the extension into every place the page made for it. */
export function extend(renderExtension: ExtendRender): void {
  const script = document.currentScript;
  const uid = script?.getAttribute('data-extension');
  if (!uid) throw new Error('card host: hubspot.extend outside a card-host script');
  for (const element of document.querySelectorAll(`[data-card-host-mount="${CSS.escape(uid)}"]`)) {
    const mount = mountOf(element);
    // One script per extension and one record per page: the fetch context is this mount's.
    currentMount = mount;
    const value: HostValue = { context: hubspotContext(mount), actions: actionsFor(mount), mount };
    const container = document.createElement('div');
    container.className = 'hs-extension';
    element.replaceChildren(container);
    render(
      <Boundary>
        <HostContext.Provider value={value}>
          {renderExtension({ context: value.context, actions: value.actions })}
        </HostContext.Provider>
      </Boundary>,
      container,
    );
  }
}
