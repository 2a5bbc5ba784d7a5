/**
 * The list index of the explorer: every transaction in chain order, each account's transactions,
 * the contracts in the order they were opened and each block's fee distribution, so that a page of
 * any of these lists reads exactly its rows (newest first) and never scans blocks or the state.
 *
 *   xl/t/<height u64 hex>/<index u32 hex>             -> transaction row (UTF-8 JSON, TxRow)
 *   xl/a/<account>/<height u64 hex>/<index u32 hex>   -> the same row: a transaction the account signed
 *                                                        or that named it in one of its events
 *   xl/c/<height u64 hex>/<event u32 hex>             -> contract row (ContractRow): a contract_opened event
 *   xl/f/<height u64 hex>                             -> the block's fees_paid event (JSON)
 *   xl/m                                              -> indexed up to height (JSON number)
 *
 * Like the feed index (feed.ts) it follows applied, durable blocks only, writes its own batches
 * after the block's (a block's keys and the marker in one atomic batch, so what is indexed up to
 * `height` is complete), catches up from the stored blocks after a restart (its own marker), and
 * never delays or enters consensus: being told of a block costs a map insert.
 */
import { requiredSigners } from '@roamchain/protocol';
import { type JsonObject, toJson } from '../api/json.js';
import type { AppliedBlock } from '../interfaces.js';
import { type KvBatchOp, type KvStore, u64Key } from '../store/index.js';
import { partiesOf } from './events.js';
import type { IndexSource } from './feed.js';

export interface TxRow {
  txId: string;
  height: number;
  index: number;
  /** Block time (unix ms, decimal string). */
  time: string;
  /** Operation types, in order. */
  types: string[];
  signers: string[];
  /** Fee paid (UMT base units, decimal string). */
  fee: string;
}

export interface ContractRow {
  contract: string;
  height: number;
  time: string;
  offer: string;
  issuer: string;
  assignee: string;
  subscriber: string;
  deposit: string;
}

export interface FeeRow {
  height: number;
  time: string;
  event: JsonObject;
}

/** Position of a row: (height, index within the block). Cursors are "height:index". */
export interface Pos {
  height: number;
  index: number;
}

export interface ListIndexerOptions {
  prefix?: string;
  follow?: boolean;
  maxQueued?: number;
  maxBlocksPerBatch?: number;
  maxOpsPerBatch?: number;
  log?: (level: 'warn' | 'error', msg: string, data?: Record<string, unknown>) => void;
}

const enc = (v: unknown) => Buffer.from(JSON.stringify(v));
const dec = <T>(v: Uint8Array) => JSON.parse(Buffer.from(v).toString('utf8')) as T;
const hex8 = (i: number) => i.toString(16).padStart(8, '0');
const posKey = (p: Pos) => `${u64Key('', p.height)}/${hex8(p.index)}`;
const CONTRACT_RE = /^[0-9a-f]{64}$/;

export class ListIndexer {
  private indexed: number;
  private target: number;
  private readonly queue = new Map<number, AppliedBlock>();
  private running: Promise<void> | null = null;
  private closed = false;
  private retryMs = 0;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly waiters = new Set<() => void>();
  private readonly unsubscribe: (() => void) | undefined;
  private readonly prefix: string;
  private readonly maxQueued: number;
  private readonly maxBlocks: number;
  private readonly maxOps: number;
  failures = 0;

  constructor(
    private readonly node: IndexSource,
    private readonly store: KvStore,
    private readonly opts: ListIndexerOptions = {},
  ) {
    this.prefix = opts.prefix ?? 'xl/';
    this.maxQueued = opts.maxQueued ?? 64;
    this.maxBlocks = opts.maxBlocksPerBatch ?? 64;
    this.maxOps = opts.maxOpsPerBatch ?? 20_000;
    const m = store.get(`${this.prefix}m`);
    const h = m ? Number(dec<unknown>(m)) : 0;
    this.indexed = Number.isSafeInteger(h) && h > 0 ? h : 0;
    this.target = Math.max(this.indexed, node.status().height);
    if (opts.follow ?? true) this.unsubscribe = node.onBlock((b) => this.noteBlock(b));
    this.kick();
  }

  /** Indexed up to this height. */
  get height(): number {
    return this.indexed;
  }

  /** A block was applied and is durable. O(1): the writing happens later. */
  noteBlock(b: AppliedBlock): void {
    if (this.closed) return;
    if (b.height > this.target) this.target = b.height;
    if (b.height > this.indexed && this.queue.size < this.maxQueued) this.queue.set(b.height, b);
    this.kick();
  }

