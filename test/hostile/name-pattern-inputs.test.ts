import { describe, expect, it } from 'vitest';

import { startHubSpotTestEnv } from '../helpers/hubspot-env.ts';
import { createTestDatabase } from '../helpers/test-db.ts';
import { fetchQuery, send, signedRequest, signerOf, type Endpoint } from './hubspot-requests.ts';

/**
 * The attachment-name pattern as a portal can set it (issue 13, finding 1): an over-long
 * pattern is refused with a clear message, and the pattern that froze the former regex
 * matcher is an ordinary setting that the card applies to a 250-character name.
 */
const database = await createTestDatabase();
const env = await startHubSpotTestEnv({ db: database.db });
const signer = signerOf(env);
const { portalId, organizationId } = await env.connectPortal({ name: 'Patterned' });
const query = fetchQuery({ portalId, appId: env.config.hubspot.appId });

function saveOptions(pattern: string): Endpoint {
  return {
    name: 'PUT /settings/options',
    method: 'PUT',
    path: '/settings/options',
    policy: 'v3',
    scheme: 'v3',
    bodyLimit: 16 * 1024,
    query,
    body: { closedLostBehavior: 'do_nothing', attachmentFilter: { mode: 'matching', pattern } },
  };
}

async function storedPattern(): Promise<string | null | undefined> {
  const row = await database.db
    .selectFrom('hubspot_portal_settings')
    .select('attachment_name_pattern')
    .where('organization_id', '=', organizationId)
    .executeTakeFirst();
  return row?.attachment_name_pattern;
}

describe('attachment name pattern from a portal', () => {
  it('refuses a pattern over 200 characters with a message that says so', async () => {
    const response = await send(
      env.app,
      signedRequest(signer, saveOptions(`*${'a*'.repeat(100)}b`)),
    );
    expect(response.statusCode).toBe(400);
    expect(JSON.stringify(response.json())).toContain(
      'the name pattern is longer than 200 characters',
    );
    expect(await storedPattern()).toBeUndefined();
  });

  it('applies the adversarial pattern to a 250-character name in the card', async () => {
    const pattern = '*a*a*a*a*a*a*a*a*b';
    const saved = await send(env.app, signedRequest(signer, saveOptions(pattern)));
    expect(saved.statusCode).toBe(200);
    expect(await storedPattern()).toBe(pattern);

    const portal = Number(portalId);
    const dealId = env.sandbox.control.createDeal(portal, { dealname: 'Long names' }).id;
    const longName = `${'a'.repeat(246)}.pdf`;
    env.sandbox.control.attachNoteWithFiles(portal, dealId, [
      { name: longName, kind: 'pdf' },
      { name: 'msa.pdf', kind: 'pdf' },
    ]);
    const card: Endpoint = {
      name: 'GET /card',
      method: 'GET',
      path: '/card',
      policy: 'v3',
      scheme: 'v3',
      bodyLimit: 64 * 1024,
      query: { dealId, ...query },
    };
    // The former regex matcher never finished this request (exponential in the name; on
    // that code this test blocks its worker instead of failing quickly).
    const response = await send(env.app, signedRequest(signer, card));
    expect(response.statusCode).toBe(200);
    const { attachments } = response.json<{
      attachments: { name: string; preselected: boolean; importable: boolean }[];
    }>();
    expect(attachments.map((a) => [a.name, a.importable, a.preselected]).sort()).toEqual(
      [
        [longName, true, false],
        ['msa.pdf', true, false],
      ].sort(),
    );
  });
});
