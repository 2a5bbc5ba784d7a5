/**
 * Block pacing under a steady trickle: transactions admitted every few milliseconds must not keep
 * pushing the next height back (they once starved a single validator for seconds at a few hundred
 * submissions a second, with the mempool growing and no block).
 */
import { describe, expect, it } from 'vitest';
import { Node } from '../src/index.js';
import { useNodeKit } from './support/kit.js';

const kit = useNodeKit();

describe('block pacing', () => {
  it('a steady trickle of transactions does not starve block production', async () => {
    const { dir, genesis, producer, transfer } = kit.chain('pacing');
    const node = await Node.open({
      dataDir: dir,
      genesis,
      producer,
      blockIntervalMs: 1000,
    });
    kit.track(node);
    node.start();
    const tx = (amount: bigint) =>
      transfer(node, amount, {
        ref: { height: Number(node.head.height), id: node.head.id },
        expiration: BigInt(Date.now() + 60_000),
      });
    // Idle first: a block is decided with an empty mempool, so the next height waits the block
    // interval — the wait a trickle of transactions used to keep pushing back.
    await new Promise((r) => setTimeout(r, 2_500));
    const start = node.height;
    // A submission every ~2 ms (well under the 20 ms busy pacing), not awaited, for 4 s.
    let n = 0;
    const timer = setInterval(() => {
      node.submit(tx(BigInt(++n))).catch(() => {});
    }, 2);
    // Wait on the condition, not a fixed time: two blocks while the trickle goes on (generous bound).
    const deadline = Date.now() + 30_000;
    while (node.height - start < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    clearInterval(timer);
    expect(node.height - start).toBeGreaterThanOrEqual(2);
  }, 60_000);
});
