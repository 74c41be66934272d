/**
 * GENERATED FILE: do not edit. kysely-codegen writes it from the migrated database, with the
 * options in .kysely-codegenrc.json, through scripts/db-types.ts.
 * Regenerate: npm run db:types (after adding a migration or changing the options).
 * Check: npm run db:types:check (CI fails when this file is stale).
 * int8 columns are numbers (see database.ts); text columns limited by a check constraint get
 * their unions from column-types.ts.
 */

import type {
  AttachmentFilterMode,
  AuditOutcome,
  AutoSendOutcome,
  ClosedLostBehavior,
  ConnectionStatus,
  ContractFileOrigin,
  ContractFileState,
  ContractImportState,
  DealSyncState,
  DecisionCallbackState,
  FileWriteBackState,
  NegotiationStatusColumn,
  ProvisioningStatus,
  TimelineNoteState,
  WorkflowExecutionState,
} from './column-types.ts';
import type { ColumnType, Selectable } from 'kysely';

export type Generated<T> =
  T extends ColumnType<infer S, infer I, infer U>
    ? ColumnType<S, I | undefined, U>
    : ColumnType<T, T | undefined, T>;

export type Timestamp = ColumnType<Date, Date | string, Date | string>;

export interface ApiKeys {
  created_at: Generated<Timestamp>;
  id: Generated<string>;
  key_hash: string;
  key_prefix: string;
  last_used_at: Timestamp | null;
  name: string;
  organization_id: string;
  revoked_at: Timestamp | null;
}

export interface AuditLog {
  action: string;
  actor: string;
  created_at: Generated<Timestamp>;
  details: ColumnType<unknown, string | undefined, never>;
  id: Generated<number>;
  organization_id: string | null;
  outcome: AuditOutcome;
  target: string | null;
}

export interface ContractFileChunks {
  data: Buffer;
  file_id: string;
  seq: number;
}

export interface ContractFiles {
  completed_at: Timestamp | null;
  content_type: string;
  contract_id: string;
  created_at: Generated<Timestamp>;
  external_file_id: string | null;
  id: Generated<string>;
  name: string;
  organization_id: string;
  origin: Generated<ContractFileOrigin>;
  replaces_file_id: string | null;
  sha256: string | null;
  size_bytes: Generated<number>;
  state: Generated<ContractFileState>;
  uploaded_by: string | null;
}

export interface Contracts {
  created_at: Generated<Timestamp>;
  created_by: string | null;
  created_by_source: string;
  external_account_id: string | null;
  external_id: string | null;
  external_source: string | null;
  id: Generated<string>;
  import_error: string | null;
  import_state: ContractImportState | null;
  import_summary: ColumnType<unknown, string, string> | null;
  metadata: Generated<ColumnType<unknown, string, string>>;
  metadata_mapping_version: number | null;
  negotiation_status: NegotiationStatusColumn;
  organization_id: string;
  source_snapshot: ColumnType<unknown, string, string> | null;
  status_version: Generated<number>;
  title: string;
  updated_at: Generated<Timestamp>;
}

export interface ContractStatusChanges {
  actor: string | null;
  contract_id: string;
  created_at: Generated<Timestamp>;
  from_status: NegotiationStatusColumn | null;
  id: Generated<number>;
  organization_id: string;
  source: string;
  to_status: NegotiationStatusColumn;
}

export interface EncryptionKeys {
  fingerprint: string;
  first_seen_at: Generated<Timestamp>;
  id: string;
}

export interface HubspotAutoSendClaims {
  claimed_at: Generated<Timestamp>;
  contract_id: string | null;
  deal_id: string;
  organization_id: string;
  outcome: AutoSendOutcome;
  portal_id: string;
  rule_id: string;
  rules_version: number;
  stage_id: string;
  webhook_event_id: number | null;
}

export interface HubspotCardRequests {
  contract_id: string | null;
  created_at: Generated<Timestamp>;
  deal_id: string;
  hubspot_user_id: string;
  idempotency_key: string;
  organization_id: string;
  portal_id: string;
  response: ColumnType<unknown, string, string> | null;
}

