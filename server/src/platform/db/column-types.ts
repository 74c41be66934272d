/**
 * Column types the database cannot describe to kysely-codegen: the values a `check (col in
 * (...))` constraint allows. Kept by hand, in step with those constraints in `migrations/`;
 * `.kysely-codegenrc.json` maps each column to one of these (`overrides.columns`), and the
 * generated `schema.ts` imports and re-exports them.
 */

export type NegotiationStatusColumn =
  | 'pending_review'
  | 'in_review'
  | 'changes_requested'
  | 'approved'
  | 'signed'
  | 'rejected'
  | 'cancelled';

export type ConnectionStatus = 'connected' | 'needs_reconnect' | 'disconnected';

export type ProvisioningStatus = 'pending' | 'done' | 'failed';

export type ContractImportState = 'importing' | 'complete' | 'failed';

export type ContractFileState = 'writing' | 'complete';

export type AuditOutcome = 'success' | 'failure' | 'refused';

export type DealSyncState = 'pending' | 'synced' | 'failed' | 'gone';

export type DecisionCallbackState = 'waiting' | 'completing' | 'completed' | 'expired';

export type WorkflowExecutionState = 'blocked' | 'completed' | 'completion_failed';

export type ClosedLostBehavior = 'cancel_contract' | 'do_nothing';

export type AttachmentFilterMode = 'all' | 'matching';

export type ContractFileOrigin = 'imported' | 'uploaded';

/** `hubspot_auto_send_claims.outcome` (migration 0016). */
export type AutoSendOutcome = 'sent' | 'already_in_review';

export type FileWriteBackState = 'pending' | 'uploaded' | 'written' | 'failed' | 'skipped';

/** `hubspot_timeline_notes.state`. */
export type TimelineNoteState = 'pending' | 'written' | 'failed' | 'skipped';
