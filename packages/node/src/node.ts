/**
 * One roamchain node: the host that assembles the Application (@roamchain/chain), durable storage,
 * the mempool and admission pipeline, the consensus driver and the read side the API uses.
 *
 *   const node = await Node.open({ dataDir, genesis, producer: { account, secretKey } });
 *   node.start();                 // consensus: a set of one without a network
 *   const api = await createApi(node, { port: 0 });   // packages/node/src/api/server.ts
 *   ...; await node.close();
 *
 * Every block is committed in ONE atomic, durable storage batch (storage.ts), written in order by the
 * write queue (write-queue.ts) behind the heights that follow it (pipelined heights); reads see the
 * pending batches. A node killed at any moment restarts at its last stored block with the same state
 * root (checked on start against the head block's header), and the consensus driver commits again
 * every decided block its WAL holds above it.
 */
import { EventEmitter } from 'node:events';
import { Application, type Candidate, MAX_BLOCK_TX_BYTES, verifyBlockCommit } from '@roamchain/chain';
import { type Commit, encodeCommit, type ValidatorSet, type Vote } from '@roamchain/consensus';
import {
  type Block,
  blockId,
  bytesToHex,
  decodeBlock,
  encodeTx,
  equalBytes,
  type Genesis,
  hexToBytes,
  PROTOCOL_VERSION,
  RoamError,
  refPrefixOf,
  type SignatureVerifier,
  signTx,
  type TxEnvelope,
  useSha256,
  useSign,
} from '@roamchain/protocol';
import { genesisState, LedgerState, readGovMeta, requireKnownProtocol, type TxIndex } from '@roamchain/state';
import { type Admitted, admit, BatchVerifier, sharedVerifierPool } from './admission.js';
import { AccountGovernor, type AdmissionLimits, admissionLimitsFromEnv } from './admission-limits.js';
import {
  ConsensusDriver,
  type ConsensusHost,
  type ConsensusNetwork,
  type ConsensusOptions,
} from './consensus.js';
import { sodiumSha256, sodiumSha256Into, sodiumSignWithSeed } from './crypto/sodium.js';
import { CachingVerifier, sodiumVerifier } from './crypto/verifier.js';
import { failpoint } from './failpoint.js';
import type {
  AppliedBlock,
  ContractTxRef,
  FeedEvent,
  NodeApi,
  NodeHalt,
  NodeStatus,
  SubmitResult,
  TxStatus,
} from './interfaces.js';
import { Mempool, type MempoolLimits } from './mempool.js';
import { ChainReader } from './queries.js';
import { blockBatch, dec, enc, type HeadRecord, SK } from './storage.js';
import { type KvBatchOp, type KvStore, openStore, type StoreKind } from './store/index.js';
import { TxFilter } from './tx-filter.js';
import { WriteQueue } from './write-queue.js';

export type { Candidate } from '@roamchain/chain';
export { activeSet, checkParentCommit, verifyBlockCommit } from '@roamchain/chain';
export { feedOf } from './queries.js';
export { replayStore } from './replay.js';
export { SK } from './storage.js';

export interface NodeConfig {
  dataDir: string;
  genesis: Genesis;
  store?: StoreKind;
  /** The validator identity this node produces blocks with (its account and node key seed). */
  producer?: { account: string; secretKey: Uint8Array } | null;
  blockIntervalMs?: number;
  /** Verifies signatures in blocks and votes (default libsodium); admission's checks are cached in front of it. */
  verifier?: SignatureVerifier;
  mempool?: Partial<MempoolLimits>;
  /** Per-account bounds on the admission of this node's clients' transactions (admission-limits.ts). */
  admission?: Partial<AdmissionLimits>;
  /** Most transactions this node puts in a block it proposes (default: the chain's `maxBlockTxs`). */
  maxProposalTxs?: number;
  /** Most bytes of transactions in a block this node proposes (default and at most 4 MiB: a consensus limit). */
  maxProposalBytes?: number;
  /**
   * Most milliseconds this node spends executing the transactions of a block it proposes (default
   * 150): validators spend about as long again, so this bounds the time to finality under load.
   */
  maxProposalMs?: number;
  /** Most transactions of one account in a block this node proposes (default 256, see `DEFAULT_ACCOUNT_TXS_PER_BLOCK`). */
  maxAccountTxsPerBlock?: number;
  /** Called with each committed block once durable (metrics). */
  onCommitted?: (b: AppliedBlock, applySeconds: number) => void;
  /**
   * The highest protocol version this node implements (1..PROTOCOL_VERSION, default
   * PROTOCOL_VERSION). Less makes it behave as older software: it halts before a voted upgrade to a
   * higher version instead of following it (`--max-protocol-version`).
   */
  maxProtocolVersion?: number;
  /** Most decided blocks whose storage batch is pending before the next height waits (default 4). */
  maxPendingBatches?: number;
  /**
   * A storage batch failed: memory is ahead of disk and the node has stopped (consensus stopped,
   * submissions refused). The process should exit; a restart commits the decided blocks from the WAL.
   */
  onFatal?: (e: unknown) => void;
  log?: (level: 'info' | 'warn' | 'error', msg: string, data?: Record<string, unknown>) => void;
}

