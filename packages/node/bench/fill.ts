/**
 * The benches' chain filler (lists.ts, index-main-thread.ts, index-worker-cost.ts): a one-producer
 * node on its own genesis with five funded accounts (or `accounts` of them), and `fill` produces
 * BLOCKS blocks of PER signed UMT transfers between them.
 */
import { encodeTx, hexToBytes, refPrefixOf, signTx, UNIT } from '@roamchain/protocol';
import { buildGenesis } from '@roamchain/state';
import { Node, type NodeConfig } from '../src/index.js';

export const NAMES = ['alice', 'bob', 'carol', 'dave', 'erin'];

/** A node in `dir` producing only on demand (`produceBlock`), its genesis keys. */
export async function benchNode(dir: string, extra: Partial<NodeConfig> = {}, accounts?: number) {
  const names =
    accounts === undefined
      ? NAMES
      : Array.from({ length: accounts }, (_, i) => `acct-${String(i).padStart(5, '0')}`);
  const g = buildGenesis({
    accounts: [{ name: 'node-1', roles: ['node_owner'] }, ...names.map((name) => ({ name }))],
    // The five accounts of the default hold 1,000,000 UMT each; more share the same total.
    umt: Object.fromEntries(names.map((n) => [n, (5_000_000n * UNIT) / BigInt(names.length)])),
    validators: ['node-1'],
    params: { maxBlockTxs: 10_000 },
  });
  const node = await Node.open({
    dataDir: dir,
    genesis: g.genesis,
    producer: { account: 'node-1', secretKey: g.keys.get('node-1')!.signing.secretKey },
    blockIntervalMs: 3_600_000,
    ...extra,
  });
  let amount = 1n;
  /** `blocks` blocks of `per` transfers each. */
  const fill = async (blocks: number, per: number): Promise<void> => {
    for (let b = 0; b < blocks; b++) {
      const st = node.status();
      for (let i = 0; i < per; i++) {
        const from = names[i % names.length]!;
        const to = names[(i + 1 + b) % names.length]!;
        const tx = signTx(
          {
            chainId: node.chainId,
            refBlockNum: st.height,
            refBlockPrefix: refPrefixOf(hexToBytes(st.headId)),
            expiration: BigInt(Date.now() + 600_000),
            ops: [
              {
                type: 'transfer',
                from,
                to: to === from ? 'node-1' : to,
                token: 'UMT',
                amount: amount++,
                memo: new Uint8Array(),
              },
            ],
          },
          { [from]: g.keys.get(from)!.signing.secretKey },
        );
        await node.submit(encodeTx(tx));
      }
      await node.produceBlock();
    }
  };
  return { node, fill };
}
