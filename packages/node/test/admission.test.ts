/**
 * Admission against hostile input: a relayed batch of 255 forged signatures and 1 good transaction
 * is verified in the worker pool (not on the main thread), the good one alone enters the mempool, and
 * the batch is rejected (the relaying peer is scored down, nothing relayed).
 */
import { encodeTx } from '@roamchain/protocol';
import { describe, expect, it } from 'vitest';
import { txBatchVerdict } from '../src/consensus.js';
import { Node } from '../src/index.js';
import { useNodeKit } from './support/kit.js';

const kit = useNodeKit();

async function setup() {
  const { dir, genesis, keys, producer, signedTransfer } = kit.chain('adm');
  const node = kit.track(await Node.open({ dataDir: dir, genesis, producer }));
  const tx = (amount: bigint, key = keys.get('op-de')!.signing.secretKey) =>
    signedTransfer(node, amount, {
      ref: { height: 0, id: node.head.id },
      expiration: BigInt(Date.now() + 60_000),
      key,
    });
  return { node, tx, keys };
}

describe('admission', () => {
  it('255 forged signatures and 1 good: the batch is rejected, only the good one is admitted', async () => {
    const { node, tx, keys } = await setup();
    const wrongKey = keys.get('bob')!.signing.secretKey;
    const batch = Array.from({ length: 255 }, (_, i) => encodeTx(tx(BigInt(i + 1), wrongKey)));
    const good = tx(1000n);
    batch.push(encodeTx(good));
    const results = await node.submitBatch(batch, 'peer');
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    expect(results.slice(0, 255).every((r) => !r.ok && r.code === 'SIG_INVALID')).toBe(true);
    expect(node.mempoolSize).toBe(1);
    expect(txBatchVerdict(results)).toBe('reject');
    // A batch a peer cannot be blamed for (already known) is ignored, not rejected.
    expect(txBatchVerdict(await node.submitBatch([encodeTx(good)], 'peer'))).toBe('ignore');
    // Bytes that do not decode are the sender's fault too.
    expect(txBatchVerdict(await node.submitBatch([new Uint8Array([1, 2, 3])], 'peer'))).toBe('reject');
  });

  it('a verified signature is remembered: the block that includes the transaction does not verify it again', async () => {
    const { node, tx } = await setup();
    await node.submit(encodeTx(tx(5n)));
    const misses = node.cache.misses;
    const hits = node.cache.hits;
    const b = await node.produceBlock();
    expect(b.envelopes).toHaveLength(1);
    expect(node.cache.hits).toBeGreaterThan(hits);
    // Only the block's own signatures (producer, commit votes) miss the cache, not the transaction's.
    expect(node.cache.misses - misses).toBeLessThanOrEqual(3);
  });
});
