import { DEFAULT_IMPORT_MAX_FILE_BYTES } from '../../platform/config/env.ts';
import type { CardAttachment } from '../../../../hubspot-app/app/cards/api-schemas.ts';
import type { AttachmentFilter } from '../../../../hubspot-app/app/settings/api-schemas.ts';
import type { DealAttachment } from '../legal-review/deal-reader.ts';
import { fileFilterMatcher } from '../legal-review/file-policy.ts';

/** The card lists at most this many attachments (answers stay far below 1 MB). */
export const CARD_ATTACHMENT_LIMIT = 200;

function megabytes(bytes: number): string {
  return `${Math.round(bytes / (1024 * 1024))} MB`;
}

/** Why an attachment cannot be imported, in words a sales rep understands. */
function refusalNote(reason: DealAttachment['reason'], maxFileBytes: number): string {
  switch (reason) {
    case 'too_large':
      return `Too large to import (the limit is ${megabytes(maxFileBytes)}).`;
    case 'type_not_allowed':
      return 'Not a contract document: only PDF, DOCX, DOC, RTF and TXT files can be imported.';
    case 'sensitive_or_unavailable':
    default:
      return 'Marked sensitive in HubSpot, or no longer available, so it cannot be imported.';
  }
}

/**
 * The card's attachment list: every attachment with whether it can be imported and why
 * not; importable ones matching the portal's default filter are preselected.
 */
export function toCardAttachments(
  attachments: readonly DealAttachment[],
  filter: AttachmentFilter,
  maxFileBytes: number = DEFAULT_IMPORT_MAX_FILE_BYTES,
): CardAttachment[] {
  const matches = fileFilterMatcher(filter);
  return attachments.slice(0, CARD_ATTACHMENT_LIMIT).map((attachment) => {
    const base = {
      id: attachment.fileId,
      name: attachment.name.slice(0, 300),
      sizeBytes: attachment.size,
    };
    if (!attachment.importable) {
      return {
        ...base,
        importable: false,
        preselected: false,
        note: refusalNote(attachment.reason, maxFileBytes),
      };
    }
    if (filter.mode === 'matching' && !matches(attachment.name)) {
      return {
        ...base,
        importable: true,
        preselected: false,
        note: `Not preselected: the name does not match the default pattern “${filter.pattern}”.`,
      };
    }
    return { ...base, importable: true, preselected: true, note: null };
  });
}
