import type { FastifyInstance, FastifyRequest } from 'fastify';

import { SandboxControlError } from './errors.ts';
import { sameToken } from './tokens.ts';

/**
 * "Start over": forget every portal and install and seed the demo portal again. Two doors:
 * `POST /_sandbox/start-over` (the JSON control API, under its guard and token) and the home
 * page's form, `POST /start-over`. The form is refused when the browser says it comes from
 * another site (`Sec-Fetch-Site`, `Origin`), so no other page can wipe the sandbox through
 * the operator's browser; with a control token (a sandbox reachable beyond loopback) the form
 * also needs that token, like the consent page's choice of an existing account.
 */

function sameSite(request: FastifyRequest, origin: string): boolean {
  const site = request.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none') return false;
  const requestOrigin = request.headers.origin;
  return requestOrigin === undefined || requestOrigin === origin;
}

function escapeHtml(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;');
}

/** The home page's "Start over" panel. */
export function startOverForm(needsToken: boolean, persisted: boolean): string {
  const token = needsToken
    ? '<label>Sandbox token: <input type="password" name="sandbox_token" autocomplete="off" required></label> '
    : '';
  const note = persisted
    ? 'This sandbox keeps its portals, installs and deals across restarts.'
    : 'This sandbox keeps its state in memory only.';
  return `<div class="panel"><h2>Start over</h2><p class="muted">${escapeHtml(note)} Starting over forgets every portal, install and deal and seeds the demo portal again; the app then needs to be connected again.</p>
<form method="post" action="/start-over">${token}<button class="secondary" type="submit" name="confirm" value="yes" data-testid="start-over">Start over</button></form></div>`;
}

export async function startOverRoutes(
  app: FastifyInstance,
  options: {
    readonly origin: () => string;
    readonly controlToken: string | undefined;
    readonly startOver: () => Promise<void>;
  },
): Promise<void> {
  app.post('/_sandbox/start-over', async (_request, reply) => {
    await options.startOver();
    return reply.code(204).send();
  });

  app.post('/start-over', async (request, reply) => {
    if (!sameSite(request, options.origin())) {
      throw new SandboxControlError('starting over refuses cross-site requests', 403);
    }
    const body = (request.body ?? {}) as Record<string, unknown>;
    if (body.confirm !== 'yes') {
      throw new SandboxControlError('starting over needs confirm=yes (the home page form)', 400);
    }
    const token = typeof body.sandbox_token === 'string' ? body.sandbox_token : undefined;
    if (options.controlToken !== undefined && !sameToken(token, options.controlToken)) {
      throw new SandboxControlError('starting over needs the sandbox token', 401);
    }
    await options.startOver();
    return reply.redirect('/', 303);
  });
}
