/**
 * Price feeds and the SDR fixing (SPEC §5, docs/GOVERNANCE.md). A Super Node of the current set
 * publishes rates; at the end of a block that carried a feed the chain takes, per currency, the
 * median of the fresh feeds of the current set (at least `feedMinCount`, none older than
 * `feedMaxAgeMs`) and values the SDR the IMF way (`valueSdr`). The fixing is kept as `sdr/now`
 * and as the day's entry of a 366-slot history ring.
 */
import {
  type ChainParams,
  FEED_CURRENCIES,
  type FeedRates,
  medianOf,
  type OpOf,
  RoamError,
  valueSdr,
} from '@roamchain/protocol';
import type { ApplyCtx } from './context.js';
import { DAY_MS, GK, type PriceFeed, SDR_HISTORY_DAYS, type SdrFixing } from './gov-objects.js';
import type { StateReader } from './ledger.js';
import { storedSetAt } from './validators.js';

export function evalPriceFeed(op: OpOf<'price_feed'>, { ctx }: { ctx: ApplyCtx }): void {
  const set = storedSetAt(ctx.o, ctx.params, ctx.height);
  if (!set.some((m) => m.account === op.validator)) {
    throw new RoamError(
      'FEED_NOT_VALIDATOR',
      `${op.validator} is not in the active set of height ${ctx.height}`,
    );
  }
  const feed: PriceFeed = { validator: op.validator, time: ctx.time, height: ctx.height, rates: op.rates };
  ctx.o.put(GK.feed(op.validator), feed);
  ctx.emit({ type: 'price_feed', validator: op.validator, rates: op.rates });
}

/** The fresh feeds of the set of `height` at time `now`. */
export function freshFeeds(s: StateReader, params: ChainParams, height: bigint, now: bigint): PriceFeed[] {
  const out: PriceFeed[] = [];
  for (const m of storedSetAt(s, params, height)) {
    const f = s.get<PriceFeed>(GK.feed(m.account));
    if (f && f.time <= now && now - f.time <= params.feedMaxAgeMs) out.push(f);
  }
  return out;
}

/** The fixing the feeds give at (height, now), or undefined when fewer than `feedMinCount` are fresh. */
export function fixingOf(
  feeds: readonly PriceFeed[],
  params: ChainParams,
  height: bigint,
  now: bigint,
): SdrFixing | undefined {
  if (feeds.length === 0 || feeds.length < params.feedMinCount) return undefined;
  const rates = {} as FeedRates;
  for (const c of FEED_CURRENCIES) rates[c] = medianOf(feeds.map((f) => f.rates[c]));
  const v = valueSdr(rates);
  return {
    day: now / DAY_MS,
    height,
    time: now,
    feeders: feeds.map((f) => f.validator),
    rates,
    sdrPerUsd: v.sdrPerUsd,
    usdPerSdr: v.usdPerSdr,
    perSdr: v.perSdr,
  };
}

/** Block-end: a new fixing when this block carried a feed and enough fresh feeds exist. */
export function feedsEnd(ctx: ApplyCtx, hadFeed: boolean): void {
  if (!hadFeed) return;
  const fx = fixingOf(freshFeeds(ctx.o, ctx.params, ctx.height, ctx.time), ctx.params, ctx.height, ctx.time);
  if (!fx) return;
  ctx.o.put(GK.sdr, fx);
  ctx.o.put(GK.sdrDay(fx.day), fx);
  ctx.emit({ type: 'sdr_fixing', usdPerSdr: fx.usdPerSdr, feeders: fx.feeders.length });
}

/** The fixings of the last `days` days (newest first), from the history ring. */
export function sdrHistory(s: StateReader, today: bigint, days: number): SdrFixing[] {
  const out: SdrFixing[] = [];
  const n = BigInt(Math.min(days, Number(SDR_HISTORY_DAYS)));
  for (let d = today; d > today - n && d >= 0n; d--) {
    const fx = s.get<SdrFixing>(GK.sdrDay(d));
    if (fx && fx.day === d) out.push(fx);
  }
  return out;
}

export const sdrNow = (s: StateReader): SdrFixing | undefined => s.get<SdrFixing>(GK.sdr);
