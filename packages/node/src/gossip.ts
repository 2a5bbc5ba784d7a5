/**
 * What the consensus driver checks before it keeps or relays a gossiped message (see
 * ARCHITECTURE.md, "What is verified before it is relayed").
 *
 * Owns: the verification of consensus messages and block bodies against the validator set of their
 * height, de-duplication, and the per-height / per-validator / per-round bounds on what is kept.
 * Does not own: the consensus rules (the core), block validity (the Node), the network.
 *
 * Verdicts follow gossipsub: 'accept' = new and verified (kept and relayed), 'ignore' = not the
 * sender's fault or nothing new (dropped, not relayed), 'reject' = proven bad (dropped, and the
 * sender is scored down).
 */
import {
  type ConsensusMessage,
  type Proposal,
  proposerIndex,
  type ValidatorSet,
  valueKey,
  verifyCommit,
  verifyProposalSignature,
  verifyVoteSignature,
} from '@roamchain/consensus';
import {
  type Block,
  blockId,
  bytes,
  bytesToHex,
  type SignatureVerifier,
  struct,
  u32,
} from '@roamchain/protocol';

export type Verdict = 'accept' | 'reject' | 'ignore';

/** A gossiped block body names the round it is proposed in: its producer must be proposer(h, r). */
export const bodyCodec = struct({ round: u32, block: bytes(16 * 1024 * 1024) });

/** Distinct values kept per validator, height, round and step (a second one is evidence already). */
export const MAX_VALUES_PER_STEP = 2;
/** Rounds above the core's round + 1 that one validator may occupy at a height (CometBFT's peerCatchupRounds). */
export const MAX_AHEAD_ROUNDS = 2;
/** Distinct commits (round, value) looked at per height. */
export const MAX_COMMITS_PER_HEIGHT = 2;
/** Block bodies kept per height and round, per current height, and for the next height. */
export const MAX_BODIES_PER_ROUND = 2;
export const MAX_BODIES_CURRENT = 32;
export const MAX_BODIES_NEXT = 4;
/** Block ids the core is waiting for (named by verified votes or commits) and held proposals. */
export const MAX_WANTED = 64;

export function heightOf(m: ConsensusMessage): bigint {
  return m.kind === 'proposal' ? m.proposal.height : m.kind === 'vote' ? m.vote.height : m.commit.height;
}

function isRound(r: unknown): r is number {
  return typeof r === 'number' && Number.isInteger(r) && r >= 0 && r < 0xffffffff;
}

interface HeightRecord {
  /** `<kind>/<signer>/<round>/<step>` -> distinct values (with the valid round for proposals). */
  readonly steps: Map<string, Set<string>>;
  /** signer -> its rounds above the base round + 1 at the time they were admitted. */
  readonly ahead: Map<number, Set<number>>;
  readonly commits: Set<string>;
}

/**
 * Consensus messages of the current height (`next`) and the one after it. A message of `next` is
 * checked against that height's set: a failed signature is 'reject'. A message of `next + 1` is
 * checked against the same set provisionally (the set of `next + 1` is only certain once block
 * `next` is applied: an epoch boundary or evidence may change it), so a failure there is 'ignore'
 * (dropped, never relayed, but not proof of a forgery); the core verifies it again against the
 * real set when it starts that height. Anything further ahead cannot be verified and is ignored.
 */
export class MessageGuard {
  private readonly heights = new Map<bigint, HeightRecord>();

  constructor(
    private readonly chainId: Uint8Array,
    private readonly verifier: SignatureVerifier,
  ) {}

  /** Forget heights below `next` (the records of `next` and `next + 1` stay). */
  prune(next: bigint): void {
    for (const h of this.heights.keys()) if (h < next || h > next + 1n) this.heights.delete(h);
  }

