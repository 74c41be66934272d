/**
 * A line diff summary for `npm run db:types:check`: which lines of the committed file differ
 * from the generated one, as `-`/`+` lines with their line numbers. A plain longest common
 * subsequence over lines: the schema file is a few hundred lines, so the table stays small.
 */

export interface LineDiffSummary {
  readonly removed: number;
  readonly added: number;
  /** At most `maxLines` lines, `-12  old text` / `+12  new text`. */
  readonly lines: readonly string[];
  readonly truncated: boolean;
}

export function summarizeLineDiff(
  committed: string,
  generated: string,
  maxLines = 60,
): LineDiffSummary {
  const a = committed.split('\n');
  const b = generated.split('\n');
  const width = b.length + 1;
  // lcs[i * width + j]: length of the longest common subsequence of a[i..] and b[j..].
  const lcs = new Uint32Array((a.length + 1) * width);
  const at = (i: number, j: number): number => lcs[i * width + j] ?? 0;
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) {
      lcs[i * width + j] =
        a[i] === b[j] ? at(i + 1, j + 1) + 1 : Math.max(at(i + 1, j), at(i, j + 1));
    }
  }
  const lines: string[] = [];
  let removed = 0;
  let added = 0;
  const push = (sign: '-' | '+', lineNumber: number, text: string | undefined): void => {
    if (lines.length < maxLines) lines.push(`${sign}${String(lineNumber).padEnd(5)}${text ?? ''}`);
  };
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) {
      i++;
      j++;
    } else if (i < a.length && (j === b.length || at(i + 1, j) >= at(i, j + 1))) {
      removed++;
      push('-', i + 1, a[i]);
      i++;
    } else {
      added++;
      push('+', j + 1, b[j]);
      j++;
    }
  }
  return { removed, added, lines, truncated: removed + added > lines.length };
}
