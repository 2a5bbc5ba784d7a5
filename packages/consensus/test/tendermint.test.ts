/**
 * The upon-rules of Algorithm 1, one at a time, on a single core with a recording host (n = 4,
 * f = 1, quorum 3; at height 1 the proposer of round r is validator (1 + r) mod 4).
 */
import { nobleVerifier } from '@roamchain/protocol';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_TIMEOUTS,
  decodeSignState,
  encodeSignState,
  verifyCommit,
  verifyEvidence,
} from '../src/index.js';
import { A, B, BAD, C, CHAIN, commitOf, hex, node, proposal, RecordingHost, set, vote } from './harness.js';

const H = 1n;

describe('StartRound (L11-L21)', () => {
  it('a non-proposer arms timeoutPropose and nothing else', () => {
    const { core, host } = node(0);
    core.start(H);
    expect(host.sent).toEqual([]);
    expect(host.timeouts).toEqual([
      { kind: 'propose', height: H, round: 0, ms: DEFAULT_TIMEOUTS.proposeBase },
    ]);
    expect(core.snapshot()).toMatchObject({ round: 0, step: 'propose', lockedRound: -1, validRound: -1 });
  });

  it('the proposer proposes getValue() with validRound -1, persisting before it broadcasts', () => {
    const { core, host } = node(1);
    core.start(H);
    const [p] = host.proposals();
    expect(p).toMatchObject({ height: H, round: 0, validRound: -1, proposer: 1 });
    expect(hex(p!.value)).toBe(hex(A));
    expect(host.timeouts).toEqual([]); // the paper arms timeoutPropose only at non-proposers
    expect(host.log.slice(0, 2)).toEqual(['persist 1/0/propose', 'broadcast proposal 1/0']);
    // it receives its own proposal and prevotes for it (L22-L24)
    expect(hex(host.lastVote()?.value)).toBe(hex(A));
  });

  it('timeouts grow with the round', () => {
    const { core, host } = node(0);
    core.start(H);
    for (let r = 0; r < 3; r++) core.onTimeout('precommit', H, r);
    const proposes = host.timeouts.filter((t) => t.kind === 'propose').map((t) => t.ms);
    expect(proposes).toEqual(
      [0, 1, 2].map((r) => DEFAULT_TIMEOUTS.proposeBase + r * DEFAULT_TIMEOUTS.proposeDelta),
    );
    // round 3's proposer is validator 0 itself: it proposed instead of arming a timeout
    expect(core.snapshot().round).toBe(3);
  });
});

describe('L22-L27: proposal with validRound -1', () => {
  it('prevotes a valid value', () => {
    const { core, host } = node(0);
    core.start(H);
    core.onProposal(proposal(H, 0, A));
    expect(host.votes()).toHaveLength(1);
    expect(host.lastVote()).toMatchObject({ type: 'prevote', round: 0, validator: 0 });
    expect(hex(host.lastVote()!.value)).toBe(hex(A));
    expect(core.snapshot().step).toBe('prevote');
  });

  it('prevotes nil for an invalid value', () => {
    const { core, host } = node(0);
    core.start(H);
    core.onProposal(proposal(H, 0, BAD));
    expect(host.lastVote()?.value).toBeNull();
  });

  it('ignores a proposal from anyone but proposer(h, r) and one with a bad signature', () => {
    const { core, host } = node(0);
    core.start(H);
    const p = proposal(H, 0, A);
    core.onProposal({ ...p, proposer: 2 });
    core.onProposal({ ...p, value: B });
    expect(host.sent).toEqual([]);
    expect(core.stats.badSignatures).toBe(1);
  });
});

/** Drives node 0 to lock on `value` in round 0 (proposal + prevotes of 1, 2 and itself). */
function lockedOn(value = A) {
  const n = node(0);
  n.core.start(H);
  n.core.onProposal(proposal(H, 0, value));
  n.core.onVote(vote(1, 'prevote', H, 0, value));
  n.core.onVote(vote(2, 'prevote', H, 0, value));
  return n;
}

