import { performance } from 'node:perf_hooks';

import {
  namePatternMatcher,
  namePatternMatchSteps,
} from '../../server/src/hubspot/legal-review/file-policy.ts';
import { median, round, type BenchRow } from '../report.ts';

export interface NamePatternOptions {
  /** Matches per timed round. */
  readonly matches: number;
  readonly rounds: number;
}

/** The pattern that froze the former regex matcher (issue 13, finding 1). */
const ADVERSARIAL_PATTERN = '*a*a*a*a*a*a*a*a*b';
const ORDINARY_PATTERN = '*.pdf';
/** 250 characters, no `b`, ending in `.pdf`: the worst case for the adversarial pattern. */
const FILE_NAME = `${'a'.repeat(246)}.pdf`;

function microsPerMatch(pattern: string, options: NamePatternOptions): number {
  const matches = namePatternMatcher(pattern);
  let sink = 0;
  const perRound: number[] = [];
  for (let round = 0; round < options.rounds; round += 1) {
    const start = performance.now();
    for (let i = 0; i < options.matches; i += 1) if (matches(FILE_NAME)) sink += 1;
    perRound.push(((performance.now() - start) * 1000) / options.matches);
  }
  if (sink < 0) throw new Error('unreachable: keeps the loop from being optimised away');
  return median(perRound);
}

/**
 * The attachment-name filter the card and the import run synchronously, with the
 * adversarial pattern beside `*.pdf` on the same 250-character name: the two figures
 * should be of the same order (the matcher is linear in pattern × name).
 */
export function benchNamePattern(
  options: NamePatternOptions,
  log: (line: string) => void,
): BenchRow[] {
  const scenario = 'Attachment name pattern (250-char name)';
  // Warm up both paths before timing either.
  microsPerMatch(ORDINARY_PATTERN, { matches: options.matches, rounds: 1 });
  microsPerMatch(ADVERSARIAL_PATTERN, { matches: options.matches, rounds: 1 });
  const ordinary = microsPerMatch(ORDINARY_PATTERN, options);
  const adversarial = microsPerMatch(ADVERSARIAL_PATTERN, options);
  const steps = {
    ordinary: namePatternMatchSteps(ORDINARY_PATTERN, FILE_NAME).steps,
    adversarial: namePatternMatchSteps(ADVERSARIAL_PATTERN, FILE_NAME).steps,
  };
  log(
    `  ${ORDINARY_PATTERN}: ${String(round(ordinary, 2))} µs/match (${String(steps.ordinary)} steps); ${ADVERSARIAL_PATTERN}: ${String(round(adversarial, 2))} µs/match (${String(steps.adversarial)} steps)`,
  );
  return [
    {
      scenario,
      metric: `${ORDINARY_PATTERN} per match`,
      value: round(ordinary, 2),
      unit: 'µs',
      baseline: `${String(steps.ordinary)} steps`,
      target: '—',
      verdict: 'info',
    },
    {
      scenario,
      metric: `${ADVERSARIAL_PATTERN} per match`,
      value: round(adversarial, 2),
      unit: 'µs',
      baseline: `${ORDINARY_PATTERN}: ${String(round(ordinary, 2))} µs, ${String(steps.adversarial)} steps`,
      target: 'same order as *.pdf',
      verdict: 'info',
      note: 'the former regex matcher took 45 s for *a*a*a*a*b on a 250-character name',
    },
  ];
}
