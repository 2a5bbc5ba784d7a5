/**
 * Block pacing under a steady trickle: transactions admitted every few milliseconds must not keep
 * pushing the next height back (they once starved a single validator for seconds at a few hundred
 * submissions a second, with the mempool growing and no block).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeTx, refPrefixOf, signTx, UNIT } from '@roamchain/protocol';
import { buildGenesis } from '@roamchain/state';
import { afterEach, describe, expect, it } from 'vitest';
import { Node } from '../src/index.js';

const dirs: string[] = [];
const nodes: Node[] = [];
afterEach(async () => {
  for (const n of nodes.splice(0)) await n.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('block pacing', () => {
  it('a steady trickle of transactions does not starve block production', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rc-pacing-'));
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
    const node = await Node.open({
      dataDir: dir,
      genesis,
      producer: { account: 'node-1', secretKey: keys.get('node-1')!.signing.secretKey },
      blockIntervalMs: 1000,
    });
    nodes.push(node);
    node.start();
    const sk = keys.get('op-de')!.signing.secretKey;
    const tx = (amount: bigint) => {
      const h = node.head;
      return encodeTx(
        signTx(
          {
            chainId: node.chainId,
            refBlockNum: Number(h.height),
            refBlockPrefix: refPrefixOf(h.id),
            expiration: BigInt(Date.now() + 60_000),
            ops: [
              { type: 'transfer', from: 'op-de', to: 'bob', token: 'UMT', amount, memo: new Uint8Array() },
            ],
          },
          { 'op-de': sk },
        ),
      );
    };
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
