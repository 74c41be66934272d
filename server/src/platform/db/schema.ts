import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely';

/**
 * The database as the application sees it: the one place where table shapes are written
 * down, kept by hand in step with `migrations/`. `int8` columns are parsed to numbers (see
 * database.ts); timestamps come back as Date.
 */

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type CreatedAt = ColumnType<Date, Date | string | undefined, never>;

export type NegotiationStatusColumn =
  | 'pending_review'
  | 'in_review'
  | 'changes_requested'
  | 'approved'
  | 'signed'
  | 'rejected'
  | 'cancelled';

export type ConnectionStatus = 'connected' | 'needs_reconnect' | 'disconnected';

export interface OrganizationsTable {
  id: Generated<string>;
  name: string;
  created_at: CreatedAt;
}

export interface UsersTable {
  id: Generated<string>;
  organization_id: string;
  email: string;
  name: string | null;
  hubspot_user_id: string | null;
  created_at: CreatedAt;
}

export interface ApiKeysTable {
  id: Generated<string>;
  organization_id: string;
  name: string;
  key_prefix: string;
  key_hash: string;
  created_at: CreatedAt;
  last_used_at: Timestamp | null;
  revoked_at: Timestamp | null;
}

export interface IntegrationsTable {
  id: string;
  name: string;
  available: boolean;
}

export interface EncryptionKeysTable {
  id: string;
  fingerprint: string;
  first_seen_at: CreatedAt;
}

export interface OrganizationIntegrationsTable {
  id: Generated<string>;
  organization_id: string;
  integration_id: string;
  external_account_id: string | null;
  external_account_name: string | null;
  status: ConnectionStatus;
  granted_scopes: ColumnType<string[], string[] | undefined, string[]>;
  access_token_ciphertext: Buffer | null;
  refresh_token_ciphertext: Buffer | null;
  token_key_id: string | null;
  access_token_expires_at: Timestamp | null;
  installer_user_id: string | null;
  installer_email: string | null;
  last_error: string | null;
  last_error_at: Timestamp | null;
  connected_at: Timestamp | null;
  disconnected_at: Timestamp | null;
  created_at: CreatedAt;
  updated_at: Generated<Date>;
  refresh_lease_until: Timestamp | null;
  refresh_lease_owner: string | null;
  provisioning_status: Generated<'pending' | 'done' | 'failed'>;
  provisioning_error: string | null;
  provisioned_at: Timestamp | null;
}

export interface ContractsTable {
  id: Generated<string>;
  organization_id: string;
  title: string;
  external_source: string | null;
  external_id: string | null;
  external_account_id: string | null;
  negotiation_status: NegotiationStatusColumn;
  status_version: Generated<number>;
  source_snapshot: ColumnType<unknown, string | null | undefined, string | null> | null;
  created_by_source: string;
  created_by: string | null;
  created_at: CreatedAt;
  updated_at: Generated<Date>;
  /** Deal imports (0006): null for contracts not imported from a CRM. */
  import_state: ContractImportState | null;
  import_error: string | null;
  import_summary: ColumnType<unknown, string | null | undefined, string | null> | null;
}

export type ContractImportState = 'importing' | 'complete' | 'failed';

export interface ContractFilesTable {
  id: Generated<string>;
  contract_id: string;
  organization_id: string;
  name: string;
  content_type: string;
  size_bytes: Generated<number>;
  sha256: string | null;
  external_file_id: string | null;
  state: Generated<'writing' | 'complete'>;
  created_at: CreatedAt;
  completed_at: Timestamp | null;
}

export interface ContractFileChunksTable {
  file_id: string;
  seq: number;
  data: Buffer;
}

export interface ContractStatusChangesTable {
  id: Generated<number>;
  contract_id: string;
  organization_id: string;
  from_status: NegotiationStatusColumn | null;
  to_status: NegotiationStatusColumn;
  source: string;
  actor: string | null;
  created_at: CreatedAt;
}

export interface AuditLogTable {
  id: Generated<number>;
  organization_id: string | null;
  actor: string;
  action: string;
  target: string | null;
  outcome: 'success' | 'failure' | 'refused';
  details: ColumnType<unknown, string | undefined, never>;
  created_at: CreatedAt;
}

export interface WebSessionsTable {
  id_hash: string;
  user_id: string;
  organization_id: string;
  csrf_token: string;
  created_at: CreatedAt;
  expires_at: Timestamp;
  revoked_at: Timestamp | null;
}

export interface SignInTokensTable {
  token_hash: string;
  user_id: string;
  organization_id: string;
  created_at: CreatedAt;
  expires_at: Timestamp;
  used_at: Timestamp | null;
}

export interface OAuthStatesTable {
  state_hash: string;
  browser_binding_hash: string;
  organization_id: string | null;
  user_id: string | null;
  created_at: CreatedAt;
  expires_at: Timestamp;
  used_at: Timestamp | null;
}

export type DealSyncState = 'pending' | 'synced' | 'failed' | 'gone';

