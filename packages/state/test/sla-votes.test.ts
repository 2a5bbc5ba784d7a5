/**
 * The SLA counts the precommits of the parent commit a block carries: a commit that does not decode,
 * names another height or block, or lists signers out of order or outside the parent's set is
 * refused (BLOCK_BAD_COMMIT) and changes nothing.
 */
import { commitCodec, decode, encode, RoamError, UNIT } from '@roamchain/protocol';
import { describe, expect, it } from 'vitest';
import { BlockBuilder, buildGenesis, GK, meetsSla, slaDayOf, TestChain } from '../src/index.js';

function setup() {
  const { genesis, keys } = buildGenesis({
    accounts: [{ name: 'sn-a' }, { name: 'sn-b' }, { name: 'sn-c' }],
    umt: { 'sn-a': 10n * UNIT },
    validators: ['sn-a', 'sn-b', 'sn-c'],
  });
  return new TestChain(genesis, keys, { verifier: null });
}

function codeOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof RoamError) return e.code;
    throw e;
  }
  return 'none';
}

describe('SLA from signed votes', () => {
  it('counts the parent commit signers per day and refuses a forged commit', () => {
    const c = setup();
    c.block([]);
    c.absentVoters.add('sn-b');
    c.block([]);
    const day = c.time / 86_400_000n;
    expect(slaDayOf(c.state, day, 'sn-b')).toMatchObject({ votesDue: 1, votesSigned: 0 });
    expect(slaDayOf(c.state, day, 'sn-c')).toMatchObject({ votesDue: 1, votesSigned: 1 });
    c.absentVoters.clear();
    const good = c.parentCommit();
    const commit = decode(commitCodec, good);
    const start = (lastCommit: Uint8Array) => () =>
      new BlockBuilder(
        c.state,
        { height: c.height + 1n, time: c.time + 1n, prev: c.headId, producer: 'sn-a', lastCommit },
        { verifier: null },
      );
    const root = c.state.root();
    const forged = (over: Partial<typeof commit>) => encode(commitCodec, { ...commit, ...over });
    expect(codeOf(start(new Uint8Array([1, 2, 3])))).toBe('BLOCK_BAD_COMMIT');
    expect(codeOf(start(forged({ height: c.height - 1n })))).toBe('BLOCK_BAD_COMMIT');
    expect(codeOf(start(forged({ value: new Uint8Array(32).fill(7) })))).toBe('BLOCK_BAD_COMMIT');
    const sig = commit.signatures[0]!;
    // An index outside the set of 3, a duplicate signer (counting one validator twice), reversed order.
    expect(codeOf(start(forged({ signatures: [{ ...sig, validator: 3 }] })))).toBe('BLOCK_BAD_COMMIT');
    expect(codeOf(start(forged({ signatures: [sig, sig] })))).toBe('BLOCK_BAD_COMMIT');
    expect(codeOf(start(forged({ signatures: [...commit.signatures].reverse() })))).toBe('BLOCK_BAD_COMMIT');
    expect(codeOf(start(good))).toBe('none');
    expect(c.state.root()).toEqual(root);
    // Block 1 carries no parent commit.
    const fresh = setup();
    expect(
      codeOf(
        () =>
          new BlockBuilder(
            fresh.state,
            { height: 1n, time: fresh.time + 1n, prev: fresh.headId, producer: 'sn-a', lastCommit: good },
            { verifier: null },
          ),
      ),
    ).toBe('BLOCK_INVALID');
    expect(fresh.state.get(GK.slaDay)).toBeUndefined();
  });

  it('meets the SLA only with both the block share and the vote share', () => {
    const r = { blocks: 2, votesDue: 10, votesSigned: 9, met: false };
    expect(meetsSla(r, 8, 3, 9_000)).toBe(true); // 2 x 3 x 2 >= 8, 9/10 >= 90 %
    expect(meetsSla({ ...r, votesSigned: 8 }, 8, 3, 9_000)).toBe(false);
    expect(meetsSla({ ...r, blocks: 1 }, 8, 3, 9_000)).toBe(false);
    expect(meetsSla({ ...r, blocks: 0, votesSigned: 10 }, 0, 3, 9_000)).toBe(false);
    expect(meetsSla({ ...r, votesSigned: 0 }, 8, 3, 0)).toBe(true);
  });
});