describe('L36-L43: 2f+1 prevotes for the proposal', () => {
  it('locks and precommits; the lock is on disk before the precommit leaves', () => {
    const { core, host } = lockedOn(A);
    expect(core.snapshot()).toMatchObject({ step: 'precommit', lockedRound: 0, validRound: 0 });
    expect(hex(core.snapshot().lockedValue)).toBe(hex(A));
    const pc = host.votes('precommit');
    expect(pc).toHaveLength(1);
    expect(hex(pc[0]!.value)).toBe(hex(A));
    const i = host.log.indexOf('broadcast precommit 1/0');
    expect(host.log[i - 1]).toBe('persist 1/0/precommit');
    expect(hex(host.disk!.lockedValue)).toBe(hex(A));
    expect(host.disk!.lockedRound).toBe(0);
    // no timeoutPrevote: L36 fired before L34 could (the paper allows either order)
    expect(host.timeouts.filter((t) => t.kind === 'prevote')).toEqual([]);
  });

  it('in the precommit step it only updates validValue/validRound (no second precommit)', () => {
    const { core, host } = node(0);
    core.start(H);
    core.onProposal(proposal(H, 0, A));
    core.onVote(vote(1, 'prevote', H, 0, null));
    core.onVote(vote(2, 'prevote', H, 0, B));
    core.onTimeout('prevote', H, 0); // L61: precommit nil
    expect(host.votes('precommit').map((v) => v.value)).toEqual([null]);
    core.onVote(vote(3, 'prevote', H, 0, A));
    core.onVote(vote(2, 'prevote', H, 0, A)); // validator 2 equivocates: counted per value, and evidence
    expect(core.snapshot()).toMatchObject({ lockedRound: -1, validRound: 0 });
    expect(hex(core.snapshot().validValue)).toBe(hex(A));
    expect(host.votes('precommit')).toHaveLength(1);
    expect(host.evidences).toHaveLength(1);
  });

  it('the next proposer re-proposes its valid value with its valid round', () => {
    const { core, host } = lockedOn(A);
    // rounds 1 and 2 fail; round 3's proposer is validator 0
    core.onTimeout('precommit', H, 0);
    core.onTimeout('precommit', H, 1);
    core.onTimeout('precommit', H, 2);
    const p = host.proposals().at(-1)!;
    expect(p).toMatchObject({ round: 3, validRound: 0 });
    expect(hex(p.value)).toBe(hex(A));
    expect(host.getValueCalls).toBe(0);
  });
});

describe('L28-L33: proposal with a valid round', () => {
  it('a locked validator prevotes nil for another value proposed with validRound -1 (L23)', () => {
    const { core, host } = lockedOn(A);
    core.onTimeout('precommit', H, 0); // round 1, proposer 2
    core.onProposal(proposal(H, 1, B));
    expect(host.lastVote()).toMatchObject({ type: 'prevote', round: 1, value: null });
  });

  it('prevotes v when lockedRound <= vr', () => {
    const { core, host } = lockedOn(A); // locked A at round 0
    core.onTimeout('precommit', H, 0); // round 1, proposer 2; its proposal never arrives
    core.onTimeout('propose', H, 1);
    for (const i of [1, 2, 3]) core.onVote(vote(i, 'prevote', H, 1, B)); // POL for B in round 1
    core.onTimeout('prevote', H, 1);
    core.onTimeout('precommit', H, 1); // round 2, proposer 3
    core.onProposal(proposal(H, 2, B, 1));
    expect(host.lastVote()).toMatchObject({ type: 'prevote', round: 2 });
    expect(hex(host.lastVote()!.value)).toBe(hex(B));
  });

  it('prevotes nil when locked in a later round than vr on another value', () => {
    const { core, host } = node(0);
    core.start(H);
    for (const i of [1, 2, 3]) core.onVote(vote(i, 'prevote', H, 0, B)); // POL for B in round 0
    core.onTimeout('propose', H, 0);
    core.onTimeout('prevote', H, 0);
    core.onTimeout('precommit', H, 0);
    // round 1: lock on A
    core.onProposal(proposal(H, 1, A));
    core.onVote(vote(2, 'prevote', H, 1, A));
    core.onVote(vote(3, 'prevote', H, 1, A));
    expect(core.snapshot()).toMatchObject({ lockedRound: 1 });
    core.onTimeout('precommit', H, 1);
    core.onProposal(proposal(H, 2, B, 0)); // vr = 0 < lockedRound = 1, B != A
    expect(host.lastVote()).toMatchObject({ type: 'prevote', round: 2, value: null });
  });

  it('waits in the propose step until the POL prevotes arrive', () => {
    const { core, host } = node(0);
    core.start(H);
    core.onTimeout('propose', H, 0);
    core.onTimeout('prevote', H, 0);
    core.onTimeout('precommit', H, 0);
    core.onTimeout('precommit', H, 0); // stale: ignored
    expect(core.snapshot().round).toBe(1);
    core.onProposal(proposal(H, 1, C, 0));
    const before = host.votes().length;
    core.onVote(vote(1, 'prevote', H, 0, C));
    core.onVote(vote(2, 'prevote', H, 0, C));
    expect(host.votes().length).toBe(before);
    core.onVote(vote(3, 'prevote', H, 0, C));
    expect(hex(host.lastVote()!.value)).toBe(hex(C));
    expect(host.lastVote()!.round).toBe(1);
  });
});

