/**
 * The consensus driver: runs the Tendermint core of @roamchain/consensus for one node.
 *
 * Owns: the core's host (values = candidate blocks built and checked by the `Node`; decisions
 * committed through `Node.commitDecided`), the durable sign state (fsynced before any signature
 * leaves), timeouts, pacing of heights, gossip of transactions, blocks and consensus messages
 * over a `ConsensusNetwork`, catch-up (round state from peers) and block sync with progress.
 * Does not own: the state transition, storage, or libp2p (the network is a narrow interface that
 * @roamchain/p2p implements; `null` runs a validator set of one with no network).
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import {
  type Commit,
  type ConsensusMessage,
  decodeMessage,
  decodeSignState,
  type Evidence,
  encodeCommit,
  encodeMessage,
  encodeSignState,
  type SignState,
  skipThreshold,
  Tendermint,
  type ValidatorSet,
} from '@roamchain/consensus';
import { peerIdOf } from '@roamchain/p2p';
import {
  type Block,
  blockId,
  bytes,
  bytesToHex,
  decode,
  decodeBlock,
  encode,
  encodeBlock,
  equalBytes,
  hexToBytes,
  RoamError,
  type SignatureVerifier,
  vec,
} from '@roamchain/protocol';
import { decodeRound, roundReq, serveBlocks, serveRound } from './catch-up.js';
import {
  type ConsensusHost,
  type ConsensusNetwork,
  type ConsensusOptions,
  isTimely,
  NODE_TIMEOUTS,
  type SyncProgress,
  txBatchVerdict,
} from './consensus-host.js';
import { sodiumKeyPair, sodiumSign } from './crypto/sodium.js';
import { failpoint } from './failpoint.js';
import { BodyStore, bodyCodec, HeldProposals, heightOf, MessageGuard, type Verdict } from './gossip.js';
import type { AppliedBlock, ConsensusStatus } from './interfaces.js';
import { PeerRequests, PROTO, peerHeads, runSync, SYNC_MIN_LAG, type SyncItem, statusCodec } from './sync.js';
import { Wal, type WalRecord } from './wal.js';

export * from './consensus-host.js';

const TOPIC = { tx: 'tx', consensus: 'consensus', block: 'block' } as const;

/** Transactions gossiped together in one message (gossip costs per message, not per byte). */
const txBatch = vec(bytes(65_536), 8192);

/** A node that makes no progress for this many catch-up periods asks the validators for their heads. */
const STALL_PERIODS = 3;
/** Transaction gossip: a batch leaves after this long, or at once when this many are waiting. */
const TX_FLUSH_MS = 25;
const TX_BATCH = 256;
const TRACE = process.env.ROAMCHAIN_TRACE_CONSENSUS === '1';

/**
 * The sign state before this version: a file rewritten atomically at each signing step. Read once
 * at start when the WAL holds no sign state, written into the WAL, then removed.
 */
const LEGACY_SIGN_STATE = 'signstate.bin';

export class ConsensusDriver {
  private readonly o: ConsensusOptions;
  private core: Tendermint | null = null;
  private coreKey = '';
  /** The height the core was last started at. */
  private startedHeight = -1n;
  /** Block sync is running: the core's decisions and messages wait. */
  private paused = false;
  private heightStartedAt = 0;
  private lastFetch = 0;
  private syncProgress: SyncProgress | null = null;
  /** What this node last signed and its lock (the last sign record of the WAL). */
  private signState: SignState | null = null;
  private readonly keys: { publicKey: Uint8Array; secretKey: Uint8Array } | null;
  private running = false;
  private stopped = false;
  private readonly timers = new Set<NodeJS.Timeout>();
  private nextHeightTimer: NodeJS.Timeout | null = null;
  /** When the scheduled next height starts (ms, wall clock). */
  private nextHeightAt = 0;
  private waitingSince = 0;
  /** Block bodies of the current and the next height, verified before they are kept (by id hex). */
  private readonly bodies = new BodyStore();
  /** Signed consensus messages waiting for their sign state to be durable (`sendConsensus`). */
  private outbox: Uint8Array[] = [];
  /** Proposals held until their block body arrives; block ids the core waits for. */
  private readonly held = new HeldProposals();
  /** Checks consensus messages before they reach the core or are relayed. */
  private readonly guard: MessageGuard;
  /** At most one request outstanding per peer (catch-up and sync). */
  private readonly requests: PeerRequests | null;
  /** Peer ids of the current set's validators (their node keys), for the f + 1 status rule. */
  private validatorPeers: { key: string; peers: Map<string, number> } = { key: '', peers: new Map() };
  private lastStatusPoll = 0;
  private decision: Promise<AppliedBlock> | null = null;
  private decisionWaiters: { resolve: (a: AppliedBlock) => void; reject: (e: unknown) => void }[] = [];
  private nextTime: bigint | undefined;
  /** When each proposal of the current height was first judged timely or not (PBTS). */
  private readonly timelyAt = new Map<string, number>();
  private txQueue: Uint8Array[] = [];
  private txFlush: NodeJS.Timeout | null = null;
  private syncing: Promise<void> | null = null;
  private lastProgress = Date.now();
  private readonly unsubscribe: (() => void)[] = [];
  private readonly verifier: SignatureVerifier;
  /** The consensus write-ahead log (packages/node/src/wal.ts): bodies and decisions before votes and batches. */
  private readonly wal: Wal;
  /** Records found in the WAL at start, consumed by `recover()`. */
  private replayed: WalRecord[];
  private recovered: Promise<void> | null = null;

