/**
 * The main thread's side of the index worker (worker.ts): it starts the worker, hands it each
 * durable block's stored bytes (no decoding, JSON or index keys on the main thread), answers its
 * reads of stored blocks, and serves the indexes' reads as promises over messages.
 *
 * - Bounded: at most `maxUnacked` blocks posted beyond what the worker has indexed (beyond that it
 *   is told the height only and reads the blocks back, one at a time per index), at most
 *   `maxOutstanding` reads in flight, each rejected with INDEX_UNAVAILABLE (503) after
 *   `requestTimeoutMs`; a read with bounds out of range is refused (BAD_REQUEST) before it is posted.
 * - Faults: a worker that dies is logged, its reads rejected with INDEX_UNAVAILABLE, and it is
 *   restarted with a backoff (200 ms doubling to 10 s); it catches up from its markers.
 * - One worker per index directory in a process (`acquireIndexWorker`): APIs on the same node share it.
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { RoamError } from '@roamchain/protocol';
import type { NodeApi } from '../interfaces.js';
import { SK, storedBytesOf } from '../storage.js';
import type { KvStore, StoreKind } from '../store/index.js';
import type {
  FeedIndexReader,
  FromWorker,
  IndexQuery,
  ListIndexReader,
  ToWorker,
  WorkerInit,
} from './messages.js';
import { FeedView, type IndexOwner, ListView } from './views.js';

export { MAX_INDEX_PAGE } from './views.js';

/** What the client reads of the node: durable blocks' notifications, its height, its store. */
export type IndexedNode = Pick<NodeApi, 'onBlock' | 'status'> & { store: KvStore };

export interface IndexWorkerOptions {
  /** The index store's directory (`<dataDir>/index`) and engine (the node's). */
  dir: string;
  kind: StoreKind;
  feed: boolean;
  list: boolean;
  /** Blocks posted beyond the indexed height before only heights are posted (default 64). */
  maxUnacked?: number;
  /** Reads in flight at once (default 256). */
  maxOutstanding?: number;
  /** A read not answered within this is rejected with INDEX_UNAVAILABLE (default 10 s). */
  requestTimeoutMs?: number;
  log?: (level: 'info' | 'warn' | 'error', msg: string, data?: Record<string, unknown>) => void;
}

const unavailable = (message: string) => new RoamError('INDEX_UNAVAILABLE', message);

/** Starts the worker from compiled JavaScript, or from the TypeScript sources under tsx (tests). */
function startWorker(init: WorkerInit): Worker {
  const here = import.meta.url;
  if (!here.endsWith('.ts')) return new Worker(new URL('./worker.js', here), { workerData: init });
  // As in crypto/verifier.ts: a worker does not get the parent's ESM loader hooks on Node 20, so a
  // CommonJS bootstrap installs tsx's require hook; workspace imports resolve to their sources.
  const tsxCjs = createRequire(here).resolve('tsx/cjs');
  const file = fileURLToPath(new URL('./worker.ts', here));
  const code = `require(${JSON.stringify(tsxCjs)});require(${JSON.stringify(file)});`;
  return new Worker(code, { eval: true, execArgv: ['--conditions=@roamchain/source'], workerData: init });
}

interface Outstanding {
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
  timer: ReturnType<typeof setTimeout>;
}

/** The index worker of one node, seen from the main thread. */
export class IndexWorker implements IndexOwner {
  readonly feed: (FeedView & FeedIndexReader) | undefined;
  readonly list: (ListView & ListIndexReader) | undefined;
  closed = false;
  /** Worker starts after the first (each a crash recovered). */
  restarts = 0;
  /** Reads posted to the worker so far. */
  requestsPosted = 0;
  private worker: Worker | null = null;
  private up = false;
  private tip: number;
  private nextId = 1;
  private readonly outstanding = new Map<number, Outstanding>();
  private restartMs = 0;
  private restartTimer: ReturnType<typeof setTimeout> | undefined;
  private closing: Promise<void> | null = null;
  private onClosed: (() => void) | null = null;
  private readonly unsubscribe: () => void;
  private readonly maxUnacked: number;
  private readonly maxOutstanding: number;
  private readonly timeoutMs: number;

