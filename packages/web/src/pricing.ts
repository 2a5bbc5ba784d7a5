/**
 * What a traveller pays, in plain numbers: the home operator's fee on top of the package, the
 * local-currency value from the chain's SDR prices (GET /v1/prices, only when fresh), destinations
 * from the offers on chain. Pure functions (unit-tested); bigint arithmetic, no floats for money.
 */
import { amt } from './lib.js';

/**
 * The fee assumed when the home operator's agent does not say its own (GET /v1/policy `feeBps`):
 * the agents' default policy. The shop shows the operator's own figure as soon as it has it.
 */
export const ISSUER_FEE_BPS = 100;

/** The home operator's fee on `cost` (rounded up, as the deposit must cover it). */
export function issuerFee(cost: bigint, bps = ISSUER_FEE_BPS): bigint {
  return (cost * BigInt(bps) + 9_999n) / 10_000n;
}

/** What a purchase takes from the balance: the package plus the home operator's fee. */
export function totalOf(cost: bigint, bps = ISSUER_FEE_BPS): bigint {
  return cost + issuerFee(cost, bps);
}

export const CURRENCIES = ['USD', 'EUR', 'GBP', 'JPY', 'CNY'] as const;
export type Currency = (typeof CURRENCIES)[number];

/** Value of 1 SDR in each currency, as micro-units (1e-6) of that currency; empty = no fresh price. */
export type SdrPrices = Partial<Record<Currency, bigint>>;

/** "1.351234" → 1351234n (six decimals; more are cut); undefined for anything else. */
export function micro(dec: unknown): bigint | undefined {
  if (typeof dec !== 'string' || !/^\d{1,12}(\.\d{1,18})?$/.test(dec)) return undefined;
  const [w = '0', f = ''] = dec.split('.');
  return BigInt(w) * 1_000_000n + BigInt((f + '000000').slice(0, 6));
}

/**
 * The node's `GET /v1/prices` answer → prices, only when `fresh` is true (else empty, and the wallet
 * shows SDR only). Hostile until checked: unknown currencies and malformed numbers are dropped.
 */
export function pricesFrom(j: unknown): SdrPrices {
  const o = j as { fresh?: unknown; sdr?: unknown } | null;
  if (!o || typeof o !== 'object' || o.fresh !== true || !o.sdr || typeof o.sdr !== 'object') return {};
  const out: SdrPrices = {};
  for (const c of CURRENCIES) {
    const v = micro((o.sdr as Record<string, unknown>)[c]);
    if (v !== undefined && v > 0n) out[c] = v;
  }
  return out;
}

/** `units` SDR base units (1e-6 SDR) in a currency, rounded half up to 2 decimals (0 for JPY). */
export function inCurrency(units: bigint, perSdrMicro: bigint, cur: Currency): string {
  // units * perSdrMicro is in 1e-12 of the currency.
  const scaled = units * perSdrMicro;
  const digits = cur === 'JPY' ? 0 : 2;
  const div = 10n ** BigInt(12 - digits);
  const r = (scaled + div / 2n) / div;
  const s = r.toString().padStart(digits + 1, '0');
  const body = digits ? `${s.slice(0, -digits)}.${s.slice(-digits)}` : s;
  return `${body} ${cur}`;
}

/** The currency to show beside SDR, from the browser's language. */
export function currencyForLanguage(lang: string): Currency {
  const l = lang.toLowerCase();
  if (l === 'en-gb') return 'GBP';
  if (l.startsWith('ja')) return 'JPY';
  if (l.startsWith('zh')) return 'CNY';
  if (/^(de|fr|es|it|nl|pt|fi|el|sk|sl|et|lv|lt|ga|mt)\b/.test(l) && l !== 'pt-br') return 'EUR';
  return 'USD';
}

/** "12.50 SDR ≈ 16.89 USD" or "12.50 SDR" without a fresh price. */
export function priceText(units: bigint, prices: SdrPrices, cur: Currency): string {
  const p = prices[cur];
  return p ? `${amt(units)} SDR ≈ ${inCurrency(units, p, cur)}` : `${amt(units)} SDR`;
}

export interface Destination {
  code: string;
  name: string;
  offers: number;
}

/** Country code → English name ("DE" → "Germany"); the code itself when the browser has no name. */
export function countryName(code: string): string {
  try {
    return new Intl.DisplayNames(['en'], { type: 'region' }).of(code) ?? code;
  } catch {
    return code;
  }
}

/** The destinations of the live offers, by name, with how many offers cover each. */
export function destinationsOf(offers: { terms: { countries: string[] } }[]): Destination[] {
  const n = new Map<string, number>();
  for (const o of offers)
    for (const c of o.terms.countries) if (/^[A-Z]{2}$/.test(c)) n.set(c, (n.get(c) ?? 0) + 1);
  return [...n]
    .map(([code, offers]) => ({ code, name: countryName(code), offers }))
    .sort((a, b) => a.name.localeCompare(b.name, 'en'));
}

/** Case- and accent-insensitive match of a destination by name or code ("turk" finds Türkiye). */
export function matchesDestination(d: Destination, q: string): boolean {
  const fold = (s: string) => s.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();
  const x = fold(q.trim());
  return x === '' || fold(d.name).includes(x) || d.code.toLowerCase() === x;
}