export interface HubspotDealSync {
  attempts: Generated<number>;
  claim_token: string | null;
  claimed_until: Timestamp | null;
  contract_id: string | null;
  created_at: Generated<Timestamp>;
  deal_id: string;
  desired_contract_url: string | null;
  desired_status: string;
  failure_cause: string | null;
  last_error: string | null;
  organization_id: string;
  pending_since: Generated<Timestamp>;
  portal_id: string;
  state: Generated<DealSyncState>;
  synced_at: Timestamp | null;
  synced_status: string | null;
  synced_version: number | null;
  updated_at: Generated<Timestamp>;
  version: Generated<number>;
}

export interface HubspotDecisionCallbacks {
  attempts: Generated<number>;
  callback_id: string;
  completed_at: Timestamp | null;
  contract_id: string | null;
  created_at: Generated<Timestamp>;
  deal_id: string;
  decision: string | null;
  expires_at: Timestamp;
  last_error: string | null;
  organization_id: string;
  portal_id: string;
  state: Generated<DecisionCallbackState>;
}

export interface HubspotFieldMappings {
  created_at: Generated<Timestamp>;
  created_by: string;
  mapping: ColumnType<unknown, string, string>;
  organization_id: string;
  version: number;
}

export interface HubspotFileWritebacks {
  attempts: Generated<number>;
  contract_id: string;
  created_at: Generated<Timestamp>;
  deal_id: string;
  file_id: string;
  hubspot_file_id: string | null;
  hubspot_note_id: string | null;
  last_error: string | null;
  organization_id: string;
  portal_id: string;
  state: Generated<FileWriteBackState>;
  updated_at: Generated<Timestamp>;
}

export interface HubspotPortalSettings {
  attachment_filter_mode: Generated<AttachmentFilterMode>;
  attachment_name_pattern: string | null;
  closed_lost_behavior: Generated<ClosedLostBehavior>;
  created_at: Generated<Timestamp>;
  organization_id: string;
  timeline_notes: Generated<boolean>;
  updated_at: Generated<Timestamp>;
  updated_by: string | null;
  write_back_files: Generated<boolean>;
}

export interface HubspotPrimaryCompanyChoices {
  chosen_at: Generated<Timestamp>;
  chosen_by: string;
  company_id: string;
  deal_id: string;
  organization_id: string;
}

export interface HubspotRatePace {
  portal_id: string;
  sync_tat: Timestamp;
}

export interface HubspotRatePauses {
  paused_until: Timestamp;
  portal_id: string;
  reason: string | null;
}

export interface HubspotRateSends {
  id: Generated<number>;
  lane: string;
  portal_id: string;
  sent_at: Timestamp;
}

export interface HubspotRoutingRuleSets {
  created_at: Generated<Timestamp>;
  created_by: string;
  default_outcome: ColumnType<unknown, string, string>;
  organization_id: string;
  rules: ColumnType<unknown, string, string>;
  version: number;
}

export interface HubspotTimelineNotes {
  attempts: Generated<number>;
  contract_id: string;
  created_at: Generated<Timestamp>;
  deal_id: string;
  event_key: string;
  hubspot_note_id: string | null;
  last_error: string | null;
  organization_id: string;
  portal_id: string;
  state: Generated<TimelineNoteState>;
  updated_at: Generated<Timestamp>;
}

export interface HubspotWebhookEvents {
  change_source: string | null;
  event_id: number;
  id: Generated<number>;
  object_id: string;
  occurred_at: number;
  organization_id: string;
  outcome: string | null;
  portal_id: string;
  processed_at: Timestamp | null;
  property_name: Generated<string>;
  property_value: string | null;
  received_at: Generated<Timestamp>;
  source_id: string | null;
  subscription_id: number;
  subscription_type: string;
}

export interface HubspotWorkflowExecutions {
  callback_id: string;
  completed_at: Timestamp | null;
  completion: ColumnType<unknown, string, string> | null;
  completion_error: string | null;
  contract_id: string | null;
  created_at: Generated<Timestamp>;
  deal_id: string;
  organization_id: string;
  portal_id: string;
  response: ColumnType<unknown, string, string>;
  state: Generated<WorkflowExecutionState>;
}

export interface Integrations {
  available: boolean;
  id: string;
  name: string;
}

export interface OauthStates {
  browser_binding_hash: string;
  created_at: Generated<Timestamp>;
  expires_at: Timestamp;
  organization_id: string | null;
  state_hash: string;
  used_at: Timestamp | null;
  user_id: string | null;
}

