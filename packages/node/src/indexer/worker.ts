/**
 * The index worker: a worker thread that owns the explorer's indexes in its own store
 * (`<dataDir>/index`) and runs the feed index (feed.ts) and the list index (lists.ts), unchanged,
 * over an `IndexSource` fed by the main thread's messages (messages.ts): each durable block's stored
 * bytes (decoded here, not on the main thread), the durable height, and the bytes of a height the
 * indexers read back (catch-up). It answers the indexes' reads. Started by client.ts.
 *
 * Loaded as compiled JavaScript, or under tsx through the CommonJS hook (see client.ts): must not
 * use `import.meta`.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { indexBlockOf as appliedOf } from './decode.js';
import type { IndexBlock } from './events.js';
import { FeedIndexer } from './feed.js';
import type { BlockFollower, IndexSource } from './follower.js';
import { openIndexStore } from './format.js';
import { ListIndexer } from './lists.js';
import type { FeedPage, FromWorker, IndexProgress, IndexQuery, ToWorker, WorkerInit } from './messages.js';

if (!parentPort) throw new Error('the index worker must run in a worker thread');
const port = parentPort;
const init = workerData as WorkerInit;
const post = (m: FromWorker, transfer?: ArrayBuffer[]) => port.postMessage(m, transfer ?? []);

let tip = init.height;
const listeners = new Set<(b: IndexBlock) => void>();
/** Reads of stored blocks asked of the main thread (one per indexer at a time: their run loops). */
const reads = new Map<number, { height: number; done: (b: IndexBlock | undefined) => void }>();
let nextRead = 1;

const source: IndexSource = {
  onBlock(l) {
    listeners.add(l);
    return () => listeners.delete(l);
  },
  blockByHeight(height) {
    return new Promise<IndexBlock | undefined>((resolve) => {
      const id = nextRead++;
      reads.set(id, { height, done: resolve });
      post({ t: 'read', id, height });
    });
  },
  status: () => ({ height: tip }),
};

let feed: FeedIndexer | undefined;
let list: ListIndexer | undefined;
const progressOf = (ix: BlockFollower<unknown> | undefined): IndexProgress | undefined =>
  ix ? { height: ix.height, known: ix.knownHeight, failures: ix.failures } : undefined;
const progress = (t: 'ready' | 'progress'): FromWorker => {
  const f = progressOf(feed as BlockFollower<unknown> | undefined);
  const l = progressOf(list as BlockFollower<unknown> | undefined);
  return { t, ...(f ? { feed: f } : {}), ...(l ? { list: l } : {}) };
};
let progressPosted = false;
/** Progress is posted once per turn of the event loop, however many batches landed in it. */
const onProgress = () => {
  if (progressPosted) return;
  progressPosted = true;
  setImmediate(() => {
    progressPosted = false;
    post(progress('progress'));
  });
};
const log = (level: 'warn' | 'error', msg: string, data?: Record<string, unknown>) =>
  post({ t: 'log', level, msg, ...(data ? { data } : {}) });

async function answer(q: IndexQuery): Promise<{ ok: unknown; transfer?: ArrayBuffer[] }> {
  const need = <T>(ix: T | undefined): T => {
    if (!ix)
      throw Object.assign(new Error(`this worker keeps no ${q.op.split('.')[0]} index`), {
        code: 'INDEX_UNAVAILABLE',
      });
    return ix;
  };
  switch (q.op) {
    case 'feed.read': {
      const { events, through } = await need(feed).read(q.filter, q.cursor, q.limit);
      let size = 0;
      for (const e of events) size += e.wire.byteLength;
      const buf = new Uint8Array(size);
      const out: FeedPage = { events: [], through, buf };
      let off = 0;
      for (const e of events) {
        buf.set(e.wire, off);
        out.events.push({ cursor: e.cursor, height: e.height, off, len: e.wire.byteLength });
        off += e.wire.byteLength;
      }
      return { ok: out, transfer: [buf.buffer as ArrayBuffer] };
    }
    case 'list.transactions':
      return { ok: await need(list).transactions(q.limit, q.before) };
    case 'list.account':
      return { ok: await need(list).accountTransactions(q.account, q.limit, q.before) };
    case 'list.contracts':
      return { ok: await need(list).contracts(q.limit, q.before) };
    case 'list.fees':
      return { ok: await need(list).fees(q.limit, q.before) };
  }
}

async function main(): Promise<void> {
  const store = await openIndexStore(init.kind, init.dir, log);
  const opts = {
    log,
    onProgress,
    ...(init.maxQueued !== undefined ? { maxQueued: init.maxQueued } : {}),
  };
  if (init.feed) feed = new FeedIndexer(source, store, opts);
  if (init.list) list = new ListIndexer(source, store, opts);
  let closing = false;
  port.on('message', (m: ToWorker) => {
    switch (m.t) {
      case 'block': {
        if (m.height > tip) tip = m.height;
        let b: IndexBlock;
        try {
          b = appliedOf(m.height, m.block, m.receipts);
        } catch (e) {
          // Bytes that do not decode: tell the indexers the height only (they read it back).
          log('error', 'index worker: a block does not decode', { height: m.height, err: String(e) });
          feed?.noteHeight(m.height);
          list?.noteHeight(m.height);
          return;
        }
        for (const l of listeners) l(b);
        return;
      }
      case 'tip':
        if (m.height > tip) tip = m.height;
        feed?.noteHeight(m.height);
        list?.noteHeight(m.height);
        return;
      case 'raw': {
        const r = reads.get(m.id);
        if (!r) return;
        reads.delete(m.id);
        // A height the node does not have (yet): the follower stops and retries at the next block.
        let b: IndexBlock | undefined;
        try {
          b = m.block && m.receipts ? appliedOf(r.height, m.block, m.receipts) : undefined;
        } catch (e) {
          log('error', 'index worker: a stored block does not decode', { height: r.height, err: String(e) });
        }
        r.done(b);
        return;
      }
      case 'req':
        if (closing) return;
        answer(m.q).then(
          ({ ok, transfer }) => post({ t: 'res', id: m.id, ok }, transfer),
          (e: unknown) => {
            const code = (e as { code?: unknown }).code;
            post({
              t: 'res',
              id: m.id,
              err: {
                message: String((e as Error)?.message ?? e),
                ...(typeof code === 'string' ? { code } : {}),
              },
            });
          },
        );
        return;
      case 'close':
        if (closing) return;
        closing = true;
        for (const r of reads.values()) r.done(undefined);
        reads.clear();
        void (async () => {
          await feed?.close();
          await list?.close();
          await store.close();
          post({ t: 'closed' });
        })();
        return;
    }
  });
  post(progress('ready'));
}

main().catch((e: unknown) => {
  // Fatal for this worker (e.g. the index store cannot be opened): the main thread restarts it.
  throw e;
});