  constructor(
    private readonly node: ConsensusHost,
    private readonly net: ConsensusNetwork | null,
    opts: Partial<ConsensusOptions> & { dataDir: string },
  ) {
    this.o = {
      identity: null,
      idleBlockMs: 500,
      busyBlockMs: 20,
      manual: false,
      timeouts: NODE_TIMEOUTS,
      catchUpMs: 1000,
      log: () => {},
      ...opts,
    };
    // A damaged record in the middle of the log stops start-up here (WAL_CORRUPT); a torn tail is cut.
    const dir = join(this.o.dataDir, 'consensus');
    const { wal, replay } = Wal.open(dir);
    this.wal = wal;
    this.replayed = replay.records;
    this.signState = this.loadSignState(dir);
    // A height's end marker once its storage batch is durable (pipelined: after later heights began;
    // also in manual mode, which never calls `start`).
    this.unsubscribe.push(
      node.onBlock((a) => {
        failpoint('after-batch');
        this.wal.end(BigInt(a.height));
      }),
    );
    if (replay.truncated > 0)
      this.o.log('warn', 'consensus WAL: torn last record truncated', { bytes: replay.truncated });
    // Records of heights the store already holds are not carried over a rotation.
    this.wal.settled(node.durableHeight);
    this.keys = this.o.identity ? sodiumKeyPair(this.o.identity.secretKey) : null;
    this.verifier = node.signatureVerifier;
    this.guard = new MessageGuard(node.chainId, this.verifier);
    this.requests = net ? new PeerRequests(net) : null;
  }

  // ------------------------------------------------------------------ lifecycle

  /**
   * The double-sign protection at start: the last sign record of the WAL. A data directory of an
   * earlier version keeps it in `signstate.bin`: read once, written into the WAL (fsynced), removed.
   */
  private loadSignState(dir: string): SignState | null {
    let last: Uint8Array | null = null;
    for (const r of this.replayed) if (r.kind === 'sign') last = r.state;
    const legacy = join(dir, LEGACY_SIGN_STATE);
    if (last) {
      if (existsSync(legacy)) rmSync(legacy); // migrated before (the WAL record is newer)
      return decodeSignState(last);
    }
    if (!existsSync(legacy)) return null;
    const raw = new Uint8Array(readFileSync(legacy));
    const s = decodeSignState(raw);
    this.wal.signState(s.height, raw);
    rmSync(legacy);
    this.o.log('info', 'sign state migrated into the consensus WAL', { height: Number(s.height) });
    return s;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.unsubscribe.push(this.node.onTx((b, origin) => this.onTx(b, origin)));
    // The WAL of the height the node was in is replayed before anything else can drive consensus:
    // the network is attached and the first height started only afterwards.
    void this.recover().then(
      () => {
        if (this.stopped) return;
        if (this.net) this.attachNetwork(this.net);
        if (this.o.manual) return;
        if (this.net) {
          void this.syncThenRun();
        } else {
          this.startHeight();
        }
        const tick = setInterval(() => this.catchUp(), this.o.catchUpMs);
        this.timers.add(tick as unknown as NodeJS.Timeout);
      },
      (e) => this.o.log('error', 'consensus WAL recovery failed', { err: String(e) }),
    );
  }

