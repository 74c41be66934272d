import { randomUUID } from 'node:crypto';

import type { Kysely } from 'kysely';

import { ensureCurrentKeyRegistered } from './key-registry.ts';
import type { Keyring } from '../../platform/crypto/keyring.ts';
import {
  decryptToken,
  encryptToken,
  TokenDecryptionError,
} from '../../platform/crypto/token-cipher.ts';
import type { ConnectionStatus, DB, OrganizationIntegrationRow } from '../../platform/db/schema.ts';
import { inTransaction } from '../../platform/db/transaction.ts';
import {
  ConflictError,
  DomainError,
  NotFoundError,
  ValidationError,
} from '../../platform/errors.ts';
import { isUuid } from '../organizations/organizations.ts';
import { integrationTokenBinding } from './token-binding.ts';

/**
 * One organization's connection to one integration (`organization_integrations`): the
 * external account (for HubSpot, the portal id), granted scopes, status and the OAuth tokens,
 * which are only ever stored AES-256-GCM sealed and bound to their row and column.
 *
 * Rows returned here carry ciphertexts; hand them to `readIntegrationTokens` for the tokens
 * and to `toOrganizationIntegrationView` for anything shown or logged.
 */

export interface UpsertOrganizationIntegrationInput {
  readonly organizationId: string;
  readonly integrationId: string;
  /** The account on the other side; for HubSpot the portal (hub) id. */
  readonly externalAccountId: string;
  readonly externalAccountName?: string | null;
  readonly accessToken: string;
  readonly refreshToken: string;
  readonly accessTokenExpiresAt: Date;
  readonly grantedScopes: readonly string[];
  readonly installerUserId?: string | null;
  readonly installerEmail?: string | null;
  /** Defaults to `connected`. */
  readonly status?: Exclude<ConnectionStatus, 'disconnected'>;
}

