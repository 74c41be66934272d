/**
 * The outcome codes of a deal import. They are the `import_result` output of the workflow
 * action (HubSpot shows the words through the action's `executionRules`) and the
 * `import_error` code of a failed import.
 */
export const IMPORT_RESULT_MESSAGES = {
  imported: 'Contract created in LexiContract with the deal’s attachments.',
  imported_with_skips:
    'Contract created in LexiContract; some attachments were skipped (too large, not a contract document, or not accessible).',
  no_attachments: 'Contract created in LexiContract; the deal has no attachments.',
  no_importable_attachments:
    'Contract created in LexiContract; none of the deal’s attachments could be imported.',
  portal_not_connected: 'This HubSpot account is not connected to LexiContract.',
  portal_needs_reconnect:
    'The connection to LexiContract must be renewed: an admin has to reconnect HubSpot in LexiContract.',
  deal_not_found: 'The deal no longer exists in HubSpot.',
  invalid_input:
    'The action’s settings are invalid: give a name pattern when importing only matching attachments.',
  wrong_object_type: 'This action works on deals only.',
  hubspot_unavailable: 'HubSpot could not be reached; the import gave up after several attempts.',
  import_failed: 'The import failed unexpectedly; see the contract in LexiContract.',
  mapping_incomplete:
    'A required contract field has no value on the deal, its primary company or contact; see the contract in LexiContract.',
} as const;

export type ImportResultCode = keyof typeof IMPORT_RESULT_MESSAGES;

export const IMPORT_RESULT_CODES = Object.keys(IMPORT_RESULT_MESSAGES) as ImportResultCode[];

/** Codes of an import that created or updated the contract. */
export const SUCCESSFUL_IMPORT_RESULTS: readonly ImportResultCode[] = [
  'imported',
  'imported_with_skips',
  'no_attachments',
  'no_importable_attachments',
];