  /**
   * Replays the WAL once, before anything else drives consensus. Every height decided but not in
   * the store (a crash while its batch was pending: with pipelined heights, possibly several) is
   * committed again, in order, with the commit that decided it (checked against the validator set,
   * like a synced block). The bodies of the height the node is then in come back to memory, so a lock
   * never names a body the node lacks.
   */
  private recover(): Promise<void> {
    this.recovered ??= (async () => {
      const records = this.replayed;
      this.replayed = [];
      const head = this.node.head.height;
      const decided = new Map<bigint, { id: string; commit: Uint8Array }>();
      const bodies = new Map<string, Block>();
      for (const r of records) {
        if (r.height <= head) continue;
        if (r.kind === 'decided') decided.set(r.height, { id: bytesToHex(r.id), commit: r.commit });
        if (r.kind !== 'body') continue;
        try {
          const b = decodeBlock(r.block);
          bodies.set(bytesToHex(blockId(b.header)), b);
        } catch (e) {
          this.o.log('warn', 'consensus WAL: a body does not decode', { err: String(e) });
        }
      }
      if (records.length > 0)
        this.o.log('info', 'consensus WAL replayed', {
          records: records.length,
          height: Number(head + 1n),
          bodies: bodies.size,
          decided: decided.size,
        });
      let committed = 0;
      for (let h = head + 1n; decided.has(h); h++) {
        const d = decided.get(h)!;
        const body = bodies.get(d.id);
        if (!body) {
          this.o.log('warn', 'consensus WAL: a decision without its body', { height: Number(h) });
          break;
        }
        try {
          const a = await this.node.importFinal(body, d.commit);
          committed++;
          this.o.log('info', 'decided block committed from the WAL', { height: a.height, id: a.id });
        } catch (e) {
          // Cannot happen with a log this node wrote (checksummed); if it does, consensus and
          // block sync still get the block: the node goes on without the shortcut.
          this.o.log('error', 'consensus WAL: the decided block was refused', { err: String(e) });
          break;
        }
      }
      if (committed > 1) this.o.log('info', 'decided blocks committed from the WAL', { committed });
      // The bodies of the height the node is in now (it may have voted or locked on them).
      const next = this.node.head.height + 1n;
      for (const [idHex, b] of bodies) {
        if (b.header.height !== next) continue;
        this.bodies.set(idHex, b);
        this.wal.remember(next, idHex);
      }
    })();
    return this.recovered;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    if (this.nextHeightTimer) clearTimeout(this.nextHeightTimer);
    if (this.txFlush) clearTimeout(this.txFlush);
    for (const u of this.unsubscribe) u();
    await this.decision?.catch(() => {});
    await this.syncing?.catch(() => {});
    await this.recovered?.catch(() => {});
    this.wal.close();
  }

  status(): ConsensusStatus {
    const snap = this.core?.snapshot();
    const s = this.core?.stats;
    const next = this.node.head.height + 1n;
    const set = this.node.validatorSet(next);
    return {
      validator: this.selfIndex(set) !== null,
      height: Number(snap?.height ?? next),
      round: snap?.round ?? 0,
      step: snap?.step ?? 'propose',
      validators: set.validators.length,
      peers: this.net?.peers().length ?? 0,
      syncing: this.syncing !== null,
      syncHeight: this.syncProgress?.height ?? Number(this.node.head.height),
      syncTarget: this.syncProgress?.target ?? Number(this.node.head.height),
      decisions: s?.decisions ?? 0,
      maxRound: s?.maxRound ?? 0,
      refusedSignatures: s?.refusedSignatures ?? 0,
      evidence: s?.evidence ?? 0,
    };
  }

  /** Manual mode: run one height to its decision (a set of one decides inside `start`). */
  async produceOne(at?: bigint): Promise<AppliedBlock> {
    await this.recover();
    if (this.decision) await this.decision;
    this.nextTime = at;
    const done = new Promise<AppliedBlock>((resolve, reject) =>
      this.decisionWaiters.push({ resolve, reject }),
    );
    this.startHeight();
    const d = this.decision as Promise<AppliedBlock> | null;
    if (!d)
      throw new RoamError('INTERNAL', 'the validator set did not decide alone (more than one validator?)');
    return done;
  }

  // ------------------------------------------------------------------ heights

  private selfIndex(set: ValidatorSet): number | null {
    const keys = this.keys;
    if (!keys) return null;
    const i = set.validators.findIndex((v) => equalBytes(v.publicKey, keys.publicKey));
    return i < 0 ? null : i;
  }

  /** Start consensus for the next height (a new core when the set or our place in it changed). */
  private startHeight(): void {
    if (this.stopped || this.paused) return;
    if (this.nextHeightTimer) clearTimeout(this.nextHeightTimer);
    this.nextHeightTimer = null;
    const height = this.node.head.height + 1n;
    if (this.startedHeight === height) return;
    const set = this.node.validatorSet(height);
    const self = this.selfIndex(set);
    const key = `${set.validators.map((v) => bytesToHex(v.publicKey)).join(',')}/${self}`;
    if (!this.core || key !== this.coreKey) {
      this.coreKey = key;
      this.core = new Tendermint({
        chainId: this.node.chainId,
        validators: set,
        self,
        signer: self !== null && this.keys ? { sign: (m) => sodiumSign(this.keys!.secretKey, m) } : null,
        verifier: this.verifier,
        host: this.host(),
        signState: this.signState,
        timeouts: this.o.timeouts,
      });
    }
    this.startedHeight = height;
    this.wal.beginHeight(height);
    this.lastProgress = Date.now();
    this.heightStartedAt = Date.now();
    this.bodies.prune(height);
    this.guard.prune(height);
    this.timelyAt.clear();
    this.core.start(height, set);
  }

