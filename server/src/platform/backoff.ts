/**
 * The one retry delay: exponential from `baseMs`, capped at `maxMs`, with "equal jitter"
 * (half fixed, half random) so many workers retrying the same outage do not retry in
 * lockstep. A server's own `Retry-After` wins, capped the same way.
 */
export function backoffDelayMs(
  attempt: number,
  options: { baseMs: number; maxMs: number; retryAfterMs?: number | undefined },
  random: () => number = Math.random,
): number {
  if (options.retryAfterMs !== undefined) return Math.min(options.retryAfterMs, options.maxMs);
  const ceiling = Math.min(options.maxMs, options.baseMs * 2 ** (Math.max(1, attempt) - 1));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}