const DEFAULT_PROPOSAL_MS = 150;
/**
 * Most transactions of one account in a block this node proposes: an account flooding the node does
 * not make every block long (the others' transactions wait for the block before theirs, then for
 * theirs); its backlog waits in the mempool, bounded by the per-account caps. A proposer's policy,
 * not a consensus rule: blocks of other proposers are not checked against it.
 */
export const DEFAULT_ACCOUNT_TXS_PER_BLOCK = 256;
const MAX_REJECTED = 50_000;

export class Node implements NodeApi, ConsensusHost {
  readonly state: LedgerState;
  readonly chainId: Uint8Array;
  readonly app: Application;
  readonly mempool: Mempool;
  /** Per-account bounds of admission (local submissions). */
  readonly governor: AccountGovernor;
  /** Verifications done (admission, earlier blocks): a block does not verify them again. */
  readonly cache: CachingVerifier;
  readonly batch: BatchVerifier;
  private readonly reader: ChainReader;
  private readonly rejected = new Map<string, { code: string; message: string }>();
  private readonly waiters = new Map<
    string,
    { resolve: (s: TxStatus & { status: 'included' }) => void; reject: (e: RoamError) => void }[]
  >();
  private readonly emitter = new EventEmitter();
  private driver: ConsensusDriver | null = null;
  private closed = false;
  /** The store as the node reads it: the durable store plus the pending batches of decided blocks. */
  readonly store: KvStore;
  /** See `noteEncoded`. */
  private readonly encodedBlocks = new Map<string, Uint8Array>();
  private readonly queue: WriteQueue;
  /** Ids of the blocks this process adopted: the duplicate check of fresh transactions reads no storage. */
  private readonly filter: TxFilter;
  private readonly blockIntervalMs: number;
  /** The last block that is on disk. */
  private durable: { height: number; id: string; time: number };
  /** The highest protocol version this node implements. */
  readonly protocolVersion: number;
  /** Set when a voted protocol version this node does not implement is in force at the next height. */
  private halt: NodeHalt | null = null;

  private constructor(
    readonly config: NodeConfig,
    base: KvStore,
    state: LedgerState,
    head: { id: Uint8Array; time: bigint; commit: Uint8Array },
  ) {
    this.state = state;
    this.queue = new WriteQueue(base, {
      ...(config.maxPendingBatches !== undefined ? { maxPending: config.maxPendingBatches } : {}),
      onFatal: (e) => this.fatal(e),
    });
    this.store = this.queue;
    this.filter = new TxFilter(Number(state.meta.height) + 1);
    this.chainId = state.meta.chainId;
    const v = config.maxProtocolVersion ?? PROTOCOL_VERSION;
    if (!Number.isInteger(v) || v < 1 || v > PROTOCOL_VERSION) {
      throw new RoamError('BAD_REQUEST', `maxProtocolVersion must be 1..${PROTOCOL_VERSION}, got ${v}`);
    }
    this.protocolVersion = v;
    this.durable = { height: Number(state.meta.height), id: bytesToHex(head.id), time: Number(head.time) };
    this.cache = new CachingVerifier(config.verifier ?? sodiumVerifier());
    this.batch = new BatchVerifier(sharedVerifierPool());
    this.governor = new AccountGovernor({ ...admissionLimitsFromEnv(), ...config.admission });
    this.reader = new ChainReader(this.store);
    this.blockIntervalMs = config.blockIntervalMs ?? config.genesis.params.blockIntervalMs;
    this.mempool = new Mempool({ maxTotal: 200_000, maxPerAccount: 20_000, ...config.mempool });
    this.emitter.setMaxListeners(0);
    // Replay protection: the store's transaction index plus the block being written.
    const txIndex: TxIndex = { has: (id, ref) => this.isIncluded(id, ref) };
    this.app = new Application(state, head, {
      genesis: config.genesis,
      verifier: this.cache,
      txIndex,
      producer: config.producer ?? null,
      protocolVersion: v,
    });
    this.checkUpgrade();
  }