  /** After a decision: wait a little so the next block collects a batch, or longer if idle. */
  private scheduleNextHeight(): void {
    if (this.stopped || this.o.manual) return;
    this.waitingSince = Date.now();
    const wait = this.node.mempoolSize > 0 ? this.o.busyBlockMs : this.o.idleBlockMs;
    this.nextHeightAt = this.waitingSince + wait;
    this.nextHeightTimer = setTimeout(() => this.startHeight(), wait);
  }

  private host() {
    return {
      getValue: (height: bigint, round: number): Uint8Array => {
        // The core proposes only at the height it was started at, which is always head + 1.
        if (height !== this.node.head.height + 1n) throw new Error(`asked to propose at ${height}`);
        const t0 = Date.now();
        const c = this.node.buildCandidate(this.nextTime);
        this.trace('built', { txs: c.envelopes.length, buildMs: Date.now() - t0 });
        this.nextTime = undefined;
        this.bodies.set(c.idHex, c.block);
        const raw = encodeBlock(c.block);
        this.node.noteEncoded(c.idHex, raw);
        // Into the WAL before the proposal is signed (the core's persist fsyncs it): a proposer that
        // restarts re-sends the proposal it signed, and must still hold its body.
        this.wal.body(height, c.idHex, raw);
        failpoint('wal-body');
        this.net?.publish(TOPIC.block, encode(bodyCodec, { round, block: raw }));
        return c.id;
      },
      validValue: (value: Uint8Array, height: bigint): boolean | undefined => {
        if (height !== this.node.head.height + 1n) return false;
        const idHex = bytesToHex(value);
        const own = this.node.candidate(idHex);
        if (own) {
          // Checked before (or built here); its body may not be in the WAL yet (a body checked by
          // catch-up's import, or a candidate left from before a core restart).
          if (!this.wal.has(height, idHex)) {
            const raw = encodeBlock(own.block);
            this.node.noteEncoded(idHex, raw);
            this.wal.body(height, idHex, raw);
          }
          return true;
        }
        if (this.node.refusedCandidate(idHex)) return false;
        const body = this.bodies.get(idHex);
        if (!body) {
          // Votes or a commit name a block we do not have: fetch it from a peer now.
          this.held.want(idHex);
          setImmediate(() => this.catchUp(true));
          return undefined;
        }
        failpoint('body-received');
        try {
          const t0 = Date.now();
          this.node.checkCandidate(body);
          this.trace('checked', { txs: body.txs.length, checkMs: Date.now() - t0 });
          // The node may vote and lock on it from now on: into the WAL (fsynced before any vote).
          if (!this.wal.has(height, idHex)) {
            const raw = encodeBlock(body);
            this.node.noteEncoded(idHex, raw);
            this.wal.body(height, idHex, raw);
            failpoint('wal-body');
          }
          return true;
        } catch (e) {
          this.o.log('warn', 'proposed block is invalid', { id: idHex, err: String(e) });
          return false;
        }
      },
      timely: (value: Uint8Array, height: bigint, round: number): boolean => {
        const idHex = bytesToHex(value);
        const block = this.bodies.get(idHex) ?? this.node.candidate(idHex)?.block;
        if (!block || block.header.height !== height) return false;
        // This node's own block carries its own clock (or the time a tool asked for: produceOne(at)).
        if (block.header.producer === this.o.identity?.account && this.node.candidate(idHex)) return true;
        // The clock reading when the proposal was first judged (it reaches the core with its body).
        let at = this.timelyAt.get(idHex);
        if (at === undefined) {
          at = Date.now();
          if (this.timelyAt.size >= 256) this.timelyAt.clear();
          this.timelyAt.set(idHex, at);
        }
        const ok = isTimely(block.header.time, at, round);
        if (!ok)
          this.o.log('warn', 'proposal is not timely', { id: idHex, time: String(block.header.time), at });
        return ok;
      },
      broadcast: (msg: ConsensusMessage): void => {
        if (!this.paused) this.sendConsensus(encodeMessage(msg));
      },
      scheduleTimeout: (
        kind: 'propose' | 'prevote' | 'precommit',
        height: bigint,
        round: number,
        ms: number,
      ) => {
        if (this.o.manual) return;
        const t = setTimeout(() => {
          this.timers.delete(t);
          const snap = this.core?.snapshot();
          if (snap && snap.height === height && snap.round === round && !snap.decided) {
            this.trace('timeout', { kind, round, step: snap.step });
          }
          // A timeout of a height the node has left (block sync or catch-up imported it, even while
          // that block is still being written) is void: the core would otherwise start a round
          // there, and propose for a height that is past.
          const live = height === this.startedHeight && height === this.node.head.height + 1n;
          if (!this.stopped && !this.paused && live) {
            this.core?.onTimeout(kind, height, round);
          }
        }, ms);
        this.timers.add(t);
      },
      decide: (height: bigint, value: Uint8Array, commit: Commit): void => {
        // While block sync runs, sync commits this height (the core may decide it meanwhile).
        if (this.paused || this.decision) return;
        this.o.log('info', 'decided', {
          height: Number(height),
          round: commit.round,
          ms: Date.now() - this.heightStartedAt,
          txs: this.node.candidate(bytesToHex(value))?.envelopes.length,
        });
        this.lastProgress = Date.now();
        const idHex = bytesToHex(value);
        // Tell the others at once: a node that missed some precommits decides on this commit
        // instead of waiting for them (or for a timeout).
        this.sendConsensus(encodeMessage({ kind: 'commit', commit }));
        failpoint('decided');
        // The decision is durable before the storage batch: a crash in between commits it at start
        // (`recover`) instead of re-running the height, whose body the others may have dropped.
        try {
          this.wal.decided(height, value, encodeCommit(commit));
        } catch (e) {
          this.o.log('error', 'consensus WAL: the decision could not be written', { err: String(e) });
        }
        failpoint('before-batch');
        const p = this.node.commitDecided(idHex, commit);
        this.decision = p;
        // Adopted (its batch is written behind): the next height may start now (pipelined heights).
        p.then(
          (a) => {
            this.decision = null;
            this.bodies.clear();
            this.held.clear();
            const ws = this.decisionWaiters;
            this.decisionWaiters = [];
            for (const w of ws) w.resolve(a);
            this.scheduleNextHeight();
          },
          (e) => {
            this.decision = null;
            const ws = this.decisionWaiters;
            this.decisionWaiters = [];
            for (const w of ws) w.reject(e);
            this.o.log('error', 'committing a decided block failed', { id: idHex, err: String(e) });
          },
        );
      },
      persist: (s: SignState): void => {
        failpoint('wal-synced');
        // The sign state is a WAL record: one fdatasync covers it and every body appended since the
        // last signature (see wal.ts). It runs off the main thread; the signature leaves the process
        // only once it is durable (`sendConsensus`). Throws once the WAL is closed: nothing is
        // signed then.
        this.wal.signStateDeferred(s.height, encodeSignState(s));
        this.signState = s;
        failpoint(
          s.step === 'propose'
            ? 'proposal-signed'
            : s.step === 'prevote'
              ? 'prevote-signed'
              : 'precommit-signed',
        );
      },
      // The core reports each equivocation once; submitting goes through admission, so not from
      // inside the core's call (the state refuses a second report of one offence anyway).
      evidence: (ev: Evidence): void => queueMicrotask(() => this.submitEvidence(ev)),
    };
  }

