import type { CONTEXT_READ_SCOPES } from '../legal-review/deal-context.ts';
import type { WRITE_BACK_SCOPES } from '../legal-review/file-write-back.ts';

/**
 * The scopes the app asks for at install (`scope` of the authorize URL). Each is used by
 * the code; `hubspot-app/app/app-hsmeta.json` declares exactly these as required scopes.
 */
export const REQUIRED_SCOPES = [
  // Base scope of every OAuth app; also needed to uninstall via /appinstalls.
  'oauth',
  // Read the deal, its associations and the deal pipelines; webhook subscriptions on deals.
  'crm.objects.deals.read',
  // Write lexicontract_status and lexicontract_contract_url onto deals.
  'crm.objects.deals.write',
  // Read the LexiContract property group and properties to check them before changing.
  'crm.schemas.deals.read',
  // Create the LexiContract property group and deal properties at install.
  'crm.schemas.deals.write',
  // Notes (where HubSpot keeps deal attachments) are read with the contacts scope.
  'crm.objects.contacts.read',
  // Attachments are hidden files: metadata and signed download URLs.
  'files.ui_hidden.read',
  // Complete blocked workflow-action executions through the callbacks API.
  'automation',
] as const;

/**
 * Asked for at install but not required (`optionalScopes` in app-hsmeta.json), so portals
 * installed before them keep working: writing the reviewed files back to the deal is
 * skipped (with a "re-authorize" notice) without its scopes, and the import leaves the
 * deal's companies or line items out (saying so on the contract) without theirs.
 */
export const OPTIONAL_SCOPES: readonly string[] = [
  // Upload the reviewed files, private, into the app's folder in HubSpot Files.
  'files',
  // Create the note that attaches them to the deal (the notes API's write scope).
  'crm.objects.contacts.write',
  // Read the deal's companies (the counterparty) and their property definitions (mapping).
  'crm.objects.companies.read',
  // Read the deal's line items (products, quantities, prices, terms).
  'crm.objects.line_items.read',
] satisfies readonly (
  (typeof WRITE_BACK_SCOPES)[number] | (typeof CONTEXT_READ_SCOPES)['companies' | 'line_items']
)[];
