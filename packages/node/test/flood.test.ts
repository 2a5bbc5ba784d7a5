/**
 * One account flooding the node does not hold back another (issue 10, `--flood`): each attack is
 * performed against a real node (real signatures, real admission, a real block), and the test
 * asserts on admission results and block contents, never on timings.
 * - over its rate, the flooding account is refused ACCOUNT_BUSY (with Retry-After) before anything
 *   of it is verified, while another account's transaction is admitted and in the next block;
 * - over its in-flight bound (concurrent batches), the same, and the bound frees once verified;
 * - transactions forged in an account's name do not spend that account's rate;
 * - a block this node proposes takes at most `maxAccountTxsPerBlock` of one account.
 */
import { encodeTx, RoamError, UNIT } from '@roamchain/protocol';
import { buildGenesis } from '@roamchain/state';
import { describe, expect, it } from 'vitest';
import type { AdmissionLimits } from '../src/admission-limits.js';
import { Node } from '../src/index.js';
import { signTransfer, useNodeKit } from './support/kit.js';

const kit = useNodeKit();

async function setup(admission: Partial<AdmissionLimits>, maxAccountTxsPerBlock?: number) {
  const { genesis, keys } = buildGenesis({
    accounts: [
      { name: 'node-1', roles: ['node_owner'] },
      { name: 'flooder' },
      { name: 'alice' },
      { name: 'bob' },
    ],
    umt: { flooder: 1000n * UNIT, alice: 10n * UNIT },
    validators: ['node-1'],
  });
  const node = kit.track(
    await Node.open({
      dataDir: kit.dir('flood'),
      genesis,
      producer: { account: 'node-1', secretKey: keys.get('node-1')!.signing.secretKey },
      blockIntervalMs: 3_600_000,
      admission,
      ...(maxAccountTxsPerBlock !== undefined ? { maxAccountTxsPerBlock } : {}),
    }),
  );
  const key = (n: string) => keys.get(n)!.signing.secretKey;
  /** `n` distinct transfers of `from` (amounts from `first`), signed with `signer`'s key. */
  const transfers = (from: string, n: number, first = 1, signer = from) =>
    Array.from({ length: n }, (_, i) =>
      encodeTx(signTransfer(node, from, 'bob', BigInt(first + i), key(signer))),
    );
  return { node, transfers };
}

describe('one account flooding', () => {
  it('over its rate it is refused ACCOUNT_BUSY; another account is admitted and in the next block', async () => {
    const { node, transfers } = await setup({ accountRate: 0.001, accountBurst: 50 });
    const flood = await node.submitBatch(transfers('flooder', 300));
    expect(flood.filter((r) => r.ok)).toHaveLength(50);
    const refused = flood.slice(50);
    expect(refused.every((r) => !r.ok && r.code === 'ACCOUNT_BUSY')).toBe(true);
    expect(node.governor.refused.rate).toBe(250);
    // The refused ones were never verified: only the admitted ones are remembered.
    expect(node.cache.size).toBe(50);
    // Another account is not affected.
    const [other] = transfers('alice', 1);
    const env = await node.submit(other!);
    // One at a time, too: the refusal is typed and says when to come back.
    const again = await node.submit(transfers('flooder', 1, 1000)[0]!).catch((e: unknown) => e);
    expect(again).toBeInstanceOf(RoamError);
    expect((again as RoamError).code).toBe('ACCOUNT_BUSY');
    expect((again as RoamError).details).toMatchObject({ account: 'flooder', retryAfterSeconds: 60 });
    const block = await node.produceBlock();
    expect(block.envelopes.map((e) => e.idHex)).toContain(env.idHex);
    expect(block.envelopes).toHaveLength(51);
    expect(node.mempoolSize).toBe(0);
  });

  it('over its in-flight bound (concurrent batches) it is refused; the bound frees once verified', async () => {
    const { node, transfers } = await setup({ maxInFlightPerAccount: 16 });
    const [a, b, c] = [transfers('flooder', 16, 1), transfers('flooder', 16, 100), transfers('alice', 1)];
    // Three requests at once: the second finds the flooder's 16 slots held by the first.
    const [ra, rb, rc] = await Promise.all([node.submitBatch(a), node.submitBatch(b), node.submitBatch(c)]);
    expect(ra.every((r) => r.ok)).toBe(true);
    expect(rb.every((r) => !r.ok && r.code === 'ACCOUNT_BUSY')).toBe(true);
    expect(rc[0]!.ok).toBe(true);
    expect(node.governor.inFlightOf('flooder')).toBe(0);
    expect(node.governor.refused.inFlight).toBe(16);
    // Verified and released: the same account's next batch is admitted.
    expect((await node.submitBatch(b)).every((r) => r.ok)).toBe(true);
    expect(node.mempoolSize).toBe(33);
  });

  it("transactions forged in an account's name do not spend its rate", async () => {
    const { node, transfers } = await setup({ accountRate: 0.001, accountBurst: 10 });
    const forged = await node.submitBatch(transfers('alice', 10, 1, 'flooder'));
    expect(forged.every((r) => !r.ok && r.code === 'SIG_INVALID')).toBe(true);
    expect(node.governor.tokensOf('alice')).toBeGreaterThanOrEqual(10);
    const real = await node.submitBatch(transfers('alice', 10, 1));
    expect(real.every((r) => r.ok)).toBe(true);
    expect(node.governor.inFlightOf('alice')).toBe(0);
  });

  it('a block takes at most maxAccountTxsPerBlock of one account: blocks stay short for the others', async () => {
    const { node, transfers } = await setup({}, 64);
    const flood = await node.submitBatch(transfers('flooder', 150));
    expect(flood.every((r) => r.ok)).toBe(true);
    const other = await node.submit(transfers('alice', 1)[0]!);
    const b1 = await node.produceBlock();
    expect(b1.envelopes).toHaveLength(64 + 1);
    expect(b1.envelopes.map((e) => e.idHex)).toContain(other.idHex);
    // The flooder's backlog waits in the mempool, in its order, for the next blocks.
    expect(node.mempoolSize).toBe(150 - 64);
    expect((await node.produceBlock()).envelopes).toHaveLength(64);
    expect((await node.produceBlock()).envelopes).toHaveLength(150 - 128);
  });

  it('transactions relayed by peers are not held to the local bounds', async () => {
    const { node, transfers } = await setup({ accountRate: 0.001, accountBurst: 1 });
    const r = await node.submitBatch(transfers('flooder', 5), 'peer');
    expect(r.every((x) => x.ok)).toBe(true);
  });
});