  // ------------------------------------------------------------------ evidence

  /** Evidence the core saw goes into the chain as an `evidence` transaction (self-authenticating). */
  /**
   * Publishes a consensus message that may carry this node's signature: at once when every sign
   * state is durable, else once it is (the WAL's background fdatasync, wal.ts `signStateDeferred`),
   * in the order the messages were sent. A failed sync drops them: nothing is signed afterwards.
   */
  private sendConsensus(bytes: Uint8Array): void {
    if (!this.wal.pending && this.outbox.length === 0) {
      this.net?.publish(TOPIC.consensus, bytes);
      return;
    }
    // Bounded: a round signs a handful of messages; far more means the disk stopped answering.
    if (this.outbox.length >= 1024) this.outbox.shift();
    this.outbox.push(bytes);
    if (this.outbox.length > 1) return; // a flush is already waiting
    const flush = (): void => {
      if (this.wal.pending) {
        this.wal.whenDurable().then(flush, (e: unknown) => {
          this.outbox = [];
          this.o.log('error', 'consensus WAL sync failed: signed messages dropped', { err: String(e) });
        });
        return;
      }
      const out = this.outbox;
      this.outbox = [];
      if (this.stopped) return;
      for (const m of out) this.net?.publish(TOPIC.consensus, m);
    };
    flush();
  }

  private submitEvidence(ev: Evidence): void {
    this.node.submitEvidence(ev).then(
      () =>
        this.o.log('warn', 'equivocation evidence submitted', {
          validator: ev.a.validator,
          height: String(ev.a.height),
        }),
      (e) => this.o.log('info', 'evidence not submitted', { err: String(e) }),
    );
  }

  // ------------------------------------------------------------------ network

