import { html, raw, type SafeHtml } from '../platform/http/html.ts';
import type { WebSession } from '../core/auth/sessions.ts';

export interface Flash {
  readonly kind: 'success' | 'error' | 'info';
  readonly message: string;
}

const STYLES = raw(`
  :root { --ink:#1d2433; --muted:#5b6478; --line:#e3e7ef; --bg:#f6f8fb; --brand:#3b4cca; --ok:#137a4b; --bad:#b42318; --warn:#a15c07; }
  * { box-sizing: border-box; }
  body { margin:0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color:var(--ink); background:var(--bg); }
  header { background:#fff; border-bottom:1px solid var(--line); }
  .bar { max-width:1040px; margin:0 auto; padding:12px 24px; display:flex; align-items:center; gap:24px; }
  .logo { font-weight:700; color:var(--brand); text-decoration:none; font-size:17px; }
  nav { white-space:nowrap; } nav a { color:var(--muted); text-decoration:none; margin-right:16px; }
  nav a.active { color:var(--ink); font-weight:600; }
  .who { margin-left:auto; color:var(--muted); font-size:13px; display:flex; gap:12px; align-items:center; min-width:0; }
  .who span { overflow:hidden; text-overflow:ellipsis; white-space:nowrap; max-width:360px; }
  .who button { white-space:nowrap; }
  main { max-width:1040px; margin:0 auto; padding:28px 24px 64px; }
  h1 { font-size:24px; margin:0 0 6px; } h2 { font-size:18px; margin:0 0 8px; }
  .sub { color:var(--muted); margin:0 0 24px; }
  .card { background:#fff; border:1px solid var(--line); border-radius:10px; padding:20px 22px; margin-bottom:16px; }
  .row { display:flex; gap:16px; align-items:flex-start; }
  .grow { flex:1; }
  .badge { display:inline-block; padding:2px 10px; border-radius:999px; font-size:12px; font-weight:600; background:#eef1f7; color:var(--muted); }
  .badge.ok { background:#e3f4ec; color:var(--ok); } .badge.bad { background:#fde8e7; color:var(--bad); } .badge.warn { background:#fdf1de; color:var(--warn); }
  dl { display:grid; grid-template-columns: 180px 1fr; gap:6px 16px; margin:14px 0 0; } dt { color:var(--muted); } dd { margin:0; }
  button, .button { font:inherit; border:1px solid var(--brand); background:var(--brand); color:#fff; padding:7px 16px; border-radius:7px; cursor:pointer; text-decoration:none; display:inline-block; }
  button.secondary, .button.secondary { background:#fff; color:var(--brand); }
  button.danger { background:#fff; color:var(--bad); border-color:var(--bad); }
  .flash { padding:12px 16px; border-radius:8px; margin-bottom:18px; border:1px solid; }
  .flash.success { background:#e3f4ec; border-color:#b6e2cc; color:var(--ok); }
  .flash.error { background:#fde8e7; border-color:#f6c4c0; color:var(--bad); }
  .flash.info { background:#eef1fb; border-color:#cfd6f3; color:var(--brand); }
  table { width:100%; border-collapse:collapse; background:#fff; } th, td { text-align:left; padding:9px 12px; border-bottom:1px solid var(--line); font-size:14px; }
  th { color:var(--muted); font-weight:600; font-size:12px; text-transform:uppercase; letter-spacing:.03em; }
  code { background:#eef1f7; padding:1px 6px; border-radius:4px; font-size:13px; }
  .muted { color:var(--muted); } form.inline { display:inline; }
  input[type=text], input[type=search], select { font:inherit; padding:6px 10px; border:1px solid var(--line); border-radius:6px; }
`);

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
  body: SafeHtml;
}): string {
  const { session } = input;
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="referrer" content="no-referrer" />
        <title>${input.title} · LexiContract</title>
        <style>
          ${STYLES}
        </style>
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
