/**
 * Tendermint consensus, Algorithm 1 of "The latest gossip on BFT consensus" (Buchman, Kwon,
 * Milosevic, 2018), as a pure, I/O-free state machine.
 *
 * Inputs: `start(height)`, `onProposal`, `onVote`, `onCommit`, `onTimeout` (or `onMessage`).
 * Outputs: calls on the injected `Host`. Comments `// L<n>` name the line of Algorithm 1 that the
 * code implements; DEVIATIONS.md lists every place where this differs from the paper and why it
 * is still safe.
 *
 * Host contract:
 * - `persist(state)` is synchronous and must be durable when it returns (the node fsyncs). The core
 *   calls it before any signature leaves through `broadcast`.
 * - Callbacks must not call back into the core synchronously. After `decide(h, …)` the host applies
 *   the block and then calls `start(h + 1)` (L52-54 are split this way so applying may be async);
 *   messages for h + 1 that arrive meanwhile are buffered.
 * - `validValue(v)` must be deterministic: every correct node answers the same for the same block
 *   id at the same height. A node should hand a proposal to the core only once it holds the
 *   block body for the id (otherwise it would prevote nil on a good block).
 */
import type { SignatureVerifier } from '@roamchain/protocol';
import {
  type Commit,
  type ConsensusMessage,
  commitVotes,
  type Evidence,
  makeCommit,
  makeEvidence,
  type Proposal,
  type SignState,
  sameValue,
  signProposal,
  signVote,
  type Vote,
  valueKey,
  verifyCommit,
  verifyProposalSignature,
  verifyVoteSignature,
} from './messages.js';
import {
  DEFAULT_TIMEOUTS,
  proposerIndex,
  quorum,
  type Signer,
  STEP_RANK,
  type Step,
  skipThreshold,
  type TimeoutConfig,
  type TimeoutKind,
  timeoutFor,
  type ValidatorSet,
  type Value,
  type VoteType,
} from './types.js';

export interface Host {
  /** The application's block for this height (L18). Called only when this node proposes. */
  getValue(height: bigint, round: number): Value;
  /**
   * valid(v) of the paper: the application's verdict on a block id at this height. `undefined`
   * means "not known yet" (the node does not hold the block body): nothing is decided or cached on
   * it, and the host calls `recheck()` once the body has arrived. A node hands a PROPOSAL to the
   * core only with its body, so L22/L28 always get a verdict; `undefined` only ever delays L49.
   */
  validValue(value: Value, height: bigint): boolean | undefined;
  /**
   * timely(proposal) of proposer-based timestamps (PBTS): the block's time is within this node's
   * clock bounds when its proposal arrived. Asked only at L23 (a proposal with validRound -1): a
   * value re-proposed with a POL round was already found timely by 2f+1 validators (L29 has no such
   * check), so a lock can never be stranded by the clock. Absent: always timely.
   */
  timely?(value: Value, height: bigint, round: number): boolean;
  /** Send to every other validator (gossip). The core delivers its own messages to itself. */
  broadcast(msg: ConsensusMessage): void;
  /** Call `onTimeout(kind, height, round)` after `ms` milliseconds. */
  scheduleTimeout(kind: TimeoutKind, height: bigint, round: number, ms: number): void;
  /** decision_p[h] = v (L51), with the commit that proves it. Then call `start(height + 1)`. */
  decide(height: bigint, value: Value, commit: Commit): void;
  /** Store the sign state durably; must complete before returning. */
  persist(state: SignState): void;
  /** Two conflicting votes of one validator were seen (reported once per validator, round and type). */
  evidence?(ev: Evidence): void;
}

export interface TendermintOptions {
  chainId: Uint8Array;
  validators: ValidatorSet;
  /** Our index in the validator set, or null to follow consensus without signing (observer). */
  self: number | null;
  signer: Signer | null;
  verifier: SignatureVerifier;
  host: Host;
  /** The sign state loaded from disk at start-up (null on first start). */
  signState?: SignState | null;
  timeouts?: Partial<TimeoutConfig>;
  /** Messages held for the next height or before `start` (default 4096). */
  maxBuffered?: number;
  /** Distinct proposals kept per round (an equivocating proposer may send several; default 4). */
  maxProposalsPerRound?: number;
}

