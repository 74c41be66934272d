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

export const OPTIONAL_SCOPES: readonly string[] = [];
