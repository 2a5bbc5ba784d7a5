/**
 * Operator rating and offer ranking (SPEC §3 "choosing an operator"). Integer arithmetic only, so
 * every node and SDK gets the same numbers.
 *
 * Rating of an operator, in basis points (0..10,000). Only contracts the operator served
 * (provisioned or charged) count, each weighted by the SDR paid on it (`charged`), so moving a
 * rating costs what moving it is worth (see docs/RATING.md):
 *   stars  = (Σ score x paid x 2,000 + W0 x 7,000) / (Σ paid + W0)     over rated contracts
 *            — each star is 2,000 bps (5 stars = 10,000); a prior of W0 = 50 SDR paid at 3.5 stars
 *              keeps a newcomer with one cheap 5-star rating from outranking an operator with hundreds;
 *   bad    = (Σ paid on bad-service refunds) x 10,000 / (Σ paid on closed contracts + W0)
 *   rating = stars x (10,000 − bad) / 10,000, halved while the operator is idle in governance
 *            (skipped govMaxSkips proposals in a row; docs/GOVERNANCE.md)
 *
 * Service (does the operator actually serve?), in bps, see `serviceSignal`: over the last 30 days,
 *   service = 10,000 x (5 + provisioned) / (5 + provisioned + failed)
 *   where a Request counts once provisioned (within its step timeout) or once its step timeout passed
 *   without a Provision (failed); a new operator (nothing settled in 30 days) is at 10,000.
 *
 * Ranking score of an offer, in bps: priceScore = bestCost x 10,000 / cost (the cheapest matching
 * offer scores 10,000), quality = rating x service / 10,000; score = (wp x priceScore + wq x quality)
 * / 100 with (wp, wq) = (80, 20) for "price", (20, 80) for "quality", (50, 50) for "balanced".
 * Ties: lower cost first, then offer id.
 */
import { bytesToHex, formatAmount, type ServiceKind } from '@roamchain/protocol';
import { isIdleOperator } from './gov-objects.js';
import type { LedgerState, StateReader } from './ledger.js';
import { type Demand, K, type Offer, type OperatorStats } from './objects.js';
import { serviceWindow } from './service.js';
import type { ServiceDay } from './service-objects.js';

/** Prior weight: 50 SDR paid at 3.5 stars (SDR base units). */
export const RATING_PRIOR_WEIGHT = 50_000_000n;
const PRIOR_BPS = 7000n;

export interface OperatorRating {
  operator: string;
  ratingBps: number;
  /** Average stars x 100 including the prior (e.g. 350 = 3.50). */
  starsX100: number;
  ratingCount: number;
  contracts: number;
  closed: number;
  badService: number;
  /** SDR base units paid on the rated contracts (the weight of the ratings). */
  ratedWeight: string;
  /** Service signal for the ranking, bps, with the prior (10,000 = no evidence against the operator). */
  serviceBps: number;
  /** See `ServiceStatus`. */
  service: ServiceStatus;
  /** Share of the last 30 days' settled Requests provisioned in time, bps, no prior (10,000 when none). */
  servedShareBps: number;
  /** Requests opened on the operator's offers in the last 30 days. */
  opened30d: number;
  /** Of the Requests settled in the last 30 days: provisioned within the step timeout. */
  provisioned30d: number;
  /** Of the Requests settled in the last 30 days: step timeout passed without a Provision. */
  failed30d: number;
  /** Mean time from Request to Provision over `provisioned30d`, ms (0 when none). */
  meanProvisionMs30d: number;
}

/**
 * 'new': no Request settled in the last 30 days; 'serving': provisioned at least as many as it let
 * time out; 'unproven': let Requests time out and provisioned none; 'failing': provisioned some but
 * let more time out.
 */
export type ServiceStatus = 'new' | 'serving' | 'unproven' | 'failing';
/** The service signal's prior: 5 Requests provisioned in time. */
export const SERVICE_PRIOR = 5n;

export interface ServiceSignal {
  serviceBps: number;
  service: ServiceStatus;
  servedShareBps: number;
  opened30d: number;
  provisioned30d: number;
  failed30d: number;
  meanProvisionMs30d: number;
}

