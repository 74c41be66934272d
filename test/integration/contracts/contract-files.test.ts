import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';

import { describe, expect, it } from 'vitest';

import {
  CONTRACT_FILE_CHUNK_BYTES,
  getContractFile,
  listContractFiles,
  openContractFileStream,
  purgeIncompleteContractFiles,
  writeContractFile,
} from '../../../server/src/core/contracts/contract-files.ts';
import { getContractDetail } from '../../../server/src/core/contracts/contracts-service.ts';
import {
  ContractFileCorruptError,
  ContractFileNotFoundError,
  ContractFileTooLargeError,
  ContractNotFoundError,
} from '../../../server/src/core/contracts/errors.ts';
import { createTestDatabase } from '../../helpers/test-db.ts';
import { bytesSource, makeContract, makeTenant, readAll } from './factories.ts';

const database = await createTestDatabase();
const db = database.db;

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

async function fileRowsOf(contractId: string) {
  return db
    .selectFrom('contract_files')
    .selectAll()
    .where('contract_id', '=', contractId)
    .execute();
}

async function chunkCount(fileId: string): Promise<number> {
  const row = await db
    .selectFrom('contract_file_chunks')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('file_id', '=', fileId)
    .executeTakeFirstOrThrow();
  return row.n;
}

async function allChunksOfContract(contractId: string): Promise<number> {
  const row = await db
    .selectFrom('contract_file_chunks as c')
    .innerJoin('contract_files as f', 'f.id', 'c.file_id')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('f.contract_id', '=', contractId)
    .executeTakeFirstOrThrow();
  return row.n;
}

