/**
 * The date version of each HubSpot API family the app calls, in one place: every HubSpot
 * path in `server/src` is built from these constants. HubSpot supports a date version for
 * 18 months (2026-03 until about 2027-09, 2026-09 until about 2028-03). A family moves to a
 * newer version only where that version's published document accepts the same request and
 * answers with what the app reads; where one stays behind, the reason is beside it.
 */

/** Deals and notes: single read (with `?associations=notes`), PATCH, batch read/update. */
export const CRM_OBJECTS_API_VERSION = '2026-09';

/** Deal properties and property groups (install provisioning). */
export const CRM_PROPERTIES_API_VERSION = '2026-09';

/** Deal pipelines and stages (stage labels). */
export const CRM_PIPELINES_API_VERSION = '2026-09';

/**
 * A deal's note associations (`GET /crm/objects/{v}/deals/{id}/associations/notes`), a
 * company's deals (`.../companies/{id}/associations/deals`) and the batch read of a deal's
 * companies, contacts and line items (`/crm/associations/{v}/.../batch/read`).
 * Stays on 2026-03: the 2026-09 associations document has no GET that lists one record's
 * associations (only PUT/DELETE of a single pair and the batch endpoints).
 */
export const CRM_ASSOCIATIONS_API_VERSION = '2026-03';

/**
 * File metadata and signed download URLs. Stays on 2026-03: the 2026-09 files document has
 * neither `GET /files/{v}/files/{fileId}` nor `.../signed-url`.
 */
export const FILES_API_VERSION = '2026-03';

/** Workflow action callback completion. */
export const AUTOMATION_CALLBACKS_API_VERSION = '2026-09';

/**
 * Token exchange, refresh, introspection and revocation. Stays on 2026-03: the 2026-09 OAuth
 * document describes no success answer for `/token` (only the error) and an introspection
 * answer with nothing but `active`, so it does not promise the tokens, portal and scopes
 * the app reads.
 */
export const OAUTH_API_VERSION = '2026-03';

/** The app uninstalling itself from a portal (`DELETE /appinstalls/{v}/external-install`). */
export const APP_INSTALLS_API_VERSION = '2026-09';

const seg = encodeURIComponent;

/** Every HubSpot path the app calls, built from the family versions above. */
export const hubspotPaths = {
  deal: (dealId: string) => `/crm/objects/${CRM_OBJECTS_API_VERSION}/deals/${seg(dealId)}`,
  dealsBatchUpdate: () => `/crm/objects/${CRM_OBJECTS_API_VERSION}/deals/batch/update`,
  notesBatchRead: () => `/crm/objects/${CRM_OBJECTS_API_VERSION}/notes/batch/read`,
  /** CRM search over notes (the card finds a deal's notes without their ids). */
  notesSearch: () => `/crm/objects/${CRM_OBJECTS_API_VERSION}/notes/search`,
  dealNoteAssociations: (dealId: string) =>
    `/crm/objects/${CRM_ASSOCIATIONS_API_VERSION}/deals/${seg(dealId)}/associations/notes`,
  /** A company's deals (the company card), the same associations GET as the deal's notes. */
  companyDealAssociations: (companyId: string) =>
    `/crm/objects/${CRM_ASSOCIATIONS_API_VERSION}/companies/${seg(companyId)}/associations/deals`,
  dealProperties: () => `/crm/properties/${CRM_PROPERTIES_API_VERSION}/deals`,
  /** Property definitions of deals, companies, contacts (mapping pickers). */
  objectProperties: (objectType: 'deals' | 'companies' | 'contacts' | 'line_items') =>
    `/crm/properties/${CRM_PROPERTIES_API_VERSION}/${objectType}`,
  /** Batch read of companies, contacts or line items (the deal's context at import). */
  objectsBatchRead: (objectType: 'companies' | 'contacts' | 'line_items') =>
    `/crm/objects/${CRM_OBJECTS_API_VERSION}/${objectType}/batch/read`,
  /** A deal's companies, contacts or line items, with association labels (batch read). */
  dealAssociationsBatchRead: (toObjectType: 'companies' | 'contacts' | 'line_items') =>
    `/crm/associations/${CRM_ASSOCIATIONS_API_VERSION}/deals/${toObjectType}/batch/read`,
  dealPipelines: () => `/crm/pipelines/${CRM_PIPELINES_API_VERSION}/deals`,
  dealPipeline: (pipelineId: string) =>
    `/crm/pipelines/${CRM_PIPELINES_API_VERSION}/deals/${seg(pipelineId)}`,
  /** Note creation (write-back). */
  notes: () => `/crm/objects/${CRM_OBJECTS_API_VERSION}/notes`,
  /** Multipart upload (write-back); 2026-09's files document has no upload either. */
  fileUpload: () => `/files/${FILES_API_VERSION}/files`,
  file: (fileId: string) => `/files/${FILES_API_VERSION}/files/${seg(fileId)}`,
  fileSignedUrl: (fileId: string) => `/files/${FILES_API_VERSION}/files/${seg(fileId)}/signed-url`,
  callbackComplete: (callbackId: string) =>
    `/automation/actions/callbacks/${AUTOMATION_CALLBACKS_API_VERSION}/${seg(callbackId)}/complete`,
  oauthToken: () => `/oauth/${OAUTH_API_VERSION}/token`,
  oauthIntrospect: () => `/oauth/${OAUTH_API_VERSION}/token/introspect`,
  oauthRevoke: () => `/oauth/${OAUTH_API_VERSION}/token/revoke`,
  externalInstall: () => `/appinstalls/${APP_INSTALLS_API_VERSION}/external-install`,
} as const;
