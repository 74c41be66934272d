/**
 * A separate process making concurrent HubSpot calls for one portal, for the token-expiry
 * drill: `node token-caller-child.ts` with TOKEN_CHILD_CONFIG = JSON { databaseUrl, keyring,
 * hubspot, portalId, dealId, calls }. Prints "ready", waits for "go" on stdin, makes `calls`
 * concurrent `portalRequest`s, prints "result <json>" and exits.
 */
import { createInterface } from 'node:readline';

import type { HubSpotAppConfig } from '../../server/src/platform/config/runtime.ts';
import { parseKeyring } from '../../server/src/platform/crypto/keyring.ts';
import { createDatabase } from '../../server/src/platform/db/database.ts';
import { portalRequest } from '../../server/src/hubspot/client/portal-client.ts';
import { CrmObjectSchema } from '../../server/src/hubspot/wire/index.ts';
import { hubspotPaths } from '../../server/src/hubspot/wire/api-versions.ts';

const input = JSON.parse(process.env.TOKEN_CHILD_CONFIG ?? '{}') as {
  databaseUrl: string;
  keyring: string;
  hubspot: HubSpotAppConfig;
  portalId: string;
  dealId: string;
  calls: number;
};
const keyring = parseKeyring(input.keyring);
if (!keyring.ok) throw new Error(keyring.problem);
const database = createDatabase(input.databaseUrl, { maxConnections: input.calls + 2 });
const deps = { db: database.db, keyring: keyring.keyring, hubspot: input.hubspot };

const lines = createInterface({ input: process.stdin });
process.stdout.write('ready\n');
for await (const line of lines) {
  if (line.trim() === 'go') break;
}
lines.close();
const outcomes = await Promise.allSettled(
  Array.from({ length: input.calls }, () =>
    portalRequest(
      deps,
      input.portalId,
      { method: 'GET', path: hubspotPaths.deal(input.dealId) },
      CrmObjectSchema,
    ),
  ),
);
const result = outcomes.map((o) =>
  o.status === 'fulfilled'
    ? { ok: true, status: o.value.status, id: o.value.body.id }
    : { ok: false, error: o.reason instanceof Error ? o.reason.message : String(o.reason) },
);
process.stdout.write(`result ${JSON.stringify(result)}\n`);
await database.destroy();
