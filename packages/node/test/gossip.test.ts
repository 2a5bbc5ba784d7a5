/**
 * What the consensus driver verifies before it keeps or relays gossip (src/gossip.ts): each attack
 * of issue 11 on the message and body buffers, performed against the real checks.
 */
import {
  type ConsensusMessage,
  ed25519Signer,
  makeCommit,
  proposerIndex,
  signProposal,
  signVote,
  type ValidatorSet,
  type Vote,
} from '@roamchain/consensus';
import {
  type Block,
  blockId,
  bytesToHex,
  generateSigningKey,
  nobleVerifier,
  sha256,
  sign,
  utf8,
} from '@roamchain/protocol';
import { describe, expect, it } from 'vitest';
import {
  BodyStore,
  HeldProposals,
  MAX_BODIES_CURRENT,
  MAX_BODIES_NEXT,
  MAX_WANTED,
  MessageGuard,
} from '../src/gossip.js';

const chainId = sha256(utf8('gossip-test'));
const keys = [1, 2, 3, 4].map((i) => generateSigningKey(new Uint8Array(32).fill(i)));
const set: ValidatorSet = {
  validators: keys.map((k, i) => ({ publicKey: k.publicKey, name: `node-${i + 1}` })),
};
const signer = (i: number) => ed25519Signer(keys[i]!.secretKey);
const value = (b: number) => new Uint8Array(32).fill(b);

function vote(
  i: number,
  height: bigint,
  round: number,
  v: number | null,
  type: Vote['type'] = 'prevote',
): ConsensusMessage {
  return {
    kind: 'vote',
    vote: signVote(chainId, signer(i), {
      type,
      height,
      round,
      value: v === null ? null : value(v),
      validator: i,
    }),
  };
}

function body(height: bigint, producer: number, seed: number, signWith = producer): Block {
  const header = {
    version: 1,
    chainId,
    height,
    prev: new Uint8Array(32),
    time: 1000n + BigInt(seed),
    producer: `node-${producer + 1}`,
    txRoot: new Uint8Array(32),
    stateRoot: new Uint8Array(32),
    txCount: 0,
    lastCommitHash: new Uint8Array(32),
  };
  return {
    header,
    txs: [],
    signature: sign(keys[signWith]!.secretKey, blockId(header)),
    lastCommit: new Uint8Array(0),
  };
}

describe('MessageGuard', () => {
  it('rejects a forged vote of the current height and ignores one of the next height (never relayed)', () => {
    const g = new MessageGuard(chainId, nobleVerifier);
    const good = vote(1, 5n, 0, 7);
    const forged: ConsensusMessage = {
      kind: 'vote',
      vote: { ...(good as { kind: 'vote'; vote: Vote }).vote, signature: new Uint8Array(64) },
    };
    expect(g.admit(forged, set, 0, false)).toBe('reject');
    const forgedNext: ConsensusMessage = {
      kind: 'vote',
      vote: { ...(vote(1, 6n, 0, 7) as { kind: 'vote'; vote: Vote }).vote, signature: new Uint8Array(64) },
    };
    expect(g.admit(forgedNext, set, 0, true)).toBe('ignore');
    // A validator index outside the set.
    const stranger = {
      kind: 'vote',
      vote: { ...(good as { kind: 'vote'; vote: Vote }).vote, validator: 9 },
    } as const;
    expect(g.admit(stranger, set, 0, false)).toBe('reject');
    expect(g.admit(good, set, 0, false)).toBe('accept');
  });

  it('a flood of valid duplicates is accepted once, then ignored (not relayed again)', () => {
    const g = new MessageGuard(chainId, nobleVerifier);
    const m = vote(2, 5n, 0, 7, 'precommit');
    expect(g.admit(m, set, 0, false)).toBe('accept');
    for (let i = 0; i < 1000; i++) expect(g.admit(m, set, 0, false)).toBe('ignore');
  });

  it('keeps two values of one validator and step (evidence) and drops a third', () => {
    const g = new MessageGuard(chainId, nobleVerifier);
    expect(g.admit(vote(0, 5n, 0, 1), set, 0, false)).toBe('accept');
    expect(g.admit(vote(0, 5n, 0, 2), set, 0, false)).toBe('accept');
    expect(g.admit(vote(0, 5n, 0, 3), set, 0, false)).toBe('ignore');
    expect(g.admit(vote(0, 5n, 0, null), set, 0, false)).toBe('ignore');
    // Other validators are not affected.
    expect(g.admit(vote(1, 5n, 0, 3), set, 0, false)).toBe('accept');
  });

  it('bounds the rounds ahead one validator may occupy; the others keep theirs', () => {
    const g = new MessageGuard(chainId, nobleVerifier);
    expect(g.admit(vote(3, 5n, 100, 1), set, 0, false)).toBe('accept');
    expect(g.admit(vote(3, 5n, 101, 1), set, 0, false)).toBe('accept');
    expect(g.admit(vote(3, 5n, 102, 1), set, 0, false)).toBe('ignore');
    // Rounds at most one above the core's are always taken.
    expect(g.admit(vote(3, 5n, 1, 1), set, 0, false)).toBe('accept');
    expect(g.admit(vote(2, 5n, 102, 1), set, 0, false)).toBe('accept');
    // Once the core is past them they no longer count.
    expect(g.admit(vote(3, 5n, 102, 1), set, 101, false)).toBe('accept');
  });

  it('accepts a proposal only from proposer(h, r)', () => {
    const g = new MessageGuard(chainId, nobleVerifier);
    const r = 0;
    const p = proposerIndex(5n, r, 4);
    const other = (p + 1) % 4;
    const bad = signProposal(chainId, signer(other), {
      height: 5n,
      round: r,
      value: value(1),
      validRound: -1,
      proposer: other,
    });
    expect(g.admit({ kind: 'proposal', proposal: bad }, set, 0, false)).toBe('reject');
    const good = signProposal(chainId, signer(p), {
      height: 5n,
      round: r,
      value: value(1),
      validRound: -1,
      proposer: p,
    });
    expect(g.admit({ kind: 'proposal', proposal: good }, set, 0, false)).toBe('accept');
    expect(g.admit({ kind: 'proposal', proposal: good }, set, 0, false)).toBe('ignore');
  });

  it('verifies commits and looks at two per height at most', () => {
    const g = new MessageGuard(chainId, nobleVerifier);
    const votes = [0, 1, 2].map((i) => (vote(i, 6n, 0, 9, 'precommit') as { kind: 'vote'; vote: Vote }).vote);
    const c = makeCommit(6n, 0, value(9), votes);
    const forged = { ...c, signatures: c.signatures.map((s) => ({ ...s, signature: new Uint8Array(64) })) };
    expect(g.admit({ kind: 'commit', commit: forged }, set, 0, false)).toBe('reject');
    expect(g.admit({ kind: 'commit', commit: c }, set, 0, false)).toBe('accept');
    expect(g.admit({ kind: 'commit', commit: c }, set, 0, false)).toBe('ignore');
  });

  it('prune forgets heights below the current one', () => {
    const g = new MessageGuard(chainId, nobleVerifier);
    const m = vote(0, 5n, 0, 1);
    expect(g.admit(m, set, 0, false)).toBe('accept');
    g.prune(6n);
    expect(g.admit(m, set, 0, false)).toBe('accept'); // the driver ignores old heights before this
  });
});

