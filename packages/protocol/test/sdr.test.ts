/**
 * SDR valuation the IMF way (IMF Rule O-2(a)), exact integers.
 *
 * Known IMF result: the IMF's "SDR Valuation" table of 19 October 2011 (basket of 2011: EUR 0.4230,
 * JPY 12.1, GBP 0.1110, USD 0.6600; rates EUR 1.38450 USD/EUR, JPY 76.79 JPY/USD, GBP 1.58010
 * USD/GBP) published U.S. dollar equivalents 0.585644, 0.157573, 0.175391, 0.660000, "U.S.$1.00 =
 * SDR 0.633469" and "SDR1 = US$1.57861". The 2022 basket is checked against a hand computation.
 */
import { describe, expect, it } from 'vitest';
import { formatAmount, medianOf, RATE_SCALE, roundSix, SDR_VALUE_DECIMALS, valueSdr } from '../src/index.js';

const rate = (s: string) => {
  const [w, f = ''] = s.split('.');
  return BigInt(w!) * RATE_SCALE + BigInt(f.padEnd(9, '0'));
};
const dec = (v: bigint) => formatAmount(v, SDR_VALUE_DECIMALS);

describe('SDR valuation', () => {
  it('reproduces the IMF published valuation of 19 October 2011', () => {
    const v = valueSdr(
      { EUR: rate('1.38450'), JPY: rate('76.79'), GBP: rate('1.58010') },
      { USD: 66_000n, EUR: 42_300n, JPY: 1_210_000n, GBP: 11_100n },
    );
    expect(dec(v.sdrPerUsd)).toBe('0.633469');
    expect(dec(v.usdPerSdr)).toBe('1.57861');
  });

  it('values the 2022 basket (hand-computed case)', () => {
    // USD 0.57813; EUR 0.37379 x 1.0850 = 0.405562 (0.40556215); CNY 1.0993 / 7.25 = 0.151628
    // (0.15162759); JPY 13.452 / 149.5 = 0.089980 (0.08997993); GBP 0.080870 x 1.27 = 0.102705
    // (0.1027049). Sum 1.328005. 1 / 1.328005 = 0.7530092… -> 0.753009; 1 / 0.753009 = 1.3280054… -> 1.32801.
    // Per SDR: EUR 1.32801 / 1.085 = 1.223972… -> 1.22397; CNY 1.32801 x 7.25 = 9.6280725 -> 9.62807;
    // JPY 1.32801 x 149.5 = 198.537495 -> 198.537; GBP 1.32801 / 1.27 = 1.045677… -> 1.04568.
    const v = valueSdr({ EUR: rate('1.085'), CNY: rate('7.25'), JPY: rate('149.5'), GBP: rate('1.27') });
    expect(dec(v.sdrPerUsd)).toBe('0.753009');
    expect(dec(v.usdPerSdr)).toBe('1.32801');
    expect(Object.fromEntries(Object.entries(v.perSdr).map(([k, x]) => [k, dec(x)]))).toEqual({
      USD: '1.32801',
      EUR: '1.22397',
      CNY: '9.62807',
      JPY: '198.537',
      GBP: '1.04568',
    });
  });

  it('rounds half up to six significant digits, carrying into a new digit', () => {
    expect(dec(roundSix({ n: 1234565n, d: 1_000_000n }))).toBe('1.23457');
    expect(dec(roundSix({ n: 1234564n, d: 1_000_000n }))).toBe('1.23456');
    expect(dec(roundSix({ n: 9999995n, d: 1_000_000n }))).toBe('10');
    expect(dec(roundSix({ n: 1n, d: 3n }))).toBe('0.333333');
    expect(dec(roundSix({ n: 200_000_000n, d: 3n }))).toBe('66666700');
  });

  it('takes the median, the mean of the two middle values for an even count', () => {
    expect(medianOf([5n, 1n, 3n])).toBe(3n);
    expect(medianOf([4n, 1n, 3n, 10n])).toBe(3n);
    expect(() => medianOf([])).toThrow();
  });
});