  constructor(
    private readonly node: IndexedNode,
    private readonly opts: IndexWorkerOptions,
  ) {
    this.feed = opts.feed ? new FeedView(this) : undefined;
    this.list = opts.list ? new ListView(this) : undefined;
    this.maxUnacked = opts.maxUnacked ?? 64;
    this.maxOutstanding = opts.maxOutstanding ?? 256;
    this.timeoutMs = opts.requestTimeoutMs ?? 10_000;
    this.tip = node.status().height;
    this.unsubscribe = node.onBlock((b) => {
      if (b.height > this.tip) this.tip = b.height;
      try {
        this.post(b.height, storedBytesOf(b));
      } catch (e) {
        // Never into the node's commit path: the worker reads the block back at the next height.
        this.opts.log?.('warn', 'posting a block to the index worker failed', { err: String(e) });
      }
    });
    this.start();
  }

  /** Indexed up to here by every index the worker keeps. */
  private get acked(): number {
    return Math.min(
      this.feed?.height ?? Number.MAX_SAFE_INTEGER,
      this.list?.height ?? Number.MAX_SAFE_INTEGER,
    );
  }

  private post(height: number, bytes: { block: Uint8Array; receipts: Uint8Array } | undefined): void {
    const w = this.worker;
    if (!w) return;
    if (!this.up || !bytes || height - this.acked > this.maxUnacked) {
      w.postMessage({ t: 'tip', height } satisfies ToWorker);
      return;
    }
    // Copies, transferred: the node's own bytes stay as they are.
    const block = bytes.block.slice();
    const receipts = bytes.receipts.slice();
    w.postMessage({ t: 'block', height, block, receipts } satisfies ToWorker, [
      block.buffer as ArrayBuffer,
      receipts.buffer as ArrayBuffer,
    ]);
  }

  private start(): void {
    this.restartTimer = undefined;
    if (this.closed) return;
    const w = startWorker({
      dir: this.opts.dir,
      kind: this.opts.kind,
      feed: this.opts.feed,
      list: this.opts.list,
      height: this.tip,
    });
    this.worker = w;
    w.unref();
    w.on('message', (m: FromWorker) => this.onMessage(w, m));
    w.on('error', (e) => this.opts.log?.('error', 'index worker failed', { err: String(e) }));
    w.on('exit', (code) => this.onExit(w, code));
  }

  private onMessage(w: Worker, m: FromWorker): void {
    if (w !== this.worker) return;
    switch (m.t) {
      case 'ready':
      case 'progress': {
        const before = this.acked;
        if (m.t === 'ready') {
          this.up = true;
          // Blocks that landed while it started: it reads them back.
          w.postMessage({ t: 'tip', height: this.tip } satisfies ToWorker);
        }
        this.feed?.note(m.feed);
        this.list?.note(m.list);
        if (this.acked > before) this.restartMs = 0;
        return;
      }
      case 'read': {
        // Only durable heights; the raw stored values, copied and transferred (decoded in the worker).
        const ok = Number.isSafeInteger(m.height) && m.height >= 1 && m.height <= this.tip;
        let b: Uint8Array | undefined;
        let r: Uint8Array | undefined;
        try {
          b = ok ? this.node.store.get(SK.block(m.height)) : undefined;
          r = ok ? this.node.store.get(SK.receipts(m.height)) : undefined;
        } catch {
          // The node's store is closing: the worker's follower stops and retries at the next block.
        }
        const block = b && r ? b.slice() : null;
        const receipts = b && r ? r.slice() : null;
        const transfer =
          block && receipts ? [block.buffer as ArrayBuffer, receipts.buffer as ArrayBuffer] : [];
        w.postMessage({ t: 'raw', id: m.id, block, receipts } satisfies ToWorker, transfer);
        return;
      }
      case 'res': {
        const o = this.outstanding.get(m.id);
        if (!o) return;
        this.outstanding.delete(m.id);
        clearTimeout(o.timer);
        if (m.err) {
          const code = m.err.code === 'INDEX_UNAVAILABLE' ? 'INDEX_UNAVAILABLE' : 'INTERNAL';
          o.reject(new RoamError(code, m.err.message));
        } else o.resolve(m.ok);
        return;
      }
      case 'log':
        this.opts.log?.(m.level, m.msg, m.data);
        return;
      case 'closed':
        this.onClosed?.();
        return;
    }
  }

