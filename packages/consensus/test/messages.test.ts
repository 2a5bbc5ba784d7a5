/** Messages: canonical encodings, sign bytes, commits and evidence. */
import { encode, nobleVerifier, RoamError } from '@roamchain/protocol';
import { describe, expect, it } from 'vitest';
import {
  type Commit,
  commitCodec,
  decodeCommit,
  decodeEvidence,
  decodeMessage,
  decodeSignState,
  type Evidence,
  encodeCommit,
  encodeEvidence,
  encodeMessage,
  encodeSignState,
  makeEvidence,
  maxFaulty,
  messageCodec,
  proposalSignBytes,
  proposerIndex,
  quorum,
  type SignState,
  skipThreshold,
  valueKey,
  verifyCommit,
  verifyEvidence,
  verifyProposalSignature,
  verifyVoteSignature,
  voteSignBytes,
} from '../src/index.js';
import { A, B, CHAIN, commitOf, OTHER_CHAIN, proposal, set, vote } from './harness.js';

describe('thresholds and rotation', () => {
  it('quorum is more than two thirds, f + 1 contains a correct validator', () => {
    expect([4, 5, 6, 7, 21].map(quorum)).toEqual([3, 4, 5, 5, 15]);
    expect([4, 5, 6, 7, 21].map(maxFaulty)).toEqual([1, 1, 1, 2, 6]);
    expect([4, 7].map(skipThreshold)).toEqual([2, 3]);
    // any two quorums intersect in more than f validators
    for (let n = 1; n <= 100; n++) expect(2 * quorum(n) - n).toBeGreaterThan(maxFaulty(n));
  });

  it('proposer(h, r) = validators[(h + r) mod n]', () => {
    expect([0, 1, 2, 3, 4].map((r) => proposerIndex(10n, r, 4))).toEqual([2, 3, 0, 1, 2]);
    expect(proposerIndex(2n ** 63n, 5, 7)).toBe(Number((2n ** 63n + 5n) % 7n));
  });
});

describe('encodings', () => {
  it('every message round-trips through bytes and JSON', () => {
    const msgs = [
      { kind: 'proposal', proposal: proposal(3n, 1, A, 0) },
      { kind: 'vote', vote: vote(2, 'prevote', 3n, 1, null) },
      { kind: 'vote', vote: vote(2, 'precommit', 3n, 1, B) },
      { kind: 'commit', commit: commitOf(3n, 1, A, [0, 2, 3]) },
    ] as const;
    for (const m of msgs) {
      expect(decodeMessage(encodeMessage(m))).toEqual(m);
      expect(messageCodec.fromJSON(JSON.parse(JSON.stringify(messageCodec.toJSON(m))), '')).toEqual(m);
    }
    const c = commitOf(3n, 1, A, [0, 1, 2]);
    expect(decodeCommit(encodeCommit(c))).toEqual({ ...c });
    const ev = makeEvidence(vote(1, 'prevote', 3n, 0, A), vote(1, 'prevote', 3n, 0, null))!;
    expect(decodeEvidence(encodeEvidence(ev))).toEqual(ev);
  });

  it('decoding rejects trailing bytes, unknown kinds and the reserved round', () => {
    const bytes = encodeMessage({ kind: 'vote', vote: vote(0, 'prevote', 1n, 0, A) });
    expect(() => decodeMessage(new Uint8Array([...bytes, 0]))).toThrow(RoamError);
    expect(() => decodeMessage(new Uint8Array([9, ...bytes.subarray(1)]))).toThrow(RoamError);
    const badRound = bytes.slice();
    badRound.set([0xff, 0xff, 0xff, 0xff], 1 + 1 + 8);
    expect(() => decodeMessage(badRound)).toThrow(/round/);
    // a commit needs at least one signature to be encodable at all
    expect(() => encode(commitCodec, { height: 1n, round: 0, value: A, signatures: [] } as Commit)).toThrow(
      RoamError,
    );
  });

  it('the sign state round-trips (the node stores these bytes)', () => {
    const s: SignState = {
      height: 9n,
      round: 2,
      step: 'precommit',
      lockedValue: A,
      lockedRound: 1,
      validValue: B,
      validRound: 2,
      proposal: proposal(9n, 2, B, 1),
      prevote: vote(0, 'prevote', 9n, 2, B),
      precommit: vote(0, 'precommit', 9n, 2, B),
    };
    expect(decodeSignState(encodeSignState(s))).toEqual(s);
    const empty: SignState = { ...s, lockedValue: null, lockedRound: -1, proposal: null, precommit: null };
    expect(decodeSignState(encodeSignState(empty))).toEqual(empty);
  });
});