/**
 * What the core has seen in one round of the current height. Votes are counted per value and
 * distinct sender, as the paper counts messages: a validator that equivocates is counted for each
 * value it signed (the quorum intersection argument already allows f such validators), and its
 * second vote is also evidence.
 */
class RoundState {
  /** validator -> its votes of this round and type, distinct values, first received first */
  readonly prevotes = new Map<number, Vote[]>();
  readonly precommits = new Map<number, Vote[]>();
  /** value key ('nil' or hex) -> number of distinct validators that voted for it */
  readonly prevoteTally = new Map<string, number>();
  readonly precommitTally = new Map<string, number>();
  /** value key -> value (non-nil values voted for in this round) */
  readonly values = new Map<string, Value>();
  /** Validators that sent any message for this round (L55). */
  readonly senders = new Set<number>();
  /** Proposals from proposer(h, r), by value key. */
  readonly proposals = new Map<string, Proposal>();
  fired34 = false;
  fired36 = false;
  fired47 = false;
}

export interface ConsensusSnapshot {
  height: bigint;
  round: number;
  step: Step;
  lockedValue: Value | null;
  lockedRound: number;
  validValue: Value | null;
  validRound: number;
  decided: boolean;
}

export interface ConsensusStats {
  /** Signatures the double-sign guard refused (only happens after a restart). */
  refusedSignatures: number;
  decisions: number;
  /** Prevotes that were nil only because of the lock (L23/L29 with a valid value). */
  lockedNil: number;
  /** Prevotes for a value re-proposed with a valid round (L28-L30). */
  polPrevotes: number;
  /** Highest round entered. */
  maxRound: number;
  evidence: number;
  badSignatures: number;
}

/** Distinct non-nil, never-proposed values kept per validator, round and type. */
const MAX_VOTES_PER_VALIDATOR = 2;

function heightOf(m: ConsensusMessage): bigint {
  return m.kind === 'proposal' ? m.proposal.height : m.kind === 'vote' ? m.vote.height : m.commit.height;
}

function validRoundNumber(r: unknown): r is number {
  return typeof r === 'number' && Number.isInteger(r) && r >= 0 && r < 0xffffffff;
}

export class Tendermint {
  private readonly chainId: Uint8Array;
  private validators: ValidatorSet;
  private readonly self: number | null;
  private readonly signer: Signer | null;
  private readonly verifier: SignatureVerifier;
  private readonly host: Host;
  private readonly timeouts: TimeoutConfig;
  private readonly maxBuffered: number;
  private readonly maxProposalsPerRound: number;
  private signState: SignState | null;

  // L2-L9
  private h = 0n;
  private round = 0;
  private step: Step = 'propose';
  private decision: Commit | null = null;
  private lockedValue: Value | null = null;
  private lockedRound = -1;
  private validValue: Value | null = null;
  private validRound = -1;

  private started = false;
  private rounds = new Map<number, RoundState>();
  private validity = new Map<string, boolean>();
  private ownMessages: ConsensusMessage[] = [];
  private buffer: ConsensusMessage[] = [];
  private lastCommit: Commit | null = null;
  private reported = new Set<string>();
  /** Keys of the values proposed at this height. */
  private proposed = new Set<string>();

  readonly stats: ConsensusStats = {
    refusedSignatures: 0,
    decisions: 0,
    lockedNil: 0,
    polPrevotes: 0,
    maxRound: 0,
    evidence: 0,
    badSignatures: 0,
  };

  constructor(o: TendermintOptions) {
    this.chainId = o.chainId;
    this.validators = o.validators;
    this.self = o.self;
    this.signer = o.signer;
    this.verifier = o.verifier;
    this.host = o.host;
    this.timeouts = { ...DEFAULT_TIMEOUTS, ...o.timeouts };
    this.maxBuffered = o.maxBuffered ?? 4096;
    this.maxProposalsPerRound = o.maxProposalsPerRound ?? 4;
    this.signState = o.signState ?? null;
    if (this.self !== null && (this.signer === null || !o.validators.validators[this.self])) {
      throw new Error('a validator needs a signer and an index in the set');
    }
  }