  private failOutstanding(message: string): void {
    for (const o of this.outstanding.values()) {
      clearTimeout(o.timer);
      o.reject(unavailable(message));
    }
    this.outstanding.clear();
  }

  private onExit(w: Worker, code: number): void {
    if (w !== this.worker) return;
    this.worker = null;
    this.up = false;
    this.onClosed?.();
    if (this.closed) return;
    this.failOutstanding('the index worker stopped; it is restarting');
    this.restartMs = Math.min(Math.max(this.restartMs * 2, 200), 10_000);
    this.opts.log?.('error', 'index worker exited; restarting', { code, restartMs: this.restartMs });
    this.restartTimer = setTimeout(() => {
      this.restarts++;
      this.start();
    }, this.restartMs);
    this.restartTimer.unref();
  }

  /** A read of the worker's indexes (validated by the views before it gets here). */
  request(q: IndexQuery): Promise<unknown> {
    const w = this.worker;
    if (this.closed || !w) return Promise.reject(unavailable('the index worker is restarting'));
    if (this.outstanding.size >= this.maxOutstanding)
      return Promise.reject(unavailable(`the index worker has ${this.maxOutstanding} reads in flight`));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.outstanding.delete(id);
        reject(unavailable(`the index did not answer within ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      this.outstanding.set(id, { resolve, reject, timer });
      this.requestsPosted++;
      w.postMessage({ t: 'req', id, q } satisfies ToWorker);
    });
  }

  /** Ends the worker abruptly, as a crash would (tests): it is restarted and catches up. */
  async kill(): Promise<void> {
    await this.worker?.terminate();
  }

  /** Closes the worker's indexes and store, then ends it. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.closed = true;
      this.unsubscribe();
      if (this.restartTimer) clearTimeout(this.restartTimer);
      this.failOutstanding('the index is closed');
      const w = this.worker;
      if (w) {
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, 10_000);
          this.onClosed = () => {
            clearTimeout(t);
            resolve();
          };
          w.postMessage({ t: 'close' } satisfies ToWorker);
        });
        this.worker = null;
        await w.terminate();
      }
      this.feed?.wake();
      this.list?.wake();
    })();
    return this.closing;
  }
}

const shared = new Map<string, { worker: IndexWorker; refs: number; owner: object }>();

/**
 * The index worker of the node on `opts.dir`, started on first use and shared by the APIs of the
 * process (one worker per node); `release` closes it after its last user.
 */
export function acquireIndexWorker(
  node: IndexedNode,
  opts: IndexWorkerOptions,
  owner: object = node,
): { worker: IndexWorker; release: () => Promise<void> } {
  let entry = shared.get(opts.dir);
  if (entry && entry.owner !== owner) {
    // A worker left running for a node object since closed and opened again on the same directory:
    // it follows the old one. Replace it (the new one retries until the old one let go of the store).
    void entry.worker.close();
    entry = undefined;
  }
  if (!entry || entry.worker.closed) {
    entry = { worker: new IndexWorker(node, opts), refs: 0, owner };
    shared.set(opts.dir, entry);
  }
  const e = entry;
  e.refs++;
  let released = false;
  return {
    worker: e.worker,
    release: async () => {
      if (released) return;
      released = true;
      if (--e.refs > 0) return;
      if (shared.get(opts.dir) === e) shared.delete(opts.dir);
      await e.worker.close();
    },
  };
}