  private attachNetwork(net: ConsensusNetwork): void {
    net.subscribe(TOPIC.tx, (data) => this.onTxBatch(data));
    net.subscribe(TOPIC.block, (data, from) => this.onBlockBody(data, from));
    net.subscribe(TOPIC.consensus, (data, from) => this.onConsensus(data, from));
    net.handle(PROTO.status, async () =>
      encode(statusCodec, { height: this.node.head.height, id: this.node.head.id }),
    );
    net.handle(PROTO.blocks, async (req) => serveBlocks(this.node, req));
    net.handle(PROTO.round, async (req) => {
      // The round state holds this node's own votes: served only once their sign state is durable
      // (checked again after each wait, since the node may have signed again meanwhile).
      while (this.wal.pending) await this.wal.whenDurable();
      return serveRound(this.node, this.core, this.bodies, req);
    });
  }

  private onTx(bytes: Uint8Array, origin: 'local' | 'peer'): void {
    // Idle wait, and now there is something to include: start the next height soon — but never
    // later than already scheduled (a steady stream of transactions must not keep pushing it back:
    // that starved block production at a few hundred small submissions a second).
    const soon = Date.now() + this.o.busyBlockMs;
    if (!this.o.manual && this.nextHeightTimer && soon < this.nextHeightAt) {
      clearTimeout(this.nextHeightTimer);
      this.nextHeightAt = soon;
      this.nextHeightTimer = setTimeout(() => this.startHeight(), this.o.busyBlockMs);
    }
    if (!this.net || origin !== 'local') return;
    // Gossip costs per message (the publisher's signature, every receiver's check, encryption per
    // link), not per byte: transactions go out in batches, every TX_FLUSH_MS or TX_BATCH at once.
    this.txQueue.push(bytes);
    if (this.txQueue.length >= TX_BATCH) this.flushTxs();
    else if (!this.txFlush) this.txFlush = setTimeout(() => this.flushTxs(), TX_FLUSH_MS);
  }

  private flushTxs(): void {
    if (this.txFlush) clearTimeout(this.txFlush);
    this.txFlush = null;
    const batch = this.txQueue;
    this.txQueue = [];
    if (batch.length > 0) this.net?.publish(TOPIC.tx, encode(txBatch, batch, 256 * batch.length));
  }

  private async onTxBatch(data: Uint8Array): Promise<Verdict> {
    let txs: Uint8Array[];
    try {
      txs = decode(txBatch, data);
    } catch {
      return 'reject';
    }
    // Every transaction is verified (signatures in the worker pool) before anything is relayed.
    // A deterministic failure — bytes that do not decode, a signature that does not verify, another
    // chain — is the sender's fault whatever its view of the chain: the batch is rejected (gossipsub
    // scores the sender down) and nothing of it is relayed. Duplicates and transactions the local
    // state refuses (not yet or no longer valid here) are not: a peer may be a block ahead or behind.
    return txBatchVerdict(await this.node.submitBatch(txs, 'peer'));
  }

  /**
   * A gossiped block body (with the round it is proposed in). Kept and relayed only when its
   * producer is proposer(h, r) of the set of h and signed it; a body of the next height only
   * provisionally (see MessageGuard), anything further ahead or behind is ignored.
   */
  private onBlockBody(data: Uint8Array, _from: string): Verdict {
    let block: Block;
    let round: number;
    try {
      const msg = decode(bodyCodec, data);
      round = msg.round;
      block = decodeBlock(msg.block);
    } catch {
      return 'reject';
    }
    const next = this.node.head.height + 1n;
    const h = block.header.height;
    if (h < next || h > next + 1n) return 'ignore';
    this.trace('body', { txs: block.txs.length, h: Number(h), bytes: data.length });
    const { verdict, idHex } = this.bodies.admitGossiped(
      block,
      round,
      this.node.validatorSet(next),
      next,
      this.verifier,
    );
    if (verdict !== 'accept') return verdict;
    this.bodyArrived(idHex, h);
    return 'accept';
  }

  /** A verified body of height `h` is here: proposals held for it go to the core. */
  private bodyArrived(idHex: string, h: bigint): void {
    const next = this.node.head.height + 1n;
    // Held proposals go to the core only while it runs this height (not during block sync).
    const live = h === next && !this.paused && this.startedHeight === next;
    const waiting = this.held.get(idHex);
    if (waiting && this.core && live) {
      this.held.delete(idHex);
      for (const p of waiting) this.core.onProposal(p);
    }
    if (live) this.core?.recheck();
  }

  private onConsensus(data: Uint8Array, _from: string): Verdict {
    let m: ConsensusMessage;
    try {
      m = decodeMessage(data);
    } catch {
      return 'reject';
    }
    if (m.kind === 'proposal')
      this.trace('proposal', { round: m.proposal.round, h: Number(m.proposal.height) });
    return this.deliver(m);
  }

