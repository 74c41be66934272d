import type { COMPANY_CARD_SCOPE } from '../../../../hubspot-app/app/cards/company-api-schemas.ts';
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
 * installed before them keep working: writing the reviewed files back to the deal and the
 * Company card need them, and each is skipped (with a "re-authorize" notice) where its
 * scopes are missing.
 */
export const OPTIONAL_SCOPES: readonly string[] = [
  // Upload the reviewed files, private, into the app's folder in HubSpot Files.
  'files',
  // Create the note that attaches them to the deal (the notes API's write scope).
  'crm.objects.contacts.write',
  // The Company card: list a company's deals (its associations read) to show their contracts.
  'crm.objects.companies.read',
] satisfies readonly ((typeof WRITE_BACK_SCOPES)[number] | typeof COMPANY_CARD_SCOPE)[];