/**
 * Does the operator serve? Measured from the Requests opened on its offers over the last 30 days
 * (service.ts keeps per-day counters, block time as the clock). A Request counts once it is
 * settled: provisioned (a Provision lands only within the step timeout) or failed (its step timeout
 * passed without one; seen at block end from the timeout queue). Requests still within their timeout
 * count neither way. The ranking's signal has a prior of SERVICE_PRIOR provisioned Requests:
 *   serviceBps = 10,000 x (5 + provisioned) / (5 + provisioned + failed)
 * so a new operator is neutral (10,000, 'new'), 3 failures of 3 give 6,250, 10 of 10 give 3,333, and an
 * operator that served and then stopped drops as its failures pile up and its old provisions leave
 * the window. Deterministic and integer.
 * Limit: a stranger who opens Requests against an operator and lets them time out costs it the same
 * as stuck travellers, at the price of the Requests' fees and a home operator's signature.
 */
export function serviceSignal(w: ServiceDay | undefined): ServiceSignal {
  const provisioned = BigInt(w?.provisioned ?? 0);
  const failed = BigInt(w?.failed ?? 0);
  const settled = provisioned + failed;
  const service: ServiceStatus =
    settled === 0n ? 'new' : provisioned >= failed ? 'serving' : provisioned === 0n ? 'unproven' : 'failing';
  return {
    serviceBps: Number((10_000n * (SERVICE_PRIOR + provisioned)) / (SERVICE_PRIOR + settled)),
    service,
    servedShareBps: settled === 0n ? 10_000 : Number((10_000n * provisioned) / settled),
    opened30d: w?.opened ?? 0,
    provisioned30d: Number(provisioned),
    failed30d: Number(failed),
    meanProvisionMs30d: provisioned === 0n ? 0 : Number((w?.delayMs ?? 0n) / provisioned),
  };
}

export function operatorRating(state: StateReader, operator: string): OperatorRating {
  const s = state.get<OperatorStats>(K.stats(operator));
  const W0 = RATING_PRIOR_WEIGHT;
  const w = s?.ratingWeight ?? 0n;
  const sw = s?.ratingScoreWeight ?? 0n;
  const paid = s?.charged ?? 0n;
  const badW = s?.badServiceWeight ?? 0n;
  const stars = (sw * 2000n + W0 * PRIOR_BPS) / (w + W0);
  const badBps = (badW * 10_000n) / (paid + W0);
  let rating = (stars * (10_000n - (badBps > 10_000n ? 10_000n : badBps))) / 10_000n;
  // Governance participation: an idle operator (skipped govMaxSkips proposals in a row) counts half.
  if (isIdleOperator(state, operator)) rating /= 2n;
  return {
    operator,
    ratingBps: Number(rating),
    starsX100: Number((sw * 100n + W0 * 350n) / (w + W0)),
    ratingCount: s?.ratingCount ?? 0,
    contracts: s?.contracts ?? 0,
    closed: s?.closed ?? 0,
    badService: s?.badService ?? 0,
    ratedWeight: w.toString(),
    ...serviceSignal(serviceWindow(state, operator)),
  };
}

export type Preference = 'price' | 'quality' | 'balanced';
export interface RankQuery {
  country?: string;
  network?: string;
  kind?: ServiceKind;
  /** Data volume wanted, bytes. */
  volumeBytes?: bigint;
  /** Most the subscriber will pay, SDR base units. */
  budget?: bigint;
  preference?: Preference;
  limit?: number;
  /** Who asks: answers to a demand are listed only for the demand's subscriber. */
  subscriber?: string;
}

export interface RankedOffer {
  offer: Offer;
  offerId: string;
  /** What the query's volume costs on this offer, SDR base units. */
  cost: bigint;
  score: number;
  priceScore: number;
  qualityScore: number;
  rating: OperatorRating;
  reasons: string[];
}

const WEIGHTS: Record<Preference, [bigint, bigint]> = {
  price: [80n, 20n],
  quality: [20n, 80n],
  balanced: [50n, 50n],
};
const MB = 1_000_000n;

/** Cost of `volume` bytes on an offer, or undefined when the offer cannot serve it. */
export function offerCost(o: Offer, volume: bigint): bigint | undefined {
  const t = o.terms;
  if (volume <= t.dataBytes) return t.price;
  if (t.unitPrice === 0n || t.unit !== 'mb') return undefined;
  const extraMb = (volume - t.dataBytes + MB - 1n) / MB;
  return t.price + extraMb * t.unitPrice;
}

function kindMatches(offerKind: ServiceKind, want: ServiceKind | undefined): boolean {
  if (!want) return true;
  return (
    offerKind === want || (offerKind === 'bundle' && (want === 'data' || want === 'voice' || want === 'sms'))
  );
}

