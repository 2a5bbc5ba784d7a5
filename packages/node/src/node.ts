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
  type Block,
  type BlockHeader,
  blockId,
  bytesToHex,
  contractIdOf,
  decodeBlock,
  decodeTx,
  encodeBlock,
  envelope,
  equalBytes,
  type Genesis,
  hexToBytes,
  jsonSafe,
  merkleRoot,
  nobleVerifier,
  RoamError,
  type SignatureVerifier,
  sign,
  type TxEnvelope,
  useSha256,
  utf8,
  verify,
} from '@roamchain/protocol';
import {
  applyBlock,
  BlockBuilder,
  type BlockResult,
  genesisState,
  LedgerState,
  type StateChange,
  type TxReceipt,
} from '@roamchain/state';
import { sodiumSha256 } from './crypto/sodium.js';
import type { AppliedBlock, ContractTxRef, FeedEvent, NodeApi, NodeStatus, TxStatus } from './interfaces.js';
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
  blockIdx: (idHex: string) => `bi/${idHex}`,
  tx: (idHex: string) => `t/${idHex}`,
  receipts: (h: number | bigint) => u64Key('r/', h),
  contractTx: (cid: string, h: number, idx: number, op: number) =>
    `ix/c/${cid}/${u64Key('', h)}/${idx.toString().padStart(6, '0')}/${op.toString().padStart(3, '0')}`,
  party: (name: string, h: number, cid: string) => `ix/p/${name}/${u64Key('', h)}/${cid}`,
};

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
  private timer: NodeJS.Timeout | null = null;
  private producing: Promise<unknown> = Promise.resolve();
  private closed = false;
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
  ) {
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
      const v = config.genesis.validators.find((x) => x.account === config.producer!.account);
      if (!v)
        throw new RoamError('BLOCK_BAD_PRODUCER', `${config.producer.account} is not a genesis validator`);
      const probe = new Uint8Array(32);
      if (!verify(v.nodeKey, probe, sign(config.producer.secretKey, probe))) {
        throw new RoamError(
          'BLOCK_BAD_PRODUCER',
          'producer key does not match the validator node key in genesis',
        );
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
        return new Node(config, store, g.state, g.chainId, g.state.meta.time);
      }
      const head = dec<{ height: number; id: string; time: string }>(headRaw);
      const state = new LedgerState();
      for await (const [k, v] of store.range('s/')) state.loadEntry(k.slice(2), v);
      const expectRoot =
        head.height === 0 ? g.state.root() : decodeBlock(store.get(SK.block(head.height))!).header.stateRoot;
      if (!equalBytes(state.root(), expectRoot)) {
        throw new RoamError('BLOCK_BAD_STATE_ROOT', `stored state root does not match block ${head.height}`);
      }
      return new Node(config, store, state, hexToBytes(head.id), BigInt(head.time));
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
      // A single producer's durably committed blocks are final; BFT finality comes with the validator set.
      finalizedHeight: this.durable.height,
      headId: this.durable.id,
      headTime: this.durable.time,
      time: Date.now(),
      mempool: this.mempool.size,
      producer: this.config.producer?.account ?? null,
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
      // Re-admit what is still pending on top of the new head; drop what no longer applies.
      for (const env of this.mempool.fairOrder()) {
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

  submit(bytes: Uint8Array): TxEnvelope {
    if (this.closed) throw new RoamError('INTERNAL', 'node is closing');
    const maxTx = this.state.get<{ maxTxBytes: number }>('meta/params')!.maxTxBytes;
    if (bytes.length > maxTx) throw new RoamError('TX_TOO_LARGE', `${bytes.length} bytes > ${maxTx}`);
    const env = decodeTx(bytes);
    // Stateless checks, signatures and state checks all run once, inside the pending block's apply.
    if (this.store.get(SK.tx(env.idHex)))
      throw new RoamError('TX_DUPLICATE', `transaction ${env.idHex} already included`);
    const account = this.mempool.checkRoom(env);
    this.pendingBuilder().apply(env);
    this.mempool.add(env, account);
    this.rejected.delete(env.idHex);
    return env;
  }

  private drop(env: TxEnvelope, e: unknown): void {
    this.mempool.remove(env.idHex);
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

  // ---------------------------------------------------------------- production

  start(): void {
    if (!this.config.producer) throw new RoamError('BLOCK_BAD_PRODUCER', 'this node has no producer key');
    if (this.timer) return;
    const tick = () => {
      if (this.closed) return;
      this.producing = this.produceBlock()
        .catch((e) => this.log('error', 'block production failed', { err: String(e) }))
        .finally(() => {
          if (!this.closed) this.timer = setTimeout(tick, this.blockIntervalMs);
        });
    };
    this.timer = setTimeout(tick, this.blockIntervalMs);
  }

  /** Produce, sign and commit one block from the mempool (fair order). */
  async produceBlock(at?: bigint): Promise<AppliedBlock> {
    const producer = this.config.producer;
    if (!producer) throw new RoamError('BLOCK_BAD_PRODUCER', 'this node has no producer key');
    const t0 = performance.now();
    const max = this.state.get<{ maxBlockTxs: number }>('meta/params')!.maxBlockTxs;
    const height = this.state.meta.height + 1n;
    let b: BlockBuilder;
    const p = this.pending;
    if (at === undefined && p && p.txCount === this.mempool.size && p.txCount <= max) {
      // Everything pending fits in this block, so order cannot keep anyone out: the block is the
      // speculative block admission already built (each transaction applied once, not twice).
      b = p;
      this.pending = null;
    } else {
      // More pending than a block holds: take transactions in fair (round-robin) order.
      const now = at ?? BigInt(Date.now());
      const t = now > this.headTime ? now : this.headTime + 1n;
      this.pending = null;
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
    const time = b.start.time;
    const result = b.finish();
    const header: BlockHeader = {
      version: 1,
      chainId: this.chainId,
      height,
      prev: this.headId,
      time,
      producer: producer.account,
      txRoot: merkleRoot(b.envelopes.map((e) => e.id)),
      stateRoot: result.stateRoot,
      txCount: b.envelopes.length,
    };
    const id = blockId(header);
    const block: Block = {
      header,
      txs: b.envelopes.map((e) => e.tx),
      signature: sign(producer.secretKey, id),
    };
    const applied: AppliedBlock = {
      block,
      id: bytesToHex(id),
      height: Number(height),
      envelopes: b.envelopes,
      receipts: result.receipts,
      endEvents: result.endEvents,
    };
    await this.commit(applied, result.changes, (performance.now() - t0) / 1000);
    return applied;
  }

  /** Validate and apply a block produced elsewhere (sync, other validators). */
  async importBlock(block: Block): Promise<AppliedBlock> {
    const t0 = performance.now();
    const v = this.genesis.validators.find((x) => x.account === block.header.producer);
    const id = blockId(block.header);
    if (!v) throw new RoamError('BLOCK_BAD_PRODUCER');
    if (!this.verifier.verify(v.nodeKey, id, block.signature)) throw new RoamError('BLOCK_BAD_SIGNATURE');
    const envelopes = block.txs.map((tx) => envelope(tx));
    this.pending = null;
    const result: BlockResult = applyBlock(this.state, block, envelopes, this.headId, {
      verifier: this.verifier,
    });
    const applied: AppliedBlock = {
      block,
      id: bytesToHex(id),
      height: Number(block.header.height),
      envelopes,
      receipts: result.receipts,
      endEvents: result.endEvents,
    };
    for (const e of envelopes) this.mempool.remove(e.idHex);
    await this.commit(applied, result.changes, (performance.now() - t0) / 1000);
    return applied;
  }

  private async commit(a: AppliedBlock, changes: StateChange[], applySeconds: number): Promise<void> {
    const ops: KvBatchOp[] = [];
    for (const c of changes) {
      if (c.value) ops.push({ type: 'put', key: SK.state(c.key), value: c.value });
      else ops.push({ type: 'del', key: SK.state(c.key) });
    }
    ops.push({ type: 'put', key: SK.block(a.height), value: encodeBlock(a.block) });
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
    this.pending = null;
    for (const e of a.envelopes) this.mempool.remove(e.idHex);
    try {
      await this.store.batch(ops);
    } catch (e) {
      // Memory is ahead of disk now: the only safe course is to stop and restart from disk.
      this.log('error', 'storage commit failed; stopping', { err: String(e) });
      this.closed = true;
      throw e;
    }
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
    if (this.mempool.has(txId)) return { status: 'pending', txId };
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
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.closed = true;
    await this.producing.catch(() => {});
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

/** Re-applies every stored block to a fresh genesis state and checks each root. */
export async function replayStore(
  store: KvStore,
  genesis: Genesis,
  verifier: SignatureVerifier = nobleVerifier,
): Promise<{ height: number; root: string }> {
  const { state, chainId } = genesisState(genesis);
  let headId = chainId;
  let height = 0;
  for await (const [, raw] of store.range('b/')) {
    const block = decodeBlock(raw);
    const envs = block.txs.map((tx) => envelope(tx));
    applyBlock(state, block, envs, headId, { verifier });
    headId = blockId(block.header);
    height = Number(block.header.height);
  }
  return { height, root: bytesToHex(state.root()) };
}
