import os from 'node:os';

/** One line of the bench table: a figure, its same-run baseline, the SPEC §9 target. */
export type Verdict = 'PASS' | 'FAIL' | 'not available' | 'info';

export interface BenchRow {
  readonly scenario: string;
  readonly metric: string;
  /** null when the scenario could not run. */
  readonly value: number | null;
  readonly unit: string;
  readonly baseline: string;
  readonly target: string;
  readonly verdict: Verdict;
  readonly note?: string;
}

export interface MachineInfo {
  readonly cpu: string;
  readonly cores: number;
  readonly memoryGiB: number;
  readonly node: string;
  readonly platform: string;
  readonly postgres?: string;
  /** 1-minute load average when the run started (other work on the box distorts figures). */
  readonly loadAverage1m: number;
}

export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    cores: os.availableParallelism(),
    memoryGiB: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
    node: process.version,
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
    loadAverage1m: round(os.loadavg()[0] ?? 0, 2),
  };
}

export function verdict(ok: boolean): Verdict {
  return ok ? 'PASS' : 'FAIL';
}

export function notAvailable(
  scenario: string,
  metric: string,
  target: string,
  why: string,
): BenchRow {
  return {
    scenario,
    metric,
    value: null,
    unit: '',
    baseline: '—',
    target,
    verdict: 'not available',
    note: why,
  };
}

function formatValue(row: BenchRow): string {
  if (row.value === null) return 'not available';
  const v = row.value;
  const digits = Math.abs(v) >= 100 || Number.isInteger(v) ? 0 : Math.abs(v) >= 10 ? 1 : 2;
  const text = v.toLocaleString('en-US', {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
  return row.unit ? `${text} ${row.unit}` : text;
}

export function formatTable(rows: readonly BenchRow[]): string {
  const header = [
    'Scenario',
    'Metric',
    'Figure',
    'Baseline (same run)',
    'SPEC §9 target',
    'Result',
  ];
  const body = rows.map((r) => [
    r.scenario,
    r.metric,
    formatValue(r),
    r.baseline,
    r.target,
    r.verdict,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => (b[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  const sep = `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`;
  const notes = rows
    .filter((r) => r.note)
    .map((r) => `- ${r.scenario} / ${r.metric}: ${r.note ?? ''}`);
  return [
    line(header),
    sep,
    ...body.map(line),
    ...(notes.length ? ['', 'Notes:', ...notes] : []),
  ].join('\n');
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] ?? Number.NaN)
    : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

export function round(value: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