describe('L34, L44, L47 and the timeouts (L57-L67)', () => {
  it('2f+1 prevotes of any kind arm timeoutPrevote; OnTimeoutPrevote precommits nil', () => {
    const { core, host } = node(0);
    core.start(H);
    core.onProposal(proposal(H, 0, A));
    core.onVote(vote(1, 'prevote', H, 0, B));
    expect(host.timeouts.filter((t) => t.kind === 'prevote')).toEqual([]);
    core.onVote(vote(2, 'prevote', H, 0, null));
    expect(host.timeouts.filter((t) => t.kind === 'prevote')).toEqual([
      { kind: 'prevote', height: H, round: 0, ms: DEFAULT_TIMEOUTS.prevoteBase },
    ]);
    core.onTimeout('prevote', H, 1); // wrong round: ignored
    expect(host.votes('precommit')).toEqual([]);
    core.onTimeout('prevote', H, 0);
    expect(host.votes('precommit').map((v) => v.value)).toEqual([null]);
  });

  it('2f+1 nil prevotes: precommit nil at once (L44)', () => {
    const { core, host } = node(0);
    core.start(H);
    core.onTimeout('propose', H, 0); // L57: prevote nil
    expect(host.lastVote()).toMatchObject({ type: 'prevote', value: null });
    core.onVote(vote(1, 'prevote', H, 0, null));
    core.onVote(vote(2, 'prevote', H, 0, null));
    expect(host.lastVote()).toMatchObject({ type: 'precommit', value: null });
  });

  it('2f+1 precommits of any kind arm timeoutPrecommit; it starts the next round (L65-L67)', () => {
    const { core, host } = node(0);
    core.start(H);
    core.onVote(vote(1, 'precommit', H, 0, A));
    core.onVote(vote(2, 'precommit', H, 0, null));
    expect(host.timeouts.some((t) => t.kind === 'precommit')).toBe(false);
    core.onVote(vote(3, 'precommit', H, 0, B));
    expect(host.timeouts.filter((t) => t.kind === 'precommit')).toEqual([
      { kind: 'precommit', height: H, round: 0, ms: DEFAULT_TIMEOUTS.precommitBase },
    ]);
    core.onTimeout('precommit', H, 0);
    expect(core.snapshot()).toMatchObject({ round: 1, step: 'propose' });
  });
});

