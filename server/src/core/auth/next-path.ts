/**
 * Where to go after signing in: a path on our own origin only. Refused: anything not starting
 * with one `/` (`//host` and `/\host` are other origins to a browser), characters outside a
 * plain path-and-query set, and the sign-in and API paths themselves.
 */
const SAFE_PATH = /^\/[A-Za-z0-9\-._~/?=&%]{0,300}$/;

export function safeNextPath(value: unknown): string | null {
  if (typeof value !== 'string' || !SAFE_PATH.test(value)) return null;
  if (
    value.startsWith('//') ||
    value.includes('/..') ||
    value.includes('%2f') ||
    value.includes('%2F')
  )
    return null;
  if (value.startsWith('/sign-in') || value.startsWith('/sign-out') || value.startsWith('/api'))
    return null;
  return value;
}