  /** Resolves true once indexed up to `height`, false after `timeoutMs` (or on close). */
  async reach(height: number, timeoutMs: number): Promise<boolean> {
    const until = Date.now() + timeoutMs;
    while (this.indexed < height && !this.closed) {
      const left = until - Date.now();
      if (left <= 0) return false;
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(t);
          this.waiters.delete(done);
          resolve();
        };
        const t = setTimeout(done, left);
        this.waiters.add(done);
      });
    }
    return this.indexed >= height;
  }

  /** Transactions, newest first, strictly before `before`. */
  transactions(limit: number, before?: Pos): Promise<TxRow[]> {
    return this.page<TxRow>(`${this.prefix}t/`, limit, before);
  }

  /** An account's transactions, newest first, strictly before `before`. */
  accountTransactions(account: string, limit: number, before?: Pos): Promise<TxRow[]> {
    return this.page<TxRow>(`${this.prefix}a/${account}/`, limit, before);
  }

  /** Contracts in the order they were opened, newest first, strictly before `before`. */
  async contracts(limit: number, before?: Pos): Promise<(ContractRow & { index: number })[]> {
    const base = `${this.prefix}c/`;
    const out: (ContractRow & { index: number })[] = [];
    for await (const [k, v] of this.store.range(base, {
      reverse: true,
      limit,
      ...(before ? { lt: base + posKey(before) } : {}),
    }))
      out.push({ ...dec<ContractRow>(v), index: Number.parseInt(k.slice(base.length + 17), 16) });
    return out;
  }

  /** Fee distributions per block, newest first, below height `before`. */
  async fees(limit: number, before?: number): Promise<FeeRow[]> {
    const base = `${this.prefix}f/`;
    const out: FeeRow[] = [];
    for await (const [, v] of this.store.range(base, {
      reverse: true,
      limit,
      ...(before !== undefined ? { lt: u64Key(base, before) } : {}),
    }))
      out.push(dec<FeeRow>(v));
    return out;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.unsubscribe?.();
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.queue.clear();
    for (const w of [...this.waiters]) w();
    await this.running;
  }

  private async page<T>(base: string, limit: number, before?: Pos): Promise<T[]> {
    const out: T[] = [];
    for await (const [, v] of this.store.range(base, {
      reverse: true,
      limit,
      ...(before ? { lt: base + posKey(before) } : {}),
    }))
      out.push(dec<T>(v));
    return out;
  }

  private kick(): void {
    if (this.running || this.closed || this.retryTimer || this.indexed >= this.target) return;
    this.running = this.run().finally(() => {
      this.running = null;
      this.kick();
    });
  }

  private async run(): Promise<void> {
    while (!this.closed && this.indexed < this.target) {
      const ops: KvBatchOp[] = [];
      let h = this.indexed;
      try {
        while (h < this.target && h - this.indexed < this.maxBlocks && ops.length < this.maxOps) {
          const next = h + 1;
          const b = this.queue.get(next) ?? (await this.node.blockByHeight(next));
          if (!b || this.closed) break;
          opsOfBlock(this.prefix, b, ops);
          h = next;
        }
        if (h === this.indexed || this.closed) return;
        ops.push({ type: 'put', key: `${this.prefix}m`, value: enc(h) });
        await this.store.batch(ops);
      } catch (e) {
        if (this.closed) return;
        this.failures++;
        this.retryMs = Math.min(Math.max(this.retryMs * 2, 100), 10_000);
        this.opts.log?.('warn', 'list index write failed; retrying', {
          err: String(e),
          height: h,
          retryMs: this.retryMs,
        });
        this.retryTimer = setTimeout(() => {
          this.retryTimer = undefined;
          this.kick();
        }, this.retryMs);
        return;
      }
      this.retryMs = 0;
      for (let x = this.indexed + 1; x <= h; x++) this.queue.delete(x);
      this.indexed = h;
      for (const w of [...this.waiters]) w();
    }
  }
}

/** The index entries of one block. */
export function opsOfBlock(prefix: string, b: AppliedBlock, ops: KvBatchOp[]): void {
  const hk = u64Key('', b.height);
  const time = b.block.header.time.toString();
  let ev = 0;
  b.envelopes.forEach((env, i) => {
    const receipt = b.receipts[i];
    const signers = requiredSigners(env.tx.ops);
    const row: TxRow = {
      txId: env.idHex,
      height: b.height,
      index: i,
      time,
      types: env.tx.ops.map((o) => o.type),
      signers,
      fee: (receipt?.fee ?? 0n).toString(),
    };
    const value = enc(row);
    const tail = `${hk}/${hex8(i)}`;
    ops.push({ type: 'put', key: `${prefix}t/${tail}`, value });
    const accounts = new Set(signers);
    for (const e of receipt?.events ?? []) {
      const json = toJson(e) as JsonObject;
      for (const p of partiesOf(json)) accounts.add(p);
      if (
        json.type === 'contract_opened' &&
        typeof json.contract === 'string' &&
        CONTRACT_RE.test(json.contract)
      ) {
        const c: ContractRow = {
          contract: json.contract,
          height: b.height,
          time,
          offer: String(json.offer ?? ''),
          issuer: String(json.issuer ?? ''),
          assignee: String(json.assignee ?? ''),
          subscriber: String(json.subscriber ?? ''),
          deposit: String(json.deposit ?? '0'),
        };
        ops.push({ type: 'put', key: `${prefix}c/${hk}/${hex8(ev)}`, value: enc(c) });
      }
      ev++;
    }
    for (const a of accounts) ops.push({ type: 'put', key: `${prefix}a/${a}/${tail}`, value });
  });
  for (const e of b.endEvents) {
    const json = toJson(e) as JsonObject;
    if (json.type === 'fees_paid') {
      const row: FeeRow = { height: b.height, time, event: json };
      ops.push({ type: 'put', key: u64Key(`${prefix}f/`, b.height), value: enc(row) });
    }
  }
}
