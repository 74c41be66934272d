/**
 * The deal → contract import, for every entry point (workflow action, Deal card):
 * - `requestLegalReview(deps, request, trx?)` finds the deal's open contract or creates it,
 *   and queues the import (only local writes).
 * - `listDealAttachments(tokenDeps, portalId, dealId, { maxFileBytes })` lists the deal's
 *   attachments with whether each can be imported and why not.
 * - `findOpenDealContract(db, organizationId, portalId, dealId)`.
 */
export {
  findOpenDealContract,
  OPEN_STATUSES,
  requestLegalReview,
  REVIEW_PRIORITIES,
  type LegalReviewDeps,
  type LegalReviewRequest,
  type LegalReviewRequested,
  type ReviewPriority,
} from './import-service.ts';
export {
  DealAttachmentSchema,
  DealNotFoundError,
  listDealAttachments,
  type DealAttachment,
  type DealSnapshot,
  type SkipReason,
} from './deal-reader.ts';
export type { FileFilter } from './file-policy.ts';
export { IMPORT_RESULT_MESSAGES, type ImportResultCode } from './import-results.ts';
export type { ImportSummary } from './import-job.ts';
