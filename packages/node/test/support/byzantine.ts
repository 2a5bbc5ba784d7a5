/**
 * A Byzantine peer for tests: a real libp2p host (@roamchain/p2p) that speaks the node's own
 * protocol with the real codecs, and runs the attacks of issue 11 on demand. It may hold a
 * validator's key (then it signs what a faulty validator could sign: proposals without bodies,
 * conflicting votes) or none (then everything it sends is forged or replayed).
 */
import {
  type ConsensusMessage,
  decodeMessage,
  ed25519Signer,
  encodeMessage,
  proposerIndex,
  signProposal,
  signVote,
  type ValidatorSet,
} from '@roamchain/consensus';
import { createP2P, type P2P } from '@roamchain/p2p';
import { blockId, encode, encodeBlock, randomBytes, sha256, sign, utf8 } from '@roamchain/protocol';
import { bodyCodec, heightOf } from '../../src/gossip.js';
import { blocksResp, PROTO, statusCodec } from '../../src/sync.js';

export interface ByzantineOptions {
  chainId: Uint8Array;
  /** Its node key (the peer id derives from it). */
  nodeSecretKey: Uint8Array;
  bootstrap: string[];
  /** A validator's signing key and name, when the attacker is (or was) a validator. */
  validator?: { name: string; secretKey: Uint8Array };
}

/** What an attack needs to know about the chain (read from an honest node, as a peer would from gossip). */
export interface ChainView {
  /** The height being decided now (head + 1). */
  next(): bigint;
  set(height: bigint): ValidatorSet;
}

export class ByzantinePeer {
  /** Consensus messages seen on gossip (capped), for duplicates and replays. */
  readonly seen: ConsensusMessage[] = [];
  /** The head it claims in `status` (it serves no block). */
  claimedHead = 0n;
  sent = 0;

  private constructor(
    readonly p2p: P2P,
    private readonly o: ByzantineOptions,
  ) {}

  static async start(o: ByzantineOptions): Promise<ByzantinePeer> {
    const p2p = await createP2P({
      nodeSecretKey: o.nodeSecretKey,
      bootstrap: o.bootstrap,
      chainId: o.chainId,
    });
    const peer = new ByzantinePeer(p2p, o);
    p2p.subscribe('consensus', (data) => {
      try {
        if (peer.seen.length < 4096) peer.seen.push(decodeMessage(data));
      } catch {}
      return 'ignore'; // it relays nothing honest
    });
    p2p.subscribe('block', () => 'ignore');
    p2p.subscribe('tx', () => 'ignore');
    await p2p.handle(PROTO.status, async () =>
      encode(statusCodec, { height: peer.claimedHead, id: new Uint8Array(32) }),
    );
    await p2p.handle(PROTO.blocks, async () => encode(blocksResp, []));
    return peer;
  }

  get peerId(): string {
    return this.p2p.peerId;
  }

  stop(): Promise<void> {
    return this.p2p.stop();
  }

  private send(topic: 'consensus' | 'block', data: Uint8Array): void {
    this.sent++;
    void this.p2p.publish(topic, data).catch(() => {});
  }

  private consensus(m: ConsensusMessage): void {
    this.send('consensus', encodeMessage(m));
  }

  /** Decodable block bodies for `height`, tagged as the round-`round` proposer's, signed by nobody. */
  junkBodies(view: ChainView, height: bigint, count: number, round = 0): void {
    const set = view.set(view.next());
    const producer = set.validators[proposerIndex(height, round, set.validators.length)]?.name ?? 'node-1';
    for (let i = 0; i < count; i++) {
      const header = {
        version: 1,
        chainId: this.o.chainId,
        height,
        prev: randomBytes(32),
        time: BigInt(Date.now() + i),
        producer,
        txRoot: randomBytes(32),
        stateRoot: randomBytes(32),
        txCount: 0,
        lastCommitHash: new Uint8Array(32),
      };
      const block = { header, txs: [], signature: randomBytes(64), lastCommit: new Uint8Array(0) };
      this.send('block', encode(bodyCodec, { round, block: encodeBlock(block) }));
    }
  }

