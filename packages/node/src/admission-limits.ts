/**
 * Per-account bounds of admission (the node's own clients, `origin: 'local'`), so that one account
 * flooding the node cannot take the main thread and the verifier pool from everyone else:
 * - in flight: at most `maxInFlightPerAccount` transactions of one account between decode and the
 *   mempool (signatures queued or being verified); the excess is refused before anything is queued;
 * - rate: a token bucket per account, `accountRate` transactions per second sustained and
 *   `accountBurst` at once; while the node is busy, an account that had more than `busyShare` of
 *   the admissions of the last one to two seconds (while others had some too) gets
 *   `busyAccountRate`. Busy: the main thread's event loop was busy at least `busyUtilization` of
 *   the last second, and it stays so for `busyHoldMs` after the last busy second or the last
 *   refusal for rate (so that a flooder held back does not get its full rate back the moment the
 *   node breathes, and flood again). Accounts below `busyAccountRate` or `busyShare` — the many
 *   accounts of a busy node under honest load, a lone bulk sender — never notice. A token is taken when the transaction
 *   is checked and given back when its signatures do not verify, so transactions forged in another
 *   account's name do not spend its budget (they hold a slot only while they are verified).
 * Both refusals are `ACCOUNT_BUSY` (HTTP 429 with `Retry-After`) and change nothing. An account is
 * the mempool's (`Mempool.accountOf`: the first operation's first signer). Everything is bounded:
 * in-flight counts exist only while a transaction is in admission, buckets are an LRU of
 * `trackedAccounts` (an evicted account starts again with a full bucket, as a new one does).
 * Admission is not part of the state transition: the clock here decides nothing on chain.
 */
import { performance } from 'node:perf_hooks';
import { RoamError } from '@roamchain/protocol';

export interface AdmissionLimits {
  /** Transactions of one account in admission at once (decoded, signatures queued or being verified). */
  maxInFlightPerAccount: number;
  /** Transactions per second one account may have admitted through this node's API, sustained. */
  accountRate: number;
  /** Transactions one account may have admitted at once after a pause (the bucket's size). */
  accountBurst: number;
  /** Transactions per second one account may have admitted while the node is busy. */
  busyAccountRate: number;
  /** Share of the last second the main thread's event loop was busy from which the node is busy (0..1). */
  busyUtilization: number;
  /** Milliseconds the node stays busy after the last busy second or the last refusal for rate. */
  busyHoldMs: number;
  /** Share of the recent admissions (0..1) above which an account is held to `busyAccountRate` while busy. */
  busyShare: number;
  /** Accounts whose buckets are remembered (least recently used first out). */
  trackedAccounts: number;
}

export const DEFAULT_ADMISSION_LIMITS: AdmissionLimits = {
  maxInFlightPerAccount: 1024,
  accountRate: 1000,
  accountBurst: 500,
  busyAccountRate: 200,
  busyUtilization: 0.6,
  busyHoldMs: 5000,
  busyShare: 0.25,
  trackedAccounts: 100_000,
};

/** Seconds an account refused with ACCOUNT_BUSY should wait (the `Retry-After` header). */
export const ACCOUNT_RETRY_AFTER_S = 1;
/** The longest `Retry-After` an ACCOUNT_BUSY answer gives (a very low configured rate). */
const MAX_RETRY_AFTER_S = 60;

const check = (v: number, what: string, min: number): number => {
  if (!Number.isFinite(v) || v < min) throw new RangeError(`admission limit ${what} must be at least ${min}`);
  return v;
};

