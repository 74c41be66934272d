import { DECISIONS } from '../legal-review/decision-callbacks.ts';

/**
 * The "Wait for LexiContract legal decision" workflow action as the server sees it: the
 * output fields it writes and the failure codes it answers with. The action's
 * `hubspot-app/app/workflow-actions/wait-for-legal-decision-hsmeta.json` is checked against
 * these by a test: HubSpot keeps only declared outputs, and its workflow history shows an
 * execution rule's message only for the values a rule names.
 */

export const DECISION_OUTPUT_FIELDS = {
  /** One of `DECISIONS`, on SUCCESS. */
  decision: 'decision',
  /** One of `DECISION_ERROR_CODES`, on FAIL_CONTINUE. */
  errorCode: 'error_code',
} as const;

export { DECISIONS };

/** Why an execution failed, in the words the workflow history shows. */
export const DECISION_ERROR_MESSAGES = {
  not_connected: 'This HubSpot account is not connected to LexiContract.',
  timed_out:
    'The maximum wait is over: legal review reached no decision in time; the workflow continued without one.',
} as const;
export type DecisionErrorCode = keyof typeof DECISION_ERROR_MESSAGES;
export const DECISION_ERROR_CODES = Object.keys(DECISION_ERROR_MESSAGES) as DecisionErrorCode[];

/** The workflow history's message for each decision. */
export const DECISION_MESSAGES: Record<(typeof DECISIONS)[number], string> = {
  approved: 'Legal review approved the contract.',
  signed: 'The contract is signed.',
  rejected: 'Legal review rejected the contract.',
  cancelled: 'The contract was cancelled.',
};
