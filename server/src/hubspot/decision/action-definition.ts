import { DECISIONS, TIMED_OUT } from '../legal-review/decision-callbacks.ts';

/**
 * The "Wait for LexiContract legal decision" workflow action as the server sees it: the
 * output fields it writes and the failure codes it answers with. The action's
 * `hubspot-app/app/workflow-actions/wait-for-legal-decision-hsmeta.json` is checked against
 * these by a test: HubSpot keeps only declared outputs, and its workflow history shows an
 * execution rule's message only for the values a rule names.
 */

export const DECISION_OUTPUT_FIELDS = {
  /** One of `DECISION_OUTCOMES`, on SUCCESS: a decision, or `timed_out`. */
  decision: 'decision',
  /** The contract in LexiContract (when the deal has one). */
  contractUrl: 'contract_url',
  /** Who decided: a LexiContract user's email, else the actor. Empty on `timed_out`. */
  decidedBy: 'decided_by',
  /** When (epoch milliseconds, a HubSpot datetime). Empty on `timed_out`. */
  decidedAt: 'decided_at',
  /** One of `DECISION_ERROR_CODES`, on FAIL_CONTINUE. */
  errorCode: 'error_code',
} as const;

export { DECISIONS, TIMED_OUT };

/** Every value of the `decision` output a branch can test. */
export const DECISION_OUTCOMES = [...DECISIONS, TIMED_OUT] as const;

/** Why an execution failed, in the words the workflow history shows. */
export const DECISION_ERROR_MESSAGES = {
  not_connected: 'This HubSpot account is not connected to LexiContract.',
} as const;
export type DecisionErrorCode = keyof typeof DECISION_ERROR_MESSAGES;
export const DECISION_ERROR_CODES = Object.keys(DECISION_ERROR_MESSAGES) as DecisionErrorCode[];

/** The workflow history's message for each outcome. */
export const DECISION_MESSAGES: Record<(typeof DECISION_OUTCOMES)[number], string> = {
  approved: 'Legal review approved the contract.',
  signed: 'The contract is signed.',
  rejected: 'Legal review rejected the contract.',
  cancelled: 'The contract was cancelled.',
  timed_out:
    'The maximum wait is over: legal review reached no decision in time; the workflow continued without one.',
};