export interface OrganizationIntegrations {
  access_token_ciphertext: Buffer | null;
  access_token_expires_at: Timestamp | null;
  connected_at: Timestamp | null;
  created_at: Generated<Timestamp>;
  disconnected_at: Timestamp | null;
  external_account_id: string | null;
  external_account_name: string | null;
  granted_scopes: Generated<string[]>;
  id: Generated<string>;
  installer_email: string | null;
  installer_user_id: string | null;
  integration_id: string;
  last_error: string | null;
  last_error_at: Timestamp | null;
  organization_id: string;
  provisioned_at: Timestamp | null;
  provisioning_error: string | null;
  provisioning_status: Generated<ProvisioningStatus>;
  refresh_lease_owner: string | null;
  refresh_lease_until: Timestamp | null;
  refresh_token_ciphertext: Buffer | null;
  status: ConnectionStatus;
  token_key_id: string | null;
  updated_at: Generated<Timestamp>;
}

export interface Organizations {
  created_at: Generated<Timestamp>;
  id: Generated<string>;
  name: string;
}

export interface SignInTokens {
  created_at: Generated<Timestamp>;
  expires_at: Timestamp;
  organization_id: string;
  token_hash: string;
  used_at: Timestamp | null;
  user_id: string;
}

export interface Users {
  created_at: Generated<Timestamp>;
  email: string;
  hubspot_user_id: string | null;
  id: Generated<string>;
  name: string | null;
  organization_id: string;
}

export interface WebSessions {
  created_at: Generated<Timestamp>;
  csrf_token: string;
  expires_at: Timestamp;
  id_hash: string;
  organization_id: string;
  revoked_at: Timestamp | null;
  user_id: string;
}

export interface DB {
  api_keys: ApiKeys;
  audit_log: AuditLog;
  contract_file_chunks: ContractFileChunks;
  contract_files: ContractFiles;
  contract_status_changes: ContractStatusChanges;
  contracts: Contracts;
  encryption_keys: EncryptionKeys;
  hubspot_auto_send_claims: HubspotAutoSendClaims;
  hubspot_card_requests: HubspotCardRequests;
  hubspot_deal_sync: HubspotDealSync;
  hubspot_decision_callbacks: HubspotDecisionCallbacks;
  hubspot_field_mappings: HubspotFieldMappings;
  hubspot_file_writebacks: HubspotFileWritebacks;
  hubspot_portal_settings: HubspotPortalSettings;
  hubspot_primary_company_choices: HubspotPrimaryCompanyChoices;
  hubspot_rate_pace: HubspotRatePace;
  hubspot_rate_pauses: HubspotRatePauses;
  hubspot_rate_sends: HubspotRateSends;
  hubspot_routing_rule_sets: HubspotRoutingRuleSets;
  hubspot_timeline_notes: HubspotTimelineNotes;
  hubspot_webhook_events: HubspotWebhookEvents;
  hubspot_workflow_executions: HubspotWorkflowExecutions;
  integrations: Integrations;
  oauth_states: OauthStates;
  organization_integrations: OrganizationIntegrations;
  organizations: Organizations;
  sign_in_tokens: SignInTokens;
  users: Users;
  web_sessions: WebSessions;
}

// Names the application imports from here: the hand-kept column unions and row aliases.
export type {
  AttachmentFilterMode,
  AuditOutcome,
  AutoSendOutcome,
  ClosedLostBehavior,
  ConnectionStatus,
  ContractFileOrigin,
  ContractFileState,
  ContractImportState,
  DealSyncState,
  DecisionCallbackState,
  FileWriteBackState,
  NegotiationStatusColumn,
  ProvisioningStatus,
  TimelineNoteState,
  WorkflowExecutionState,
} from './column-types.ts';
export type AuditLogRow = Selectable<DB['audit_log']>;
export type ContractFileRow = Selectable<DB['contract_files']>;
export type ContractRow = Selectable<DB['contracts']>;
export type ContractStatusChangeRow = Selectable<DB['contract_status_changes']>;
export type OrganizationIntegrationRow = Selectable<DB['organization_integrations']>;
export type OrganizationRow = Selectable<DB['organizations']>;