  // -------------------------------------------------------------------------------------------
  // Inputs

  /**
   * Start consensus for `height` (L10; for later heights L52-L54). A set may be given when the
   * active set changes. If the persisted sign state is for this height, the node resumes in the
   * round it last signed in, with its lock, and re-sends what it signed there.
   */
  start(height: bigint, validators?: ValidatorSet): void {
    if (validators) {
      if (this.self !== null && !validators.validators[this.self]) throw new Error('self not in the new set');
      this.validators = validators;
    }
    this.h = height;
    this.decision = null;
    this.rounds = new Map();
    this.validity = new Map();
    this.ownMessages = [];
    this.reported = new Set();
    this.proposed = new Set();
    // L53
    this.lockedValue = null;
    this.lockedRound = -1;
    this.validValue = null;
    this.validRound = -1;
    let r0 = 0;
    const ss = this.signState;
    if (ss && ss.height === height) {
      this.lockedValue = ss.lockedValue;
      this.lockedRound = ss.lockedRound;
      this.validValue = ss.validValue;
      this.validRound = ss.validRound;
      r0 = ss.round;
    }
    this.started = true;
    this.startRound(r0); // L10 / L54
    const held = this.buffer;
    this.buffer = [];
    for (const m of held) {
      const mh = heightOf(m);
      if (mh === height) this.handle(m);
      else if (mh === height + 1n) this.buffer.push(m);
    }
    this.progress();
  }

  onMessage(m: ConsensusMessage): void {
    if (m.kind === 'proposal') this.onProposal(m.proposal);
    else if (m.kind === 'vote') this.onVote(m.vote);
    else this.onCommit(m.commit);
  }

  onProposal(p: Proposal): void {
    if (this.hold({ kind: 'proposal', proposal: p }, p.height)) return;
    if (this.acceptProposal(p)) this.progress();
  }

  onVote(v: Vote): void {
    if (this.hold({ kind: 'vote', vote: v }, v.height)) return;
    if (this.acceptVote(v)) this.progress();
  }

  /**
   * A commit for the current height (catch-up: a peer already decided). It is 2f+1 precommits for
   * one value, the condition of L49, so the core decides on it if valid(v).
   */
  onCommit(c: Commit): void {
    if (this.hold({ kind: 'commit', commit: c }, c.height)) return;
    if (this.decision) return;
    if (!verifyCommit(c, this.validators, this.verifier, this.chainId).ok) {
      this.stats.badSignatures++;
      return;
    }
    // The precommits join the vote sets first: if the body is not here yet, L49 fires on recheck().
    for (const v of commitVotes(c)) this.addVote(v);
    if (this.isValid(c.value)) this.decide(c);
  }

  /** The host learnt something valid(v) depends on (a block body arrived): re-evaluate the rules. */
  recheck(): void {
    this.progress();
  }

  onTimeout(kind: TimeoutKind, height: bigint, round: number): void {
    if (!this.started || this.decision || height !== this.h || round !== this.round) return;
    if (kind === 'propose') {
      // L57-L60: OnTimeoutPropose
      if (this.step !== 'propose') return;
      this.sendVote('prevote', null);
      this.step = 'prevote';
    } else if (kind === 'prevote') {
      // L61-L64: OnTimeoutPrevote
      if (this.step !== 'prevote') return;
      this.sendVote('precommit', null);
      this.step = 'precommit';
    } else {
      // L65-L67: OnTimeoutPrecommit
      this.startRound(this.round + 1);
    }
    this.progress();
  }