describe('signatures', () => {
  it('sign bytes bind chain, kind, height, round, value and signer', () => {
    const v = vote(1, 'prevote', 5n, 2, A);
    expect(verifyVoteSignature(v, set, nobleVerifier, CHAIN)).toBe(true);
    expect(verifyVoteSignature(v, set, nobleVerifier, OTHER_CHAIN)).toBe(false);
    expect(verifyVoteSignature({ ...v, type: 'precommit' }, set, nobleVerifier, CHAIN)).toBe(false);
    expect(verifyVoteSignature({ ...v, round: 3 }, set, nobleVerifier, CHAIN)).toBe(false);
    expect(verifyVoteSignature({ ...v, value: null }, set, nobleVerifier, CHAIN)).toBe(false);
    expect(verifyVoteSignature({ ...v, validator: 2 }, set, nobleVerifier, CHAIN)).toBe(false);
    expect(verifyVoteSignature({ ...v, validator: 9 }, set, nobleVerifier, CHAIN)).toBe(false);
    const p = proposal(5n, 2, A, 1);
    expect(verifyProposalSignature(p, set, nobleVerifier, CHAIN)).toBe(true);
    expect(verifyProposalSignature({ ...p, validRound: -1 }, set, nobleVerifier, CHAIN)).toBe(false);
    // the encodings of a proposal and a vote never coincide (kind byte after the domain tag)
    const pb = proposalSignBytes(CHAIN, p);
    const vb = voteSignBytes(CHAIN, v);
    const domain = new TextEncoder().encode('roamchain/consensus/v1').length;
    expect(pb[domain]).toBe(0);
    expect(vb[domain]).toBe(1);
  });

  it('value keys are lossless', () => {
    expect(valueKey(A)).not.toBe(valueKey(B));
    expect(valueKey(null)).toBe('nil');
    const x = new Uint8Array(32);
    const y = new Uint8Array(32);
    y[31] = 1;
    expect(valueKey(x)).not.toBe(valueKey(y));
  });
});

describe('verifyCommit', () => {
  const good = commitOf(7n, 1, A, [0, 2, 3]);

  it('accepts more than two thirds of valid precommits', () => {
    expect(verifyCommit(good, set, nobleVerifier, CHAIN)).toEqual({ ok: true });
    expect(verifyCommit(commitOf(7n, 1, A, [0, 1, 2, 3]), set, nobleVerifier, CHAIN).ok).toBe(true);
  });

  it('rejects too few, duplicated, unordered, unknown or bad signatures, and other chains', () => {
    const sigs = good.signatures;
    const cases: [string, Commit, Uint8Array][] = [
      ['too few', commitOf(7n, 1, A, [0, 2]), CHAIN],
      ['duplicate', { ...good, signatures: [sigs[0]!, sigs[0]!, sigs[1]!] }, CHAIN],
      ['unordered', { ...good, signatures: [sigs[1]!, sigs[0]!, sigs[2]!] }, CHAIN],
      ['unknown', { ...good, signatures: [...sigs, { validator: 4, signature: sigs[0]!.signature }] }, CHAIN],
      ['other value', { ...good, value: B }, CHAIN],
      ['other round', { ...good, round: 2 }, CHAIN],
      ['other height', { ...good, height: 8n }, CHAIN],
      [
        'prevotes',
        {
          ...good,
          signatures: [0, 2, 3].map((i) => ({
            validator: i,
            signature: vote(i, 'prevote', 7n, 1, A).signature,
          })),
        },
        CHAIN,
      ],
      ['other chain', good, OTHER_CHAIN],
      [
        'forged',
        { ...good, signatures: [sigs[0]!, sigs[1]!, { validator: 3, signature: sigs[1]!.signature }] },
        CHAIN,
      ],
    ];
    for (const [name, c, chain] of cases) {
      expect(verifyCommit(c, set, nobleVerifier, chain).ok, name).toBe(false);
    }
  });
});

describe('verifyEvidence', () => {
  const ev = makeEvidence(vote(2, 'precommit', 4n, 3, A), vote(2, 'precommit', 4n, 3, B))!;

  it('accepts two validly signed conflicting votes of one validator', () => {
    expect(verifyEvidence(ev, set, nobleVerifier, CHAIN)).toEqual({ ok: true });
    const nil = makeEvidence(vote(2, 'prevote', 4n, 3, A), vote(2, 'prevote', 4n, 3, null))!;
    expect(nil.a.value).toBeNull(); // canonical order: nil first
    expect(verifyEvidence(nil, set, nobleVerifier, CHAIN).ok).toBe(true);
  });

  it('rejects votes that do not conflict or are not both signed by the validator', () => {
    expect(makeEvidence(vote(2, 'prevote', 4n, 3, A), vote(2, 'prevote', 4n, 3, A))).toBeNull();
    const cases: [string, Evidence][] = [
      ['same value', { a: ev.a, b: ev.a }],
      ['other round', { a: ev.a, b: vote(2, 'precommit', 4n, 4, B) }],
      ['other height', { a: ev.a, b: vote(2, 'precommit', 5n, 3, B) }],
      ['other type', { a: vote(2, 'prevote', 4n, 3, A), b: ev.b }],
      ['other validator', { a: ev.a, b: vote(1, 'precommit', 4n, 3, B) }],
      ['order', { a: ev.b, b: ev.a }],
      ['bad signature', { a: ev.a, b: { ...ev.b, signature: ev.a.signature } }],
    ];
    for (const [name, e] of cases) expect(verifyEvidence(e, set, nobleVerifier, CHAIN).ok, name).toBe(false);
    expect(verifyEvidence(ev, set, nobleVerifier, OTHER_CHAIN).ok).toBe(false);
  });
});
