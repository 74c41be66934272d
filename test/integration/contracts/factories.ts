import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';

import type { Database } from '../../../server/src/platform/db/database.ts';
import {
  createContract,
  type CreateContractInput,
} from '../../../server/src/core/contracts/contracts-service.ts';
import type { Contract } from '../../../server/src/core/contracts/contract.ts';
import {
  createApiKey,
  type CreatedApiKey,
} from '../../../server/src/core/organizations/api-keys.ts';
import {
  createOrganization,
  type Organization,
} from '../../../server/src/core/organizations/organizations.ts';

export interface Tenant {
  readonly organization: Organization;
  readonly apiKey: CreatedApiKey;
}

/** A fresh organization with one API key; every test makes its own. */
export async function makeTenant(db: Database, name = 'Tenant'): Promise<Tenant> {
  const organization = await createOrganization(db, `${name} ${randomUUID().slice(0, 8)}`);
  const apiKey = await createApiKey(db, organization.id, 'test key');
  return { organization, apiKey };
}

export async function makeContract(
  db: Database,
  organizationId: string,
  overrides: Partial<CreateContractInput> = {},
): Promise<Contract> {
  return createContract(db, {
    organizationId,
    title: 'Master services agreement',
    externalSource: 'hubspot',
    externalId: `deal-${randomUUID().slice(0, 8)}`,
    externalAccountId: '123456',
    createdBySource: 'test',
    actor: 'system',
    sourceSnapshot: { dealname: 'ACME renewal', amount: '12000' },
    ...overrides,
  });
}

/** A Readable of the given bytes, split into pieces of `pieceSize` to cross chunk borders. */
export function bytesSource(bytes: Buffer, pieceSize = 65_536): Readable {
  const pieces: Buffer[] = [];
  for (let offset = 0; offset < bytes.length; offset += pieceSize) {
    pieces.push(bytes.subarray(offset, offset + pieceSize));
  }
  return Readable.from(pieces);
}

export async function readAll(stream: AsyncIterable<unknown>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of stream) parts.push(Buffer.from(part as Uint8Array));
  return Buffer.concat(parts);
}