  /**
   * What this node has for the current height, for (re)transmission: the last commit, proposals of
   * the current round with the prevotes that justify their valid round, every vote of the current
   * and the previous round, and all of its own messages of this height. The paper assumes gossip
   * (a message received by a correct process is eventually received by all); the host calls this
   * periodically, or per peer when it learns that the peer misses something.
   */
  gossip(): ConsensusMessage[] {
    const out: ConsensusMessage[] = [];
    if (this.lastCommit) out.push({ kind: 'commit', commit: this.lastCommit });
    if (!this.started || this.decision) return out;
    const seen = new Set<object>();
    const push = (m: ConsensusMessage, payload: object) => {
      if (seen.has(payload)) return;
      seen.add(payload);
      out.push(m);
    };
    for (const m of this.ownMessages)
      push(m, m.kind === 'proposal' ? m.proposal : m.kind === 'vote' ? m.vote : m);
    const rs = this.rounds.get(this.round);
    if (rs) {
      for (const p of rs.proposals.values()) {
        push({ kind: 'proposal', proposal: p }, p);
        const pol = p.validRound >= 0 ? this.rounds.get(p.validRound) : undefined;
        if (pol) {
          for (const list of pol.prevotes.values()) {
            for (const v of list) if (sameValue(v.value, p.value)) push({ kind: 'vote', vote: v }, v);
          }
        }
      }
    }
    for (const r of [this.round - 1, this.round]) {
      const s = this.rounds.get(r);
      if (!s) continue;
      for (const list of s.prevotes.values()) for (const v of list) push({ kind: 'vote', vote: v }, v);
      for (const list of s.precommits.values()) for (const v of list) push({ kind: 'vote', vote: v }, v);
    }
    return out;
  }

  snapshot(): ConsensusSnapshot {
    return {
      height: this.h,
      round: this.round,
      step: this.step,
      lockedValue: this.lockedValue,
      lockedRound: this.lockedRound,
      validValue: this.validValue,
      validRound: this.validRound,
      decided: this.decision !== null,
    };
  }

  /** The persisted sign state as the core knows it. */
  get persisted(): SignState | null {
    return this.signState;
  }

  get height(): bigint {
    return this.h;
  }

  // -------------------------------------------------------------------------------------------
  // Algorithm 1

  private get n(): number {
    return this.validators.validators.length;
  }

  /** L11-L21: StartRound(round). */
  private startRound(r: number): void {
    this.round = r; // L12
    if (r > this.stats.maxRound) this.stats.maxRound = r;
    this.step = 'propose'; // L13
    const ss = this.signState;
    const resume = ss && ss.height === this.h && ss.round === r ? ss : null;
    if (this.self !== null && proposerIndex(this.h, r, this.n) === this.self) {
      // L14
      if (resume?.proposal) {
        // Restarted after proposing in this round: re-send the same proposal, never a new one.
        this.emit({ kind: 'proposal', proposal: resume.proposal });
        this.addProposal(resume.proposal);
      } else {
        const value = this.validValue ?? this.host.getValue(this.h, r); // L15-L18
        const p = this.signProposalGuarded(value, this.validRound);
        if (p) {
          this.emit({ kind: 'proposal', proposal: p }); // L19
          this.ownMessages.push({ kind: 'proposal', proposal: p });
          this.addProposal(p);
        }
      }
    } else {
      this.arm('propose', r); // L21
    }
    if (resume) {
      // Restarted in this round after voting: re-send the votes and continue from that step.
      for (const v of [resume.prevote, resume.precommit]) {
        if (!v) continue;
        this.emit({ kind: 'vote', vote: v });
        this.ownMessages.push({ kind: 'vote', vote: v });
        this.addVote(v);
      }
      if (STEP_RANK[resume.step] > STEP_RANK[this.step]) this.step = resume.step;
    }
  }

  /** Applies every enabled upon-rule until none is enabled. */
  private progress(): void {
    const Q = quorum(this.n);
    for (let guard = 0; guard < 10_000; guard++) {
      if (!this.started || this.decision) return;
      if (this.tryDecide(Q)) return; // L49
      if (this.trySkipRound()) continue; // L55
      const rs = this.roundState(this.round);
      if (this.step === 'propose' && this.tryPrevote(rs, Q)) continue; // L22, L28
      if (this.tryLock(rs, Q)) continue; // L36
      if (this.step === 'prevote' && (rs.prevoteTally.get('nil') ?? 0) >= Q) {
        // L44-L46
        this.sendVote('precommit', null);
        this.step = 'precommit';
        continue;
      }
      if (this.step === 'prevote' && !rs.fired34 && rs.prevotes.size >= Q) {
        // L34-L35
        rs.fired34 = true;
        this.arm('prevote', this.round);
      }
      if (!rs.fired47 && rs.precommits.size >= Q) {
        // L47-L48
        rs.fired47 = true;
        this.arm('precommit', this.round);
      }
      return;
    }
    throw new Error('consensus rules did not settle');
  }

