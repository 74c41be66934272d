import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';

import {
  ContractNotFoundError,
  InvalidStatusTransitionError,
  StatusVersionConflictError,
} from '../../../server/src/core/contracts/errors.ts';
import {
  changeContractStatus,
  createContract,
  getContract,
  getContractDetail,
  listContracts,
} from '../../../server/src/core/contracts/contracts-service.ts';
import type { Database } from '../../../server/src/platform/db/database.ts';
import { ValidationError } from '../../../server/src/platform/errors.ts';
import { createTestDatabase } from '../../helpers/test-db.ts';
import { makeContract, makeTenant } from './factories.ts';

const database = await createTestDatabase();
const db = database.db;

async function historyOf(contractId: string) {
  return db
    .selectFrom('contract_status_changes')
    .selectAll()
    .where('contract_id', '=', contractId)
    .orderBy('id')
    .execute();
}

async function auditOf(contractId: string) {
  return db
    .selectFrom('audit_log')
    .selectAll()
    .where('target', '=', `contract:${contractId}`)
    .orderBy('id')
    .execute();
}

async function rowOf(contractId: string) {
  return db
    .selectFrom('contracts')
    .selectAll()
    .where('id', '=', contractId)
    .executeTakeFirstOrThrow();
}

async function waitFor(condition: () => Promise<boolean>, what: string): Promise<void> {
  for (let attempt = 0; attempt < 500; attempt += 1) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function lockWaiters(handle: Database): Promise<number> {
  const result = await sql<{ n: number }>`
    select count(*)::int as n from pg_stat_activity
    where datname = current_database() and wait_event_type = 'Lock'`.execute(handle);
  return result.rows[0]?.n ?? 0;
}

describe('createContract', () => {
  it('creates a pending_review contract with its first history row and an audit row', async () => {
    const { organization } = await makeTenant(db);
    const contract = await createContract(db, {
      organizationId: organization.id,
      title: '  NDA with ACME  ',
      externalSource: 'hubspot',
      externalId: '987',
      externalAccountId: '424242',
      createdBySource: 'hubspot_workflow',
      actor: 'hubspot:portal:424242',
      sourceSnapshot: { dealname: 'ACME', amount: '100' },
    });
    expect(contract).toMatchObject({
      organizationId: organization.id,
      title: 'NDA with ACME',
      externalSource: 'hubspot',
      externalId: '987',
      externalAccountId: '424242',
      negotiationStatus: 'pending_review',
      statusVersion: 1,
      createdBySource: 'hubspot_workflow',
      createdBy: 'hubspot:portal:424242',
      sourceSnapshot: { dealname: 'ACME', amount: '100' },
    });
    const history = await historyOf(contract.id);
    expect(history).toHaveLength(1);
    expect(history[0]).toMatchObject({
      from_status: null,
      to_status: 'pending_review',
      source: 'hubspot_workflow',
      actor: 'hubspot:portal:424242',
      organization_id: organization.id,
    });
    const audit = await auditOf(contract.id);
    expect(audit.map((a) => [a.action, a.outcome, a.actor])).toEqual([
      ['contract.created', 'success', 'hubspot:portal:424242'],
    ]);
  });

  it('rolls the contract back when its onCreated hook throws', async () => {
    const { organization } = await makeTenant(db);
    await expect(
      createContract(
        db,
        {
          organizationId: organization.id,
          title: 'Doomed',
          externalId: 'doomed-1',
          createdBySource: 'test',
          actor: 'system',
        },
        {
          onCreated: async () => {
            throw new Error('outbox down');
          },
        },
      ),
    ).rejects.toThrow('outbox down');
    const rows = await db
      .selectFrom('contracts')
      .select('id')
      .where('organization_id', '=', organization.id)
      .execute();
    expect(rows).toEqual([]);
  });

  it('joins a caller transaction and rolls back with it', async () => {
    const { organization } = await makeTenant(db);
    await expect(
      db.transaction().execute(async (trx) => {
        await createContract(trx, {
          organizationId: organization.id,
          title: 'Inside a bigger unit of work',
          createdBySource: 'test',
          actor: 'system',
        });
        throw new Error('abort the unit of work');
      }),
    ).rejects.toThrow('abort the unit of work');
    const page = await listContracts(db, organization.id);
    expect(page.items).toEqual([]);
  });

  it('refuses an empty title', async () => {
    const { organization } = await makeTenant(db);
    await expect(
      createContract(db, {
        organizationId: organization.id,
        title: '   ',
        createdBySource: 'test',
        actor: 'system',
      }),
    ).rejects.toBeInstanceOf(ValidationError);
  });
});

describe('changeContractStatus', () => {
  it('writes status, version, history and audit together', async () => {
    const { organization } = await makeTenant(db);
    const contract = await makeContract(db, organization.id);
    const before = await rowOf(contract.id);

    const result = await changeContractStatus(db, {
      organizationId: organization.id,
      contractId: contract.id,
      to: 'in_review',
      source: 'api',
      actor: 'api_key:lxc_abcdef',
    });

    expect(result.contract).toMatchObject({ negotiationStatus: 'in_review', statusVersion: 2 });
    expect(result.change).toMatchObject({
      contractId: contract.id,
      organizationId: organization.id,
      from: 'pending_review',
      to: 'in_review',
      source: 'api',
      actor: 'api_key:lxc_abcdef',
    });
    const after = await rowOf(contract.id);
    expect(after.negotiation_status).toBe('in_review');
    expect(after.status_version).toBe(2);
    expect(after.updated_at.getTime()).toBeGreaterThanOrEqual(before.updated_at.getTime());
    const history = await historyOf(contract.id);
    expect(history.map((h) => [h.from_status, h.to_status, h.source])).toEqual([
      [null, 'pending_review', 'test'],
      ['pending_review', 'in_review', 'api'],
    ]);
    const audit = await auditOf(contract.id);
    expect(audit.at(-1)).toMatchObject({
      action: 'contract.status_changed',
      outcome: 'success',
      actor: 'api_key:lxc_abcdef',
      organization_id: organization.id,
      details: { from: 'pending_review', to: 'in_review', source: 'api', status_version: 2 },
    });
  });

  it('refuses a transition outside the table with a typed 409 and a refused audit row', async () => {
    const { organization } = await makeTenant(db);
    const contract = await makeContract(db, organization.id);
    const attempt = changeContractStatus(db, {
      organizationId: organization.id,
      contractId: contract.id,
      to: 'signed',
      source: 'api',
      actor: 'user:1',
    });
    await expect(attempt).rejects.toBeInstanceOf(InvalidStatusTransitionError);
    const error = (await attempt.catch((e: unknown) => e)) as InvalidStatusTransitionError;
    expect(error.code).toBe('invalid_status_transition');
    expect(error.httpStatus).toBe(409);
    expect(error.message).toContain('pending_review');
    expect(error.message).toContain('signed');
    expect(error.message).toContain('in_review, rejected, cancelled');
    expect(error.details).toEqual({
      from: 'pending_review',
      to: 'signed',
      allowed_next_statuses: ['in_review', 'rejected', 'cancelled'],
    });

    const row = await rowOf(contract.id);
    expect(row.negotiation_status).toBe('pending_review');
    expect(row.status_version).toBe(1);
    expect(await historyOf(contract.id)).toHaveLength(1);
    const audit = await auditOf(contract.id);
    const refused = audit.filter((a) => a.outcome === 'refused');
    expect(refused).toHaveLength(1);
    expect(refused[0]).toMatchObject({
      action: 'contract.status_changed',
      actor: 'user:1',
      details: { from: 'pending_review', to: 'signed', reason: 'invalid_status_transition' },
    });
  });

  it('refuses a change to the same status', async () => {
    const { organization } = await makeTenant(db);
    const contract = await makeContract(db, organization.id);
    await expect(
      changeContractStatus(db, {
        organizationId: organization.id,
        contractId: contract.id,
        to: 'pending_review',
        source: 'api',
        actor: 'user:1',
      }),
    ).rejects.toMatchObject({ code: 'invalid_status_transition' });
  });

  it('runs the hook inside the transaction and commits what it writes', async () => {
    const { organization } = await makeTenant(db);
    const contract = await makeContract(db, organization.id);
    let seenInside: string | undefined;
    let seenOutside: string | undefined;
    await changeContractStatus(
      db,
      {
        organizationId: organization.id,
        contractId: contract.id,
        to: 'in_review',
        source: 'web',
        actor: 'user:7',
      },
      {
        onStatusChanged: async (trx, changed) => {
          seenInside = (
            await trx
              .selectFrom('contracts')
              .select('negotiation_status')
              .where('id', '=', changed.contract.id)
              .executeTakeFirstOrThrow()
          ).negotiation_status;
          // Another connection does not see the uncommitted change yet.
          seenOutside = (await rowOf(changed.contract.id)).negotiation_status;
          await trx
            .insertInto('audit_log')
            .values({
              organization_id: changed.contract.organizationId,
              actor: 'system',
              action: 'test.outbox_enqueued',
              target: `contract:${changed.contract.id}`,
              outcome: 'success',
              details: JSON.stringify({ to: changed.change.to }),
            })
            .execute();
        },
      },
    );
    expect(seenInside).toBe('in_review');
    expect(seenOutside).toBe('pending_review');
    const audit = await auditOf(contract.id);
    expect(audit.map((a) => a.action)).toContain('test.outbox_enqueued');
  });

  it('rolls back status, version, history, audit and hook writes when the hook throws', async () => {
    const { organization } = await makeTenant(db);
    const contract = await makeContract(db, organization.id);
    const auditBefore = await auditOf(contract.id);
    await expect(
      changeContractStatus(
        db,
        {
          organizationId: organization.id,
          contractId: contract.id,
          to: 'in_review',
          source: 'api',
          actor: 'user:1',
        },
        {
          onStatusChanged: async (trx, changed) => {
            await trx
              .insertInto('audit_log')
              .values({
                organization_id: changed.contract.organizationId,
                actor: 'system',
                action: 'test.outbox_enqueued',
                target: `contract:${changed.contract.id}`,
                outcome: 'success',
              })
              .execute();
            throw new Error('outbox unavailable');
          },
        },
      ),
    ).rejects.toThrow('outbox unavailable');
    const row = await rowOf(contract.id);
    expect(row.negotiation_status).toBe('pending_review');
    expect(row.status_version).toBe(1);
    expect(row.updated_at.getTime()).toBe(contract.updatedAt.getTime());
    expect(await historyOf(contract.id)).toHaveLength(1);
    expect(await auditOf(contract.id)).toEqual(auditBefore);
  });

  it('refuses a stale expectedVersion', async () => {
    const { organization } = await makeTenant(db);
    const contract = await makeContract(db, organization.id);
    const input = {
      organizationId: organization.id,
      contractId: contract.id,
      source: 'api',
      actor: 'user:1',
    };
    await changeContractStatus(db, { ...input, to: 'in_review', expectedVersion: 1 });
    await expect(
      changeContractStatus(db, { ...input, to: 'approved', expectedVersion: 1 }),
    ).rejects.toBeInstanceOf(StatusVersionConflictError);
    const row = await rowOf(contract.id);
    expect(row).toMatchObject({ negotiation_status: 'in_review', status_version: 2 });
    await changeContractStatus(db, { ...input, to: 'approved', expectedVersion: 2 });
    expect((await rowOf(contract.id)).status_version).toBe(3);
  });

  it('serializes concurrent changes on the row lock', async () => {
    const { organization } = await makeTenant(db);
    const contract = await makeContract(db, organization.id);
    const base = { organizationId: organization.id, contractId: contract.id, source: 'api' };

    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let entered!: () => void;
    const inHook = new Promise<void>((resolve) => (entered = resolve));
    const first = changeContractStatus(
      db,
      { ...base, to: 'in_review', actor: 'user:first' },
      {
        onStatusChanged: async () => {
          entered();
          await released;
        },
      },
    );
    await inHook;
    // in_review → approved is only valid once the first change is visible: without the row
    // lock the second change would read pending_review and be refused.
    const second = changeContractStatus(db, { ...base, to: 'approved', actor: 'user:second' });
    await waitFor(async () => (await lockWaiters(db)) > 0, 'the second change to wait on the lock');
    release();
    await first;
    const result = await second;
    expect(result.change).toMatchObject({ from: 'in_review', to: 'approved' });
    expect(result.contract.statusVersion).toBe(3);
    const history = await historyOf(contract.id);
    expect(history.map((h) => [h.from_status, h.to_status, h.actor])).toEqual([
      [null, 'pending_review', 'system'],
      ['pending_review', 'in_review', 'user:first'],
      ['in_review', 'approved', 'user:second'],
    ]);
  });

  it('lets exactly one of many identical concurrent changes through', async () => {
    const { organization } = await makeTenant(db);
    const contract = await makeContract(db, organization.id);
    const results = await Promise.allSettled(
      Array.from({ length: 8 }, (_, i) =>
        changeContractStatus(db, {
          organizationId: organization.id,
          contractId: contract.id,
          to: 'cancelled',
          source: 'api',
          actor: `user:${i}`,
        }),
      ),
    );
    const fulfilled = results.filter((r) => r.status === 'fulfilled');
    const rejected = results.filter((r) => r.status === 'rejected');
    expect(fulfilled).toHaveLength(1);
    expect(rejected).toHaveLength(7);
    for (const r of rejected) expect(r.reason).toBeInstanceOf(InvalidStatusTransitionError);
    const row = await rowOf(contract.id);
    expect(row).toMatchObject({ negotiation_status: 'cancelled', status_version: 2 });
    expect(await historyOf(contract.id)).toHaveLength(2);
  });

  it("treats another organization's contract as missing and leaves it untouched", async () => {
    const owner = await makeTenant(db, 'Owner');
    const other = await makeTenant(db, 'Other');
    const contract = await makeContract(db, owner.organization.id);
    await expect(
      changeContractStatus(db, {
        organizationId: other.organization.id,
        contractId: contract.id,
        to: 'in_review',
        source: 'api',
        actor: 'user:intruder',
      }),
    ).rejects.toBeInstanceOf(ContractNotFoundError);
    await expect(getContract(db, other.organization.id, contract.id)).rejects.toBeInstanceOf(
      ContractNotFoundError,
    );
    await expect(getContractDetail(db, other.organization.id, contract.id)).rejects.toBeInstanceOf(
      ContractNotFoundError,
    );
    expect((await listContracts(db, other.organization.id)).items).toEqual([]);
    const row = await rowOf(contract.id);
    expect(row).toMatchObject({ negotiation_status: 'pending_review', status_version: 1 });
    await expect(getContract(db, owner.organization.id, 'not-a-uuid')).rejects.toBeInstanceOf(
      ContractNotFoundError,
    );
  });
});

describe('getContractDetail', () => {
  it('returns snapshot and status history oldest first', async () => {
    const { organization } = await makeTenant(db);
    const contract = await makeContract(db, organization.id);
    const base = { organizationId: organization.id, contractId: contract.id, actor: 'u' };
    await changeContractStatus(db, { ...base, to: 'in_review', source: 'web' });
    await changeContractStatus(db, { ...base, to: 'changes_requested', source: 'web' });
    const detail = await getContractDetail(db, organization.id, contract.id);
    expect(detail.contract.sourceSnapshot).toEqual({ dealname: 'ACME renewal', amount: '12000' });
    expect(detail.history.map((h) => h.to)).toEqual([
      'pending_review',
      'in_review',
      'changes_requested',
    ]);
    expect(detail.files).toEqual([]);
  });
});

describe('listContracts', () => {
  it('pages through every contract exactly once, newest first', async () => {
    const { organization } = await makeTenant(db);
    const created = [];
    for (let i = 0; i < 7; i += 1) created.push(await makeContract(db, organization.id));
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await listContracts(db, organization.id, { limit: 3, cursor });
      seen.push(...page.items.map((c) => c.id));
      cursor = page.nextCursor ?? undefined;
      pages += 1;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen).toEqual(created.map((c) => c.id).reverse());
  });

  it('keeps contracts created in the same millisecond apart', async () => {
    const { organization } = await makeTenant(db);
    const ids: string[] = [];
    for (let i = 0; i < 4; i += 1) ids.push((await makeContract(db, organization.id)).id);
    // Same timestamp for all: the id breaks the tie.
    await db
      .updateTable('contracts')
      .set({ created_at: sql`'2026-01-01T00:00:00.123456Z'::timestamptz` } as never)
      .where('organization_id', '=', organization.id)
      .execute();
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await listContracts(db, organization.id, { limit: 1, cursor });
      seen.push(...page.items.map((c) => c.id));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    expect([...seen].sort()).toEqual([...ids].sort());
    expect(new Set(seen).size).toBe(4);
  });

  it('filters by external id and status', async () => {
    const { organization } = await makeTenant(db);
    const a = await makeContract(db, organization.id, { externalId: 'deal-A' });
    const b = await makeContract(db, organization.id, { externalId: 'deal-B' });
    await makeContract(db, organization.id, { externalId: 'deal-A' });
    await changeContractStatus(db, {
      organizationId: organization.id,
      contractId: a.id,
      to: 'in_review',
      source: 'api',
      actor: 'u',
    });
    const byExternal = await listContracts(db, organization.id, { externalId: 'deal-A' });
    expect(byExternal.items).toHaveLength(2);
    const byBoth = await listContracts(db, organization.id, {
      externalId: 'deal-A',
      status: 'in_review',
    });
    expect(byBoth.items.map((c) => c.id)).toEqual([a.id]);
    const pending = await listContracts(db, organization.id, { status: 'pending_review' });
    expect(pending.items.map((c) => c.id)).toContain(b.id);
    expect(pending.items.map((c) => c.id)).not.toContain(a.id);
  });

  it('rejects a forged cursor and an out-of-range limit', async () => {
    const { organization } = await makeTenant(db);
    await expect(listContracts(db, organization.id, { cursor: 'garbage' })).rejects.toBeInstanceOf(
      ValidationError,
    );
    const forged = Buffer.from(JSON.stringify(["1'; drop table contracts", 'x'])).toString(
      'base64url',
    );
    await expect(listContracts(db, organization.id, { cursor: forged })).rejects.toBeInstanceOf(
      ValidationError,
    );
    await expect(listContracts(db, organization.id, { limit: 0 })).rejects.toBeInstanceOf(
      ValidationError,
    );
  });
});

describe('changeContractStatus input checks', () => {
  it('refuses an unknown status with a validation error and a transaction as db', async () => {
    const { organization } = await makeTenant(db);
    const contract = await makeContract(db, organization.id);
    const input = {
      organizationId: organization.id,
      contractId: contract.id,
      source: 'api',
      actor: 'u',
    };
    await expect(
      changeContractStatus(db, { ...input, to: 'importing' as never }),
    ).rejects.toBeInstanceOf(ValidationError);
    await expect(
      db.transaction().execute((trx) => changeContractStatus(trx, { ...input, to: 'in_review' })),
    ).rejects.toThrow('opens its own transaction');
    expect((await rowOf(contract.id)).negotiation_status).toBe('pending_review');
  });
});