  /** Why the node halted (see `NodeHalt`), or null. */
  get halted(): NodeHalt | null {
    return this.halt;
  }

  /**
   * Before the next height: if a voted protocol version above this node's is in force there, halt —
   * stop consensus (no proposal, vote or block applied any more), refuse submissions, say why in the
   * log, `GET /v1/status` and the `roamchain_halted` metric — and keep serving reads.
   */
  private checkUpgrade(): void {
    if (this.halt) return;
    const next = this.state.meta.height + 1n;
    try {
      requireKnownProtocol(this.state, next, this.protocolVersion);
      return;
    } catch (e) {
      if (!(e instanceof RoamError) || e.code !== 'UPGRADE_REQUIRED') throw e;
      const up = readGovMeta(this.state).upgrade!;
      this.halt = {
        reason: 'UPGRADE_REQUIRED',
        version: up.version,
        height: Number(up.height),
        proposal: bytesToHex(up.proposal),
        implemented: this.protocolVersion,
        message: e.message,
      };
    }
    const h = this.halt;
    this.log(
      'error',
      `halted: protocol version ${h.version} is in force from height ${h.height}; this node implements version ${h.implemented}: upgrade the software`,
      {
        reason: h.reason,
        version: h.version,
        height: h.height,
        implemented: h.implemented,
        proposal: h.proposal,
      },
    );
    // Not awaited: this runs inside the driver's own commit; the driver checks `stopped` everywhere.
    void this.driver?.stop();
    this.emitter.emit('halted', h);
  }

  /** Subscribe to the halt (at most once per process). */
  onHalt(listener: (h: NodeHalt) => void): () => void {
    this.emitter.on('halted', listener);
    return () => this.emitter.off('halted', listener);
  }

  get genesis(): Genesis {
    return this.config.genesis;
  }

