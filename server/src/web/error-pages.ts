import type { FastifyRequest } from 'fastify';

import { html } from '../platform/http/html.ts';
import { page } from './layout.ts';

/** What a person is told for each status; the error's own message follows for 4xx. */
const TITLES: Record<number, { title: string; hint: string }> = {
  400: { title: 'That request was not understood', hint: 'Go back and try again.' },
  401: { title: 'Sign in first', hint: 'Your session ended or you are not signed in.' },
  403: { title: 'Not allowed', hint: 'This page or form is not available to you.' },
  404: {
    title: 'Page not found',
    hint: 'The link is wrong, or this item is not in your organization.',
  },
  413: { title: 'Too large', hint: 'The upload is larger than allowed.' },
  429: { title: 'Too many requests', hint: 'Wait a minute, then try again.' },
  500: { title: 'Something went wrong', hint: 'It is logged on our side. Try again in a minute.' },
  503: {
    title: 'Temporarily unavailable',
    hint: 'LexiContract is busy or restarting. Try again in a minute.',
  },
};

/**
 * An error as a page in the product's layout, for browser routes (the REST API keeps its JSON
 * errors). Given to the app's one error handler by `app.ts`. The message shown is the
 * domain error's own, never the URL or the request: a 5xx says only what `TITLES` says.
 */
export function webErrorPage(
  request: FastifyRequest,
  status: number,
  error: { code: string; message: string },
): string {
  const known = TITLES[status] ?? (status >= 500 ? TITLES[500] : TITLES[400]);
  const session = request.webSession ?? null;
  // 5xx messages and the router's own 404 (which names the URL) are not repeated.
  const detail = status >= 500 || error.code === 'not_found' ? null : error.message;
  const body = html`<div
    class="card narrow"
    data-testid="error-page"
    data-status="${String(status)}"
    data-error-code="${error.code}"
  >
    <h1>${known?.title ?? 'Error'}</h1>
    ${detail ? html`<p>${detail}</p>` : null}
    <p class="muted">${known?.hint ?? ''} <code>${String(status)} · ${error.code}</code></p>
    <p>
      ${
        session
          ? html`<a class="button" href="/contracts">Go to contracts</a>`
          : html`<a class="button" href="/sign-in">Sign in</a>`
      }
    </p>
  </div>`;
  return page({ title: known?.title ?? 'Error', session, body });
}