  /** L22-L33: prevote on the proposal of the current round. */
  private tryPrevote(rs: RoundState, Q: number): boolean {
    for (const p of rs.proposals.values()) {
      if (p.validRound === -1) {
        // L22-L27
        const ok =
          this.isValid(p.value) &&
          (this.host.timely?.(p.value, this.h, this.round) ?? true) &&
          (this.lockedRound === -1 || sameValue(this.lockedValue, p.value)); // L23 (PBTS: + timely)
        if (!ok && this.isValid(p.value)) this.stats.lockedNil++;
        this.sendVote('prevote', ok ? p.value : null); // L24 / L26
        this.step = 'prevote'; // L27
        return true;
      }
      const vr = this.rounds.get(p.validRound);
      if (p.validRound < this.round && vr && (vr.prevoteTally.get(valueKey(p.value)) ?? 0) >= Q) {
        // L28-L33
        const ok =
          this.isValid(p.value) && (this.lockedRound <= p.validRound || sameValue(this.lockedValue, p.value)); // L29
        if (!ok && this.isValid(p.value)) this.stats.lockedNil++;
        if (ok) this.stats.polPrevotes++;
        this.sendVote('prevote', ok ? p.value : null); // L30 / L32
        this.step = 'prevote'; // L33
        return true;
      }
    }
    return false;
  }

  /** L36-L43: 2f+1 prevotes for the proposal of this round: lock and precommit, or update valid. */
  private tryLock(rs: RoundState, Q: number): boolean {
    if (rs.fired36 || this.step === 'propose') return false;
    for (const p of rs.proposals.values()) {
      if ((rs.prevoteTally.get(valueKey(p.value)) ?? 0) < Q || !this.isValid(p.value)) continue;
      rs.fired36 = true; // "for the first time"
      this.validValue = p.value; // L42
      this.validRound = this.round; // L43
      if (this.step === 'prevote') {
        // L37
        this.lockedValue = p.value; // L38
        this.lockedRound = this.round; // L39
        this.sendVote('precommit', p.value); // L40 (persists lock and valid value first)
        this.step = 'precommit'; // L41
      } else {
        this.persistValid();
      }
      return true;
    }
    return false;
  }

  /** L49-L54: 2f+1 precommits for a valid value in any round r decide it. */
  private tryDecide(Q: number): boolean {
    for (const [r, rs] of this.rounds) {
      for (const [key, count] of rs.precommitTally) {
        if (key === 'nil' || count < Q) continue;
        const value = rs.values.get(key)!;
        if (!this.isValid(value)) continue; // L50
        const votes: Vote[] = [];
        for (const list of rs.precommits.values()) {
          const v = list.find((x) => x.value !== null && valueKey(x.value) === key);
          if (v) votes.push(v);
        }
        this.decide(makeCommit(this.h, r, value, votes));
        return true;
      }
    }
    return false;
  }

  /** L55-L56: f+1 messages of a higher round: skip to it (to the highest such round). */
  private trySkipRound(): boolean {
    const F1 = skipThreshold(this.n);
    let target = -1;
    for (const [r, rs] of this.rounds) {
      if (r > this.round && r > target && rs.senders.size >= F1) target = r;
    }
    if (target < 0) return false;
    this.startRound(target);
    return true;
  }

  private decide(c: Commit): void {
    this.decision = c; // L51
    this.lastCommit = c;
    this.stats.decisions++;
    this.host.decide(this.h, c.value, c); // the host then calls start(h + 1): L52-L54
  }

  // -------------------------------------------------------------------------------------------
  // Receiving

