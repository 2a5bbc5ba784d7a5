/**
 * Devnet only: the devnet's Super Nodes publish DEMO exchange rates (fixed reference values with a
 * small per-validator offset, not market data) so that the SDR rate, its history and the wallet's
 * local prices work on a local chain. A real Super Node publishes rates from its own market source
 * (`roamchain prices feed`, or the SDK's `publishPriceFeed`).
 */

import type { Node } from '@roamchain/node';
import { encodeTx, type FeedRates, refPrefixOf, signTx } from '@roamchain/protocol';

/** Reference rates (EUR, GBP: USD per unit; CNY, JPY: units per USD), x 10^9. Demo values. */
export const DEMO_RATES: FeedRates = {
  EUR: 1_085_000_000n,
  CNY: 7_250_000_000n,
  JPY: 149_500_000_000n,
  GBP: 1_270_000_000n,
};

/** Validator i's demo rates: the reference moved by (i - 1) x 0.05 % (so the median is the middle one). */
export function demoRates(i: number): FeedRates {
  const bps = BigInt(i - 1) * 5n;
  const move = (v: bigint) => v + (v * bps) / 10_000n;
  return {
    EUR: move(DEMO_RATES.EUR),
    CNY: move(DEMO_RATES.CNY),
    JPY: move(DEMO_RATES.JPY),
    GBP: move(DEMO_RATES.GBP),
  };
}

export const DEMO_FEED_INTERVAL_MS = 60_000;

/** Publishes the demo feeds now and every `intervalMs`; returns a stop function. */
export function startDemoFeeds(
  node: Node,
  validators: { account: string; secretKey: Uint8Array }[],
  warn: (msg: string, data: Record<string, unknown>) => void,
  intervalMs = DEMO_FEED_INTERVAL_MS,
): () => void {
  const publish = () => {
    const st = node.status();
    validators.forEach((v, i) => {
      const tx = signTx(
        {
          chainId: node.chainId,
          refBlockNum: st.height,
          refBlockPrefix: refPrefixOf(Buffer.from(st.headId, 'hex')),
          expiration: BigInt(Date.now()) + 120_000n,
          ops: [{ type: 'price_feed', validator: v.account, rates: demoRates(i + 1) }],
        },
        { [v.account]: v.secretKey },
      );
      node
        .submit(encodeTx(tx))
        .catch((e: unknown) =>
          warn('demo price feed not admitted', { validator: v.account, err: String(e) }),
        );
    });
  };
  publish();
  const timer = setInterval(publish, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