  /**
   * @param set the validator set of the message's height (or the current one, `provisional`)
   * @param baseRound the round the core is in at this height (0 when it is not there yet)
   */
  admit(m: ConsensusMessage, set: ValidatorSet, baseRound: number, provisional: boolean): Verdict {
    const bad: Verdict = provisional ? 'ignore' : 'reject';
    const n = set.validators.length;
    const h = heightOf(m);
    if (n === 0) return 'ignore';
    const rec = this.record(h);
    if (m.kind === 'commit') {
      const c = m.commit;
      if (!isRound(c.round) || c.value?.length !== 32) return 'reject';
      const key = `${c.round}/${valueKey(c.value)}`;
      if (rec.commits.has(key) || rec.commits.size >= MAX_COMMITS_PER_HEIGHT) return 'ignore';
      if (!verifyCommit(c, set, this.verifier, this.chainId).ok) return bad;
      rec.commits.add(key);
      return 'accept';
    }
    let signer: number;
    let round: number;
    let stepKey: string;
    let value: string;
    if (m.kind === 'proposal') {
      const p = m.proposal;
      if (!isRound(p.round) || p.value?.length !== 32) return 'reject';
      if (!(p.validRound === -1 || (isRound(p.validRound) && p.validRound < p.round))) return 'reject';
      // Only proposer(h, r) may propose in round r.
      if (p.proposer !== proposerIndex(h, p.round, n)) return bad;
      signer = p.proposer;
      round = p.round;
      stepKey = `p/${signer}/${round}`;
      value = `${valueKey(p.value)}/${p.validRound}`;
    } else {
      const v = m.vote;
      if (!isRound(v.round) || (v.value !== null && v.value?.length !== 32)) return 'reject';
      if (v.type !== 'prevote' && v.type !== 'precommit') return 'reject';
      if (!Number.isInteger(v.validator) || v.validator < 0 || v.validator >= n) return bad;
      signer = v.validator;
      round = v.round;
      stepKey = `${v.type}/${signer}/${round}`;
      value = valueKey(v.value);
    }
    const values = rec.steps.get(stepKey);
    if (values?.has(value)) return 'ignore'; // a duplicate: nothing new, not relayed again
    if (values && values.size >= MAX_VALUES_PER_STEP) return 'ignore'; // equivocation beyond evidence
    let ahead = rec.ahead.get(signer);
    const far = round > baseRound + 1;
    if (far) {
      const live = [...(ahead ?? [])].filter((r) => r > baseRound + 1);
      if (!live.includes(round) && live.length >= MAX_AHEAD_ROUNDS) return 'ignore';
    }
    const ok =
      m.kind === 'proposal'
        ? verifyProposalSignature(m.proposal, set, this.verifier, this.chainId)
        : verifyVoteSignature(m.vote, set, this.verifier, this.chainId);
    if (!ok) return bad;
    if (values) values.add(value);
    else rec.steps.set(stepKey, new Set([value]));
    if (far) {
      if (!ahead) {
        ahead = new Set();
        rec.ahead.set(signer, ahead);
      }
      ahead.add(round);
    }
    return 'accept';
  }

  private record(h: bigint): HeightRecord {
    let r = this.heights.get(h);
    if (!r) {
      r = { steps: new Map(), ahead: new Map(), commits: new Set() };
      this.heights.set(h, r);
    }
    return r;
  }
}

interface StoredBody {
  readonly block: Block;
  readonly height: bigint;
  /** The round it was gossiped for (-1: own candidate or matched to a verified proposal). */
  readonly round: number;
}

/**
 * Block bodies of the current height and the next, verified before they are kept: the producer's
 * signature over the block id and, for gossiped bodies, that the producer is proposer(h, r) of the
 * set of h. Bounded per (height, round) and per height; a body of the next height never evicts
 * one of the current height (each has its own bound).
 */
export class BodyStore {
  private readonly byId = new Map<string, StoredBody>();

  get(idHex: string): Block | undefined {
    return this.byId.get(idHex)?.block;
  }

  has(idHex: string): boolean {
    return this.byId.has(idHex);
  }

  keys(): IterableIterator<string> {
    return this.byId.keys();
  }