describe('L49: decision', () => {
  it('decides on 2f+1 precommits at once, in any round, with a commit anyone can verify', () => {
    const { core, host } = node(0);
    core.start(H);
    core.onTimeout('propose', H, 0);
    core.onTimeout('prevote', H, 0);
    core.onTimeout('precommit', H, 0);
    core.onTimeout('propose', H, 1);
    expect(core.snapshot().round).toBe(1);
    core.onVote(vote(1, 'precommit', H, 0, A));
    core.onVote(vote(2, 'precommit', H, 0, A));
    expect(host.decisions).toEqual([]);
    core.onVote(vote(3, 'precommit', H, 0, A));
    expect(host.decisions).toHaveLength(1);
    const d = host.decisions[0]!;
    expect(d.height).toBe(H);
    expect(hex(d.value)).toBe(hex(A));
    expect(d.commit.round).toBe(0);
    expect(d.commit.signatures.map((s) => s.validator)).toEqual([1, 2, 3]);
    expect(verifyCommit(d.commit, set, nobleVerifier, CHAIN)).toEqual({ ok: true });
    expect(core.snapshot().decided).toBe(true);
  });

  it('does not decide an invalid value', () => {
    const { core, host } = node(0);
    core.start(H);
    for (const i of [1, 2, 3]) core.onVote(vote(i, 'precommit', H, 0, BAD));
    expect(host.decisions).toEqual([]);
  });

  it('catches up from a commit (a peer decided already) and then buffers the next height until start', () => {
    const { core, host } = node(0);
    core.start(H);
    core.onCommit(commitOf(H, 2, B, [0, 1])); // too few signatures: ignored
    expect(host.decisions).toEqual([]);
    core.onCommit(commitOf(H, 2, B, [1, 2, 3]));
    expect(host.decisions.map((d) => hex(d.value))).toEqual([hex(B)]);
    // height 2 messages arrive before the host calls start(2): held, then processed
    core.onProposal(proposal(2n, 0, C)); // proposer(2, 0) = 2
    core.start(2n);
    expect(host.lastVote()).toMatchObject({ type: 'prevote', height: 2n, round: 0 });
    expect(hex(host.lastVote()!.value)).toBe(hex(C));
  });

  it('an observer (no key) follows and decides without signing anything', () => {
    const { core, host } = node(null);
    core.start(H);
    core.onProposal(proposal(H, 0, A));
    for (const i of [0, 1, 2]) core.onVote(vote(i, 'prevote', H, 0, A));
    for (const i of [0, 1, 2]) core.onVote(vote(i, 'precommit', H, 0, A));
    expect(host.sent).toEqual([]);
    expect(host.persisted).toEqual([]);
    expect(host.decisions).toHaveLength(1);
  });
});

describe('L55: round skipping', () => {
  it('f+1 messages of a higher round start that round', () => {
    const { core } = node(0);
    core.start(H);
    core.onVote(vote(1, 'prevote', H, 5, A));
    expect(core.snapshot().round).toBe(0);
    core.onVote(vote(2, 'precommit', H, 5, null));
    expect(core.snapshot()).toMatchObject({ round: 5, step: 'propose' });
  });
});

describe('evidence', () => {
  it('two conflicting votes of one validator are reported once, and verify', () => {
    const { core, host } = node(0);
    core.start(H);
    core.onVote(vote(3, 'prevote', H, 0, A));
    core.onVote(vote(3, 'prevote', H, 0, B));
    core.onVote(vote(3, 'prevote', H, 0, null));
    core.onVote(vote(3, 'precommit', H, 0, A)); // other type: no conflict
    expect(host.evidences).toHaveLength(1);
    expect(verifyEvidence(host.evidences[0]!, set, nobleVerifier, CHAIN)).toEqual({ ok: true });
    expect(host.evidences[0]!.a.validator).toBe(3);
  });
});