  /** Holds messages for the next height (or before start); returns true if the message is not for now. */
  private hold(m: ConsensusMessage, height: bigint): boolean {
    if (this.started && height === this.h) return false;
    if (!this.started || height === this.h + 1n) {
      if (this.buffer.length < this.maxBuffered) this.buffer.push(m);
    }
    return true;
  }

  private handle(m: ConsensusMessage): void {
    if (m.kind === 'proposal') this.acceptProposal(m.proposal);
    else if (m.kind === 'vote') this.acceptVote(m.vote);
    else this.onCommit(m.commit);
  }

  private acceptProposal(p: Proposal): boolean {
    if (this.decision) return false;
    if (!validRoundNumber(p.round) || p.value?.length !== 32) return false;
    // Only proposer(h, r) may propose, and a valid round lies before the round (a correct proposer's does).
    if (p.proposer !== proposerIndex(this.h, p.round, this.n)) return false;
    if (!(p.validRound === -1 || (validRoundNumber(p.validRound) && p.validRound < p.round))) return false;
    const existing = this.rounds.get(p.round)?.proposals.get(valueKey(p.value));
    if (existing && existing.validRound === p.validRound) return false;
    if (!verifyProposalSignature(p, this.validators, this.verifier, this.chainId)) {
      this.stats.badSignatures++;
      return false;
    }
    return this.addProposal(p);
  }

  private addProposal(p: Proposal): boolean {
    const rs = this.roundState(p.round);
    rs.senders.add(p.proposer);
    const key = valueKey(p.value);
    if (rs.proposals.has(key) || rs.proposals.size >= this.maxProposalsPerRound) return false;
    rs.proposals.set(key, p);
    this.proposed.add(key);
    return true;
  }

  private acceptVote(v: Vote): boolean {
    if (this.decision) return false;
    if (!validRoundNumber(v.round) || (v.value !== null && v.value?.length !== 32)) return false;
    if (v.type !== 'prevote' && v.type !== 'precommit') return false;
    if (!Number.isInteger(v.validator) || v.validator < 0 || v.validator >= this.n) return false;
    const rs = this.rounds.get(v.round);
    const prev = rs && (v.type === 'prevote' ? rs.prevotes : rs.precommits).get(v.validator);
    if (prev?.some((x) => sameValue(x.value, v.value))) return false; // duplicate
    if (!verifyVoteSignature(v, this.validators, this.verifier, this.chainId)) {
      this.stats.badSignatures++;
      return false;
    }
    return this.addVote(v);
  }

  /**
   * Counts a verified vote. A validator's further votes with other values in the same round and
   * type are evidence; they are counted too (per value), but only up to `maxVotesPerValidator`
   * values unless the value is nil or was proposed at this height, so an equivocator cannot make
   * the core store an unbounded number of votes nor crowd out the votes that matter.
   */
  private addVote(v: Vote): boolean {
    const rs = this.roundState(v.round);
    const map = v.type === 'prevote' ? rs.prevotes : rs.precommits;
    const key = valueKey(v.value);
    let list = map.get(v.validator);
    if (list) {
      if (list.some((x) => sameValue(x.value, v.value))) return false;
      this.reportEvidence(list[0]!, v);
      if (list.length >= MAX_VOTES_PER_VALIDATOR && v.value !== null && !this.proposed.has(key)) return false;
      list.push(v);
    } else {
      list = [v];
      map.set(v.validator, list);
    }
    const tally = v.type === 'prevote' ? rs.prevoteTally : rs.precommitTally;
    tally.set(key, (tally.get(key) ?? 0) + 1);
    if (v.value !== null && !rs.values.has(key)) rs.values.set(key, v.value);
    rs.senders.add(v.validator);
    return true;
  }

  private reportEvidence(x: Vote, y: Vote): void {
    const k = `${x.validator}/${x.round}/${x.type}`;
    if (this.reported.has(k)) return;
    const ev = makeEvidence(x, y);
    if (!ev) return;
    this.reported.add(k);
    this.stats.evidence++;
    this.host.evidence?.(ev);
  }

