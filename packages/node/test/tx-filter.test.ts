/**
 * The duplicate check without storage reads (src/tx-filter.ts): no false negatives, a "no" trusted
 * only when every block above the transaction's TaPoS reference is covered, bounded generations; on
 * a node, fresh transactions cost no `t/<id>` read (admission and block), while a replay of a
 * transaction included before a restart is still refused (the filter does not cover it: the store
 * answers).
 */
import { randomBytes } from 'node:crypto';
import { bytesToHex, RoamError } from '@roamchain/protocol';
import { describe, expect, it, vi } from 'vitest';
import { Node } from '../src/index.js';
import { TxFilter } from '../src/tx-filter.js';
import { useNodeKit } from './support/kit.js';

const id = () => bytesToHex(randomBytes(32));

describe('TxFilter', () => {
  it('never forgets an id it holds; a "no" is trusted only above the covered height', () => {
    const f = new TxFilter(10, 1 << 16, 1000);
    const ids = Array.from({ length: 500 }, id);
    f.addBlock(10, ids.slice(0, 250));
    f.addBlock(11, ids.slice(250));
    for (const x of ids) expect(f.mayHave(x)).toBe(true);
    const fresh = Array.from({ length: 2000 }, id);
    const fp = fresh.filter((x) => f.mayHave(x)).length;
    expect(fp).toBeLessThan(100); // a few false positives at most (they only cost a read)
    const clean = fresh.find((x) => !f.mayHave(x))!;
    // Referencing block 9 or later: every block that could hold it (≥ 10) is covered.
    expect(f.provesAbsent(clean, 9)).toBe(true);
    expect(f.provesAbsent(clean, 50)).toBe(true);
    // Referencing block 8: block 9 could hold it and is not covered — look it up.
    expect(f.provesAbsent(clean, 8)).toBe(false);
    // An included id is never proven absent.
    expect(f.provesAbsent(ids[0]!, 20)).toBe(false);
  });

  it('answers the same from the id bytes as from its hex (the admission path passes both)', () => {
    const f = new TxFilter(10, 1 << 12, 10_000);
    const held = Array.from({ length: 300 }, () => randomBytes(32));
    f.addBlock(
      10,
      held.map((b) => bytesToHex(b)),
    );
    // A small filter, so that both answers occur among the fresh ids.
    const fresh = Array.from({ length: 3000 }, () => randomBytes(32));
    let absent = 0;
    for (const b of [...held, ...fresh]) {
      const hex = bytesToHex(b);
      expect(f.provesAbsent(hex, 20, b)).toBe(f.provesAbsent(hex, 20));
      expect(f.provesAbsent(hex, 5, b)).toBe(false);
      if (f.provesAbsent(hex, 20, b)) absent++;
    }
    for (const b of held) expect(f.provesAbsent(bytesToHex(b), 20, b)).toBe(false);
    // Hex digits are read as parseInt read them: case-insensitively.
    for (const b of held.slice(0, 20)) expect(f.mayHave(bytesToHex(b).toUpperCase())).toBe(true);
    expect(absent).toBeGreaterThan(0);
    expect(absent).toBeLessThan(fresh.length);
  });

  it('stays bounded: two generations; the covered height moves up when the oldest is dropped', () => {
    const f = new TxFilter(1, 1 << 12, 100);
    const first = Array.from({ length: 100 }, id);
    f.addBlock(1, first);
    expect(f.coveredFrom).toBe(1);
    f.addBlock(2, Array.from({ length: 60 }, id)); // rotates: generation 2 starts at height 2
    expect(f.coveredFrom).toBe(1);
    f.addBlock(3, Array.from({ length: 60 }, id)); // rotates again: height 1's generation dropped
    expect(f.coveredFrom).toBe(2);
    // An id of height 1, referencing block 0: no longer covered, so never proven absent.
    for (const x of first) expect(f.provesAbsent(x, 0)).toBe(false);
  });
});

const kit = useNodeKit();

describe('duplicate check on a node', () => {
  it('fresh transactions read no t/<id>; a replay across a restart is still refused', async () => {
    const { dir, genesis, producer, transfer } = kit.chain('txfilter');
    let node = await Node.open({ dataDir: dir, genesis, producer });
    await node.produceBlock(); // a block to reference
    const mk = (n: Node, amount: bigint) => transfer(n, amount);
    const get = vi.spyOn(node.store, 'get');
    const txReads = () => get.mock.calls.filter(([k]) => k.startsWith('t/')).length;
    const txs = Array.from({ length: 20 }, (_, i) => mk(node, BigInt(i + 1)));
    const res = await node.submitBatch(txs);
    expect(res.every((r) => r.ok)).toBe(true);
    const b = await node.produceBlock();
    expect(b.envelopes).toHaveLength(20);
    expect(txReads(), 'no t/<id> read for fresh transactions (admission and block)').toBe(0);
    // A resubmission of an included one: the filter says "maybe", the store answers.
    await expect(node.submit(txs[0]!)).rejects.toMatchObject({ code: 'TX_DUPLICATE' });
    expect(txReads()).toBeGreaterThan(0);
    get.mockRestore();
    await node.close();

    // Restarted: the filter is empty, yet a replay of a transaction included before is refused.
    node = await Node.open({ dataDir: dir, genesis, producer });
    try {
      const replay = await node.submit(txs[5]!).catch((e: unknown) => e);
      expect(replay).toBeInstanceOf(RoamError);
      expect((replay as RoamError).code).toBe('TX_DUPLICATE');
      // And fresh ones still go through (a block after the restart).
      const fresh = await node.submit(mk(node, 999n));
      const b2 = await node.produceBlock();
      expect(b2.envelopes.map((e) => e.idHex)).toEqual([fresh.idHex]);
    } finally {
      await node.close();
    }
  });
});
