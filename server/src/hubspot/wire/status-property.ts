import {
  NEGOTIATION_STATUS_LABELS as CONTRACT_STATUS_LABELS,
  type NegotiationStatus,
} from '../../core/contracts/status.ts';

/**
 * `lexicontract_status` values on a HubSpot deal (SPEC §6): the seven contract statuses plus
 * the two import states, with the labels HubSpot users see.
 */
export const NEGOTIATION_STATUS_LABELS = {
  importing: 'Importing',
  import_failed: 'Import failed',
  ...CONTRACT_STATUS_LABELS,
} as const satisfies Record<NegotiationStatus | 'importing' | 'import_failed', string>;

export type LexiContractStatusValue = keyof typeof NEGOTIATION_STATUS_LABELS;
