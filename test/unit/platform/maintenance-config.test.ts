import { describe, expect, it } from 'vitest';

import { sweepCron } from '../../../server/src/platform/config/env.ts';
import {
  isDatabaseUnavailableError,
  ThrottledReport,
} from '../../../server/src/platform/db/unavailable.ts';

describe('sweepCron', () => {
  it('maps intervals that divide a minute or an hour, and refuses the rest', () => {
    expect(sweepCron(5)).toBe('*/5 * * * * *');
    expect(sweepCron(60)).toBe('* * * * *');
    expect(sweepCron(300)).toBe('*/5 * * * *');
    expect(sweepCron(7)).toBeUndefined();
    expect(sweepCron(90)).toBeUndefined();
    expect(sweepCron(3600)).toBeUndefined();
  });
});

describe('isDatabaseUnavailableError', () => {
  it('recognises connection failures, and only those', () => {
    expect(
      isDatabaseUnavailableError(Object.assign(new Error('x'), { code: 'ECONNREFUSED' })),
    ).toBe(true);
    expect(isDatabaseUnavailableError(Object.assign(new Error('x'), { code: '57P01' }))).toBe(true);
    expect(isDatabaseUnavailableError(Object.assign(new Error('x'), { code: '08006' }))).toBe(true);
    expect(isDatabaseUnavailableError(new Error('Connection terminated unexpectedly'))).toBe(true);
    const refused = Object.assign(new Error('connect'), { code: 'ECONNREFUSED' });
    expect(isDatabaseUnavailableError(new AggregateError([refused, refused]))).toBe(true);
    expect(isDatabaseUnavailableError(new Error('wrapped', { cause: refused }))).toBe(true);
    expect(isDatabaseUnavailableError(Object.assign(new Error('x'), { code: '23505' }))).toBe(
      false,
    );
    expect(isDatabaseUnavailableError(new Error('boom'))).toBe(false);
    expect(isDatabaseUnavailableError('ECONNREFUSED')).toBe(false);
  });
});

describe('ThrottledReport', () => {
  it('reports the first occurrence, then one per interval with the count since', () => {
    let now = 0;
    const report = new ThrottledReport(10_000, () => now);
    expect(report.take()).toEqual({ occurrences: 1 });
    for (let i = 0; i < 34; i += 1) {
      now += 100;
      expect(report.take()).toBeUndefined();
    }
    now = 10_000;
    expect(report.take()).toEqual({ occurrences: 35 });
  });
});
