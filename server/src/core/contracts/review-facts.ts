import { sql, type Kysely } from 'kysely';

import type { DB } from '../../platform/db/schema.ts';
import { toContract, toContractStatusChange, type Contract } from './contract.ts';
import type { ContractStatusChange } from './contract.ts';
import { OPEN_STATUSES } from './status.ts';

/**
 * What a CRM adapter reports about a contract's review (issue 15: report-ready deal
 * properties), read in one go for many contracts: the contract, its status history (oldest
 * first) with each human actor's email, and how many open contracts its external record has.
 */
export interface ContractReviewFacts {
  readonly contract: Contract;
  readonly history: readonly (ContractStatusChange & { readonly actorEmail: string | null })[];
  /** Open (non-terminal) contracts made from the same external record, this one included. */
  readonly openContractsOnRecord: number;
}

export async function contractReviewFacts(
  db: Kysely<DB>,
  contractIds: readonly string[],
): Promise<Map<string, ContractReviewFacts>> {
  const ids = [...new Set(contractIds)];
  if (ids.length === 0) return new Map();
  const contracts = await db.selectFrom('contracts').selectAll().where('id', 'in', ids).execute();
  if (contracts.length === 0) return new Map();
  const [history, open] = await Promise.all([
    db
      .selectFrom('contract_status_changes as c')
      // Actors are `user:<uuid>` for people; anything else (API keys, systems) has no email.
      .leftJoin('users as u', (join) =>
        join
          .onRef('u.organization_id', '=', 'c.organization_id')
          .on(sql<boolean>`'user:' || u.id::text = c.actor`),
      )
      .selectAll('c')
      .select('u.email as actor_email')
      .where(
        'c.contract_id',
        'in',
        contracts.map((c) => c.id),
      )
      .orderBy('c.id')
      .execute(),
    db
      .selectFrom('contracts as mine')
      .innerJoin('contracts as other', (join) =>
        join
          .onRef('other.organization_id', '=', 'mine.organization_id')
          .onRef('other.external_source', '=', 'mine.external_source')
          .onRef('other.external_account_id', '=', 'mine.external_account_id')
          .onRef('other.external_id', '=', 'mine.external_id'),
      )
      .select(['mine.id', (eb) => eb.fn.countAll<string>().as('n')])
      .where(
        'mine.id',
        'in',
        contracts.map((c) => c.id),
      )
      .where('other.negotiation_status', 'in', [...OPEN_STATUSES])
      .groupBy('mine.id')
      .execute(),
  ]);
  const openById = new Map(open.map((r) => [r.id, Number(r.n)]));
  const historyById = new Map<string, ContractReviewFacts['history'][number][]>();
  for (const row of history) {
    const list = historyById.get(row.contract_id) ?? [];
    list.push({ ...toContractStatusChange(row), actorEmail: row.actor_email });
    historyById.set(row.contract_id, list);
  }
  return new Map(
    contracts.map((row) => [
      row.id,
      {
        contract: toContract(row),
        history: historyById.get(row.id) ?? [],
        openContractsOnRecord: openById.get(row.id) ?? 0,
      },
    ]),
  );
}
