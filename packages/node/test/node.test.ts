import { bytesToHex, hexToBytes, RoamError, UNIT } from '@roamchain/protocol';
import { describe, expect, it } from 'vitest';
import { Node, openStore, replayStore } from '../src/index.js';
import { useNodeKit } from './support/kit.js';

const kit = useNodeKit();

describe('Node', () => {
  it('admits, produces, persists, restarts with the same root, replays', async () => {
    const { dir, genesis, producer, transfer } = kit.chain('node');
    let node = await Node.open({ dataDir: dir, genesis, producer });
    const st = node.status();
    const exp = BigInt(Date.now() + 60_000);
    const mk = (amount: bigint) =>
      transfer(node, amount, {
        ref: { height: st.height, id: hexToBytes(st.headId) },
        expiration: exp,
      });
    const env = await node.submit(mk(5n));
    await expect(node.submit(mk(5n))).rejects.toThrow(RoamError);
    // Admission executes nothing: the overspend is refused by the block that tries it.
    const over = await node.submit(mk(10_000n * UNIT));
    const overWait = node.waitFor(over.idHex, 5000).catch((e: unknown) => e);
    const waiting = node.waitFor(env.idHex, 5000);
    const b = await node.produceBlock();
    expect(b.envelopes).toHaveLength(1);
    expect(await overWait).toMatchObject({ code: 'BALANCE_LOW' });
    expect(await node.txStatus(over.idHex)).toMatchObject({ status: 'rejected', code: 'BALANCE_LOW' });
    const inc = await waiting;
    expect(inc.height).toBe(1);
    await node.produceBlock();
    const root = bytesToHex(node.state.root());
    const height = node.height;
    await node.close();
    node = await Node.open({ dataDir: dir, genesis, producer });
    expect(node.height).toBe(height);
    expect(bytesToHex(node.state.root())).toBe(root);
    expect((await node.txStatus(env.idHex))?.status).toBe('included');
    try {
      await node.submit(mk(5n));
      expect.unreachable();
    } catch (e) {
      expect((e as RoamError).code).toBe('TX_DUPLICATE');
    }
    const events = await node.eventsSince(null, 100);
    expect(events.map((e) => e.event.type)).toContain('transfer');
    await node.close();
    const store = await openStore('level', dir);
    const r = await replayStore(store, genesis);
    // Every block's parent commit and the head's stored commit verify (finality from the blocks).
    expect(r).toEqual({ height, root, commits: height });
    await store.close();
  });
});
