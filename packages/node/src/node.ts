/**
 * One roamchain node: durable storage, mempool, block production and the read side the API uses.
 *
 *   const node = await Node.open({ dataDir, genesis, producer: { account, secretKey } });
 *   node.start();                 // produce a block every blockIntervalMs
 *   const api = await createApi(node, { port: 0 });   // packages/node/src/api/server.ts
 *   ...; await node.close();
 *
 * Every block is committed in ONE atomic, durable storage batch (state changes, block, tx index,
 * receipts, indexes, head). A node killed at any moment restarts at its last committed block with
 * the same state root (checked on start against the head block's header).
 */
import { EventEmitter } from 'node:events';
import {
  type Commit,
  decodeCommit,
  encodeCommit,
  type ValidatorSet,
  type Vote,
  verifyCommit,
} from '@roamchain/consensus';
import {
  type Block,
  type BlockHeader,
  blockId,
  bytesToHex,
  contractIdOf,
  decodeBlock,
  decodeTx,
  encodeBlock,
  encodeTx,
  envelope,
  equalBytes,
  type Genesis,
  hexToBytes,
  jsonSafe,
  lastCommitHashOf,
  merkleRoot,
  nobleVerifier,
  RoamError,
  refPrefixOf,
  type SignatureVerifier,
  sign,
  signTx,
  type TxEnvelope,
  useSha256,
  utf8,
  verify,
} from '@roamchain/protocol';
import {
  applyBlock,
  BlockBuilder,
  type BlockResult,
  checkTxEnvelope,
  genesisState,
  LedgerState,
  type Redo,
  type StateChange,
  type StateReader,
  type TxReceipt,
  validatorOf,
  validatorSetFor,
} from '@roamchain/state';
import { ConsensusDriver, type ConsensusNetwork, type ConsensusOptions } from './consensus.js';
import { sodiumSha256 } from './crypto/sodium.js';
import type {
  AppliedBlock,
  ContractTxRef,
  FeedEvent,
  NodeApi,
  NodeStatus,
  SubmitResult,
  TxStatus,
} from './interfaces.js';
import { Mempool, type MempoolLimits } from './mempool.js';
import { type KvBatchOp, type KvStore, openStore, type StoreKind, u64Key } from './store/index.js';

export interface NodeConfig {
  dataDir: string;
  genesis: Genesis;
  store?: StoreKind;
  /** The validator identity this node produces blocks with (its account and node key seed). */
  producer?: { account: string; secretKey: Uint8Array } | null;
  blockIntervalMs?: number;
  verifier?: SignatureVerifier;
  mempool?: Partial<MempoolLimits>;
  /**
   * Most transactions this node puts in a block it proposes (default 500; the chain's limit is
   * `maxBlockTxs`). Smaller blocks are built, sent and checked faster: lower latency to finality.
   */
  maxProposalTxs?: number;
  /** Called with each committed block (metrics). */
  onCommitted?: (b: AppliedBlock, applySeconds: number) => void;
  log?: (level: 'info' | 'warn' | 'error', msg: string, data?: Record<string, unknown>) => void;
}

const enc = (v: unknown) => utf8(JSON.stringify(jsonSafe(v)));
const dec = <T>(b: Uint8Array): T => JSON.parse(new TextDecoder().decode(b)) as T;

/** Storage layout (see ARCHITECTURE.md). */
export const SK = {
  head: 'm/head',
  chain: 'm/chain',
  state: (k: string) => `s/${k}`,
  block: (h: number | bigint) => u64Key('b/', h),
  /** The commit that finalised block h (the next block carries one too, maybe with other signatures). */
  commit: (h: number | bigint) => u64Key('c/', h),
  blockIdx: (idHex: string) => `bi/${idHex}`,
  tx: (idHex: string) => `t/${idHex}`,
  receipts: (h: number | bigint) => u64Key('r/', h),
  contractTx: (cid: string, h: number, idx: number, op: number) =>
    `ix/c/${cid}/${u64Key('', h)}/${idx.toString().padStart(6, '0')}/${op.toString().padStart(3, '0')}`,
  party: (name: string, h: number, cid: string) => `ix/p/${name}/${u64Key('', h)}/${cid}`,
};

/**
 * A block for the next height that has been executed against the head and set aside: its state
 * changes were rolled back (it is not final) and are put back without re-executing if it is decided.
 */
export interface Candidate {
  block: Block;
  id: Uint8Array;
  idHex: string;
  envelopes: TxEnvelope[];
  result: BlockResult;
  redo: Redo;
}

/** Pending transactions re-executed on a new head for admission, at most (see `pendingBuilder`). */
const MAX_READMIT = 256;

/** How far ahead of this node's clock a proposed block's time may be (a liveness rule, not safety). */
const MAX_CLOCK_DRIFT_MS = 5_000n;

interface StoredReceipts {
  receipts: (Omit<TxReceipt, 'fee'> & { fee: string })[];
  endEvents: Record<string, unknown>[];
}