  /** Open (or create) the node's data directory and load its state. */
  static async open(config: NodeConfig): Promise<Node> {
    useSha256(sodiumSha256, sodiumSha256Into);
    useSign(sodiumSignWithSeed);
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
        const head = { id: g.chainId, time: g.state.meta.time, commit: new Uint8Array(0) };
        return new Node(config, store, g.state, head);
      }
      const head = dec<HeadRecord>(headRaw);
      const state = new LedgerState();
      for await (const [k, v] of store.range('s/')) state.loadEntry(k.slice(2), v);
      const expectRoot =
        head.height === 0 ? g.state.root() : decodeBlock(store.get(SK.block(head.height))!).header.stateRoot;
      if (!equalBytes(state.root(), expectRoot)) {
        throw new RoamError('BLOCK_BAD_STATE_ROOT', `stored state root does not match block ${head.height}`);
      }
      const headCommit = head.height === 0 ? new Uint8Array(0) : store.get(SK.commit(head.height));
      if (!headCommit) throw new RoamError('BLOCK_INVALID', `no commit stored for block ${head.height}`);
      return new Node(config, store, state, {
        id: hexToBytes(head.id),
        time: BigInt(head.time),
        commit: headCommit,
      });
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
      protocolVersion: this.protocolVersion,
      halted: this.halt,
    };
  }

  // ---------------------------------------------------------------- admission

  /**
   * Included in a block already? The filter of this process's blocks answers "no" for a fresh
   * transaction without a read (tx-filter.ts: its TaPoS reference proves where it could be); else
   * the store's index, read through the write queue (pending batches included).
   */
  private isIncluded(idHex: string, refBlockNum?: number, id?: Uint8Array): boolean {
    if (refBlockNum !== undefined && this.filter.provesAbsent(idHex, refBlockNum, id)) return false;
    return this.store.get(SK.tx(idHex)) !== undefined;
  }

  private async admitMany(list: Uint8Array[], origin: 'local' | 'peer'): Promise<Admitted[]> {
    if (this.closed) throw new RoamError('INTERNAL', 'node is closing');
    const h = this.halt;
    if (h)
      return list.map(
        () => new RoamError('UPGRADE_REQUIRED', h.message, { version: h.version, height: h.height }),
      );
    const out = await admit(
      {
        app: this.app,
        mempool: this.mempool,
        cache: this.cache,
        batch: this.batch,
        governor: origin === 'local' ? this.governor : undefined,
        isIncluded: (idHex, ref, id) => this.isIncluded(idHex, ref, id),
      },
      list,
      BigInt(Date.now()),
    );
    for (let i = 0; i < out.length; i++) {
      const r = out[i]!;
      if (r instanceof RoamError) continue;
      this.rejected.delete(r.env.idHex);
      this.emitter.emit('tx', list[i]!, origin);
    }
    return out;
  }

  /**
   * Admission of one transaction. `origin` says where the bytes came from: 'local' (this node's API:
   * consensus gossips them to peers) or 'peer' (already gossiped).
   */
  async submit(bytes: Uint8Array, origin: 'local' | 'peer' = 'local'): Promise<TxEnvelope> {
    const r = (await this.admitMany([bytes], origin))[0]!;
    if (r instanceof RoamError) throw r;
    return r.env;
  }

  /** Admission of many transactions: one result each, in order (see `NodeApi.submitBatch`). */
  async submitBatch(txs: Uint8Array[], origin: 'local' | 'peer' = 'local'): Promise<SubmitResult[]> {
    return (await this.admitMany(txs, origin)).map((r) =>
      r instanceof RoamError
        ? { ok: false as const, code: r.code, message: r.message }
        : { ok: true as const, txId: r.env.idHex },
    );
  }

  /**
   * Put two conflicting votes of one validator (seen by consensus) into the mempool as an
   * `evidence` transaction: self-authenticating, so it is signed by nobody and pays no fee; it
   * references the head for TaPoS and expires within the chain's limit.
   */
  submitEvidence(ev: { a: Vote; b: Vote }): Promise<TxEnvelope> {
    const p = this.app.params;
    const head = this.app.head;
    const tx = signTx(
      {
        chainId: this.chainId,
        refBlockNum: Number(head.height),
        refBlockPrefix: refPrefixOf(head.id),
        expiration: head.time + BigInt(Math.min(p.maxTxExpirationMs, 600_000)),
        ops: [{ type: 'evidence', a: ev.a, b: ev.b }],
      },
      {},
    );
    return this.submit(encodeTx(tx), 'local');
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
    const err = e instanceof RoamError ? e : new RoamError('INTERNAL', (e as Error).message);
    this.rejected.set(env.idHex, { code: err.code, message: err.message });
    if (this.rejected.size > MAX_REJECTED) this.rejected.delete(this.rejected.keys().next().value!);
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
      // Already included (or refused) before we started waiting?
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
    // A halted node does not take part (it serves reads only).
    if (!this.halt) this.driver.start();
    return this.driver;
  }

  /**
   * Produce one block as the only validator (tests and tools): it goes through the same consensus
   * core as a network (proposal, prevote, precommit, persisted sign state) with a set of one.
   */
  async produceBlock(at?: bigint): Promise<AppliedBlock> {
    if (this.halt) throw new RoamError('UPGRADE_REQUIRED', this.halt.message);
    this.driver ??= this.makeDriver(null, { manual: true });
    const a = await this.driver.produceOne(at);
    // A tool's block is reported once durable (a running node does not wait: pipelined heights).
    await this.queue.drain();
    return a;
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

  /** The signature verifier this node checks blocks and votes with. */
  get signatureVerifier(): SignatureVerifier {
    return this.cache;
  }

  /** The active validator set that signs block `height` (from the state; see @roamchain/state). */
  validatorSet(height: bigint): ValidatorSet {
    return this.app.validatorSet(height);
  }

  /** A committed block's stored encoding (block sync serves it as it is, without decoding). */
  blockBytes(height: number): Uint8Array | undefined {
    return this.store.get(SK.block(height));
  }

  /** The stored commit that finalised block `height`. */
  commitAt(height: number): Uint8Array | undefined {
    return height === this.height ? this.app.head.commit : this.store.get(SK.commit(height));
  }

  /** The last height whose storage batch is durable. */
  get durableHeight(): bigint {
    return BigInt(this.durable.height);
  }

  /** Storage batches of decided blocks not yet durable. */
  get pendingBatches(): number {
    return this.queue.size;
  }

  get head(): { height: bigint; id: Uint8Array; time: bigint } {
    const h = this.app.head;
    return { height: h.height, id: h.id, time: h.time };
  }

  /**
   * prepareProposal: this node's block for the next height from the mempool (fair order), executed
   * on an overlay of the head and staged. Transactions that fail are dropped (their waiters learn why).
   */
  buildCandidate(at?: bigint): Candidate {
    const p = this.app.params;
    const until = performance.now() + (this.config.maxProposalMs ?? DEFAULT_PROPOSAL_MS);
    return this.app.prepareProposal(
      this.mempool.fairOrder(this.config.maxAccountTxsPerBlock ?? DEFAULT_ACCOUNT_TXS_PER_BLOCK),
      {
        maxTxs: Math.min(p.maxBlockTxs, this.config.maxProposalTxs ?? p.maxBlockTxs),
        maxBytes: this.config.maxProposalBytes ?? MAX_BLOCK_TX_BYTES,
        full: () => performance.now() > until,
      },
      at ?? BigInt(Date.now()),
      (env, e) => this.drop(env, e),
    );
  }

  candidate(idHex: string): Candidate | undefined {
    return this.app.candidate(idHex);
  }

  /**
   * The encoding of a candidate of the next height that the consensus driver made itself (for its
   * WAL and the proposal): the block's batch stores these bytes instead of encoding the block again.
   * Only encodings made by `encodeBlock` here, never bytes from a peer; at most 16, cleared at each
   * commit.
   */
  noteEncoded(idHex: string, encoded: Uint8Array): void {
    if (this.encodedBlocks.size < 16) this.encodedBlocks.set(idHex, encoded);
  }

  /** Why a block for the next height was refused, if it was. */
  refusedCandidate(idHex: string): RoamError | undefined {
    return this.app.refusedCandidate(idHex);
  }

  /** processProposal: valid(v) of consensus (see `Application.processProposal`; deterministic). */
  checkCandidate(block: Block): Candidate {
    return this.app.processProposal(block);
  }

  /**
   * Commit a decided candidate (consensus reached `commit` on it): adopt it in memory and queue its
   * storage batch behind the pending ones (pipelined heights). Resolves when the next height may
   * start: at once, or when the write queue is back within its bound (backpressure). Waiters, the
   * `block` event and `onCommitted` follow when the batch is durable.
   */
  async commitDecided(idHex: string, commit: Commit): Promise<AppliedBlock> {
    return (await this.commit(idHex, commit)).applied;
  }

  private async commit(
    idHex: string,
    commit: Commit,
  ): Promise<{ applied: AppliedBlock; written: Promise<void> }> {
    if (this.closed) throw new RoamError('INTERNAL', 'node is closed');
    const t0 = performance.now();
    const d = this.app.finalizeBlock(idHex, encodeCommit(commit));
    const applied: AppliedBlock = {
      block: d.block,
      id: d.id,
      height: d.height,
      envelopes: d.envelopes,
      receipts: d.result.receipts,
      endEvents: d.result.endEvents,
    };
    // The state already holds this block; its transactions are no longer pending.
    this.filter.addBlock(
      applied.height,
      applied.envelopes.map((e) => e.idHex),
    );
    for (const e of applied.envelopes) this.mempool.remove(e.idHex);
    for (const env of this.mempool.evictExpired(applied.block.header.time))
      this.drop(env, new RoamError('TX_EXPIRED'));
    const encoded = this.encodedBlocks.get(idHex);
    this.encodedBlocks.clear();
    const ops = blockBatch(applied, d.result.changes, d.commit, encoded);
    const applySeconds = (performance.now() - t0) / 1000;
    const behind = this.queue.size;
    // Readers (and the duplicate check) see the batch from here on, before it is durable.
    const queued = this.queue.push(applied.height, ops);
    if (behind >= 2) failpoint('batches-pending');
    // With pipelined heights the next height starts before this batch lands: a node that does not
    // implement the version in force at the next height halts now, before taking part in it.
    this.checkUpgrade();
    const { written } = await queued;
    written.then(
      () => this.landed(applied, applySeconds),
      () => {}, // reported once, by `fatal`
    );
    return { applied, written };
  }

  /**
   * Block sync: import a block of the next height with the commit that finalised it (checked
   * against that height's active set), then its transactions and state root. Resolves once its batch
   * is durable: an imported block has no decision record in the consensus WAL, so the node must not
   * sign anything at a later height before the store has it (a crash would bring it back below a
   * height it already voted at).
   */
  async importFinal(block: Block, commitBytes: Uint8Array): Promise<AppliedBlock> {
    const id = blockId(block.header);
    const commit = verifyBlockCommit(
      this.state,
      this.chainId,
      this.cache,
      commitBytes,
      block.header.height,
      id,
    );
    this.checkCandidate(block);
    const { applied, written } = await this.commit(bytesToHex(id), commit);
    await written;
    return applied;
  }

  /** A block's storage batch is durable: report it (a crash can no longer take it back from disk). */
  private landed(a: AppliedBlock, applySeconds: number): void {
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
    this.checkUpgrade();
  }

  /**
   * A storage batch failed. Memory is ahead of disk: the node stops at once, loudly (consensus
   * stopped, submissions refused, waiters told) and the process should exit (`onFatal`); a restart
   * reads the store and commits the decided blocks from the consensus WAL.
   */
  private fatal(e: unknown): void {
    this.log('error', 'storage commit failed; the node stops', { err: String(e) });
    this.closed = true;
    void this.driver?.stop();
    const err = new RoamError('INTERNAL', `storage failed: ${String(e)}`);
    for (const ws of this.waiters.values()) for (const w of ws) w.reject(err);
    this.waiters.clear();
    this.config.onFatal?.(e);
  }

  onBlock(listener: (b: AppliedBlock) => void): () => void {
    this.emitter.on('block', listener);
    return () => this.emitter.off('block', listener);
  }

  // ---------------------------------------------------------------- reads

  async txStatus(txId: string): Promise<TxStatus | undefined> {
    const inc = this.reader.included(txId);
    if (inc) return inc;
    if (this.mempool.has(txId)) return { status: 'pending', txId };
    const r = this.rejected.get(txId);
    if (r) return { status: 'rejected', txId, ...r };
    return undefined;
  }

  async blockByHeight(height: number): Promise<AppliedBlock | undefined> {
    return this.reader.blockByHeight(height);
  }

  async blockById(idHex: string): Promise<AppliedBlock | undefined> {
    return this.reader.blockById(idHex);
  }

  contractTxs(cid: string): Promise<ContractTxRef[]> {
    return this.reader.contractTxs(cid);
  }

  contractsOf(account: string, limit: number, before?: string): Promise<string[]> {
    return this.reader.contractsOf(account, limit, before);
  }

  eventsSince(cursor: string | null, limit: number): Promise<FeedEvent[]> {
    return this.reader.eventsSince(cursor, limit);
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.driver?.stop();
    // The decided blocks still queued are written before the store closes.
    await this.queue.drain().catch(() => {});
    for (const [id, ws] of this.waiters)
      for (const w of ws) w.reject(new RoamError('WAIT_TIMEOUT', `node closed before ${id} was included`));
    this.waiters.clear();
    await this.store.close();
  }
}
