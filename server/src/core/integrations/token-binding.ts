import type { TokenBinding } from '../../platform/crypto/token-cipher.ts';

/**
 * Where a stored OAuth token lives. The cipher binds every ciphertext to its table, row and
 * column, so the writer, the reader and the key rotation must all describe it the same way.
 */
export type IntegrationTokenColumn = 'access_token_ciphertext' | 'refresh_token_ciphertext';

export function integrationTokenBinding(
  rowId: string,
  column: IntegrationTokenColumn,
): TokenBinding {
  return { table: 'organization_integrations', rowId, column };
}
