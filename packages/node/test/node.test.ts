import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bytesToHex, encodeTx, hexToBytes, RoamError, refPrefixOf, signTx, UNIT } from '@roamchain/protocol';
import { buildGenesis } from '@roamchain/state';
import { afterEach, describe, expect, it } from 'vitest';
import { Node, openStore, replayStore } from '../src/index.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'rc-node-'));
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
  return { dir, genesis, keys, producer };
}

describe('Node', () => {
  it('admits, produces, persists, restarts with the same root, replays', async () => {
    const { dir, genesis, keys, producer } = setup();
    let node = await Node.open({ dataDir: dir, genesis, producer });
    const st = node.status();
    const exp = BigInt(Date.now() + 60_000);
    const mk = (amount: bigint) =>
      encodeTx(
        signTx(
          {
            chainId: node.chainId,
            refBlockNum: st.height,
            refBlockPrefix: refPrefixOf(hexToBytes(st.headId)),
            expiration: exp,
            ops: [
              { type: 'transfer', from: 'op-de', to: 'bob', token: 'UMT', amount, memo: new Uint8Array() },
            ],
          },
          { 'op-de': keys.get('op-de')!.signing.secretKey },
        ),
      );
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
