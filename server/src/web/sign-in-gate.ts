import type { FastifyReply, FastifyRequest } from 'fastify';

import { safeNextPath } from '../core/auth/next-path.ts';
import { readWebSession } from '../core/auth/session-plugin.ts';

/**
 * preHandler for pages: no session → the sign-in page, which brings the person back here
 * afterwards (`next`, a same-origin path; only GET pages are worth coming back to).
 */
export async function requireSignedIn(request: FastifyRequest, reply: FastifyReply): Promise<void> {
  if (await readWebSession(request)) return;
  const next = request.method === 'GET' ? safeNextPath(request.url) : null;
  await reply.redirect(
    next && next !== '/' ? `/sign-in?next=${encodeURIComponent(next)}` : '/sign-in',
  );
}