  /**
   * Check a consensus message (MessageGuard: signature against the set of its height, duplicates,
   * bounds) and hand it to the core (proposals only with their block body). A verified commit of
   * the next height means the others are ahead: block sync starts.
   */
  private deliver(m: ConsensusMessage): Verdict {
    const next = this.node.head.height + 1n;
    const h = heightOf(m);
    // Behind us: nothing to do. Further ahead than the next height: the set that signs it is not
    // known here, so it cannot be verified (block sync starts on verified evidence only).
    if (h < next || h > next + 1n) return 'ignore';
    if (this.paused) return 'ignore';
    // No core yet (WAL recovery or the first sync still running): the message could not be handed
    // on, and admitting it would mark it seen, so that the catch-up's copy of it is dropped as a
    // duplicate later — a lost prevote that wedged a two-validator devnet at height 1. Ignored, it is
    // fetched again by the catch-up once the height runs.
    if (!this.core) return 'ignore';
    const base = this.core.height === h ? this.core.snapshot().round : 0;
    const verdict = this.guard.admit(m, this.node.validatorSet(next), base, h !== next);
    if (verdict !== 'accept') return verdict;
    if (h === next + 1n) {
      // One ahead: the others started that height; the core buffers it until we are there.
      this.core.onMessage(m);
      // A verified commit of the next height: the others are two blocks ahead.
      if (m.kind === 'commit') void this.sync(SYNC_MIN_LAG);
      return 'accept';
    }
    if (this.nextHeightTimer && !this.decision) this.startHeight(); // others moved on: no more waiting
    // Current height. A proposal waits for its block body.
    if (m.kind === 'proposal') {
      const idHex = bytesToHex(m.proposal.value);
      if (!this.bodies.has(idHex) && !this.node.candidate(idHex)) {
        this.held.hold(idHex, m.proposal);
        return 'accept';
      }
    }
    this.core.onMessage(m);
    return 'accept';
  }

  // ------------------------------------------------------------------ catch-up and sync

  /**
   * Runs every `catchUpMs`: if this height makes no progress, ask a peer for what it has (its
   * round's messages with the proposal's body, or the final block and commit if it is ahead).
   * Gossip delivers each message once; this is how lost messages and restarted nodes recover.
   * Everything in the answer is checked as if it came by gossip; a bad answer costs the peer.
   */
  private catchUp(now = false): void {
    const net = this.net;
    const req = this.requests;
    if (!net || !req || this.stopped || this.syncing || this.decision || this.nextHeightTimer) return;
    if (!now && Date.now() - this.lastProgress < this.o.catchUpMs) return;
    if (now) {
      // Asked for at once (a body is missing): at most every 200 ms.
      if (Date.now() - this.lastFetch < 200) return;
      this.lastFetch = Date.now();
    } else if (Date.now() - this.lastProgress >= STALL_PERIODS * this.o.catchUpMs) {
      this.pollValidators(req);
    }
    const peers = net.peers().filter((p) => !req.outstanding(p.id));
    if (peers.length === 0) return;
    const peer = peers[Math.floor(Math.random() * peers.length)]!.id;
    const height = this.node.head.height + 1n;
    const have = [...this.bodies.keys()].slice(0, 16).map(hexToBytes);
    void req
      .request(peer, PROTO.round, encode(roundReq, { height, have }), 2000)
      .then(async (raw) => {
        if (raw === null) return;
        let r: ReturnType<typeof decodeRound>;
        try {
          r = decodeRound(raw);
        } catch {
          net.penalize(peer, 'catch-up: undecodable answer');
          return;
        }
        if (this.node.head.height + 1n !== height || this.decision) return;
        if (r.final) {
          try {
            await this.importFinal(decodeBlock(r.final.block), r.final.commit);
          } catch (e) {
            net.penalize(peer, `catch-up: bad final block (${String(e)})`);
            return;
          }
          // A verified commit of a height we did not have: if the others are further ahead, sync.
          void this.sync(SYNC_MIN_LAG);
          return;
        }
        this.takeRound(net, peer, height, r.messages, r.bodies);
      })
      .catch((e) => this.o.log('info', 'catch-up request failed', { peer, err: String(e) }));
  }

  /** A round answer: messages first (checked like gossip), then the bodies verified messages name. */
  private takeRound(
    net: ConsensusNetwork,
    peer: string,
    height: bigint,
    messages: Uint8Array[],
    bodies: Uint8Array[],
  ): void {
    let bad = 0;
    for (const raw of messages) {
      let m: ConsensusMessage;
      try {
        m = decodeMessage(raw);
      } catch {
        bad++;
        continue;
      }
      if (this.deliver(m) === 'reject') bad++;
    }
    for (const raw of bodies) {
      let block: Block;
      try {
        block = decodeBlock(raw);
      } catch {
        bad++;
        continue;
      }
      if (block.header.height !== height || this.node.head.height + 1n !== height) continue;
      const set = this.node.validatorSet(height);
      if (this.bodies.admitNamed(block, set, (id) => this.held.named(id), this.verifier)) {
        this.bodyArrived(bytesToHex(blockId(block.header)), height);
      }
    }
    if (bad > 0) net.penalize(peer, `catch-up: ${bad} bad message(s)`);
  }

