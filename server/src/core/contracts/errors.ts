import { ConflictError, DomainError, NotFoundError } from '../../platform/errors.ts';
import type { NegotiationStatus } from './status.ts';

/**
 * Raised for a missing contract AND for another organization's contract: the answer is the
 * same so the existence of other tenants' contracts never leaks.
 */
export class ContractNotFoundError extends NotFoundError {
  constructor(contractId: string) {
    super('contract_not_found', `No contract with id ${contractId}`);
  }
}

export class InvalidStatusTransitionError extends ConflictError {
  readonly from: NegotiationStatus;
  readonly to: NegotiationStatus;
  readonly allowed: readonly NegotiationStatus[];

  constructor(
    from: NegotiationStatus,
    to: NegotiationStatus,
    allowed: readonly NegotiationStatus[],
  ) {
    const next = allowed.length > 0 ? allowed.join(', ') : 'none (it is a final status)';
    super(
      'invalid_status_transition',
      `A contract cannot move from ${from} to ${to}; allowed next statuses: ${next}`,
      { from, to, allowed_next_statuses: [...allowed] },
    );
    this.from = from;
    this.to = to;
    this.allowed = allowed;
  }
}

/** The caller's `expectedVersion` is stale: someone changed the status in between. */
export class StatusVersionConflictError extends ConflictError {
  constructor(expected: number, actual: number) {
    super(
      'status_version_conflict',
      `The contract status changed meanwhile (expected version ${expected}, now ${actual}); reload and retry`,
      { expected_version: expected, current_version: actual },
    );
  }
}

/** Missing file, another organization's file, another contract's file, or one not yet complete. */
export class ContractFileNotFoundError extends NotFoundError {
  constructor(fileId: string) {
    super('contract_file_not_found', `No file with id ${fileId} on this contract`);
  }
}

export class ContractFileTooLargeError extends DomainError {
  readonly maxBytes: number;

  constructor(maxBytes: number) {
    super('file_too_large', `The file exceeds the limit of ${maxBytes} bytes`, 413, {
      max_bytes: maxBytes,
    });
    this.maxBytes = maxBytes;
  }
}

/** Stored bytes do not match the recorded size or hash (missing chunk, tampering). */
export class ContractFileCorruptError extends DomainError {
  constructor(fileId: string, problem: string) {
    super('contract_file_corrupt', `Stored file ${fileId} is damaged: ${problem}`, 500);
  }
}