export interface HubSpotDealSyncTable {
  portal_id: string;
  deal_id: string;
  organization_id: string;
  contract_id: string | null;
  desired_status: string;
  desired_contract_url: string | null;
  version: Generated<number>;
  state: Generated<DealSyncState>;
  attempts: Generated<number>;
  last_error: string | null;
  synced_version: number | null;
  synced_status: string | null;
  created_at: CreatedAt;
  updated_at: Generated<Date>;
  synced_at: Timestamp | null;
  /** 0007: the claim lease of the sync worker that is sending this row. */
  claim_token: string | null;
  claimed_until: Timestamp | null;
  /** 0007: why the row is `failed` or `gone` (`deal_not_found`, `validation_error`, …). */
  failure_cause: string | null;
  /** 0009: since when the current desired value has waited to be sent (bounds coalescing). */
  pending_since: Generated<Date>;
}

export interface HubSpotRateSendsTable {
  id: Generated<number>;
  portal_id: string;
  lane: string;
  sent_at: Date;
}

export interface HubSpotRatePausesTable {
  portal_id: string;
  paused_until: Date;
  reason: string | null;
}

export interface HubSpotWebhookEventsTable {
  id: Generated<number>;
  portal_id: string;
  organization_id: string;
  subscription_id: number;
  event_id: number;
  occurred_at: number;
  object_id: string;
  property_name: Generated<string>;
  subscription_type: string;
  property_value: string | null;
  change_source: string | null;
  source_id: string | null;
  received_at: CreatedAt;
  processed_at: Timestamp | null;
  outcome: string | null;
}

export type DecisionCallbackState = 'waiting' | 'completing' | 'completed' | 'expired';

export interface HubSpotDecisionCallbacksTable {
  portal_id: string;
  callback_id: string;
  organization_id: string;
  deal_id: string;
  state: Generated<DecisionCallbackState>;
  decision: string | null;
  contract_id: string | null;
  expires_at: Date;
  attempts: Generated<number>;
  last_error: string | null;
  created_at: CreatedAt;
  completed_at: Timestamp | null;
}

export type WorkflowExecutionState = 'blocked' | 'completed' | 'completion_failed';

export interface HubSpotWorkflowExecutionsTable {
  portal_id: string;
  callback_id: string;
  organization_id: string;
  deal_id: string;
  contract_id: string | null;
  response: ColumnType<unknown, string, string>;
  state: Generated<WorkflowExecutionState>;
  completion: ColumnType<unknown, string | null | undefined, string | null> | null;
  completion_error: string | null;
  created_at: CreatedAt;
  completed_at: Timestamp | null;
}

export type ClosedLostBehavior = 'cancel_contract' | 'do_nothing';

export interface HubSpotPortalSettingsTable {
  organization_id: string;
  closed_lost_behavior: Generated<ClosedLostBehavior>;
  attachment_filter_mode: Generated<'all' | 'matching'>;
  attachment_name_pattern: string | null;
  updated_by: string | null;
  created_at: CreatedAt;
  updated_at: Generated<Date>;
}

export interface HubSpotCardRequestsTable {
  portal_id: string;
  idempotency_key: string;
  organization_id: string;
  deal_id: string;
  hubspot_user_id: string;
  contract_id: string | null;
  response: ColumnType<unknown, string | null | undefined, string | null> | null;
  created_at: CreatedAt;
}

export interface DB {
  organizations: OrganizationsTable;
  users: UsersTable;
  api_keys: ApiKeysTable;
  integrations: IntegrationsTable;
  encryption_keys: EncryptionKeysTable;
  organization_integrations: OrganizationIntegrationsTable;
  contracts: ContractsTable;
  contract_files: ContractFilesTable;
  contract_file_chunks: ContractFileChunksTable;
  contract_status_changes: ContractStatusChangesTable;
  audit_log: AuditLogTable;
  web_sessions: WebSessionsTable;
  sign_in_tokens: SignInTokensTable;
  oauth_states: OAuthStatesTable;
  hubspot_deal_sync: HubSpotDealSyncTable;
  hubspot_rate_sends: HubSpotRateSendsTable;
  hubspot_rate_pauses: HubSpotRatePausesTable;
  hubspot_webhook_events: HubSpotWebhookEventsTable;
  hubspot_decision_callbacks: HubSpotDecisionCallbacksTable;
  hubspot_workflow_executions: HubSpotWorkflowExecutionsTable;
  hubspot_portal_settings: HubSpotPortalSettingsTable;
  hubspot_card_requests: HubSpotCardRequestsTable;
}

export type OrganizationRow = Selectable<OrganizationsTable>;
export type OrganizationIntegrationRow = Selectable<OrganizationIntegrationsTable>;
export type ContractRow = Selectable<ContractsTable>;
export type NewContractRow = Insertable<ContractsTable>;
export type ContractUpdate = Updateable<ContractsTable>;
export type ContractFileRow = Selectable<ContractFilesTable>;
export type ContractStatusChangeRow = Selectable<ContractStatusChangesTable>;
export type AuditLogRow = Selectable<AuditLogTable>;