export class Node implements NodeApi {
  readonly state: LedgerState;
  readonly chainId: Uint8Array;
  private headId: Uint8Array;
  private headTime: bigint;
  private readonly mempool: Mempool;
  private pending: BlockBuilder | null = null;
  private readonly rejected = new Map<string, { code: string; message: string }>();
  private readonly waiters = new Map<
    string,
    { resolve: (s: TxStatus & { status: 'included' }) => void; reject: (e: RoamError) => void }[]
  >();
  private readonly emitter = new EventEmitter();
  private driver: ConsensusDriver | null = null;
  private closed = false;
  /** Encoded commit of the head block (empty at genesis): the next block's `lastCommit`. */
  private headCommit: Uint8Array;
  /** Executed blocks for the next height, by id hex (proposals under vote). */
  private readonly candidates = new Map<string, Candidate>();
  private readonly badCandidates = new Map<string, RoamError>();
  /** Transactions of the block whose storage batch is being written. */
  private readonly committing = new Set<string>();
  /** Mempool transactions submitted to this node's API (executed in the pending block). */
  private readonly localPending = new Set<string>();
  private readonly verifier: SignatureVerifier;
  private readonly blockIntervalMs: number;
  /** The last block that is on disk. */
  private durable: { height: number; id: string; time: number };

  private constructor(
    readonly config: NodeConfig,
    readonly store: KvStore,
    state: LedgerState,
    headId: Uint8Array,
    headTime: bigint,
    headCommit: Uint8Array,
  ) {
    this.headCommit = headCommit;
    this.state = state;
    this.chainId = state.meta.chainId;
    this.headId = headId;
    this.headTime = headTime;
    this.durable = { height: Number(state.meta.height), id: bytesToHex(headId), time: Number(headTime) };
    this.verifier = config.verifier ?? nobleVerifier;
    this.blockIntervalMs = config.blockIntervalMs ?? config.genesis.params.blockIntervalMs;
    this.mempool = new Mempool({ maxTotal: 200_000, maxPerAccount: 20_000, ...config.mempool });
    this.emitter.setMaxListeners(0);
    if (config.producer) {
      const v = validatorOf(state, config.producer.account);
      if (!v) throw new RoamError('BLOCK_BAD_PRODUCER', `${config.producer.account} is not a validator`);
      const probe = new Uint8Array(32);
      if (!verify(v.nodeKey, probe, sign(config.producer.secretKey, probe))) {
        throw new RoamError('BLOCK_BAD_PRODUCER', 'the node key does not match the validator record');
      }
    }
  }

  get genesis(): Genesis {
    return this.config.genesis;
  }

  /** Open (or create) the node's data directory and load its state. */
  static async open(config: NodeConfig): Promise<Node> {
    useSha256(sodiumSha256);
    const store = await openStore(config.store ?? 'level', config.dataDir);
    try {
      const g = genesisState(config.genesis);
      const stored = store.get(SK.chain);
      if (stored && !equalBytes(stored, g.chainId)) {
        throw new RoamError('GENESIS_INVALID', `data directory belongs to chain ${bytesToHex(stored)}`);
      }
      const headRaw = store.get(SK.head);
      if (!headRaw) {
        const ops: KvBatchOp[] = g.changes.map((c) => ({
          type: 'put',
          key: SK.state(c.key),
          value: c.value!,
        }));
        ops.push({ type: 'put', key: SK.chain, value: g.chainId });
        ops.push({
          type: 'put',
          key: SK.head,
          value: enc({ height: 0, id: bytesToHex(g.chainId), time: g.state.meta.time }),
        });
        await store.batch(ops);
        return new Node(config, store, g.state, g.chainId, g.state.meta.time, new Uint8Array(0));
      }
      const head = dec<{ height: number; id: string; time: string }>(headRaw);
      const state = new LedgerState();
      for await (const [k, v] of store.range('s/')) state.loadEntry(k.slice(2), v);
      const expectRoot =
        head.height === 0 ? g.state.root() : decodeBlock(store.get(SK.block(head.height))!).header.stateRoot;
      if (!equalBytes(state.root(), expectRoot)) {
        throw new RoamError('BLOCK_BAD_STATE_ROOT', `stored state root does not match block ${head.height}`);
      }
      const headCommit = head.height === 0 ? new Uint8Array(0) : store.get(SK.commit(head.height));
      if (!headCommit) throw new RoamError('BLOCK_INVALID', `no commit stored for block ${head.height}`);
      return new Node(config, store, state, hexToBytes(head.id), BigInt(head.time), headCommit);
    } catch (e) {
      await store.close();
      throw e;
    }
  }

  private log(level: 'info' | 'warn' | 'error', msg: string, data?: Record<string, unknown>): void {
    this.config.log?.(level, msg, data);
  }

  get height(): number {
    return Number(this.state.meta.height);
  }