  private roundState(r: number): RoundState {
    let rs = this.rounds.get(r);
    if (!rs) {
      rs = new RoundState();
      this.rounds.set(r, rs);
    }
    return rs;
  }

  private isValid(v: Value): boolean {
    const k = valueKey(v);
    let ok = this.validity.get(k);
    if (ok === undefined) {
      ok = this.host.validValue(v, this.h);
      if (ok === undefined) return false; // body not here yet: ask again on recheck()
      this.validity.set(k, ok);
    }
    return ok;
  }

  // -------------------------------------------------------------------------------------------
  // Sending (persist, then sign, then broadcast)

  private arm(kind: TimeoutKind, r: number): void {
    this.host.scheduleTimeout(kind, this.h, r, timeoutFor(this.timeouts, kind, r));
  }

  private emit(m: ConsensusMessage): void {
    this.host.broadcast(m);
  }

  private sendVote(type: VoteType, value: Value | null): void {
    if (this.self === null || this.signer === null) return; // observer: follows, never signs
    const vote = this.signVoteGuarded(type, value);
    if (!vote) return;
    this.emit({ kind: 'vote', vote });
    this.ownMessages.push({ kind: 'vote', vote });
    this.addVote(vote); // a process receives its own broadcast
  }

  /**
   * Compares (height, round, step) with the persisted last signed one: -1 below (never sign), 0 the
   * same (only the identical message may be re-sent), 1 above (sign after persisting).
   */
  private position(step: Step): -1 | 0 | 1 {
    const ss = this.signState;
    if (!ss) return 1;
    if (this.h !== ss.height) return this.h < ss.height ? -1 : 1;
    if (this.round !== ss.round) return this.round < ss.round ? -1 : 1;
    const d = STEP_RANK[step] - STEP_RANK[ss.step];
    return d < 0 ? -1 : d > 0 ? 1 : 0;
  }

  private signVoteGuarded(type: VoteType, value: Value | null): Vote | null {
    const pos = this.position(type);
    if (pos <= 0) {
      const prev = this.signState?.[type];
      if (pos === 0 && prev && sameValue(prev.value, value)) return prev;
      this.stats.refusedSignatures++;
      return null;
    }
    const vote = signVote(this.chainId, this.signer!, {
      type,
      height: this.h,
      round: this.round,
      value,
      validator: this.self!,
    });
    this.persistSigned(type, vote);
    return vote;
  }

  private signProposalGuarded(value: Value, validRound: number): Proposal | null {
    const pos = this.position('propose');
    if (pos <= 0) {
      const prev = this.signState?.proposal;
      if (pos === 0 && prev && sameValue(prev.value, value) && prev.validRound === validRound) return prev;
      this.stats.refusedSignatures++;
      return null;
    }
    const p = signProposal(this.chainId, this.signer!, {
      height: this.h,
      round: this.round,
      value,
      validRound,
      proposer: this.self!,
    });
    this.persistSigned('propose', p);
    return p;
  }

  private persistSigned(step: Step, msg: Proposal | Vote): void {
    const ss = this.signState;
    const same = ss !== null && ss.height === this.h && ss.round === this.round;
    const next: SignState = {
      height: this.h,
      round: this.round,
      step,
      lockedValue: this.lockedValue,
      lockedRound: this.lockedRound,
      validValue: this.validValue,
      validRound: this.validRound,
      proposal: step === 'propose' ? (msg as Proposal) : same ? ss.proposal : null,
      prevote: step === 'prevote' ? (msg as Vote) : same ? ss.prevote : null,
      precommit: step === 'precommit' ? (msg as Vote) : same ? ss.precommit : null,
    };
    this.host.persist(next); // durable before the signature leaves the process
    this.signState = next;
  }

  /** Persists a new valid value/round (L42-L43 without a signature); only once this height has a sign state. */
  private persistValid(): void {
    const ss = this.signState;
    if (!ss || ss.height !== this.h || this.self === null) return;
    const next: SignState = { ...ss, validValue: this.validValue, validRound: this.validRound };
    this.host.persist(next);
    this.signState = next;
  }
}
