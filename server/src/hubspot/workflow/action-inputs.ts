import { namePatternProblem, type FileFilter } from '../legal-review/file-policy.ts';
import { REVIEW_PRIORITIES, type ReviewPriority } from '../legal-review/import-service.ts';
import { ACTION_INPUT_FIELDS } from './action-definition.ts';

export interface ActionInputs {
  readonly ok: true;
  readonly fileFilter: FileFilter;
  /** Undefined when left empty: the routing rules decide (their default is normal). */
  readonly priority: ReviewPriority | undefined;
  readonly note: string | null;
}

const MAX_NOTE = 5000;

function text(value: unknown): string | undefined {
  if (typeof value === 'string') return value.trim();
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}

/**
 * Reads the action's input fields as HubSpot sends them (strings; absent when left empty).
 * Empty values fall back to the defaults (all attachments, the routing rules' priority, no
 * note).
 */
export function parseActionInputs(
  fields: Record<string, unknown>,
): ActionInputs | { ok: false; problem: string } {
  const attachments = text(fields[ACTION_INPUT_FIELDS.attachments]) || 'all';
  const pattern = text(fields[ACTION_INPUT_FIELDS.namePattern]) ?? '';
  const priorityText = (text(fields[ACTION_INPUT_FIELDS.priority]) ?? '').toLowerCase();
  const note = text(fields[ACTION_INPUT_FIELDS.note]) ?? '';

  let fileFilter: FileFilter;
  if (attachments === 'all') fileFilter = { mode: 'all' };
  else if (attachments === 'matching') {
    if (pattern.length === 0) return { ok: false, problem: 'matching needs a name pattern' };
    // Bounded so that matching stays cheap (the matcher is linear in pattern × name).
    const problem = namePatternProblem(pattern);
    if (problem !== undefined) return { ok: false, problem };
    fileFilter = { mode: 'matching', pattern };
  } else return { ok: false, problem: `unknown attachments choice ${attachments.slice(0, 40)}` };

  if (priorityText !== '' && !(REVIEW_PRIORITIES as readonly string[]).includes(priorityText)) {
    return { ok: false, problem: `unknown priority ${priorityText.slice(0, 40)}` };
  }
  return {
    ok: true,
    fileFilter,
    priority: priorityText === '' ? undefined : (priorityText as ReviewPriority),
    note: note.length > 0 ? note.slice(0, MAX_NOTE) : null,
  };
}