  status(): NodeStatus {
    return {
      chainId: bytesToHex(this.chainId),
      chainName: this.genesis.chainName,
      height: this.durable.height,
      // Every committed block carries (or has stored) a commit of more than 2/3 of its validators: final.
      finalizedHeight: this.durable.height,
      headId: this.durable.id,
      headTime: this.durable.time,
      time: Date.now(),
      mempool: this.mempool.size,
      producer: this.config.producer?.account ?? null,
      consensus: this.driver?.status() ?? null,
    };
  }

  // ---------------------------------------------------------------- admission

  private pendingBuilder(): BlockBuilder {
    if (!this.pending) {
      const now = BigInt(Date.now());
      const time = now > this.headTime ? now : this.headTime + 1n;
      this.pending = new BlockBuilder(
        this.state,
        { height: this.state.meta.height + 1n, time, prev: this.headId, producer: this.producerName() },
        { verifier: this.verifier },
      );
      // Re-admit this node's clients' transactions still pending on top of the new head (relayed
      // ones were never executed here); drop what no longer applies. Under a backlog this would
      // execute the whole backlog again after every block: then admission checks against the head
      // only, and the next block's build (which executes everything anyway) drops what fails.
      const backlog = this.localPending.size > MAX_READMIT;
      for (const env of backlog ? [] : this.mempool.fairOrder()) {
        if (!this.localPending.has(env.idHex)) continue;
        try {
          this.pending.apply(env);
        } catch (e) {
          this.drop(env, e);
        }
      }
    }
    return this.pending;
  }

  private producerName(): string {
    return this.config.producer?.account ?? this.genesis.validators[0]!.account;
  }

  /**
   * Admission. `origin` says where the bytes came from: 'local' (this node's API: consensus gossips
   * them to peers) or 'peer' (already gossiped).
   */
  async submit(bytes: Uint8Array, origin: 'local' | 'peer' = 'local'): Promise<TxEnvelope> {
    return this.admit(bytes, origin);
  }

  /** Admission of many transactions: one result each, in order (see `NodeApi.submitBatch`). */
  async submitBatch(txs: Uint8Array[], origin: 'local' | 'peer' = 'local'): Promise<SubmitResult[]> {
    return txs.map((bytes) => {
      try {
        return { ok: true as const, txId: this.admit(bytes, origin).idHex };
      } catch (e) {
        const err = e instanceof RoamError ? e : new RoamError('INTERNAL', (e as Error).message);
        return { ok: false as const, code: err.code, message: err.message };
      }
    });
  }

  private admit(bytes: Uint8Array, origin: 'local' | 'peer'): TxEnvelope {
    if (this.closed) throw new RoamError('INTERNAL', 'node is closing');
    const maxTx = this.state.get<{ maxTxBytes: number }>('meta/params')!.maxTxBytes;
    if (bytes.length > maxTx) throw new RoamError('TX_TOO_LARGE', `${bytes.length} bytes > ${maxTx}`);
    const env = decodeTx(bytes);
    if (this.store.get(SK.tx(env.idHex)))
      throw new RoamError('TX_DUPLICATE', `transaction ${env.idHex} already included`);
    if (this.mempool.has(env.idHex))
      throw new RoamError('TX_DUPLICATE', `transaction ${env.idHex} is pending`);
    const account = this.mempool.checkRoom(env);
    // Transactions nobody signs (evidence) are executed even when relayed: a signature check would
    // not stop a flood of them, executing does (only real equivocations apply, each once).
    if (origin === 'local' || env.tx.signatures.length === 0) {
      // A client's transaction: stateless checks, signatures and state checks all run once, inside
      // the pending block's apply, so the client learns at once whether it applies on the head.
      this.pendingBuilder().apply(env);
      this.localPending.add(env.idHex);
    } else {
      // A peer's (already checked by the node it came from, relayed by gossip): the envelope checks
      // of a block (chain, expiry, TaPoS, replay, signatures) without executing it. Executing every relayed transaction on every node a second time would double
      // the network's work; the proposer's block build drops whatever no longer applies.
      const now = BigInt(Date.now());
      checkTxEnvelope(
        this.state,
        env,
        {
          height: this.state.meta.height + 1n,
          time: now > this.headTime ? now : this.headTime + 1n,
          prev: this.headId,
        },
        this.verifier,
      );
    }
    this.mempool.add(env, account);
    this.rejected.delete(env.idHex);
    this.emitter.emit('tx', bytes, origin);
    return env;
  }

  /**
   * Put two conflicting votes of one validator (seen by consensus) into the mempool as an
   * `evidence` transaction: self-authenticating, so it is signed by nobody and pays no fee; it
   * references the head for TaPoS and expires within the chain's limit.
   */
  submitEvidence(ev: { a: Vote; b: Vote }): TxEnvelope {
    const p = this.state.get<{ maxTxExpirationMs: number }>('meta/params')!;
    const refNum = this.state.meta.height;
    const tx = signTx(
      {
        chainId: this.chainId,
        refBlockNum: Number(refNum),
        refBlockPrefix: refPrefixOf(this.headId),
        expiration: this.headTime + BigInt(Math.min(p.maxTxExpirationMs, 600_000)),
        ops: [{ type: 'evidence', a: ev.a, b: ev.b }],
      },
      {},
    );
    return this.admit(encodeTx(tx), 'local');
  }

