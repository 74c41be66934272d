import type { SandboxRuntime } from './runtime.ts';
import type { DealChange, DealRecord, FileRecord, PortalRecord } from './state.ts';
import type { CallbackCompletionRecord, WorkflowActionResult } from './types.ts';
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

/** An amount with its currency, as HubSpot shows it (`$185,000.00`); the raw value if odd. */
export function formatAmount(amount: string | undefined, currency: string | undefined): string {
  if (amount === undefined || amount === '') return '—';
  const value = Number(amount);
  if (!Number.isFinite(value)) return amount;
  try {
    return new Intl.NumberFormat('en-US', {
      style: 'currency',
      currency: currency && currency !== '' ? currency : 'USD',
    }).format(value);
  } catch {
    return `${amount} ${currency ?? ''}`.trim();
  }
}

/** A date or datetime property as a UTC day (`31 Mar 2027`). */
export function formatDay(value: string | undefined): string {
  if (value === undefined || value === '') return '—';
  const date = new Date(/^\d+$/.test(value) ? Number(value) : value);
  if (Number.isNaN(date.getTime())) return value;
  return date.toLocaleDateString('en-GB', {
    day: 'numeric',
    month: 'short',
    year: 'numeric',
    timeZone: 'UTC',
  });
}

export function formatTime(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

/** An enumeration value by its option's label (`in_review` → `In review`). */
export function optionLabel(
  portal: PortalRecord,
  property: string,
  value: string | undefined,
): string {
  if (value === undefined || value === '') return '—';
  return portal.properties.get(property)?.options.find((o) => o.value === value)?.label ?? value;
}

export const STATUS_PROPERTY = 'lexicontract_status';

/** A user's edit of `lexicontract_status` that the app then wrote over. */
export interface StatusRevert {
  readonly userValue: string;
  readonly userAt: number;
  readonly restoredValue: string;
  readonly restoredAt: number;
}

/**
 * Watches `lexicontract_status` changes: a user edit (`CRM_UI`) followed by the app's write
 * (`INTEGRATION`) of another value is the app putting the true status back.
 */
export class StatusEditWatch {
  private readonly edits = new Map<string, { value: string; at: number; revert?: StatusRevert }>();

  record(changes: readonly DealChange[]): void {
    for (const change of changes) {
      if (change.propertyName !== STATUS_PROPERTY) continue;
      const key = `${change.portalId}:${change.objectId}`;
      const value = change.propertyValue ?? '';
      if (change.changeSource === 'CRM_UI') {
        this.edits.set(key, { value, at: change.occurredAt });
        continue;
      }
      const edit = this.edits.get(key);
      if (change.changeSource === 'INTEGRATION' && edit && value !== edit.value) {
        edit.revert = {
          userValue: edit.value,
          userAt: edit.at,
          restoredValue: value,
          restoredAt: change.occurredAt,
        };
      }
    }
  }

  revertOf(portalId: number, dealId: string): StatusRevert | undefined {
    return this.edits.get(`${portalId}:${dealId}`)?.revert;
  }
}

/** One workflow action run on a deal, with what the app answered and its callback outputs. */
export interface ActionRun {
  readonly execution: WorkflowActionResult;
  readonly outputFields: Record<string, unknown>;
  readonly completions: readonly CallbackCompletionRecord[];
}

export function actionRunsOf(
  runtime: SandboxRuntime,
  portalId: number,
  dealId: string,
): ActionRun[] {
  return runtime.workflowExecutions
    .filter((e) => e.portalId === portalId && e.dealId === dealId)
    .map((execution) => {
      const body = execution.body;
      const outputs =
        typeof body === 'object' && body !== null && 'outputFields' in body
          ? body.outputFields
          : undefined;
      return {
        execution,
        outputFields:
          typeof outputs === 'object' && outputs !== null
            ? (outputs as Record<string, unknown>)
            : {},
        completions: runtime.completions.filter((c) => c.callbackId === execution.callbackId),
      };
    })
    .reverse();
}
