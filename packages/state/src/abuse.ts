/**
 * Rules that make abuse cost something (issue 12, items 5 and 6), kept apart from the evaluators
 * that call them:
 * - a rating and a bad-service refund count only for a contract that was served (provisioned or
 *   charged), weighted by the SDR paid on it (rating.ts has the formula);
 * - a Request's UMT fee deposit must pay the assignee's first steps (a provision and a charge);
 * - an Offer answering a demand is for the demand's subscriber only and lives no longer than the
 *   demand; a demand lives at most `maxDemandLifetimeSec`, a subscriber has at most
 *   `maxOpenDemandsPerSubscriber` open demands.
 */
import { bytesToHex, equalBytes, type OfferTerms, RoamError, U64_MAX } from '@roamchain/protocol';
import type { ApplyCtx } from './context.js';
import {
  type Contract,
  type Demand,
  K,
  type Offer,
  type OperatorStats,
  type SubscriberDemands,
} from './objects.js';

/** A contract the assignee acted on: provisioned or charged at least once. */
export const served = (c: Contract): boolean => c.provisionedAt !== 0n || c.chargeCount > 0;

const satAdd = (a: bigint, b: bigint): bigint => (a + b > U64_MAX ? U64_MAX : a + b);

/** Stats after a bad-service refund of `c`: counted (and weighted by what was paid) only if served. */
export function withBadService(s: OperatorStats, c: Contract, badService: boolean): OperatorStats {
  if (!badService || !served(c)) return s;
  return { ...s, badService: s.badService + 1, badServiceWeight: satAdd(s.badServiceWeight, c.charged) };
}

/** Stats after the subscriber's rating of `c` (refused for a contract never served). */
export function withRating(s: OperatorStats, c: Contract, score: number): OperatorStats {
  if (!served(c)) throw new RoamError('RATE_NOT_SERVED', 'the contract was never provisioned nor charged');
  return {
    ...s,
    ratingSum: s.ratingSum + score,
    ratingCount: s.ratingCount + 1,
    ratingWeight: satAdd(s.ratingWeight, c.charged),
    ratingScoreWeight: satAdd(s.ratingScoreWeight, c.charged * BigInt(score)),
  };
}

/** The fee deposit must pay at least a provision and a charge, else the assignee can never act. */
export function requireFeeDepositForSteps(ctx: ApplyCtx, feeDeposit: bigint): void {
  const f = ctx.params.fees;
  const least = f.provision + f.charge;
  if (feeDeposit < least)
    throw new RoamError(
      'SSC_FEE_DEPOSIT_LOW',
      `fee deposit ${feeDeposit} below ${least} (a provision and a charge)`,
      {
        needed: least.toString(),
      },
    );
}

/** An answer to a demand is bought only by the demand's subscriber, while the demand is open. */
export function requireOfferFor(ctx: ApplyCtx, offer: Offer, subscriber: string): void {
  if (!offer.demand) return;
  const d = ctx.o.get<Demand>(K.demand(bytesToHex(offer.demand)));
  if (!d || d.subscriber !== subscriber)
    throw new RoamError(
      'OFFER_RESERVED',
      `offer ${bytesToHex(offer.id)} answers another subscriber's demand`,
    );
  if (d.status !== 'open' || d.endAt <= ctx.time) throw new RoamError('DEMAND_CLOSED');
}

/** An answer's validity ends no later than its demand. */
export function requireWithinDemand(terms: OfferTerms, d: Demand): void {
  if (terms.validUntil > d.endAt)
    throw new RoamError('OFFER_INVALID', `an answer is valid at most until its demand ends (${d.endAt})`);
}

/** The demand an offer answers (for offer_replace), if any. */
export function demandOf(ctx: ApplyCtx, offer: Offer): Demand | undefined {
  return offer.demand ? ctx.o.get<Demand>(K.demand(bytesToHex(offer.demand))) : undefined;
}

/** Checks a new demand's lifetime and the subscriber's open demands, and records it. */
export function admitDemand(ctx: ApplyCtx, subscriber: string, id: Uint8Array, endAt: bigint): void {
  const p = ctx.params;
  if (endAt - ctx.time > BigInt(p.maxDemandLifetimeSec) * 1000n)
    throw new RoamError('DEMAND_INVALID', `a demand lasts at most ${p.maxDemandLifetimeSec} s`);
  const key = K.demandsOf(subscriber);
  const live = (ctx.o.get<SubscriberDemands>(key) ?? []).filter((e) => e.endAt > ctx.time);
  if (live.length >= p.maxOpenDemandsPerSubscriber)
    throw new RoamError('DEMAND_LIMIT', `at most ${p.maxOpenDemandsPerSubscriber} open demands`);
  ctx.o.put(key, [...live, { id, endAt }]);
}

/** A cancelled demand no longer counts against its subscriber. */
export function releaseDemand(ctx: ApplyCtx, subscriber: string, id: Uint8Array): void {
  const key = K.demandsOf(subscriber);
  const list = ctx.o.get<SubscriberDemands>(key);
  if (!list) return;
  const rest = list.filter((e) => !equalBytes(e.id, id) && e.endAt > ctx.time);
  if (rest.length) ctx.o.put(key, rest);
  else ctx.o.del(key);
}
