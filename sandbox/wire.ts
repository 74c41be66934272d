import { z } from 'zod';

/**
 * The sandbox's own model of HubSpot's wire: zod schemas for the requests it receives and
 * TypeScript types for the answers it builds. Written from HubSpot's documentation and its
 * published OpenAPI documents (2026-03 releases), NOT from the app's `server/src/hubspot/wire`:
 * the sandbox is an independent witness, so a field the app gets wrong must fail against it
 * instead of being mirrored. Request schemas follow each spec's `required` list; answer types
 * mark as optional only what the spec marks optional.
 */

// ---- Errors (spec `Error`, `ErrorDetail`, `StandardError`) ---------------------------------

export interface HubSpotErrorDetail {
  message: string;
  code?: string;
  in?: string;
  subCategory?: string;
  context?: Record<string, unknown>;
}

/** `Error`: `category`, `correlationId`, `message` required; `status: "error"` as sent. */
export interface HubSpotError {
  status: 'error';
  message: string;
  correlationId: string;
  category: string;
  subCategory?: string;
  errors?: HubSpotErrorDetail[];
  context?: Record<string, unknown>;
  links?: Record<string, string>;
}

/** The 429 body of the per-portal burst limit (usage-guidelines page). */
export interface RateLimitError extends HubSpotError {
  policyName: string;
  errorType?: string;
  requestId?: string;
}

/** Header names HubSpot sends on OAuth-authenticated API calls (rate-limit changelog). */
export const RATE_LIMIT_HEADERS = {
  max: 'x-hubspot-ratelimit-max',
  remaining: 'x-hubspot-ratelimit-remaining',
  intervalMs: 'x-hubspot-ratelimit-interval-milliseconds',
} as const;

// ---- OAuth (spec `oauth/2026-03`) ----------------------------------------------------------

const formField = z.string().min(1);

/** Form body of `POST /oauth/2026-03/token` for the two grants an installed app uses. */
export const TokenRequestSchema = z.discriminatedUnion('grant_type', [
  z.object({
    grant_type: z.literal('authorization_code'),
    client_id: formField,
    client_secret: formField,
    redirect_uri: formField,
    code: formField,
    code_verifier: formField.optional(),
  }),
  z.object({
    grant_type: z.literal('refresh_token'),
    client_id: formField,
    client_secret: formField,
    refresh_token: formField,
  }),
]);

/** Form body of `/oauth/2026-03/token/introspect` and `/token/revoke`. */
export const TokenInfoRequestSchema = z.object({
  client_id: formField,
  client_secret: formField,
  token: formField,
  token_type_hint: z.enum(['access_token', 'refresh_token']).optional(),
});

/** `AccessTokenResponse`: `token_use` is required; `hub_id`, `user_id`, `scopes` are not. */
export interface TokenResponse {
  access_token: string;
  refresh_token: string;
  expires_in: number;
  token_type: string;
  token_use: 'access_token';
  hub_id?: number;
  user_id?: number;
  scopes?: string[];
  id_token?: string;
}

/** `SignedAccessToken`: every field is required in the spec. */
export interface SignedAccessToken {
  appId: number;
  appInstallId: string;
  audience: string;
  expiresAt: number;
  hubId: number;
  hublet: string;
  installingUserId: number;
  isPrivateDistribution: boolean;
  isServiceAccount: boolean;
  isUserLevel: boolean;
  newSignature: string;
  scopeToScopeGroupPks: string;
  scopes: string;
  signature: string;
  trialScopeToScopeGroupPks: string;
  trialScopes: string;
  userId: number;
}

interface TokenInfoBase {
  active: true;
  app_id: number;
  client_id: string;
  hub_id: number;
  hub_domain?: string;
  scopes: string[];
  token: string;
  token_type: string;
  user?: string;
  user_id: number;
}

/** `PublicAccessTokenInfoResponse`. */
export interface AccessTokenInfo extends TokenInfoBase {
  token_use: 'access_token';
  expires_in: number;
  is_private_distribution: boolean;
  signed_access_token: SignedAccessToken;
}

/** `PublicRefreshTokenInfoResponse`. */
export interface RefreshTokenInfo extends TokenInfoBase {
  token_use: 'refresh_token';
}