describe('writeContractFile / openContractFileStream', () => {
  it('stores a multi-chunk file in 1 MiB chunks and streams it back identical', async () => {
    const { organization } = await makeTenant(db);
    const contract = await makeContract(db, organization.id);
    const bytes = randomBytes(3 * CONTRACT_FILE_CHUNK_BYTES + 12_345);
    const stored = await writeContractFile(
      db,
      {
        organizationId: organization.id,
        contractId: contract.id,
        name: 'Contract v1.pdf',
        contentType: 'application/pdf',
        externalFileId: '555',
      },
      bytesSource(bytes, 100_003),
    );
    expect(stored.duplicate).toBe(false);
    expect(stored.file).toMatchObject({
      contractId: contract.id,
      organizationId: organization.id,
      name: 'Contract v1.pdf',
      contentType: 'application/pdf',
      sizeBytes: bytes.length,
      sha256: sha256(bytes),
      externalFileId: '555',
    });
    expect(await chunkCount(stored.file.id)).toBe(4);
    const sizes = await db
      .selectFrom('contract_file_chunks')
      .select(['seq', (eb) => eb.fn<number>('length', ['data']).as('len')])
      .where('file_id', '=', stored.file.id)
      .orderBy('seq')
      .execute();
    expect(sizes.map((s) => s.len)).toEqual([
      CONTRACT_FILE_CHUNK_BYTES,
      CONTRACT_FILE_CHUNK_BYTES,
      CONTRACT_FILE_CHUNK_BYTES,
      12_345,
    ]);

    const opened = await openContractFileStream(db, organization.id, contract.id, stored.file.id);
    expect(opened.file.id).toBe(stored.file.id);
    const back = await readAll(opened.stream);
    expect(back.equals(bytes)).toBe(true);

    const detail = await getContractDetail(db, organization.id, contract.id);
    expect(detail.files.map((f) => f.id)).toEqual([stored.file.id]);
    const audit = await db
      .selectFrom('audit_log')
      .selectAll()
      .where('action', '=', 'contract.file_stored')
      .where('target', '=', `contract:${contract.id}`)
      .execute();
    expect(audit).toHaveLength(1);
  });

  it('stores an empty file', async () => {
    const { organization } = await makeTenant(db);
    const contract = await makeContract(db, organization.id);
    const stored = await writeContractFile(
      db,
      {
        organizationId: organization.id,
        contractId: contract.id,
        name: 'empty.txt',
        contentType: 'text/plain',
      },
      Readable.from([]),
    );
    expect(stored.file).toMatchObject({ sizeBytes: 0, sha256: sha256(Buffer.alloc(0)) });
    const opened = await openContractFileStream(db, organization.id, contract.id, stored.file.id);
    expect((await readAll(opened.stream)).length).toBe(0);
  });

  it('refuses a file over the cap, stops reading the source and deletes the partial rows', async () => {
    const { organization } = await makeTenant(db);
    const contract = await makeContract(db, organization.id);
    let produced = 0;
    const endless = new Readable({
      read() {
        produced += 65_536;
        this.push(Buffer.alloc(65_536, 7));
      },
    });
    await expect(
      writeContractFile(
        db,
        {
          organizationId: organization.id,
          contractId: contract.id,
          name: 'big.bin',
          contentType: 'application/octet-stream',
        },
        endless,
        { maxBytes: 2 * CONTRACT_FILE_CHUNK_BYTES + 10 },
      ),
    ).rejects.toBeInstanceOf(ContractFileTooLargeError);
    expect(endless.destroyed).toBe(true);
    expect(produced).toBeLessThan(4 * CONTRACT_FILE_CHUNK_BYTES);
    expect(await fileRowsOf(contract.id)).toEqual([]);
    expect(await allChunksOfContract(contract.id)).toBe(0);
  });

  it('deletes the partial rows when the source fails mid-way', async () => {
    const { organization } = await makeTenant(db);
    const contract = await makeContract(db, organization.id);
    async function* failing() {
      yield randomBytes(CONTRACT_FILE_CHUNK_BYTES);
      yield randomBytes(CONTRACT_FILE_CHUNK_BYTES);
      throw new Error('connection reset by peer');
    }
    await expect(
      writeContractFile(
        db,
        {
          organizationId: organization.id,
          contractId: contract.id,
          name: 'x.pdf',
          contentType: 'application/pdf',
        },
        failing(),
      ),
    ).rejects.toThrow('connection reset by peer');
    expect(await fileRowsOf(contract.id)).toEqual([]);
    expect(await allChunksOfContract(contract.id)).toBe(0);
  });

  it('stores identical content once per contract and reports the duplicate', async () => {
    const { organization } = await makeTenant(db);
    const contract = await makeContract(db, organization.id);
    const bytes = randomBytes(CONTRACT_FILE_CHUNK_BYTES + 1);
    const meta = {
      organizationId: organization.id,
      contractId: contract.id,
      contentType: 'application/pdf',
    };
    const first = await writeContractFile(db, { ...meta, name: 'a.pdf' }, bytesSource(bytes));
    const second = await writeContractFile(db, { ...meta, name: 'b.pdf' }, bytesSource(bytes));
    expect(second).toEqual({ file: first.file, duplicate: true });
    expect(await fileRowsOf(contract.id)).toHaveLength(1);
    expect(await allChunksOfContract(contract.id)).toBe(2);

    // The same bytes on another contract are a separate file.
    const other = await makeContract(db, organization.id);
    const third = await writeContractFile(
      db,
      { ...meta, contractId: other.id, name: 'a.pdf' },
      bytesSource(bytes),
    );
    expect(third.duplicate).toBe(false);
    expect(third.file.id).not.toBe(first.file.id);
  });

  it('resolves two concurrent uploads of the same bytes to one file', async () => {
    const { organization } = await makeTenant(db);
    const contract = await makeContract(db, organization.id);
    const bytes = randomBytes(2 * CONTRACT_FILE_CHUNK_BYTES);
    const meta = {
      organizationId: organization.id,
      contractId: contract.id,
      name: 'c.pdf',
      contentType: 'application/pdf',
    };
    const [a, b] = await Promise.all([
      writeContractFile(db, meta, bytesSource(bytes)),
      writeContractFile(db, meta, bytesSource(bytes)),
    ]);
    expect(a.file.id).toBe(b.file.id);
    expect([a.duplicate, b.duplicate].sort()).toEqual([false, true]);
    expect(await fileRowsOf(contract.id)).toHaveLength(1);
    expect(await allChunksOfContract(contract.id)).toBe(2);
  });

  it('sanitises the name and normalises the content type', async () => {
    const { organization } = await makeTenant(db);
    const contract = await makeContract(db, organization.id);
    const stored = await writeContractFile(
      db,
      {
        organizationId: organization.id,
        contractId: contract.id,
        name: '../etc/\u0000pass"wd\n\u202e.pdf',
        contentType: 'Application/PDF; charset=binary',
      },
      bytesSource(Buffer.from('%PDF-1.7')),
    );
    expect(stored.file.name).toBe('.._etc_pass"wd.pdf');
    expect(stored.file.contentType).toBe('application/pdf');
    const weird = await writeContractFile(
      db,
      {
        organizationId: organization.id,
        contractId: contract.id,
        name: '   ',
        contentType: 'not a type',
      },
      bytesSource(Buffer.from('other')),
    );
    expect(weird.file).toMatchObject({ name: 'file', contentType: 'application/octet-stream' });
  });

  it("never opens another organization's file, another contract's file or an unknown id", async () => {
    const owner = await makeTenant(db, 'Owner');
    const other = await makeTenant(db, 'Other');
    const contract = await makeContract(db, owner.organization.id);
    const sibling = await makeContract(db, owner.organization.id);
    const stored = await writeContractFile(
      db,
      {
        organizationId: owner.organization.id,
        contractId: contract.id,
        name: 'a.pdf',
        contentType: 'application/pdf',
      },
      bytesSource(Buffer.from('secret')),
    );
    await expect(
      openContractFileStream(db, other.organization.id, contract.id, stored.file.id),
    ).rejects.toBeInstanceOf(ContractNotFoundError);
    await expect(
      openContractFileStream(db, owner.organization.id, sibling.id, stored.file.id),
    ).rejects.toBeInstanceOf(ContractFileNotFoundError);
    await expect(
      openContractFileStream(db, owner.organization.id, contract.id, 'nope'),
    ).rejects.toBeInstanceOf(ContractFileNotFoundError);
    await expect(
      writeContractFile(
        db,
        {
          organizationId: other.organization.id,
          contractId: contract.id,
          name: 'x',
          contentType: 'text/plain',
        },
        bytesSource(Buffer.from('x')),
      ),
    ).rejects.toBeInstanceOf(ContractNotFoundError);
    expect(await listContractFiles(db, other.organization.id, contract.id)).toEqual([]);
  });

  it('hides files that are still being written and purges abandoned ones', async () => {
    const { organization } = await makeTenant(db);
    const contract = await makeContract(db, organization.id);
    const writing = await db
      .insertInto('contract_files')
      .values({
        contract_id: contract.id,
        organization_id: organization.id,
        name: 'half.pdf',
        content_type: 'application/pdf',
        created_at: new Date(Date.now() - 3_600_000),
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    await db
      .insertInto('contract_file_chunks')
      .values({ file_id: writing.id, seq: 0, data: Buffer.from('partial') })
      .execute();
    await expect(
      getContractFile(db, organization.id, contract.id, writing.id),
    ).rejects.toBeInstanceOf(ContractFileNotFoundError);
    expect(await listContractFiles(db, organization.id, contract.id)).toEqual([]);
    expect(
      await purgeIncompleteContractFiles(db, new Date(Date.now() - 60_000)),
    ).toBeGreaterThanOrEqual(1);
    expect(await fileRowsOf(contract.id)).toEqual([]);
    expect(await chunkCount(writing.id)).toBe(0);
  });

  it('fails the read stream when a stored chunk is missing', async () => {
    const { organization } = await makeTenant(db);
    const contract = await makeContract(db, organization.id);
    const stored = await writeContractFile(
      db,
      {
        organizationId: organization.id,
        contractId: contract.id,
        name: 'a.bin',
        contentType: 'application/octet-stream',
      },
      bytesSource(randomBytes(2 * CONTRACT_FILE_CHUNK_BYTES + 5)),
    );
    await db
      .deleteFrom('contract_file_chunks')
      .where('file_id', '=', stored.file.id)
      .where('seq', '=', 1)
      .execute();
    const opened = await openContractFileStream(db, organization.id, contract.id, stored.file.id);
    await expect(readAll(opened.stream)).rejects.toBeInstanceOf(ContractFileCorruptError);
  });

  it('fails the read stream when stored bytes were altered', async () => {
    const { organization } = await makeTenant(db);
    const contract = await makeContract(db, organization.id);
    const stored = await writeContractFile(
      db,
      {
        organizationId: organization.id,
        contractId: contract.id,
        name: 'a.bin',
        contentType: 'application/octet-stream',
      },
      bytesSource(Buffer.from('the original terms')),
    );
    await db
      .updateTable('contract_file_chunks')
      .set({ data: Buffer.from('the altered  terms') })
      .where('file_id', '=', stored.file.id)
      .execute();
    const opened = await openContractFileStream(db, organization.id, contract.id, stored.file.id);
    await expect(readAll(opened.stream)).rejects.toThrow('SHA-256 mismatch');
  });
});
