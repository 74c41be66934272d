import {
  OBJECT_TYPE_IDS,
  discoverExtensions,
  readAppMeta,
  type AppMeta,
  type CardLocation,
  type ExtensionMeta,
} from './extensions.ts';

/**
 * The sandbox's card host: renders the app's real UI extensions on sandbox pages. Pages ask
 * `cardPanels` / `settingsPanel` for the HTML of an extension's place and its script; the
 * browser loads `/card-host/extensions/<uid>.js` (the extension bundled with the sandbox's
 * `@hubspot/ui-extensions` stand-in) and sends `hubspot.fetch` to `/card-host/fetch`, which
 * the sandbox signs (v3) and forwards to the app like HubSpot does (sandbox/card-host-routes.ts).
 * This folder imports nothing else of the sandbox.
 */

function esc(text: unknown): string {
  return String(text)
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

/** Who is looking at which record: what HubSpot puts in an extension's context. */
export interface RecordView {
  readonly portalId: number;
  /** HubSpot's name: `deals`, `companies`, … */
  readonly objectType: string;
  readonly objectId: string;
  readonly user: { readonly id: number; readonly email: string; readonly name: string };
  /** An HTML fragment of the record's properties, for `refreshObjectProperties`. */
  readonly propertiesUrl?: string;
}

export interface CardPanels {
  /** Panels of the record's middle column (`crm.record.tab`). */
  readonly tab: string;
  /** Panels of the record's right sidebar (`crm.record.sidebar`). */
  readonly sidebar: string;
  /** The scripts to put at the end of the page's body. */
  readonly scripts: string;
}

export interface CardHost {
  extensions(): Promise<ExtensionMeta[]>;
  /** The app's name and `permittedUrls.fetch`, from app-hsmeta.json. */
  appMeta(): Promise<AppMeta>;
  /** The panels of every card the app has for this record type, by location. */
  cardPanels(view: RecordView): Promise<CardPanels>;
  /** The app's settings page, or undefined when the app has none. */
  settingsPanel(
    view: Omit<RecordView, 'objectType' | 'objectId'>,
  ): Promise<{ panel: string; scripts: string } | undefined>;
}

/** The sandbox pages' CSP: the bundles are same-origin scripts, no inline script, no eval. */
export const SANDBOX_PAGE_CSP =
  "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

function mountHtml(
  extension: ExtensionMeta,
  context: Record<string, unknown>,
  title: string,
): string {
  return `<section class="panel card-host-panel" data-testid="extension-${esc(extension.uid)}" aria-label="${esc(title)}">
<h2>${esc(title)} <span class="muted">· ${esc(context.appName)}</span></h2>
<div data-card-host-mount="${esc(extension.uid)}" data-context="${esc(JSON.stringify(context))}"><p class="muted">Loading ${esc(title)}…</p></div>
</section>`;
}

function scriptTags(extensions: readonly ExtensionMeta[]): string {
  return [...new Set(extensions.map((e) => e.uid))]
    .map(
      (uid) =>
        `<script src="/card-host/extensions/${encodeURIComponent(uid)}.js" data-extension="${esc(uid)}"></script>`,
    )
    .join('\n');
}

/** `appDir`: the HubSpot project (default: this repository's hubspot-app). */
export function createCardHost(options: { appId: string; appDir?: string }): CardHost {
  let discovered: Promise<ExtensionMeta[]> | undefined;
  let appMeta: Promise<AppMeta> | undefined;
  const extensions = () => (discovered ??= discoverExtensions(options.appDir));
  const meta = () => (appMeta ??= readAppMeta(options.appDir));

  async function baseContext(
    extension: ExtensionMeta,
    view: Omit<RecordView, 'objectType' | 'objectId'>,
  ): Promise<Record<string, unknown>> {
    return {
      uid: extension.uid,
      location: extension.location,
      portalId: view.portalId,
      user: view.user,
      appId: options.appId,
      appName: (await meta()).name,
      cardTitle: extension.name,
    };
  }

  return {
    extensions,
    appMeta: meta,
    async cardPanels(view) {
      const cards = (await extensions()).filter(
        (e) => e.kind === 'card' && e.objectTypes.includes(view.objectType),
      );
      const panels = async (location: CardLocation) => {
        const here = cards.filter((c) => c.location === location);
        const html: string[] = [];
        for (const card of here) {
          html.push(
            mountHtml(
              card,
              {
                ...(await baseContext(card, view)),
                crm: {
                  objectId: Number(view.objectId),
                  objectTypeId: OBJECT_TYPE_IDS[view.objectType] ?? view.objectType,
                },
                ...(view.propertiesUrl !== undefined ? { propertiesUrl: view.propertiesUrl } : {}),
              },
              card.name,
            ),
          );
        }
        return html.join('\n');
      };
      const shown = cards.filter(
        (c) => c.location === 'crm.record.tab' || c.location === 'crm.record.sidebar',
      );
      return {
        tab: await panels('crm.record.tab'),
        sidebar: await panels('crm.record.sidebar'),
        scripts: scriptTags(shown),
      };
    },
    async settingsPanel(view) {
      const settings = (await extensions()).find((e) => e.kind === 'settings');
      if (!settings) return undefined;
      const context = await baseContext(settings, view);
      return {
        panel: mountHtml(settings, context, 'Settings'),
        scripts: scriptTags([settings]),
      };
    },
  };
}
