/**
 * `lexicontract_status` values on a HubSpot deal (SPEC §6): the seven contract statuses plus
 * the two import states, with the labels HubSpot users see.
 */
export const NEGOTIATION_STATUS_LABELS = {
  importing: 'Importing',
  import_failed: 'Import failed',
  pending_review: 'Pending review',
  in_review: 'In review',
  changes_requested: 'Changes requested',
  approved: 'Approved',
  signed: 'Signed',
  rejected: 'Rejected',
  cancelled: 'Cancelled',
} as const;

export type LexiContractStatusValue = keyof typeof NEGOTIATION_STATUS_LABELS;
