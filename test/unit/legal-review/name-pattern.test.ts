import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import {
  foldCodePoint,
  MAX_MATCHED_NAME_LENGTH,
  MAX_NAME_PATTERN_LENGTH,
  namePatternMatcher,
  namePatternMatchSteps,
  namePatternProblem,
} from '../../../server/src/hubspot/legal-review/file-policy.ts';
import { parseActionInputs } from '../../../server/src/hubspot/workflow/action-inputs.ts';
import { ACTION_INPUT_FIELDS } from '../../../server/src/hubspot/workflow/action-definition.ts';

/**
 * The obvious definition, memoised on (pattern position, name position): what the fast
 * matcher must agree with. Exponential without the memo, so only for small inputs.
 */
function referenceMatch(pattern: string, fileName: string): boolean {
  const trimmed = pattern.trim();
  const n = Array.from(fileName);
  // Without wildcards: contained anywhere (line breaks included), like a plain search.
  if (!/[*?]/.test(trimmed)) {
    const folded = (s: string) => Array.from(s).map(foldCodePoint).join('');
    return folded(fileName).includes(folded(trimmed));
  }
  const p = Array.from(trimmed);
  const memo = new Map<string, boolean>();
  const wildcardMay = (c: string) => !['\n', '\r', '\u2028', '\u2029'].includes(c);
  const at = (i: number, j: number): boolean => {
    const key = `${String(i)},${String(j)}`;
    const known = memo.get(key);
    if (known !== undefined) return known;
    let result: boolean;
    const pc = p[i];
    const nc = n[j];
    if (pc === undefined) result = nc === undefined;
    else if (pc === '*')
      result = at(i + 1, j) || (nc !== undefined && wildcardMay(nc) && at(i, j + 1));
    else if (nc === undefined) result = false;
    else if (pc === '?') result = wildcardMay(nc) && at(i + 1, j + 1);
    else result = foldCodePoint(pc) === foldCodePoint(nc) && at(i + 1, j + 1);
    memo.set(key, result);
    return result;
  };
  return at(0, 0);
}

const alphabet = ['a', 'A', 'b', '.', 'é', 'É', '\n', '😀', ' '];
const patternChars = fc.constantFrom(...alphabet, '*', '?');
const nameChars = fc.constantFrom(...alphabet);

describe('attachment name pattern', () => {
  it('agrees with the reference matcher on small inputs', () => {
    fc.assert(
      fc.property(
        fc.array(patternChars, { maxLength: 8 }).map((a) => a.join('')),
        fc.array(nameChars, { maxLength: 12 }).map((a) => a.join('')),
        (pattern, fileName) => {
          expect(namePatternMatcher(pattern)(fileName)).toBe(referenceMatch(pattern, fileName));
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('keeps the filter semantics: anchored globs, substring without wildcards, any case', () => {
    const pdf = namePatternMatcher('*.pdf');
    expect(pdf('Contract.PDF')).toBe(true);
    expect(pdf('contract.pdf.exe')).toBe(false);
    expect(namePatternMatcher('msa')('Acme MSA v2.docx')).toBe(true);
    expect(namePatternMatcher('msa')('Acme NDA.docx')).toBe(false);
    expect(namePatternMatcher('v?.docx')('v2.docx')).toBe(true);
    expect(namePatternMatcher('v?.docx')('Acme v2.docx')).toBe(false);
    expect(namePatternMatcher('?.txt')('😀.txt')).toBe(true);
    expect(namePatternMatcher('  *.pdf  ')('a.pdf')).toBe(true);
    // `.` and other regex syntax are literal characters.
    expect(namePatternMatcher('a.b')('axb')).toBe(false);
    expect(namePatternMatcher('(x)|[y]+')('file (x)|[y]+.pdf')).toBe(true);
  });

  it('costs at most pattern × name steps on the pattern that froze the regex', () => {
    const pattern = '*a*a*a*a*a*a*a*a*b';
    const fileName = 'a'.repeat(250);
    const { matched, steps } = namePatternMatchSteps(pattern, fileName);
    expect(matched).toBe(false);
    expect(steps).toBeLessThanOrEqual((pattern.length + 1) * fileName.length);
    // The same name against an ordinary pattern costs the same order of steps.
    const ordinary = namePatternMatchSteps('*.pdf', `${'a'.repeat(246)}.pdf`);
    expect(ordinary.matched).toBe(true);
    expect(ordinary.steps).toBeLessThanOrEqual(6 * 250);
  });

  it('bounds the pattern at input time and the name at match time', () => {
    expect(namePatternProblem('*'.repeat(MAX_NAME_PATTERN_LENGTH))).toBeUndefined();
    expect(namePatternProblem('a'.repeat(MAX_NAME_PATTERN_LENGTH + 1))).toMatch(/longer than 200/);
    expect(namePatternProblem('   ')).toMatch(/empty/);
    expect(() => namePatternMatcher('a'.repeat(MAX_NAME_PATTERN_LENGTH + 1))).toThrow(RangeError);
    const parsed = parseActionInputs({
      [ACTION_INPUT_FIELDS.attachments]: 'matching',
      [ACTION_INPUT_FIELDS.namePattern]: `*${'a*'.repeat(150)}b`,
    });
    expect(parsed).toEqual({
      ok: false,
      problem: 'the name pattern is longer than 200 characters',
    });

    const longest = `${'a'.repeat(MAX_MATCHED_NAME_LENGTH - 4)}.pdf`;
    expect(namePatternMatcher('*.pdf')(longest)).toBe(true);
    const tooLong = `a${longest}`;
    expect(namePatternMatchSteps('*.pdf', tooLong)).toEqual({ matched: false, steps: 0 });
  });
});
