import { readFile } from 'node:fs/promises';
import path from 'node:path';

import type { BenchRow, MachineInfo } from './report.ts';

/**
 * Prints bench-results/latest.json as the README's performance table (Markdown): the
 * machine line, then one row per figure. `node bench/readme-table.ts` after `npm run bench`.
 */
interface Report {
  readonly startedAt: string;
  readonly size: string;
  readonly durationSeconds: number;
  readonly machine: MachineInfo & { loadAverage1mAtEnd: number };
  readonly rows: readonly BenchRow[];
}

function figure(row: BenchRow): string {
  if (row.value === null) return 'not available';
  const v = row.value;
  const digits = Math.abs(v) >= 100 || Number.isInteger(v) ? 0 : Math.abs(v) >= 10 ? 1 : 2;
  const text = v.toLocaleString('en-US', {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
  return row.unit ? `${text} ${row.unit}` : text;
}

/** Pipes and asterisks (the glob patterns) would otherwise be read as Markdown. */
const cell = (text: string) => text.replace(/[|*]/g, (c) => `\\${c}`);

const report = JSON.parse(
  await readFile(path.resolve('bench-results', 'latest.json'), 'utf8'),
) as Report;
const m = report.machine;
const lines = [
  `Run ${report.startedAt.slice(0, 16).replace('T', ' ')} UTC, \`npm run bench\`${report.size === 'full' ? ' -- --full' : ''} (${String(Math.round(report.durationSeconds / 60))} min): ${m.cpu}, ${String(m.cores)} cores, ${String(m.memoryGiB)} GiB, Node ${m.node}, ${m.postgres ?? 'PostgreSQL'}; load average ${String(m.loadAverage1m)} at start, ${m.loadAverage1mAtEnd.toFixed(2)} at end.`,
  '',
  '| Scenario | Metric | Figure | Baseline (same run) | Target | Result |',
  '|---|---|---|---|---|---|',
  ...report.rows.map(
    (r) =>
      `| ${cell(r.scenario)} | ${cell(r.metric)} | ${cell(figure(r))} | ${cell(r.baseline)} | ${cell(r.target)} | ${r.verdict} |`,
  ),
];
process.stdout.write(`${lines.join('\n')}\n`);
