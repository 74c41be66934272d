import { createHash, timingSafeEqual } from 'node:crypto';

/** Constant-time comparison of a presented token with the expected one. */
export function sameToken(presented: string | undefined, expected: string): boolean {
  if (presented === undefined) return false;
  const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();
  return timingSafeEqual(digest(presented), digest(expected));
}
