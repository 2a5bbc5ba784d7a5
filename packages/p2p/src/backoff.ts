export interface BackoffOptions {
  /** First delay, ms. Default 250. */
  initialMs: number;
  /** Hard cap, ms: no delay is ever longer. Default 10_000. */
  maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 250, maxMs: 10_000 };

/**
 * Delay before retry number `attempt` (0-based): initialMs doubling per attempt, capped at maxMs, then
 * "equal jitter" — uniformly in [d/2, d] — so peers that lost the same node do not redial in lockstep.
 * `rand` is injectable for tests. The result is always within [initialMs/2, maxMs].
 */
export function backoffDelay(
  attempt: number,
  opts: BackoffOptions = DEFAULT_BACKOFF,
  rand = Math.random,
): number {
  const exp = Math.min(Math.max(attempt, 0), 30); // 2^30 * anything > any sane cap; avoids Infinity
  const d = Math.min(opts.maxMs, opts.initialMs * 2 ** exp);
  return Math.round(d / 2 + (d / 2) * rand());
}