  /**
   * Stalled for a while: ask the current set's validators for their heads; block sync starts when
   * f + 1 of them (at least one correct) are ahead. Heads claimed by other peers start nothing.
   */
  private pollValidators(req: PeerRequests): void {
    if (!this.net || Date.now() - this.lastStatusPoll < STALL_PERIODS * this.o.catchUpMs) return;
    this.lastStatusPoll = Date.now();
    const set = this.node.validatorSet(this.node.head.height + 1n);
    const key = set.validators.map((v) => bytesToHex(v.publicKey)).join(',');
    if (this.validatorPeers.key !== key) {
      this.validatorPeers = { key, peers: new Map(set.validators.map((v, i) => [peerIdOf(v.publicKey), i])) };
    }
    const mine = this.validatorPeers.peers;
    const need = skipThreshold(set.validators.length);
    const peers = this.net
      .peers()
      .map((p) => p.id)
      .filter((id) => mine.has(id));
    if (peers.length < need) return;
    void peerHeads(req, peers).then((heads) => {
      const ahead = heads.filter((x) => x.height >= this.node.head.height + SYNC_MIN_LAG).length;
      if (ahead >= need && !this.stopped) void this.sync(SYNC_MIN_LAG);
    });
  }

  private async importFinal(block: Block, commit: Uint8Array): Promise<void> {
    if (this.decision || this.paused) return;
    const p = this.node.importFinal(block, commit);
    this.decision = p;
    try {
      await p;
      this.lastProgress = Date.now();
      this.bodies.clear();
      this.held.clear();
      this.decision = null;
      this.startHeight();
    } catch (e) {
      this.decision = null;
      throw e;
    }
  }

  private async syncThenRun(): Promise<void> {
    try {
      // Give the network a moment to connect to bootstrap peers.
      for (let i = 0; i < 20 && (this.net?.peers().length ?? 0) === 0 && !this.stopped; i++) await sleep(100);
      await this.sync();
    } finally {
      if (!this.stopped) this.startHeight();
    }
  }

  /** Timeline of the current height for diagnosis (ROAMCHAIN_TRACE_CONSENSUS=1): ms since its start. */
  private trace(what: string, data: Record<string, unknown>): void {
    if (!TRACE) return;
    this.o.log('info', `trace ${what}`, {
      ...data,
      at: Date.now() - this.heightStartedAt,
      height: Number(this.startedHeight),
    });
  }

  private reportSync(p: SyncProgress): void {
    this.syncProgress = p;
    this.o.onSync?.(p);
  }

  /**
   * Block sync (sync.ts): fetch final blocks with their commits from peers until caught up. The
   * core keeps voting while requests are out; it waits only while fetched blocks are imported.
   */
  sync(minLag = 1n): Promise<void> {
    const net = this.net;
    const req = this.requests;
    if (!net || !req || this.stopped) return Promise.resolve();
    if (!this.syncing) {
      this.syncing = runSync(
        net,
        req,
        {
          head: () => this.node.head.height,
          stopped: () => this.stopped,
          importBlocks: (items) => this.importSynced(items),
          progress: (height, target, done) => this.reportSync({ height, target, done }),
          log: (level, msg, data) => this.o.log(level, msg, data),
        },
        minLag,
      )
        .catch((e) => this.o.log('warn', 'block sync failed', { err: String(e) }))
        .finally(() => {
          this.syncing = null;
        });
    }
    return this.syncing;
  }

  /** Import fetched blocks in order, each against its verified commit; the core waits meanwhile. */
  private async importSynced(items: SyncItem[]): Promise<void> {
    this.paused = true;
    const before = this.node.head.height;
    try {
      await this.decision?.catch(() => {});
      for (const it of items) {
        if (this.stopped) return;
        const block = decodeBlock(it.block);
        const head = this.node.head.height;
        if (block.header.height <= head) continue;
        if (block.header.height !== head + 1n) {
          throw new RoamError('SYNC_FAILED', `block ${block.header.height} does not follow ${head}`);
        }
        failpoint('sync-import');
        await this.node.importFinal(block, it.commit);
        failpoint('sync-imported');
        this.lastProgress = Date.now();
      }
    } finally {
      this.paused = false;
      if (this.node.head.height !== before) {
        this.bodies.clear();
        this.held.clear();
      }
      this.startHeight();
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