/** RFC 6749 error plus HubSpot's `Error` (`category`, `correlationId`, `message`) and `status`. */
export interface OAuthError {
  error: string;
  error_description: string;
  status: string;
  message: string;
  category: string;
  correlationId: string;
}

// ---- CRM objects (spec `crm-deals/2026-03`, `crm-notes/2026-03`) -----------------------------

/** HubSpot's limit on inputs per batch call (object APIs guide). */
export const BATCH_INPUT_LIMIT = 100;

/** Property values are strings; a requested property without a value comes back `null`. */
export type CrmProperties = Record<string, string | null>;

/** `SimplePublicObject`. */
export interface CrmObject {
  id: string;
  properties: CrmProperties;
  createdAt: string;
  updatedAt: string;
  archived: boolean;
  archivedAt?: string;
  url?: string;
}

export interface NextPage {
  after: string;
  link?: string;
}

/** `SimplePublicObjectWithAssociations` (`associations` values: `CollectionResponseAssociatedId`). */
export interface CrmObjectWithAssociations extends CrmObject {
  associations?: Record<
    string,
    { results: Array<{ id: string; type: string }>; paging?: { next?: NextPage } }
  >;
}

const PropertyValuesSchema = z.record(z.string(), z.string());

/** `SimplePublicObjectInput`: `PATCH /crm/objects/2026-03/{objectType}/{objectId}`. */
export const CrmObjectPatchInputSchema = z.object({ properties: PropertyValuesSchema });

/**
 * `BatchReadInputSimplePublicObjectId`: `inputs`, `properties` and `propertiesWithHistory`
 * are all required by the spec.
 */
export const BatchReadInputSchema = z.object({
  inputs: z.array(z.object({ id: z.string().min(1) })),
  properties: z.array(z.string()),
  propertiesWithHistory: z.array(z.string()),
  idProperty: z.string().optional(),
});

/** `BatchInputSimplePublicObjectBatchInput`: items require `id` and `properties`. */
export const BatchUpdateInputSchema = z.object({
  inputs: z.array(
    z.object({
      id: z.string().min(1),
      properties: PropertyValuesSchema,
      idProperty: z.string().optional(),
      objectWriteTraceId: z.string().optional(),
    }),
  ),
});

/** `StandardError`: `category`, `context`, `errors`, `links`, `message`, `status` required. */
export interface BatchError {
  status: string;
  category: string;
  message: string;
  context: Record<string, string[]>;
  errors: HubSpotErrorDetail[];
  links: Record<string, string>;
  subCategory?: unknown;
  id?: string;
}

/** `BatchResponseSimplePublicObject` (200) / `...WithErrors` (207). */
export interface BatchResponse {
  status: 'CANCELED' | 'COMPLETE' | 'PENDING' | 'PROCESSING';
  results: CrmObject[];
  startedAt: string;
  completedAt: string;
  requestedAt?: string;
  numErrors?: number;
  errors?: BatchError[];
  links?: Record<string, string>;
}

/** `CollectionResponseMultiAssociatedObjectWithLabelForwardPaging` (`toObjectId` a string). */
export interface AssociationsPage {
  results: Array<{
    toObjectId: string;
    associationTypes: Array<{
      category: 'HUBSPOT_DEFINED' | 'INTEGRATOR_DEFINED' | 'USER_DEFINED' | 'WORK';
      typeId: number;
      label?: string | null;
    }>;
  }>;
  paging?: { next?: NextPage };
}

/** A note's `hs_attachment_ids` is semicolon-separated file ids (`"67890;123456"`). */
export function parseAttachmentIds(value: string | null | undefined): string[] {
  if (!value) return [];
  return value
    .split(';')
    .map((id) => id.trim())
    .filter((id) => id.length > 0);
}

// ---- Files (spec `files/2026-03`) ----------------------------------------------------------

export type FileAccess =
  | 'HIDDEN_INDEXABLE'
  | 'HIDDEN_NOT_INDEXABLE'
  | 'HIDDEN_PRIVATE'
  | 'HIDDEN_SENSITIVE'
  | 'PRIVATE'
  | 'PUBLIC_INDEXABLE'
  | 'PUBLIC_NOT_INDEXABLE'
  | 'SENSITIVE';

