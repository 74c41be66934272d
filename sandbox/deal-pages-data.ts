import type { DealRecord, FileRecord, PortalRecord } from './state.ts';
import { parseAttachmentIds } from './wire.ts';

/** The files attached to a deal through its notes, as HubSpot keeps them. */
export function parseAttachmentIdsOf(portal: PortalRecord, deal: DealRecord): FileRecord[] {
  const files: FileRecord[] = [];
  for (const noteId of deal.noteIds) {
    const note = portal.notes.get(noteId);
    for (const fileId of parseAttachmentIds(note?.properties.get('hs_attachment_ids'))) {
      const file = portal.files.get(fileId);
      if (file) files.push(file);
    }
  }
  return files;
}