/** An answer to a demand is visible only to the demand's subscriber. */
function answerVisibleTo(state: LedgerState, o: Offer, subscriber: string | undefined): boolean {
  if (!o.demand || !subscriber) return false;
  return state.get<Demand>(K.demand(bytesToHex(o.demand)))?.subscriber === subscriber;
}

function serviceNote(r: OperatorRating): string {
  if (r.service === 'new') return '; no Request settled in the last 30 days: service not proven either way';
  const mean =
    r.provisioned30d > 0 ? ` in ${formatAmount(BigInt(r.meanProvisionMs30d), 3)} s on average` : '';
  const x = r.serviceBps < 10_000 ? ` (quality x ${formatAmount(BigInt(r.serviceBps), 2)}%)` : '';
  return `; provisioned ${r.provisioned30d} of ${r.provisioned30d + r.failed30d} Request(s) within their step timeout in the last 30 days${mean}${x}`;
}

function starsNote(r: OperatorRating): string {
  if (r.ratingCount === 0) return 'not rated yet (new / no ratings yet)';
  return `rated ${formatAmount(BigInt(r.starsX100), 2)}★ from ${r.ratingCount} rating(s)`;
}

/** Live offers matching the query, scored and explained; deterministic for a given state and time. */
export function rankOffers(state: LedgerState, query: RankQuery, now: bigint): RankedOffer[] {
  // A network query also matches country-wide offers of the query's country, when one is given.
  let ids: Iterable<string>;
  if (query.network)
    ids = new Set([
      ...state.offers.byNetwork(query.network),
      ...(query.country ? state.offers.byCountry(query.country) : []),
    ]);
  else if (query.country) ids = state.offers.byCountry(query.country);
  else ids = state.offers.all();
  const volume = query.volumeBytes ?? 0n;
  const candidates: { offer: Offer; id: string; cost: bigint }[] = [];
  for (const id of ids) {
    const o = state.get<Offer>(K.offer(id));
    if (!o || o.status !== 'active') continue;
    if (o.demand && !answerVisibleTo(state, o, query.subscriber)) continue;
    const t = o.terms;
    if (now < t.validFrom || now >= t.validUntil || o.openContracts >= t.capacity) continue;
    if (
      query.network &&
      !t.networks.includes(query.network) &&
      !(query.country && t.countries.includes(query.country))
    )
      continue;
    if (!query.network && query.country && !t.countries.includes(query.country)) continue;
    if (!kindMatches(t.kind, query.kind)) continue;
    const cost = offerCost(o, volume);
    if (cost === undefined) continue;
    if (query.budget !== undefined && cost > query.budget) continue;
    candidates.push({ offer: o, id, cost });
  }
  if (candidates.length === 0) return [];
  const best = candidates.reduce((m, c) => (c.cost < m ? c.cost : m), candidates[0]!.cost);
  const [wp, wq] = WEIGHTS[query.preference ?? 'balanced'];
  const ranked = candidates.map(({ offer, id, cost }) => {
    const priceScore = cost === 0n ? 10_000n : (best * 10_000n) / cost;
    const rating = operatorRating(state, offer.operator);
    const quality = (BigInt(rating.ratingBps) * BigInt(rating.serviceBps)) / 10_000n;
    const score = (wp * priceScore + wq * quality) / 100n;
    const t = offer.terms;
    const reasons = [
      `price ${formatAmount(cost)} SDR${volume > 0n ? ` for ${formatAmount(volume, 9)} GB` : ''}: ${formatAmount(priceScore, 2)}% of the best price`,
      `operator ${offer.operator} ${starsNote(rating)}, ${rating.badService} bad-service refund(s) in ${rating.closed} closed contract(s): quality ${formatAmount(quality, 2)}%${serviceNote(rating)}`,
      `weights price ${wp}% / quality ${wq}% (${query.preference ?? 'balanced'})`,
      `${t.technologies.join('/') || 'any technology'}, ${formatAmount(t.dataBytes, 9)} GB for ${Math.round(t.durationSec / 86_400)} day(s)`,
    ];
    return {
      offer,
      offerId: id,
      cost,
      score: Number(score),
      priceScore: Number(priceScore),
      qualityScore: Number(quality),
      rating,
      reasons,
    };
  });
  ranked.sort((a, b) =>
    b.score !== a.score
      ? b.score - a.score
      : a.cost !== b.cost
        ? a.cost < b.cost
          ? -1
          : 1
        : a.offerId < b.offerId
          ? -1
          : 1,
  );
  return ranked.slice(0, query.limit ?? 50);
}

export { bytesToHex };