/** `File`: only `id`, `createdAt`, `updatedAt`, `archived` are required. */
export interface FileMetadata {
  id: string;
  createdAt: string;
  updatedAt: string;
  archived: boolean;
  archivedAt?: string;
  name?: string;
  extension?: string;
  type?: string;
  size?: number;
  access?: FileAccess;
  url?: string;
  path?: string;
  parentFolderId?: string;
  encoding?: string;
  fileMd5?: string;
  isUsableInContent?: boolean;
  sourceGroup?: 'CONTENT' | 'CONVERSATIONS' | 'FORMS' | 'UI_EXTENSIONS' | 'UNKNOWN';
}

/** `SignedUrl`: `url` and `expiresAt` required. */
export interface SignedUrl {
  url: string;
  expiresAt: string;
  name?: string;
  extension?: string;
  size?: number;
  type?: string;
  height?: number;
  width?: number;
}

// ---- Properties (spec `crm-properties/2026-03`) ---------------------------------------------

const PropertyTypeSchema = z.enum([
  'bool',
  'date',
  'datetime',
  'enumeration',
  'number',
  'phone_number',
  'string',
]);
const PropertyFieldTypeSchema = z.enum([
  'booleancheckbox',
  'calculation_equation',
  'checkbox',
  'date',
  'file',
  'html',
  'number',
  'phonenumber',
  'radio',
  'select',
  'text',
  'textarea',
]);

/** `OptionInput`: `label`, `value`, `hidden` and `displayOrder` are all required. */
const OptionInputSchema = z.object({
  label: z.string().min(1),
  value: z.string().min(1),
  hidden: z.boolean(),
  displayOrder: z.number().int(),
  description: z.string().optional(),
});

/** `Option` (read): `displayOrder` is optional here. */
export interface PropertyOption {
  label: string;
  value: string;
  hidden: boolean;
  displayOrder?: number;
  description?: string;
}

/** `PropertyCreate`: `name`, `label`, `type`, `fieldType`, `groupName` required. */
export const PropertyCreateSchema = z.object({
  name: z.string().regex(/^[a-z][a-z0-9_]*$/, 'lowercase letters, digits and underscores'),
  label: z.string().min(1),
  type: PropertyTypeSchema,
  fieldType: PropertyFieldTypeSchema,
  groupName: z.string().min(1),
  description: z.string().optional(),
  options: z.array(OptionInputSchema).optional(),
  displayOrder: z.number().int().optional(),
  hasUniqueValue: z.boolean().optional(),
  hidden: z.boolean().optional(),
  formField: z.boolean().optional(),
  externalOptions: z.boolean().optional(),
  referencedObjectType: z.string().optional(),
  calculationFormula: z.string().optional(),
  dataSensitivity: z.enum(['highly_sensitive', 'non_sensitive', 'sensitive']).optional(),
});

/** `PropertyUpdate`: nothing required; `options` replaces the whole list. */
export const PropertyUpdateSchema = z.object({
  label: z.string().min(1).optional(),
  type: PropertyTypeSchema.optional(),
  fieldType: PropertyFieldTypeSchema.optional(),
  groupName: z.string().min(1).optional(),
  description: z.string().optional(),
  options: z.array(OptionInputSchema).optional(),
  displayOrder: z.number().int().optional(),
  hidden: z.boolean().optional(),
  formField: z.boolean().optional(),
});

/** `Property`: `name`, `label`, `type`, `fieldType`, `groupName`, `description`, `options` required. */
export interface Property {
  name: string;
  label: string;
  type: string;
  fieldType: string;
  groupName: string;
  description: string;
  options: PropertyOption[];
  displayOrder?: number;
  hasUniqueValue?: boolean;
  hidden?: boolean;
  formField?: boolean;
  hubspotDefined?: boolean;
  calculated?: boolean;
  externalOptions?: boolean;
  archived?: boolean;
  createdAt?: string;
  updatedAt?: string;
  modificationMetadata?: {
    archivable: boolean;
    readOnlyDefinition: boolean;
    readOnlyValue: boolean;
    readOnlyOptions?: boolean;
  };
}

/** `PropertyGroupCreate`: `name`, `label` required. */
export const PropertyGroupCreateSchema = z.object({
  name: z.string().min(1),
  label: z.string().min(1),
  displayOrder: z.number().int().optional(),
});

