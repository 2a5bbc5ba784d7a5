/**
 * Admission against hostile input: a relayed batch of 255 forged signatures and 1 good transaction
 * is verified in the worker pool (not on the main thread), the good one alone enters the mempool, and
 * the batch is rejected (the relaying peer is scored down, nothing relayed).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeTx, refPrefixOf, signTx, UNIT } from '@roamchain/protocol';
import { buildGenesis } from '@roamchain/state';
import { afterEach, describe, expect, it } from 'vitest';
import { txBatchVerdict } from '../src/consensus.js';
import { Node } from '../src/index.js';

const dirs: string[] = [];
const nodes: Node[] = [];
afterEach(async () => {
  for (const n of nodes.splice(0)) await n.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'rc-adm-'));
  dirs.push(dir);
  const { genesis, keys } = buildGenesis({
    accounts: [
      { name: 'node-1', roles: ['node_owner'] },
      { name: 'op-de', roles: ['operator'] },
      { name: 'bob' },
    ],
    umt: { 'op-de': 1000n * UNIT },
    validators: ['node-1'],
  });
  const producer = { account: 'node-1', secretKey: keys.get('node-1')!.signing.secretKey };
  const node = await Node.open({ dataDir: dir, genesis, producer });
  nodes.push(node);
  const tx = (amount: bigint, key = keys.get('op-de')!.signing.secretKey) =>
    signTx(
      {
        chainId: node.chainId,
        refBlockNum: 0,
        refBlockPrefix: refPrefixOf(node.head.id),
        expiration: BigInt(Date.now() + 60_000),
        ops: [{ type: 'transfer', from: 'op-de', to: 'bob', token: 'UMT', amount, memo: new Uint8Array() }],
      },
      { 'op-de': key },
    );
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