export function resolveAdmissionLimits(input: Partial<AdmissionLimits> = {}): AdmissionLimits {
  const l = { ...DEFAULT_ADMISSION_LIMITS, ...input };
  return {
    maxInFlightPerAccount: check(l.maxInFlightPerAccount, 'maxInFlightPerAccount', 1),
    accountRate: check(l.accountRate, 'accountRate', 0.001),
    accountBurst: check(l.accountBurst, 'accountBurst', 1),
    busyAccountRate: check(l.busyAccountRate, 'busyAccountRate', 0.001),
    busyUtilization: check(l.busyUtilization, 'busyUtilization', 0),
    busyHoldMs: check(l.busyHoldMs, 'busyHoldMs', 0),
    busyShare: check(l.busyShare, 'busyShare', 0),
    trackedAccounts: check(l.trackedAccounts, 'trackedAccounts', 1),
  };
}

/**
 * `ROAMCHAIN_ADMISSION_LIMITS` (JSON, keys of `AdmissionLimits`) from the environment, if set: the
 * node merges `NodeConfig.admission` over it, and it over the defaults.
 */
export function admissionLimitsFromEnv(env: NodeJS.ProcessEnv = process.env): Partial<AdmissionLimits> {
  const raw = env.ROAMCHAIN_ADMISSION_LIMITS;
  if (!raw) return {};
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch (e) {
    throw new RoamError('BAD_REQUEST', `ROAMCHAIN_ADMISSION_LIMITS is not JSON: ${(e as Error).message}`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw new RoamError('BAD_REQUEST', 'ROAMCHAIN_ADMISSION_LIMITS must be a JSON object');
  const out: Partial<Record<keyof AdmissionLimits, number>> = {};
  for (const [k, x] of Object.entries(v)) {
    if (!(k in DEFAULT_ADMISSION_LIMITS) || typeof x !== 'number')
      throw new RoamError('BAD_REQUEST', `ROAMCHAIN_ADMISSION_LIMITS: ${k} is not a numeric admission limit`);
    out[k as keyof AdmissionLimits] = x;
  }
  return out;
}

/** Admissions counted in whole-second windows: the current one and the one before. */
interface Counts {
  window: number;
  cur: number;
  prev: number;
}

interface Bucket extends Counts {
  tokens: number;
  at: number;
}

/** Brings `c` to window `w`; returns the admissions of the current and the previous window. */
function roll(c: Counts, w: number): number {
  if (w !== c.window) {
    c.prev = w === c.window + 1 ? c.cur : 0;
    c.cur = 0;
    c.window = w;
  }
  return c.cur + c.prev;
}

export class AccountGovernor {
  readonly limits: AdmissionLimits;
  private readonly inFlight = new Map<string, number>();
  private readonly buckets = new Map<string, Bucket>();
  /** Refusals so far, by reason (metrics and tests). */
  readonly refused = { inFlight: 0, rate: 0 };

  private busyUntil = Number.NEGATIVE_INFINITY;
  /** Admissions of all accounts (for the shares). */
  private readonly total: Counts = { window: 0, cur: 0, prev: 0 };
  private readonly load: () => number;

  constructor(
    limits: Partial<AdmissionLimits> = {},
    /** Milliseconds, monotonic (tests pass their own). */
    private readonly clock: () => number = () => performance.now(),
    /** The main thread's recent utilization, 0..1 (default: its event loop over about the last second). */
    load?: () => number,
  ) {
    this.limits = resolveAdmissionLimits(limits);
    this.load = load ?? eventLoopLoad();
  }

  /** Whether the node is busy now (a heavy account's rate is `busyAccountRate`). */
  get busy(): boolean {
    const now = this.clock();
    if (this.load() >= this.limits.busyUtilization) this.busyUntil = now + this.limits.busyHoldMs;
    return now < this.busyUntil;
  }

  /** Transactions of `account` in admission now. */
  inFlightOf(account: string): number {
    return this.inFlight.get(account) ?? 0;
  }

  /** Tokens left in the account's bucket now (a full bucket for an account not seen yet). */
  tokensOf(account: string): number {
    return this.refill(account, false)?.tokens ?? this.limits.accountBurst;
  }

  /**
   * Takes one in-flight slot and one token for a transaction of `account`, or throws ACCOUNT_BUSY
   * (taking nothing). Every successful call must be followed by one `release`.
   */
  acquire(account: string): void {
    const l = this.limits;
    const n = this.inFlight.get(account) ?? 0;
    if (n >= l.maxInFlightPerAccount) {
      this.refused.inFlight++;
      throw new RoamError('ACCOUNT_BUSY', `${account} has ${n} transactions in admission`, {
        account,
        inFlight: n,
        retryAfterSeconds: ACCOUNT_RETRY_AFTER_S,
      });
    }
    const w = Math.floor(this.clock() / 1000);
    const known = this.buckets.get(account);
    const mine = known ? roll(known, w) : 0;
    const all = roll(this.total, w);
    // Held to the busy rate: a heavy account (more than its share while others send too), busy node.
    const heavy = mine > l.busyShare * all && mine < all;
    const rate = heavy && this.busy ? Math.min(l.busyAccountRate, l.accountRate) : l.accountRate;
    const b = this.refill(account, true, rate)!;
    // Held back, it does not spend a burst saved up before either: at most a second of its rate.
    if (rate < l.accountRate) b.tokens = Math.min(b.tokens, Math.max(1, rate));
    if (b.tokens < 1) {
      this.refused.rate++;
      // Held back: the node stays in its busy mode while someone is.
      if (rate < l.accountRate) this.busyUntil = this.clock() + l.busyHoldMs;
      throw new RoamError('ACCOUNT_BUSY', `${account} exceeds ${rate} transactions per second`, {
        account,
        rate,
        retryAfterSeconds: Math.min(
          MAX_RETRY_AFTER_S,
          Math.max(ACCOUNT_RETRY_AFTER_S, Math.ceil((1 - b.tokens) / rate)),
        ),
      });
    }
    b.tokens -= 1;
    roll(b, w);
    b.cur++;
    this.total.cur++;
    this.inFlight.set(account, n + 1);
  }

  /** Ends a transaction's admission; `refund` gives its token back (its signatures did not verify). */
  release(account: string, refund = false): void {
    const n = (this.inFlight.get(account) ?? 1) - 1;
    if (n <= 0) this.inFlight.delete(account);
    else this.inFlight.set(account, n);
    if (refund) {
      const b = this.buckets.get(account);
      if (b) b.tokens = Math.min(this.limits.accountBurst, b.tokens + 1);
    }
  }

  /** The account's bucket brought up to now (created full when `create`), most recently used last. */
  private refill(account: string, create: boolean, rate = this.limits.accountRate): Bucket | undefined {
    const l = this.limits;
    const now = this.clock();
    let b = this.buckets.get(account);
    if (b) {
      this.buckets.delete(account);
      b.tokens = Math.min(l.accountBurst, b.tokens + ((now - b.at) * rate) / 1000);
      b.at = now;
    } else if (create) {
      b = { tokens: l.accountBurst, at: now, window: Math.floor(now / 1000), cur: 0, prev: 0 };
    } else return undefined;
    this.buckets.set(account, b);
    if (this.buckets.size > l.trackedAccounts) {
      const oldest = this.buckets.keys().next();
      if (!oldest.done) this.buckets.delete(oldest.value);
    }
    return b;
  }
}

/**
 * The event loop's utilization over about the last second: snapshots every 250 ms (taken when
 * asked, no timer), the utilization since the oldest of the last four.
 */
export function eventLoopLoad(): () => number {
  type Elu = ReturnType<typeof performance.eventLoopUtilization>;
  const snaps: { at: number; elu: Elu }[] = [
    { at: performance.now(), elu: performance.eventLoopUtilization() },
  ];
  let last = 0;
  return () => {
    const now = performance.now();
    const newest = snaps[snaps.length - 1]!;
    if (now - newest.at >= 250) {
      snaps.push({ at: now, elu: performance.eventLoopUtilization() });
      if (snaps.length > 5) snaps.shift();
      last = performance.eventLoopUtilization(snaps[0]!.elu).utilization;
    }
    return last;
  };
}