describe('BodyStore', () => {
  it('junk bodies for the next height are ignored and never kept', () => {
    const s = new BodyStore();
    for (let i = 0; i < 100; i++) {
      const junk = body(6n, proposerIndex(6n, 0, 4), i, (proposerIndex(6n, 0, 4) + 1) % 4);
      expect(s.admitGossiped(junk, 0, set, 5n, nobleVerifier).verdict).toBe('ignore');
    }
    expect(s.count(6n)).toBe(0);
  });

  it('a body of the current height from a producer that is not proposer(h, r) is rejected', () => {
    const s = new BodyStore();
    const p = proposerIndex(5n, 0, 4);
    expect(s.admitGossiped(body(5n, (p + 1) % 4, 1), 0, set, 5n, nobleVerifier).verdict).toBe('reject');
    expect(s.admitGossiped(body(5n, p, 1, (p + 1) % 4), 0, set, 5n, nobleVerifier).verdict).toBe('reject');
    const ok = s.admitGossiped(body(5n, p, 1), 0, set, 5n, nobleVerifier);
    expect(ok.verdict).toBe('accept');
    expect(s.has(ok.idHex)).toBe(true);
    expect(s.admitGossiped(body(5n, p, 1), 0, set, 5n, nobleVerifier).verdict).toBe('ignore');
  });

  it('bounds bodies per round and per height; the next height never evicts the current one', () => {
    const s = new BodyStore();
    // The next height's bodies: at most MAX_BODIES_NEXT, two per round.
    let kept = 0;
    for (let r = 0; r < 40; r++) {
      for (let i = 0; i < 3; i++) {
        const b = body(6n, proposerIndex(6n, r, 4), r * 10 + i);
        if (s.admitGossiped(b, r, set, 5n, nobleVerifier).verdict === 'accept') kept++;
      }
    }
    expect(kept).toBe(MAX_BODIES_NEXT);
    // The current height still takes its bodies (up to its own bound).
    let current = 0;
    for (let r = 0; r < 40; r++) {
      const b = body(5n, proposerIndex(5n, r, 4), 1000 + r);
      if (s.admitGossiped(b, r, set, 5n, nobleVerifier).verdict === 'accept') current++;
    }
    expect(current).toBe(MAX_BODIES_CURRENT);
    s.prune(6n);
    expect(s.count(5n)).toBe(0);
    expect(s.count(6n)).toBe(MAX_BODIES_NEXT);
  });

  it('a body from catch-up is kept only if a verified message named it', () => {
    const s = new BodyStore();
    const held = new HeldProposals();
    const b = body(5n, 2, 1);
    const id = bytesToHex(blockId(b.header));
    expect(s.admitNamed(b, set, (x) => held.named(x), nobleVerifier)).toBe(false);
    held.want(id);
    expect(s.admitNamed(body(5n, 2, 1, 3), set, (x) => x === id || held.named(x), nobleVerifier)).toBe(false);
    expect(s.admitNamed(b, set, (x) => held.named(x), nobleVerifier)).toBe(true);
    for (let i = 0; i < 1000; i++) held.want(`x${i}`);
    expect(held.named(`x${MAX_WANTED}`)).toBe(false);
  });
});