  /** Votes for `height` with random signatures, claiming to be each validator in turn. */
  unsignedVotes(height: bigint, count: number, validators: number): void {
    for (let i = 0; i < count; i++) {
      this.consensus({
        kind: 'vote',
        vote: {
          type: i % 2 === 0 ? 'prevote' : 'precommit',
          height,
          round: i % 7,
          value: randomBytes(32),
          validator: i % validators,
          signature: randomBytes(64),
        },
      });
    }
  }

  /** Messages of a far-ahead height (with its status claiming that head). */
  farAhead(height: bigint, count: number): void {
    this.claimedHead = height;
    this.unsignedVotes(height, count, 4);
    this.consensus({
      kind: 'proposal',
      proposal: {
        height,
        round: 0,
        value: randomBytes(32),
        validRound: -1,
        proposer: 0,
        signature: randomBytes(64),
      },
    });
  }

  /** Re-publishes every captured message of the current height `times` times. */
  duplicates(view: ChainView, times: number): number {
    const now = this.seen.filter((m) => heightOf(m) === view.next());
    for (let t = 0; t < times; t++) for (const m of now) this.consensus(m);
    return now.length;
  }

  /** Re-publishes captured messages of earlier heights and rounds. */
  replayOld(view: ChainView): number {
    const old = this.seen.filter((m) => heightOf(m) < view.next());
    for (const m of old) this.consensus(m);
    return old.length;
  }

  private signer() {
    const v = this.o.validator;
    if (!v) throw new Error('this attack needs a validator key');
    return { name: v.name, s: ed25519Signer(v.secretKey), secretKey: v.secretKey };
  }

  /**
   * As the faulty proposer of (height, round): a signed proposal of a block whose body it never
   * publishes (withheld), if it is that round's proposer. Returns whether it proposed.
   */
  withheldProposal(view: ChainView, height: bigint, round: number): boolean {
    const { name, s } = this.signer();
    const set = view.set(height);
    const index = set.validators.findIndex((v) => v.name === name);
    if (index < 0 || proposerIndex(height, round, set.validators.length) !== index) return false;
    const value = sha256(utf8(`withheld ${height} ${round}`));
    this.consensus({
      kind: 'proposal',
      proposal: signProposal(this.o.chainId, s, { height, round, value, validRound: -1, proposer: index }),
    });
    return true;
  }

  /** As a faulty validator: two prevotes for different values in one round (equivocation). */
  equivocate(view: ChainView, height: bigint, round: number, tag: string): boolean {
    const { name, s } = this.signer();
    const index = view.set(height).validators.findIndex((v) => v.name === name);
    if (index < 0) return false;
    for (const x of ['a', 'b']) {
      const value = sha256(utf8(`${tag}${x}`));
      this.consensus({
        kind: 'vote',
        vote: signVote(this.o.chainId, s, { type: 'prevote', height, round, value, validator: index }),
      });
    }
    return true;
  }

  /** A body of the current height whose producer is the right proposer but whose signature is forged. */
  forgedBody(view: ChainView, count: number): void {
    this.junkBodies(view, view.next(), count);
  }

  /** A block signed with the wrong key (a validator key that is not the producer's). */
  misattributedBody(view: ChainView): void {
    const { secretKey } = this.signer();
    const height = view.next();
    const set = view.set(height);
    const producer = set.validators[proposerIndex(height, 0, set.validators.length)]?.name ?? 'node-1';
    const header = {
      version: 1,
      chainId: this.o.chainId,
      height,
      prev: randomBytes(32),
      time: BigInt(Date.now()),
      producer,
      txRoot: randomBytes(32),
      stateRoot: randomBytes(32),
      txCount: 0,
      lastCommitHash: new Uint8Array(32),
    };
    const block = {
      header,
      txs: [],
      signature: sign(secretKey, blockId(header)),
      lastCommit: new Uint8Array(0),
    };
    this.send('block', encode(bodyCodec, { round: 0, block: encodeBlock(block) }));
  }
}
