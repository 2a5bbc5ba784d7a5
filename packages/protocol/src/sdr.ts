/**
 * SDR valuation the IMF way (IMF Rule O-2(a); SPEC §5), in exact integer arithmetic.
 *
 * 1. Each basket currency amount is converted to US dollars at its rate: amount x rate for
 *    currencies quoted in USD per unit (EUR, GBP), amount / rate for those quoted in units per
 *    USD (CNY, JPY); the USD amount counts as is. Each US dollar equivalent is rounded half up to
 *    six decimals, as in the IMF's published valuation tables (their "U.S. dollar equivalent"
 *    column adds up to the sum they value), and the equivalents are summed: S.
 * 2. The value of one US dollar in SDR is 1 / S rounded to six significant digits.
 * 3. The value of one SDR in US dollars is the reciprocal of (2), rounded to six significant digits.
 * 4. The value of one SDR in currency X is (3) converted at X's rate, rounded to six significant
 *    digits.
 * Rounding is half up. Results are fixed-point integers with `SDR_VALUE_DECIMALS` decimals.
 */
import { type FeedCurrency, RATE_SCALE } from './ops-governance.js';

/** A basket: currency amounts in units of 10^-5 (IMF publishes them to five significant digits). */
export type Basket = { USD: bigint } & Partial<Record<FeedCurrency, bigint>>;
export const BASKET_SCALE = 100_000n;

/** The SDR basket from 1 August 2022 (SPEC §5): USD 0.57813, EUR 0.37379, CNY 1.0993, JPY 13.452, GBP 0.080870. */
export const SDR_BASKET_2022: Basket = {
  USD: 57_813n,
  EUR: 37_379n,
  CNY: 109_930n,
  JPY: 1_345_200n,
  GBP: 8_087n,
};

/** How a currency is quoted in a feed: USD per unit (`usd_per_unit`) or units per USD. */
export const QUOTE: Record<FeedCurrency, 'usd_per_unit' | 'units_per_usd'> = {
  EUR: 'usd_per_unit',
  GBP: 'usd_per_unit',
  CNY: 'units_per_usd',
  JPY: 'units_per_usd',
};

export const SDR_VALUE_DECIMALS = 12;
export const SDR_VALUE_SCALE = 10n ** BigInt(SDR_VALUE_DECIMALS);

/** A positive fraction n / d. */
interface Frac {
  n: bigint;
  d: bigint;
}

/**
 * n / d rounded half up to six significant digits, as an integer x 10^SDR_VALUE_DECIMALS.
 * Throws RangeError if the value is too small for that scale (below 10^-6).
 */
export function roundSix(f: Frac): bigint {
  if (f.n <= 0n || f.d <= 0n) throw new RangeError('roundSix needs a positive fraction');
  // Find k with 10^5 <= n x 10^k / d < 10^6.
  let k = 0;
  const lo = 100_000n;
  const hi = 1_000_000n;
  const scaled = (e: number) => (e >= 0 ? (f.n * 10n ** BigInt(e)) / f.d : f.n / (f.d * 10n ** BigInt(-e)));
  while (scaled(k) >= hi) k--;
  while (scaled(k) < lo) k++;
  // m = round half up of n x 10^k / d.
  const num = k >= 0 ? f.n * 10n ** BigInt(k) : f.n;
  const den = k >= 0 ? f.d : f.d * 10n ** BigInt(-k);
  let m = (2n * num + den) / (2n * den);
  if (m === hi) {
    m = lo;
    k--;
  }
  const shift = SDR_VALUE_DECIMALS - k;
  if (shift < 0) throw new RangeError('value too small for the SDR value scale');
  return m * 10n ** BigInt(shift);
}

export interface SdrValuation {
  /** Value of one US dollar in SDR (IMF Rule O-2(a)), x 10^12. */
  sdrPerUsd: bigint;
  /** Value of one SDR in US dollars, x 10^12. */
  usdPerSdr: bigint;
  /** Value of one SDR in each currency, x 10^12. */
  perSdr: Record<'USD' | FeedCurrency, bigint>;
}

/** Rates as in a feed (x 10^9, market quotation). */
export type Rates = Record<FeedCurrency, bigint>;

/** Values the SDR from rates; `basket` defaults to the 2022 basket. */
export function valueSdr(rates: Partial<Rates>, basket: Basket = SDR_BASKET_2022): SdrValuation {
  // S in micro-dollars: USD + sum(amount x rate) + sum(amount / rate), each rounded to 10^-6.
  const MICRO = 1_000_000n;
  const half = (n: bigint, d: bigint) => (2n * n + d) / (2n * d);
  let sum = (basket.USD * MICRO) / BASKET_SCALE;
  for (const c of Object.keys(QUOTE) as FeedCurrency[]) {
    const amount = basket[c];
    if (amount === undefined) continue;
    const r = rates[c];
    if (r === undefined || r <= 0n) throw new RangeError(`no rate for ${c}`);
    sum +=
      QUOTE[c] === 'usd_per_unit'
        ? half(amount * r * MICRO, BASKET_SCALE * RATE_SCALE)
        : half(amount * RATE_SCALE * MICRO, BASKET_SCALE * r);
  }
  if (sum === 0n) throw new RangeError('the basket is worth nothing at these rates');
  const sdrPerUsd = roundSix({ n: MICRO, d: sum });
  const usdPerSdr = roundSix({ n: SDR_VALUE_SCALE, d: sdrPerUsd });
  const perSdr = { USD: usdPerSdr } as Record<'USD' | FeedCurrency, bigint>;
  for (const c of Object.keys(QUOTE) as FeedCurrency[]) {
    const r = rates[c];
    if (r === undefined) continue;
    perSdr[c] =
      QUOTE[c] === 'usd_per_unit'
        ? roundSix({ n: usdPerSdr * RATE_SCALE, d: r * SDR_VALUE_SCALE })
        : roundSix({ n: usdPerSdr * r, d: RATE_SCALE * SDR_VALUE_SCALE });
  }
  return { sdrPerUsd, usdPerSdr, perSdr };
}

/** Median of integers; the mean of the two middle values (rounded down) for an even count. */
export function medianOf(values: readonly bigint[]): bigint {
  if (values.length === 0) throw new RangeError('median of nothing');
  const s = [...values].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2n;
}