/** What may be shown, returned or logged about a connection: never token material. */
export interface OrganizationIntegrationView {
  readonly id: string;
  readonly organizationId: string;
  readonly integrationId: string;
  readonly externalAccountId: string | null;
  readonly externalAccountName: string | null;
  readonly status: ConnectionStatus;
  readonly grantedScopes: readonly string[];
  readonly hasTokens: boolean;
  readonly accessTokenExpiresAt: Date | null;
  readonly installerUserId: string | null;
  readonly installerEmail: string | null;
  readonly lastError: string | null;
  readonly lastErrorAt: Date | null;
  readonly connectedAt: Date | null;
  readonly disconnectedAt: Date | null;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

export interface IntegrationTokens {
  readonly accessToken: string;
  readonly refreshToken: string;
  readonly expiresAt: Date | null;
}

export function toOrganizationIntegrationView(
  row: OrganizationIntegrationRow,
): OrganizationIntegrationView {
  return {
    id: row.id,
    organizationId: row.organization_id,
    integrationId: row.integration_id,
    externalAccountId: row.external_account_id,
    externalAccountName: row.external_account_name,
    status: row.status,
    grantedScopes: [...row.granted_scopes],
    hasTokens: row.access_token_ciphertext !== null,
    accessTokenExpiresAt: row.access_token_expires_at,
    installerUserId: row.installer_user_id,
    installerEmail: row.installer_email,
    lastError: row.last_error,
    lastErrorAt: row.last_error_at,
    connectedAt: row.connected_at,
    disconnectedAt: row.disconnected_at,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export class PortalLinkedToOtherOrganizationError extends ConflictError {
  constructor(integrationId: string, externalAccountId: string) {
    super(
      'portal_linked_to_other_organization',
      `This ${integrationId === 'hubspot' ? 'HubSpot portal' : `${integrationId} account`} ` +
        `(${externalAccountId}) is already connected to another LexiContract organization. ` +
        'Disconnect it there first, or sign in to that organization.',
      { integrationId, externalAccountId },
    );
  }
}

export class IntegrationNotConnectedError extends ConflictError {
  constructor(id: string) {
    super(
      'integration_not_connected',
      `Connection ${id} holds no tokens; it must be connected again`,
    );
  }
}

/** A stored token could not be decrypted: damaged, moved, or its key left the ring. */
export class IntegrationTokenUnreadableError extends DomainError {
  constructor(id: string, cause: TokenDecryptionError) {
    super(
      'integration_token_unreadable',
      `The stored tokens of connection ${id} could not be decrypted (${cause.message}); ` +
        'check TOKEN_ENCRYPTION_KEYS, or reconnect the integration',
      500,
    );
  }
}

// Postgres truncates generated constraint names to 63 bytes.
const PORTAL_UNIQUE_CONSTRAINT = 'organization_integrations_integration_id_external_account_i_key';

function pgError(error: unknown): { code?: unknown; constraint?: unknown; detail?: unknown } {
  return typeof error === 'object' && error !== null ? error : {};
}

/** Turns the constraint violations a caller can cause into typed errors. */
function translateWriteError(error: unknown, input: UpsertOrganizationIntegrationInput): unknown {
  const { code, constraint, detail } = pgError(error);
  if (
    code === '23505' &&
    (constraint === PORTAL_UNIQUE_CONSTRAINT ||
      (typeof detail === 'string' &&
        detail.startsWith('Key (integration_id, external_account_id)')))
  ) {
    return new PortalLinkedToOtherOrganizationError(input.integrationId, input.externalAccountId);
  }
  if (code === '23503' && constraint === 'organization_integrations_organization_id_fkey') {
    return new NotFoundError(
      'organization_not_found',
      `No organization with id ${input.organizationId}`,
    );
  }
  if (code === '23503' && constraint === 'organization_integrations_integration_id_fkey') {
    return new ValidationError(
      `Unknown integration ${input.integrationId}`,
      undefined,
      'unknown_integration',
    );
  }
  return error;
}

function validateInput(input: UpsertOrganizationIntegrationInput): void {
  const problems: { field: string; problem: string }[] = [];
  if (!isUuid(input.organizationId)) {
    problems.push({ field: 'organizationId', problem: 'must be a uuid' });
  }
  if (input.externalAccountId.trim() === '') {
    problems.push({ field: 'externalAccountId', problem: 'must not be empty' });
  }
  if (input.accessToken === '')
    problems.push({ field: 'accessToken', problem: 'must not be empty' });
  if (input.refreshToken === '') {
    problems.push({ field: 'refreshToken', problem: 'must not be empty' });
  }
  if (Number.isNaN(input.accessTokenExpiresAt.getTime())) {
    problems.push({ field: 'accessTokenExpiresAt', problem: 'must be a valid date' });
  }
  if (problems.length > 0) {
    throw new ValidationError('Invalid integration connection', problems, 'invalid_connection');
  }
}

/**
 * Creates or updates one organization's connection to an integration, atomically: the
 * row is upserted on (organization, integration), then its tokens are sealed with AAD bound
 * to that row's id and written in the same transaction. Refuses with
 * `portal_linked_to_other_organization` when the external account already belongs to
 * another organization (also when a concurrent writer wins the race: the unique
 * constraint's violation is translated). Pass a transaction to commit with other work.
 */
export async function upsertOrganizationIntegration(
  db: Kysely<DB>,
  keyring: Keyring,
  input: UpsertOrganizationIntegrationInput,
): Promise<OrganizationIntegrationView> {
  validateInput(input);
  const now = new Date();
  const status = input.status ?? 'connected';
  try {
    return await inTransaction(db, async (trx) => {
      await ensureCurrentKeyRegistered(trx, keyring);
      const linked = await trx
        .selectFrom('organization_integrations')
        .select('organization_id')
        .where('integration_id', '=', input.integrationId)
        .where('external_account_id', '=', input.externalAccountId)
        .executeTakeFirst();
      if (linked && linked.organization_id !== input.organizationId) {
        throw new PortalLinkedToOtherOrganizationError(
          input.integrationId,
          input.externalAccountId,
        );
      }

      const fields = {
        external_account_id: input.externalAccountId,
        external_account_name: input.externalAccountName ?? null,
        status,
        granted_scopes: [...input.grantedScopes],
        access_token_expires_at: input.accessTokenExpiresAt,
        installer_user_id: input.installerUserId ?? null,
        installer_email: input.installerEmail ?? null,
        last_error: null,
        last_error_at: null,
        connected_at: now,
        disconnected_at: null,
        updated_at: now,
      };
      // Step 1: the row (and its lock), so its id is known before anything is sealed.
      const { id } = await trx
        .insertInto('organization_integrations')
        .values({
          id: randomUUID(),
          organization_id: input.organizationId,
          integration_id: input.integrationId,
          ...fields,
        })
        .onConflict((oc) => oc.columns(['organization_id', 'integration_id']).doUpdateSet(fields))
        .returning('id')
        .executeTakeFirstOrThrow();

      // Step 2: both tokens sealed under the current key, bound to this row and column.
      return toOrganizationIntegrationView(
        await trx
          .updateTable('organization_integrations')
          .set({
            access_token_ciphertext: encryptToken(
              keyring,
              input.accessToken,
              integrationTokenBinding(id, 'access_token_ciphertext'),
            ),
            refresh_token_ciphertext: encryptToken(
              keyring,
              input.refreshToken,
              integrationTokenBinding(id, 'refresh_token_ciphertext'),
            ),
            token_key_id: keyring.current.id,
          })
          .where('id', '=', id)
          .returningAll()
          .executeTakeFirstOrThrow(),
      );
    });
  } catch (error) {
    throw translateWriteError(error, input);
  }
}

export async function getOrganizationIntegration(
  db: Kysely<DB>,
  organizationId: string,
  integrationId: string,
): Promise<OrganizationIntegrationRow | undefined> {
  return db
    .selectFrom('organization_integrations')
    .selectAll()
    .where('organization_id', '=', organizationId)
    .where('integration_id', '=', integrationId)
    .executeTakeFirst();
}

/** The connection of whichever organization this external account (portal) is linked to. */
export async function findIntegrationByExternalAccount(
  db: Kysely<DB>,
  integrationId: string,
  externalAccountId: string,
): Promise<OrganizationIntegrationRow | undefined> {
  return db
    .selectFrom('organization_integrations')
    .selectAll()
    .where('integration_id', '=', integrationId)
    .where('external_account_id', '=', externalAccountId)
    .executeTakeFirst();
}

type TokenSource = Pick<OrganizationIntegrationRow, 'id'> &
  Partial<
    Pick<
      OrganizationIntegrationRow,
      'access_token_ciphertext' | 'refresh_token_ciphertext' | 'access_token_expires_at'
    >
  >;

/**
 * Decrypts a connection's tokens. Given a full row it uses the ciphertexts in it; given only
 * `{ id }` it reads them through `db` (pass the transaction that holds the row's lock when
 * refreshing). Throws `integration_not_connected` when no tokens are stored and
 * `integration_token_unreadable` when they do not decrypt.
 */
export async function readIntegrationTokens(
  db: Kysely<DB>,
  keyring: Keyring,
  row: TokenSource,
): Promise<IntegrationTokens> {
  let source = row;
  if (!('access_token_ciphertext' in row) || !('refresh_token_ciphertext' in row)) {
    const loaded = await db
      .selectFrom('organization_integrations')
      .select([
        'id',
        'access_token_ciphertext',
        'refresh_token_ciphertext',
        'access_token_expires_at',
      ])
      .where('id', '=', row.id)
      .executeTakeFirst();
    if (!loaded)
      throw new NotFoundError('integration_not_found', `No connection with id ${row.id}`);
    source = loaded;
  }
  const access = source.access_token_ciphertext ?? null;
  const refresh = source.refresh_token_ciphertext ?? null;
  if (access === null || refresh === null) throw new IntegrationNotConnectedError(row.id);
  try {
    return {
      accessToken: decryptToken(
        keyring,
        access,
        integrationTokenBinding(row.id, 'access_token_ciphertext'),
      ),
      refreshToken: decryptToken(
        keyring,
        refresh,
        integrationTokenBinding(row.id, 'refresh_token_ciphertext'),
      ),
      expiresAt: source.access_token_expires_at ?? null,
    };
  } catch (error) {
    if (error instanceof TokenDecryptionError) {
      throw new IntegrationTokenUnreadableError(row.id, error);
    }
    throw error;
  }
}

const MAX_ERROR_LENGTH = 1000;

/**
 * Sets a connection's health: `needs_reconnect` (with the reason, e.g. after `invalid_grant`)
 * or back to `connected` (clears the last error). Disconnecting goes through
 * `disconnectIntegration`, which also wipes the tokens. `lastError` must not carry secrets.
 */
export async function markIntegrationStatus(
  db: Kysely<DB>,
  id: string,
  status: Exclude<ConnectionStatus, 'disconnected'>,
  lastError?: string,
): Promise<OrganizationIntegrationView> {
  const now = new Date();
  const error = lastError === undefined ? null : lastError.slice(0, MAX_ERROR_LENGTH);
  const row = await db
    .updateTable('organization_integrations')
    .set({
      status,
      last_error: error,
      last_error_at: error === null ? null : now,
      updated_at: now,
    })
    .where('id', '=', id)
    // Only a connection that still holds tokens can be (or become) connected.
    .where('access_token_ciphertext', 'is not', null)
    .returningAll()
    .executeTakeFirst();
  if (!row) {
    const exists = await db
      .selectFrom('organization_integrations')
      .select('id')
      .where('id', '=', id)
      .executeTakeFirst();
    if (!exists) throw new NotFoundError('integration_not_found', `No connection with id ${id}`);
    throw new IntegrationNotConnectedError(id);
  }
  return toOrganizationIntegrationView(row);
}

/**
 * Marks a connection disconnected and wipes both token ciphertexts and their key id. The row
 * and its external account id stay, so the portal stays linked to this organization and a
 * reconnect restores the link. (Revoking at HubSpot is the caller's job, before this.)
 */
export async function disconnectIntegration(
  db: Kysely<DB>,
  id: string,
): Promise<OrganizationIntegrationView> {
  const now = new Date();
  const row = await db
    .updateTable('organization_integrations')
    .set({
      status: 'disconnected',
      access_token_ciphertext: null,
      refresh_token_ciphertext: null,
      token_key_id: null,
      access_token_expires_at: null,
      disconnected_at: now,
      updated_at: now,
    })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirst();
  if (!row) throw new NotFoundError('integration_not_found', `No connection with id ${id}`);
  return toOrganizationIntegrationView(row);
}

/** The `integrations` catalog (hubspot, salesforce, …) in name order. */
export async function listIntegrationCatalog(
  db: Kysely<DB>,
): Promise<{ id: string; name: string; available: boolean }[]> {
  return db
    .selectFrom('integrations')
    .select(['id', 'name', 'available'])
    .orderBy('name')
    .execute();
}

/**
 * Stores a connection's refreshed tokens, sealed under the current key. With
 * `upsertOrganizationIntegration`, `disconnectIntegration` and `resealIntegrationTokens`, the
 * only code that writes the token ciphertext columns.
 */
export async function storeRefreshedTokens(
  trx: Kysely<DB>,
  keyring: Keyring,
  integrationId: string,
  tokens: { accessToken: string; refreshToken: string; expiresAt: Date },
): Promise<void> {
  await ensureCurrentKeyRegistered(trx, keyring);
  await trx
    .updateTable('organization_integrations')
    .set({
      access_token_ciphertext: encryptToken(
        keyring,
        tokens.accessToken,
        integrationTokenBinding(integrationId, 'access_token_ciphertext'),
      ),
      refresh_token_ciphertext: encryptToken(
        keyring,
        tokens.refreshToken,
        integrationTokenBinding(integrationId, 'refresh_token_ciphertext'),
      ),
      token_key_id: keyring.current.id,
      access_token_expires_at: tokens.expiresAt,
      updated_at: new Date(),
    })
    .where('id', '=', integrationId)
    .execute();
}

/** Key rotation: a row's tokens re-sealed under another key, written together. */
export async function resealIntegrationTokens(
  trx: Kysely<DB>,
  integrationId: string,
  sealed: { access: Buffer | null; refresh: Buffer | null; keyId: string },
): Promise<void> {
  await trx
    .updateTable('organization_integrations')
    .set({
      access_token_ciphertext: sealed.access,
      refresh_token_ciphertext: sealed.refresh,
      token_key_id: sealed.keyId,
    })
    .where('id', '=', integrationId)
    .execute();
}