  /** Subscribe to admitted transactions (consensus gossips local ones and paces blocks). */
  onTx(listener: (bytes: Uint8Array, origin: 'local' | 'peer') => void): () => void {
    this.emitter.on('tx', listener);
    return () => this.emitter.off('tx', listener);
  }

  get mempoolSize(): number {
    return this.mempool.size;
  }

  private drop(env: TxEnvelope, e: unknown): void {
    this.mempool.remove(env.idHex);
    this.localPending.delete(env.idHex);
    const err = e instanceof RoamError ? e : new RoamError('INTERNAL', (e as Error).message);
    this.rejected.set(env.idHex, { code: err.code, message: err.message });
    if (this.rejected.size > 50_000) this.rejected.delete(this.rejected.keys().next().value!);
    for (const w of this.waiters.get(env.idHex) ?? []) w.reject(err);
    this.waiters.delete(env.idHex);
  }

  waitFor(txId: string, timeoutMs: number): Promise<TxStatus & { status: 'included' }> {
    return new Promise((resolve, reject) => {
      const list = this.waiters.get(txId) ?? [];
      const timer = setTimeout(() => {
        const l = this.waiters.get(txId);
        if (l) {
          const i = l.indexOf(entry);
          if (i >= 0) l.splice(i, 1);
          if (l.length === 0) this.waiters.delete(txId);
        }
        reject(new RoamError('WAIT_TIMEOUT', `transaction ${txId} not included within ${timeoutMs} ms`));
      }, timeoutMs);
      const entry = {
        resolve: (s: TxStatus & { status: 'included' }) => {
          clearTimeout(timer);
          resolve(s);
        },
        reject: (e: RoamError) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      list.push(entry);
      this.waiters.set(txId, list);
      // Already included before we started waiting?
      void this.txStatus(txId).then((s) => {
        if (s?.status === 'included') entry.resolve(s);
        else if (s?.status === 'rejected') entry.reject(new RoamError(s.code as never, s.message));
      });
    });
  }

  // ---------------------------------------------------------------- production and finality

  /**
   * Start taking part in consensus: with `net`, as one node of a network (a validator if the
   * producer key is in the active set, else a follower); without, as the only validator.
   */
  start(net: ConsensusNetwork | null = null, opts: Partial<ConsensusOptions> = {}): ConsensusDriver {
    if (this.driver) return this.driver;
    this.driver = this.makeDriver(net, opts);
    this.driver.start();
    return this.driver;
  }

  /**
   * Produce one block as the only validator (tests and tools): it goes through the same consensus
   * core as a network (proposal, prevote, precommit, persisted sign state) with a set of one.
   */
  async produceBlock(at?: bigint): Promise<AppliedBlock> {
    this.driver ??= this.makeDriver(null, { manual: true });
    return this.driver.produceOne(at);
  }

  private makeDriver(net: ConsensusNetwork | null, opts: Partial<ConsensusOptions>): ConsensusDriver {
    if (!net && !this.config.producer)
      throw new RoamError('BLOCK_BAD_PRODUCER', 'this node has no producer key');
    return new ConsensusDriver(this, net, {
      dataDir: this.config.dataDir,
      identity: this.config.producer ?? null,
      idleBlockMs: this.blockIntervalMs,
      ...(this.config.log ? { log: this.config.log } : {}),
      ...opts,
    });
  }

  /** The signature verifier this node checks transactions, blocks and votes with. */
  get signatureVerifier(): SignatureVerifier {
    return this.verifier;
  }

  /** The active validator set that signs block `height` (from the state; see @roamchain/state). */
  validatorSet(height: bigint): ValidatorSet {
    return activeSet(this.state, height);
  }

  /** A committed block's stored encoding (block sync serves it as it is, without decoding). */
  blockBytes(height: number): Uint8Array | undefined {
    return this.store.get(SK.block(height));
  }

  /** The stored commit that finalised block `height`. */
  commitAt(height: number): Uint8Array | undefined {
    return height === this.height ? this.headCommit : this.store.get(SK.commit(height));
  }

  get head(): { height: bigint; id: Uint8Array; time: bigint } {
    return { height: this.state.meta.height, id: this.headId, time: this.headTime };
  }

  /**
   * Build this node's block for the next height from the mempool (fair order) and set it aside as
   * a candidate: executed, state root known, not applied.
   */
  buildCandidate(at?: bigint): Candidate {
    const producer = this.config.producer;
    if (!producer) throw new RoamError('BLOCK_BAD_PRODUCER', 'this node has no producer key');
    const max = Math.min(
      this.state.get<{ maxBlockTxs: number }>('meta/params')!.maxBlockTxs,
      this.config.maxProposalTxs ?? 500,
    );
    const height = this.state.meta.height + 1n;
    let b: BlockBuilder;
    const p = this.pending;
    const now = at ?? BigInt(Date.now());
    if (
      at === undefined &&
      p &&
      p.txCount === this.mempool.size &&
      p.txCount <= max &&
      p.start.time + 1000n > now
    ) {
      // Everything pending fits in this block, so order cannot keep anyone out: the block is the
      // speculative block admission already built (each transaction executed once, not twice).
      b = p;
    } else {
      // More pending than a block holds: take transactions in fair (round-robin) order.
      const t = now > this.headTime ? now : this.headTime + 1n;
      for (const env of this.mempool.evictExpired(t)) this.drop(env, new RoamError('TX_EXPIRED'));
      b = new BlockBuilder(
        this.state,
        { height, time: t, prev: this.headId, producer: producer.account },
        { verifier: this.verifier },
      );
      for (const env of this.mempool.fairOrder()) {
        if (b.txCount >= max) break;
        try {
          b.apply(env);
        } catch (e) {
          this.drop(env, e);
        }
      }
    }
    this.pending = null;
    const result = b.finish();
    const redo = this.state.redoOf(result.undo);
    this.state.rollback(result.undo);
    const header: BlockHeader = {
      version: 1,
      chainId: this.chainId,
      height,
      prev: this.headId,
      time: b.start.time,
      producer: producer.account,
      txRoot: merkleRoot(b.envelopes.map((e) => e.id)),
      stateRoot: result.stateRoot,
      txCount: b.envelopes.length,
      lastCommitHash: lastCommitHashOf(this.headCommit),
    };
    const id = blockId(header);
    const block: Block = {
      header,
      txs: b.envelopes.map((e) => e.tx),
      signature: sign(producer.secretKey, id),
      lastCommit: this.headCommit,
    };
    const c: Candidate = { block, id, idHex: bytesToHex(id), envelopes: b.envelopes, result, redo };
    this.candidates.set(c.idHex, c);
    return c;
  }

  candidate(idHex: string): Candidate | undefined {
    return this.candidates.get(idHex);
  }

  /** Why a block for the next height was refused, if it was. */
  refusedCandidate(idHex: string): RoamError | undefined {
    return this.badCandidates.get(idHex);
  }

  /**
   * Check a block for the next height (valid(v) of consensus): header, producer and its signature,
   * the parent's commit, every transaction, the state root. Executed and set aside; cached by id.
   * Throws a RoamError (also cached) if it is not valid.
   */
  checkCandidate(block: Block, opts: { clock?: boolean } = {}): Candidate {
    const id = blockId(block.header);
    const idHex = bytesToHex(id);
    const known = this.candidates.get(idHex);
    if (known) return known;
    const bad = this.badCandidates.get(idHex);
    if (bad) throw bad;
    try {
      const c = this.executeCandidate(block, id, idHex, opts.clock ?? true);
      this.candidates.set(idHex, c);
      return c;
    } catch (e) {
      const err = e instanceof RoamError ? e : new RoamError('BLOCK_INVALID', (e as Error).message);
      if (this.badCandidates.size > 1000) this.badCandidates.clear();
      this.badCandidates.set(idHex, err);
      throw err;
    }
  }

  private executeCandidate(block: Block, id: Uint8Array, idHex: string, clock: boolean): Candidate {
    const h = block.header;
    const height = this.state.meta.height + 1n;
    if (h.version !== 1) throw new RoamError('BLOCK_INVALID', `unknown block version ${h.version}`);
    if (h.height !== height) throw new RoamError('BLOCK_BAD_HEIGHT', `expected ${height}, got ${h.height}`);
    if (!equalBytes(h.prev, this.headId)) throw new RoamError('BLOCK_BAD_PREV');
    if (clock && h.time > BigInt(Date.now()) + MAX_CLOCK_DRIFT_MS) {
      throw new RoamError('BLOCK_BAD_TIME', `block time ${h.time} is ahead of this node's clock`);
    }
    checkParentCommit(this.state, this.chainId, this.verifier, block);
    // The producer is an active validator of this height and signed the block id.
    const producer = this.validatorSet(height).validators.find((v) => v.name === h.producer);
    if (!producer) throw new RoamError('BLOCK_BAD_PRODUCER', `${h.producer} is not an active validator`);
    if (!this.verifier.verify(producer.publicKey, id, block.signature))
      throw new RoamError('BLOCK_BAD_SIGNATURE');
    const envelopes = block.txs.map((tx) => envelope(tx));
    const result = applyBlock(this.state, block, envelopes, this.headId, { verifier: this.verifier });
    const redo = this.state.redoOf(result.undo);
    this.state.rollback(result.undo);
    return { block, id, idHex, envelopes, result, redo };
  }

  /** Commit a decided candidate (consensus reached `commit` on it): apply, persist, notify. */
  async commitDecided(idHex: string, commit: Commit): Promise<AppliedBlock> {
    const c = this.candidates.get(idHex);
    if (!c) throw new RoamError('BLOCK_INVALID', `decided block ${idHex} was never checked`);
    if (c.block.header.height !== this.state.meta.height + 1n) throw new RoamError('BLOCK_BAD_HEIGHT');
    const t0 = performance.now();
    this.state.reapply(c.redo);
    if (!equalBytes(this.state.root(), c.result.stateRoot)) {
      throw new Error('state root changed between check and commit (state was modified in between)');
    }
    this.candidates.clear();
    this.badCandidates.clear();
    const applied: AppliedBlock = {
      block: c.block,
      id: c.idHex,
      height: Number(c.block.header.height),
      envelopes: c.envelopes,
      receipts: c.result.receipts,
      endEvents: c.result.endEvents,
    };
    await this.commit(applied, c.result.changes, (performance.now() - t0) / 1000, encodeCommit(commit));
    return applied;
  }

  /**
   * Block sync: import a block of the next height with the commit that finalised it (checked
   * against that height's active set), then its transactions and state root.
   */
  async importFinal(block: Block, commitBytes: Uint8Array): Promise<AppliedBlock> {
    const id = blockId(block.header);
    const commit = verifyBlockCommit(
      this.state,
      this.chainId,
      this.verifier,
      commitBytes,
      block.header.height,
      id,
    );
    this.checkCandidate(block, { clock: false });
    return this.commitDecided(bytesToHex(id), commit);
  }

  private async commit(
    a: AppliedBlock,
    changes: StateChange[],
    applySeconds: number,
    commit: Uint8Array,
  ): Promise<void> {
    const ops: KvBatchOp[] = [];
    for (const c of changes) {
      if (c.value) ops.push({ type: 'put', key: SK.state(c.key), value: c.value });
      else ops.push({ type: 'del', key: SK.state(c.key) });
    }
    ops.push({ type: 'put', key: SK.block(a.height), value: encodeBlock(a.block) });
    ops.push({ type: 'put', key: SK.commit(a.height), value: commit });
    ops.push({ type: 'put', key: SK.blockIdx(a.id), value: enc(a.height) });
    a.envelopes.forEach((e, i) => {
      ops.push({ type: 'put', key: SK.tx(e.idHex), value: enc([a.height, i]) });
    });
    const stored: StoredReceipts = {
      receipts: a.receipts.map((r) => ({ ...r, fee: r.fee.toString() })),
      endEvents: a.endEvents,
    };
    ops.push({ type: 'put', key: SK.receipts(a.height), value: enc(stored) });
    ops.push(...indexOps(a));
    ops.push({
      type: 'put',
      key: SK.head,
      value: enc({ height: a.height, id: a.id, time: a.block.header.time }),
    });
    // The in-memory state already holds this block; admission must build on it from now on, and
    // its transactions are no longer pending (a resubmission now meets TX_DUPLICATE in state).
    this.headId = hexToBytes(a.id);
    this.headTime = a.block.header.time;
    this.headCommit = commit;
    this.pending = null;
    for (const e of a.envelopes) {
      this.mempool.remove(e.idHex);
      this.localPending.delete(e.idHex);
      // Until the batch is durable the transaction is neither in the store nor pending: say pending.
      this.committing.add(e.idHex);
    }
    // Relayed transactions that never make it into a block (a node that does not propose never
    // tries them) leave when they expire: a sweep every 64 blocks.
    if (a.height % 64 === 0) {
      for (const env of this.mempool.evictExpired(a.block.header.time))
        this.drop(env, new RoamError('TX_EXPIRED'));
    }
    try {
      await this.store.batch(ops);
    } catch (e) {
      // Memory is ahead of disk now: the only safe course is to stop and restart from disk.
      this.log('error', 'storage commit failed; stopping', { err: String(e) });
      this.closed = true;
      throw e;
    }
    for (const e of a.envelopes) this.committing.delete(e.idHex);
    // Only what is on disk is reported as the head: a crash cannot take back what clients saw.
    this.durable = { height: a.height, id: a.id, time: Number(a.block.header.time) };
    a.envelopes.forEach((e, i) => {
      const ws = this.waiters.get(e.idHex);
      if (!ws) return;
      this.waiters.delete(e.idHex);
      const s: TxStatus & { status: 'included' } = {
        status: 'included',
        txId: e.idHex,
        height: a.height,
        index: i,
        blockId: a.id,
        receipt: a.receipts[i]!,
        tx: e,
      };
      for (const w of ws) w.resolve(s);
    });
    this.config.onCommitted?.(a, applySeconds);
    this.emitter.emit('block', a);
  }

  onBlock(listener: (b: AppliedBlock) => void): () => void {
    this.emitter.on('block', listener);
    return () => this.emitter.off('block', listener);
  }

  // ---------------------------------------------------------------- reads

  async txStatus(txId: string): Promise<TxStatus | undefined> {
    const loc = this.store.get(SK.tx(txId));
    if (loc) {
      // One transaction: decode its block but envelope (re-encode and hash) only that one.
      const [height, index] = dec<[number, number]>(loc);
      const raw = this.store.get(SK.block(height));
      const tx = raw ? decodeBlock(raw) : undefined;
      if (tx?.txs[index]) {
        const r = dec<StoredReceipts>(this.store.get(SK.receipts(height))!).receipts[index]!;
        return {
          status: 'included',
          txId,
          height,
          index,
          blockId: bytesToHex(blockId(tx.header)),
          receipt: { ...r, fee: BigInt(r.fee) },
          tx: envelope(tx.txs[index]),
        };
      }
    }
    if (this.mempool.has(txId) || this.committing.has(txId)) return { status: 'pending', txId };
    const r = this.rejected.get(txId);
    if (r) return { status: 'rejected', txId, ...r };
    return undefined;
  }

  async blockByHeight(height: number): Promise<AppliedBlock | undefined> {
    if (!Number.isSafeInteger(height) || height < 1) return undefined;
    const raw = this.store.get(SK.block(height));
    if (!raw) return undefined;
    const block = decodeBlock(raw);
    const r = dec<StoredReceipts>(this.store.get(SK.receipts(height))!);
    return {
      block,
      id: bytesToHex(blockId(block.header)),
      height,
      envelopes: block.txs.map((tx) => envelope(tx)),
      receipts: r.receipts.map((x) => ({ ...x, fee: BigInt(x.fee) })),
      endEvents: r.endEvents as AppliedBlock['endEvents'],
    };
  }

  async blockById(idHex: string): Promise<AppliedBlock | undefined> {
    const h = this.store.get(SK.blockIdx(idHex.toLowerCase()));
    return h ? this.blockByHeight(dec<number>(h)) : undefined;
  }

  async contractTxs(cid: string): Promise<ContractTxRef[]> {
    const out: ContractTxRef[] = [];
    for await (const [, v] of this.store.range(`ix/c/${cid}/`)) out.push(dec<ContractTxRef>(v));
    return out;
  }

  async contractsOf(account: string, limit: number, before?: string): Promise<string[]> {
    const out: string[] = [];
    let skipping = before !== undefined;
    for await (const [k] of this.store.range(`ix/p/${account}/`, { reverse: true })) {
      const cid = k.slice(k.lastIndexOf('/') + 1);
      if (skipping) {
        if (cid === before) skipping = false;
        continue;
      }
      if (!out.includes(cid)) out.push(cid);
      if (out.length >= limit) break;
    }
    return out;
  }

  async eventsSince(cursor: string | null, limit: number): Promise<FeedEvent[]> {
    let fromH = 1;
    let afterI = -1;
    if (cursor) {
      const m = /^(\d+):(\d+)$/.exec(cursor);
      if (!m) throw new RoamError('BAD_REQUEST', 'cursor must look like "height:index"');
      fromH = Number(m[1]);
      afterI = Number(m[2]);
    }
    const out: FeedEvent[] = [];
    for await (const [k, v] of this.store.range('r/', { gte: SK.receipts(fromH) })) {
      const h = Number.parseInt(k.slice(2), 16);
      for (const ev of feedOf(h, dec<StoredReceipts>(v))) {
        if (h === fromH && Number(ev.cursor.split(':')[1]) <= afterI) continue;
        out.push(ev);
        if (out.length >= limit) return out;
      }
    }
    return out;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.driver?.stop();
    for (const [id, ws] of this.waiters)
      for (const w of ws) w.reject(new RoamError('WAIT_TIMEOUT', `node closed before ${id} was included`));
    this.waiters.clear();
    await this.store.close();
  }
}

/** The events of a block as a feed: all transactions' events in order, then block-end events. */
export function feedOf(
  height: number,
  r: { receipts: { txId: string; events: unknown[] }[]; endEvents: unknown[] },
): FeedEvent[] {
  const out: FeedEvent[] = [];
  let i = 0;
  for (const rc of r.receipts) {
    for (const e of rc.events)
      out.push({ cursor: `${height}:${i++}`, height, txId: rc.txId, event: e as FeedEvent['event'] });
  }
  for (const e of r.endEvents)
    out.push({ cursor: `${height}:${i++}`, height, txId: null, event: e as FeedEvent['event'] });
  return out;
}

/** Indexer: contract → its transactions, party → its contracts. Outside consensus; same atomic batch. */
function indexOps(a: AppliedBlock): KvBatchOp[] {
  const ops: KvBatchOp[] = [];
  const empty = new Uint8Array();
  a.envelopes.forEach((env, idx) => {
    env.tx.ops.forEach((op, opIndex) => {
      let cid: string | undefined;
      if (op.type === 'request_open') {
        cid = bytesToHex(contractIdOf(env.tx.chainId, op.ephemeralKey));
        const opened = a.receipts[idx]?.events.find(
          (e) => e.type === 'contract_opened' && e.contract === cid,
        );
        const parties = new Set([op.issuer, op.payer, op.subscriber, String(opened?.assignee ?? '')]);
        for (const p of parties)
          if (p) ops.push({ type: 'put', key: SK.party(p, a.height, cid), value: empty });
      } else if (
        op.type === 'charge' ||
        op.type === 'provision' ||
        op.type === 'refund' ||
        op.type === 'rate'
      ) {
        cid = bytesToHex(op.contract);
      }
      if (cid) {
        const ref: ContractTxRef = { txId: env.idHex, height: a.height, index: idx, opIndex, type: op.type };
        ops.push({ type: 'put', key: SK.contractTx(cid, a.height, idx, opIndex), value: enc(ref) });
      }
    });
  });
  for (const e of a.endEvents) {
    if (e.type === 'contract_settled') {
      const cid = String(e.contract);
      const ref: ContractTxRef = { txId: '', height: a.height, index: -1, opIndex: 0, type: 'expiry' };
      ops.push({ type: 'put', key: SK.contractTx(cid, a.height, 999_999, 0), value: enc(ref) });
    }
  }
  return ops;
}

/**
 * Re-applies every stored block to a fresh genesis state and checks each root, and checks finality
 * from the blocks alone: each block's `lastCommit` must be a valid commit of its parent by that
 * height's active set, and the newest block's stored commit one of it.
 */
export async function replayStore(
  store: KvStore,
  genesis: Genesis,
  verifier: SignatureVerifier = nobleVerifier,
): Promise<{ height: number; root: string; commits: number }> {
  const { state, chainId } = genesisState(genesis);
  let headId = chainId;
  let height = 0;
  let commits = 0;
  for await (const [, raw] of store.range('b/')) {
    const block = decodeBlock(raw);
    const h = block.header.height;
    if (checkParentCommit(state, chainId, verifier, block)) commits++;
    const envs = block.txs.map((tx) => envelope(tx));
    applyBlock(state, block, envs, headId, { verifier });
    headId = blockId(block.header);
    height = Number(h);
  }
  if (height > 0) {
    const last = store.get(SK.commit(height));
    if (!last) throw new RoamError('BLOCK_BAD_COMMIT', `no commit stored for block ${height}`);
    verifyBlockCommit(state, chainId, verifier, last, BigInt(height), headId); // recent sets are kept in the state
    commits++;
  }
  return { height, root: bytesToHex(state.root()), commits };
}

/** The active set that signs block `height`, as consensus takes it (from the state after `height` - 1). */
export function activeSet(state: StateReader, height: bigint): ValidatorSet {
  return {
    validators: validatorSetFor(state, height).map((v) => ({ publicKey: v.nodeKey, name: v.account })),
  };
}

/** Verify an encoded commit of block `height` with id `value` against that height's active set. */
export function verifyBlockCommit(
  state: StateReader,
  chainId: Uint8Array,
  verifier: SignatureVerifier,
  bytes: Uint8Array,
  height: bigint,
  value: Uint8Array,
): Commit {
  let c: Commit;
  try {
    c = decodeCommit(bytes);
  } catch (e) {
    throw new RoamError('BLOCK_BAD_COMMIT', `commit does not decode: ${(e as Error).message}`);
  }
  if (c.height !== height) throw new RoamError('BLOCK_BAD_COMMIT', `commit is for height ${c.height}`);
  if (!equalBytes(c.value, value))
    throw new RoamError('BLOCK_BAD_COMMIT', `commit of block ${height} names another block`);
  const v = verifyCommit(c, activeSet(state, height), verifier, chainId);
  if (!v.ok) throw new RoamError('BLOCK_BAD_COMMIT', `block ${height}: ${v.reason}`);
  return c;
}

/**
 * The parent commit a block carries (`lastCommit`, hashed into the header): none in block 1, else a
 * valid commit of the parent by its active set — so finality can be checked from the blocks alone.
 * `state` is the state after the parent. Returns whether there was a commit to check.
 */
export function checkParentCommit(
  state: StateReader,
  chainId: Uint8Array,
  verifier: SignatureVerifier,
  block: Block,
): boolean {
  const h = block.header;
  if (!equalBytes(lastCommitHashOf(block.lastCommit), h.lastCommitHash)) {
    throw new RoamError('BLOCK_INVALID', `block ${h.height}: lastCommitHash does not match lastCommit`);
  }
  if (h.height === 1n) {
    if (block.lastCommit.length !== 0) throw new RoamError('BLOCK_INVALID', 'block 1 has no parent commit');
    return false;
  }
  verifyBlockCommit(state, chainId, verifier, block.lastCommit, h.height - 1n, h.prev);
  return true;
}