/** `PropertyGroupUpdate`. */
export const PropertyGroupUpdateSchema = z.object({
  label: z.string().min(1).optional(),
  displayOrder: z.number().int().optional(),
});

/** `PropertyGroup`: `name`, `label`, `archived` required. */
export interface PropertyGroup {
  name: string;
  label: string;
  archived: boolean;
  displayOrder?: number;
}

// ---- Pipelines (spec `crm-pipelines/2026-03`) -----------------------------------------------

/** `PipelineStage`: `writePermissions` is required; `metadata` values are strings. */
export interface PipelineStage {
  id: string;
  label: string;
  displayOrder: number;
  metadata: Record<string, string>;
  archived: boolean;
  createdAt: string;
  updatedAt: string;
  writePermissions: 'CRM_PERMISSIONS_ENFORCEMENT' | 'INTERNAL_ONLY' | 'READ_ONLY';
}

/** `Pipeline`. */
export interface Pipeline {
  id: string;
  label: string;
  displayOrder: number;
  archived: boolean;
  createdAt: string;
  updatedAt: string;
  stages: PipelineStage[];
}

// ---- Custom workflow actions (custom-workflow-actions guide; spec `automation-actions/2026-03`)

/**
 * What HubSpot POSTs to an action's `actionUrl` (guide "Execution"), plus the fields seen in
 * real payloads (`actionExecutionIndexIdentifier`, `context.actionId`).
 */
export interface WorkflowActionExecution {
  callbackId: string;
  origin: {
    portalId: number;
    actionDefinitionId: number;
    actionDefinitionVersion: number;
    actionExecutionIndexIdentifier?: { enrollmentId: number; actionExecutionIndex: number };
  };
  context: { source: string; workflowId: number; actionId?: number };
  object: { objectId: number; objectType: string; properties: Record<string, string | null> };
  inputFields: Record<string, unknown>;
}

/**
 * `CallbackCompletionRequest`: `POST /automation/actions/callbacks/2026-03/{id}/complete`.
 * The spec requires both `outputFields` (string values) and `typedOutputs`.
 */
export const CallbackCompletionSchema = z.object({
  outputFields: z.record(z.string(), z.string()),
  typedOutputs: z.record(z.string(), z.unknown()),
  failureReasonType: z.string().optional(),
});
export type CallbackCompletion = z.output<typeof CallbackCompletionSchema>;

// ---- Webhooks (webhooks guide; generic-subscriptions changelog) ----------------------------

/**
 * One event of a delivery (a JSON array of at most 100). Generic `object.*` subscriptions
 * name the object type in `objectTypeId` (`0-3` for deals).
 */
export interface WebhookEvent {
  eventId: number;
  subscriptionId: number;
  portalId: number;
  appId: number;
  occurredAt: number;
  subscriptionType: string;
  attemptNumber: number;
  objectId: number;
  objectTypeId?: string;
  propertyName?: string;
  propertyValue?: string;
  changeSource?: string;
  sourceId?: string;
  changeFlag?: string;
}

/** `options` of `POST /files/2026-03/files` (a JSON string field of the multipart body). */
export const FileUploadOptionsSchema = z.object({
  access: z.enum(['PUBLIC_INDEXABLE', 'PUBLIC_NOT_INDEXABLE', 'PRIVATE']),
  ttl: z.string().optional(),
  overwrite: z.boolean().optional(),
  duplicateValidationStrategy: z.enum(['NONE', 'REJECT', 'RETURN_EXISTING']).optional(),
  duplicateValidationScope: z.enum(['ENTIRE_PORTAL', 'EXACT_FOLDER']).optional(),
});

/** `SimplePublicObjectInputForCreate`: `POST /crm/objects/2026-03/notes`. */
export const CrmObjectCreateInputSchema = z.object({
  properties: z.record(z.string(), z.string()),
  associations: z
    .array(
      z.object({
        to: z.object({ id: z.string() }),
        types: z.array(
          z.object({
            associationCategory: z.enum([
              'HUBSPOT_DEFINED',
              'INTEGRATOR_DEFINED',
              'USER_DEFINED',
              'WORK',
            ]),
            associationTypeId: z.number().int(),
          }),
        ),
      }),
    )
    .default([]),
});
