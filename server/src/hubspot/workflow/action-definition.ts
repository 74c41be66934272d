import type { ImportResultCode } from '../legal-review/import-results.ts';
import { REVIEW_PRIORITIES } from '../legal-review/import-service.ts';

/**
 * The "Send to LexiContract legal review" workflow action as the server sees it: where
 * HubSpot posts it, the input fields it reads and the output fields it writes. The action's
 * `hubspot-app/app/workflow-actions/send-to-legal-review-hsmeta.json` is checked against
 * these by a test.
 */

/** Prefix of every HubSpot-facing route (SPEC §5). */
export const HUBSPOT_ROUTE_PREFIX = '/api/v1/integrations/hubspot';
/** The workflow action's route inside that prefix. */
export const WORKFLOW_ACTION_ROUTE = '/webhook';
/** The `actionUrl` path. */
export const WORKFLOW_ACTION_PATH = `${HUBSPOT_ROUTE_PREFIX}${WORKFLOW_ACTION_ROUTE}`;

export const ACTION_INPUT_FIELDS = {
  /** `all` (default) or `matching`. */
  attachments: 'attachments',
  /** Glob over the file name, e.g. `*.pdf` or `MSA*`; used with `matching`. */
  namePattern: 'attachment_name_pattern',
  priority: 'review_priority',
  note: 'note_for_legal',
} as const;

export const ATTACHMENT_CHOICES = ['all', 'matching'] as const;
export { REVIEW_PRIORITIES };

export const ACTION_OUTPUT_FIELDS = {
  contractId: 'contract_id',
  contractUrl: 'contract_url',
  importResult: 'import_result',
} as const;

/** How long HubSpot keeps the execution blocked waiting for our completion (ISO 8601). */
export const BLOCK_EXPIRATION = 'P1D';

export type ActionOutputs = Partial<
  Record<(typeof ACTION_OUTPUT_FIELDS)[keyof typeof ACTION_OUTPUT_FIELDS], string>
> & {
  hs_execution_state: 'SUCCESS' | 'FAIL_CONTINUE' | 'BLOCK';
  hs_expiration_duration?: string;
};

export function failContinue(code: ImportResultCode): { outputFields: ActionOutputs } {
  return { outputFields: { hs_execution_state: 'FAIL_CONTINUE', import_result: code } };
}
