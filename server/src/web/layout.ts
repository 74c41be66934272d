import { html, type SafeHtml } from '../platform/http/html.ts';
import type { WebSession } from '../core/auth/sessions.ts';

export interface Flash {
  readonly kind: 'success' | 'error' | 'info';
  readonly message: string;
}

const NAV: readonly { href: string; label: string }[] = [
  { href: '/contracts', label: 'Contracts' },
  { href: '/integrations', label: 'Integrations' },
  { href: '/api-keys', label: 'API keys' },
  { href: '/audit-log', label: 'Audit log' },
];

export function page(input: {
  title: string;
  session: WebSession | null;
  active?: string;
  flash?: Flash | null;
  /** Reload the page after this many seconds (a state still settling, e.g. a pending sync). */
  refreshSeconds?: number;
  body: SafeHtml;
}): string {
  const { session } = input;
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="referrer" content="same-origin" />
        <title>${input.title} · LexiContract</title>
        ${input.refreshSeconds ? html`<meta http-equiv="refresh" content="${String(input.refreshSeconds)}" />` : null}
        <link rel="icon" type="image/svg+xml" href="/assets/favicon.svg" />
        <link rel="stylesheet" href="/assets/app.css" />
        <script src="/assets/app.js" defer></script>
      </head>
      <body>
        <header>
          <div class="bar">
            <a class="logo" href="/">LexiContract</a>
            ${
              session
                ? html`<nav>
                      ${NAV.map((item) => html`<a href="${item.href}" class="${item.href === input.active ? 'active' : ''}">${item.label}</a>`)}
                    </nav>
                    <div class="who">
                      <span>${session.organizationName} · ${session.userEmail}</span>
                      <form class="inline" method="post" action="/sign-out">
                        <input type="hidden" name="_csrf" value="${session.csrfToken}" /><button
                          class="secondary"
                          type="submit"
                        >
                          Sign out
                        </button>
                      </form>
                    </div>`
                : null
            }
          </div>
        </header>
        <main>
          ${input.flash ? html`<div class="flash ${input.flash.kind}" role="status">${input.flash.message}</div>` : null}
          ${input.body}
        </main>
      </body>
    </html>`.value;
}