  /** The node's own candidate (built and signed here): kept without a check. */
  set(idHex: string, block: Block): void {
    this.byId.set(idHex, { block, height: block.header.height, round: -1 });
  }

  clear(): void {
    this.byId.clear();
  }

  /** Keep only bodies of heights `next` and `next + 1`. */
  prune(next: bigint): void {
    for (const [id, b] of this.byId) if (b.height < next || b.height > next + 1n) this.byId.delete(id);
  }

  /** How many bodies of a height (and of a round of it, when given) are kept. */
  count(height: bigint, round?: number): number {
    let c = 0;
    for (const b of this.byId.values())
      if (b.height === height && (round === undefined || b.round === round)) c++;
    return c;
  }

  /**
   * A gossiped body tagged with its round. `set` is the set of its height (provisional for the
   * next height: failures are then 'ignore').
   */
  admitGossiped(
    block: Block,
    round: number,
    set: ValidatorSet,
    next: bigint,
    verifier: SignatureVerifier,
  ): { verdict: Verdict; idHex: string } {
    const h = block.header.height;
    const id = blockId(block.header);
    const idHex = bytesToHex(id);
    const provisional = h !== next;
    const bad: Verdict = provisional ? 'ignore' : 'reject';
    if (!isRound(round)) return { verdict: 'reject', idHex };
    if (this.byId.has(idHex)) return { verdict: 'ignore', idHex };
    const n = set.validators.length;
    const proposer = n > 0 ? set.validators[proposerIndex(h, round, n)] : undefined;
    if (!proposer || proposer.name !== block.header.producer) return { verdict: bad, idHex };
    if (!verifier.verify(proposer.publicKey, id, block.signature)) return { verdict: bad, idHex };
    if (this.count(h, round) >= MAX_BODIES_PER_ROUND) return { verdict: 'ignore', idHex };
    if (this.count(h) >= (provisional ? MAX_BODIES_NEXT : MAX_BODIES_CURRENT))
      return { verdict: 'ignore', idHex };
    this.byId.set(idHex, { block, height: h, round });
    return { verdict: 'accept', idHex };
  }

  /**
   * A body of the current height fetched in catch-up: kept only if a verified message named it
   * (`named`), and signed by a member of the set that produced it. Returns whether it was kept.
   */
  admitNamed(
    block: Block,
    set: ValidatorSet,
    named: (idHex: string) => boolean,
    verifier: SignatureVerifier,
  ): boolean {
    const id = blockId(block.header);
    const idHex = bytesToHex(id);
    if (this.byId.has(idHex) || !named(idHex)) return false;
    const producer = set.validators.find((v) => v.name === block.header.producer);
    if (!producer || !verifier.verify(producer.publicKey, id, block.signature)) return false;
    if (this.count(block.header.height) >= MAX_BODIES_CURRENT) return false;
    this.byId.set(idHex, { block, height: block.header.height, round: -1 });
    return true;
  }
}

/**
 * Proposals of the current height held until their body arrives (verified before they are held),
 * and the block ids the core asked for without having their body (named by verified votes or
 * commits): a body fetched in catch-up is kept only if one of these names it. Both bounded.
 */
export class HeldProposals {
  private readonly held = new Map<string, Proposal[]>();
  private readonly wanted = new Set<string>();

  get(idHex: string): Proposal[] | undefined {
    return this.held.get(idHex);
  }

  delete(idHex: string): void {
    this.held.delete(idHex);
  }

  hold(idHex: string, p: Proposal): void {
    const list = this.held.get(idHex);
    if (list) {
      if (list.length < 4) list.push(p);
    } else if (this.held.size < MAX_WANTED) {
      this.held.set(idHex, [p]);
    }
  }

  want(idHex: string): void {
    if (this.wanted.size < MAX_WANTED) this.wanted.add(idHex);
  }

  named(idHex: string): boolean {
    return this.held.has(idHex) || this.wanted.has(idHex);
  }

  clear(): void {
    this.held.clear();
    this.wanted.clear();
  }
}