describe('safety across restarts (kill -9)', () => {
  it('the sign state is persisted before every signed message leaves', () => {
    const { core, host } = node(1); // the proposer of round 0
    core.start(H);
    core.onVote(vote(2, 'prevote', H, 0, A));
    core.onVote(vote(3, 'prevote', H, 0, A));
    core.onVote(vote(2, 'precommit', H, 0, A));
    core.onVote(vote(3, 'precommit', H, 0, A));
    expect(host.decisions).toHaveLength(1);
    expect(host.log.filter((l) => l.startsWith('broadcast'))).toHaveLength(3);
    for (const [i, line] of host.log.entries()) {
      if (!line.startsWith('broadcast')) continue;
      const [, kind, hr] = line.split(' ');
      expect(host.log[i - 1]).toBe(`persist ${hr}/${kind === 'proposal' ? 'propose' : kind}`);
    }
    expect(decodeSignState(encodeSignState(host.disk!))).toEqual(host.disk);
  });

  it('after a restart it re-sends its prevote and never signs a conflicting one', () => {
    const first = node(0);
    first.core.start(H);
    first.core.onProposal(proposal(H, 0, A));
    const sent = first.host.lastVote()!;
    expect(hex(sent.value)).toBe(hex(A));

    // kill -9: memory is gone, the disk (sign state) survives
    const host2 = new RecordingHost();
    host2.disk = first.host.disk;
    const { core } = node(0, host2);
    core.start(H);
    expect(core.snapshot()).toMatchObject({ round: 0, step: 'prevote' });
    expect(host2.votes()).toHaveLength(1);
    expect(host2.votes()[0]!.signature).toEqual(sent.signature);
    // an equivocating proposer now shows it another block, and the timeout fires: no new prevote
    core.onProposal(proposal(H, 0, B));
    core.onTimeout('propose', H, 0);
    expect(host2.votes('prevote')).toHaveLength(1);
    // the protocol continues from the persisted step: it may precommit, but never prevotes again in round 0
    for (const i of [1, 2, 3]) core.onVote(vote(i, 'prevote', H, 0, null));
    expect(host2.votes('prevote')).toHaveLength(1);
    expect(host2.lastVote()).toMatchObject({ type: 'precommit', value: null });
  });

  it('resumes in the persisted step, so what it sees after the restart cannot make it prevote again', () => {
    const first = node(0);
    first.core.start(H);
    first.core.onTimeout('propose', H, 0); // prevote nil persisted
    const host2 = new RecordingHost();
    host2.disk = first.host.disk;
    const { core } = node(0, host2);
    core.start(H);
    // the restarted core is in the prevote step already; feed it what would make it prevote A
    core.onProposal(proposal(H, 0, A));
    expect(host2.votes('prevote').map((v) => v.value)).toEqual([null]);
  });

  it('the lock survives a restart', () => {
    const first = lockedOn(A);
    const host2 = new RecordingHost();
    host2.disk = first.host.disk;
    const { core } = node(0, host2);
    core.start(H);
    expect(core.snapshot()).toMatchObject({ round: 0, step: 'precommit', lockedRound: 0 });
    core.onTimeout('precommit', H, 0);
    core.onProposal(proposal(H, 1, B));
    expect(host2.lastVote()).toMatchObject({ type: 'prevote', round: 1, value: null });
  });

  it('a restarted proposer re-sends its proposal instead of proposing a new block', () => {
    const first = node(1);
    first.core.start(H);
    const p = first.host.proposals()[0]!;
    const host2 = new RecordingHost();
    host2.disk = first.host.disk;
    host2.nextValues = [C];
    const { core } = node(1, host2);
    core.start(H);
    expect(host2.getValueCalls).toBe(0);
    expect(host2.proposals()).toEqual([p]);
  });

  it('a restart at a later height ignores the old lock; a restart at an earlier height signs nothing', () => {
    const first = lockedOn(A);
    const host2 = new RecordingHost();
    host2.disk = first.host.disk;
    const later = node(0, host2);
    later.core.start(2n);
    expect(later.core.snapshot()).toMatchObject({ height: 2n, round: 0, lockedRound: -1 });

    const host3 = new RecordingHost();
    host3.disk = { ...first.host.disk!, height: 5n };
    const earlier = node(0, host3);
    earlier.core.start(H);
    earlier.core.onProposal(proposal(H, 0, A));
    expect(host3.sent).toEqual([]);
    expect(earlier.core.stats.refusedSignatures).toBe(1);
  });
});

describe('gossip', () => {
  it('re-sends own messages, the current round votes and the last commit', () => {
    const { core } = lockedOn(A);
    const kinds = core
      .gossip()
      .map((m) => (m.kind === 'vote' ? `${m.vote.type}:${m.vote.validator}` : m.kind));
    expect(kinds.sort()).toEqual(['precommit:0', 'prevote:0', 'prevote:1', 'prevote:2', 'proposal'].sort());
    core.onVote(vote(1, 'precommit', H, 0, A));
    core.onVote(vote(2, 'precommit', H, 0, A));
    expect(core.gossip().map((m) => m.kind)).toEqual(['commit']);
  });
});

describe('PBTS: timely(proposal) at L23 only', () => {
  it('prevotes nil for a valid value whose time is not timely; a POL re-proposal of it is not judged by the clock', () => {
    const { core, host } = node(0);
    const judged: number[] = [];
    host.timely = (_v, _h, round) => {
      judged.push(round);
      return false;
    };
    core.start(H);
    core.onProposal(proposal(H, 0, A));
    expect(host.lastVote()).toMatchObject({ type: 'prevote', round: 0, value: null });
    expect(judged).toEqual([0]);
    // The others found A timely in round 0 (a POL); round 1 re-proposes it with validRound 0 (L28).
    for (const i of [1, 2, 3]) core.onVote(vote(i, 'prevote', H, 0, A));
    core.onTimeout('precommit', H, 0); // round 1, proposer 2
    core.onProposal(proposal(H, 1, A, 0));
    expect(hex(host.lastVote()!.value)).toBe(hex(A));
    expect(judged).toEqual([0]);
  });
});
