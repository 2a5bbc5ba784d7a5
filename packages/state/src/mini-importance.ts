/**
 * Proof of Importance of Mini Nodes and their share of the fees (docs/GOVERNANCE.md §8).
 *
 * Activity index `mini/a/<owner>` (kept for Mini Node owners only, updated as it happens, never a
 * scan): per UTC day, newest first, the SDR the owner paid under settled contracts and the
 * transactions it signed, for the last 30 days; a day counts at most 10 transactions and 100 SDR.
 *
 * Importance (integer points), computed for the Mini Nodes of the next epoch's Super Nodes by the
 * last block of each epoch (a new Mini Node starts with its bond points):
 *
 *   W[0] = 10,000; W[i] = ⌊W[i−1] × 9 / 10⌋            (per-day decay 0.9, NEM-like; i = age in days)
 *   S = ⌊Σ sdr[i] × W[i] / 10,000⌋                     (decayed SDR paid, base units)
 *   T = Σ txs[i] × W[i]                                 (decayed transactions × 10,000)
 *   importance = ⌊bond / 10^6⌋ + ⌊10 × S / 10^6⌋ + ⌊T / 1,000⌋
 *
 * i.e. 1 point per whole UMT bonded, 10 per SDR paid, 10 per transaction, decayed by age.
 */
import type { ApplyCtx } from './context.js';
import { DAY_MS } from './gov-objects.js';
import { ACTIVITY_DAYS, type MiniActivity, type MiniNode, MK } from './mini-objects.js';
import { byName, storedSetAt } from './validators.js';

/** Decay weights by age in days (× 10,000). */
export const DECAY_WEIGHTS: readonly bigint[] = (() => {
  const w = [10_000n];
  for (let i = 1; i < ACTIVITY_DAYS; i++) w.push((w[i - 1]! * 9n) / 10n);
  return w;
})();

/** The activity record moved to `day` (older days shifted, beyond 30 days dropped). */
export function activityAt(rec: MiniActivity | undefined, day: bigint): MiniActivity {
  const zero = { day, sdr: Array<bigint>(ACTIVITY_DAYS).fill(0n), txs: Array<number>(ACTIVITY_DAYS).fill(0) };
  if (!rec) return zero;
  if (rec.day >= day) return rec;
  const shift = day - rec.day;
  if (shift >= BigInt(ACTIVITY_DAYS)) return zero;
  const s = Number(shift);
  return {
    day,
    sdr: [...zero.sdr.slice(0, s), ...rec.sdr.slice(0, ACTIVITY_DAYS - s)],
    txs: [...zero.txs.slice(0, s), ...rec.txs.slice(0, ACTIVITY_DAYS - s)],
  };
}

/**
 * What one day may add (anti-gaming: activity an owner can buy with its own fees is worth at most
 * about the points of the minimum bond, see docs/GOVERNANCE.md §8): 10 transactions and 100 SDR.
 */
export const MAX_DAILY_TXS = 10;
export const MAX_DAILY_SDR = 100_000_000n;

/** Count SDR paid and transactions signed for `account` today (capped per day), if it owns an active Mini Node. */
export function noteMiniActivity(ctx: ApplyCtx, account: string, sdr: bigint, txs: number): void {
  if (ctx.o.get<MiniNode>(MK.node(account))?.status !== 'active') return;
  const key = MK.activity(account);
  const cur = activityAt(ctx.o.get<MiniActivity>(key), ctx.time / DAY_MS);
  const next: MiniActivity = {
    day: cur.day,
    sdr: [min(cur.sdr[0]! + sdr, MAX_DAILY_SDR), ...cur.sdr.slice(1)],
    txs: [Math.min(cur.txs[0]! + txs, MAX_DAILY_TXS), ...cur.txs.slice(1)],
  };
  ctx.o.put(key, next);
}

const min = (a: bigint, b: bigint) => (a < b ? a : b);

/** The importance formula (see the module comment). */
export function importanceOf(bond: bigint, act: MiniActivity | undefined, day: bigint): bigint {
  const a = activityAt(act, day);
  let s = 0n;
  let t = 0n;
  for (let i = 0; i < ACTIVITY_DAYS; i++) {
    s += a.sdr[i]! * DECAY_WEIGHTS[i]!;
    t += BigInt(a.txs[i]!) * DECAY_WEIGHTS[i]!;
  }
  s /= 10_000n;
  return bond / 1_000_000n + (10n * s) / 1_000_000n + t / 1_000n;
}

/** Last block of an epoch (after the election): importance of the next set's Mini Nodes. */
export function miniImportanceEnd(ctx: ApplyCtx): void {
  const h = ctx.height;
  if (h % BigInt(ctx.params.epochLength) !== 0n) return;
  const day = ctx.time / DAY_MS;
  for (const sn of storedSetAt(ctx.o, ctx.params, h + 1n)) {
    for (const owner of ctx.o.get<string[]>(MK.ofSuper(sn.account)) ?? []) {
      const m = ctx.o.get<MiniNode>(MK.node(owner));
      if (!m || m.status !== 'active') continue;
      const importance = importanceOf(m.bond, ctx.o.get<MiniActivity>(MK.activity(owner)), day);
      ctx.o.put(MK.node(owner), { ...m, importance, importanceAt: ctx.time } satisfies MiniNode);
    }
  }
}

/** Whether a Mini Node earns at block `height`: active and attested within the last K windows. */
export function isAttesting(m: MiniNode, height: bigint, interval: number, maxMissed: number): boolean {
  return (
    m.status === 'active' &&
    m.lastAttested > 0n &&
    height - m.lastAttested <= BigInt(interval) * BigInt(maxMissed)
  );
}

/**
 * The Mini Node share of a block's fees among the producer's attesting Mini Nodes, in proportion
 * to importance: share_i = ⌊amount × I_i / ΣI⌋, the remainder to the most important (ties: first
 * owner name). Empty when none attests (or ΣI = 0): the caller pays the producer.
 */
export function miniShares(ctx: ApplyCtx, producer: string, amount: bigint): [string, bigint, bigint][] {
  if (amount === 0n) return [];
  const p = ctx.params;
  const earners: [string, bigint][] = [];
  for (const owner of ctx.o.get<string[]>(MK.ofSuper(producer)) ?? []) {
    const m = ctx.o.get<MiniNode>(MK.node(owner));
    if (m && m.importance > 0n && isAttesting(m, ctx.height, p.miniAttestInterval, p.miniMaxMissedWindows))
      earners.push([owner, m.importance]);
  }
  const total = earners.reduce((t, [, i]) => t + i, 0n);
  if (total === 0n) return [];
  const shares = earners.map(([o, i]): [string, bigint, bigint] => [o, (amount * i) / total, i]);
  let top = 0;
  earners.forEach(([o, i], k) => {
    const [to, ti] = earners[top]!;
    if (i > ti || (i === ti && byName(o, to) < 0)) top = k;
  });
  shares[top]![1] += amount - shares.reduce((t, [, x]) => t + x, 0n);
  return shares;
}
