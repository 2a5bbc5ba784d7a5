/** Proposer-based timestamps: the clock bounds a validator applies to a fresh proposal's time. */
import { describe, expect, it } from 'vitest';
import { isTimely, PBTS_MSG_DELAY_MS, PBTS_PRECISION_MS } from '../src/consensus.js';

describe('isTimely', () => {
  const now = 1_800_000_000_000;
  it('accepts a time within precision ahead and precision + delay behind', () => {
    expect(isTimely(BigInt(now), now, 0)).toBe(true);
    expect(isTimely(BigInt(now + PBTS_PRECISION_MS), now, 0)).toBe(true);
    expect(isTimely(BigInt(now - PBTS_PRECISION_MS - PBTS_MSG_DELAY_MS), now, 0)).toBe(true);
  });
  it('refuses a proposer clock too far ahead or a stale time', () => {
    expect(isTimely(BigInt(now + PBTS_PRECISION_MS + 1), now, 0)).toBe(false);
    expect(isTimely(BigInt(now + 5_000), now, 3)).toBe(false);
    expect(isTimely(BigInt(now - PBTS_PRECISION_MS - PBTS_MSG_DELAY_MS - 1), now, 0)).toBe(false);
  });
  it('allows more message delay in later rounds (liveness on a slow network)', () => {
    const late = BigInt(now - PBTS_PRECISION_MS - 2 * PBTS_MSG_DELAY_MS);
    expect(isTimely(late, now, 0)).toBe(false);
    expect(isTimely(late, now, 1)).toBe(true);
  });
});
