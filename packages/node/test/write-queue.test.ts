/**
 * The write queue of pipelined heights (src/write-queue.ts): batches land in order (several at once
 * in one store batch), reads see what is pending (get and range, deletes included, against a model),
 * the queue is bounded (push waits), and a storage error stops it for good and is reported once.
 */
import { describe, expect, it } from 'vitest';
import { type KvBatchOp, type KvRangeOptions, type KvStore, resolveBounds } from '../src/store/index.js';
import { WriteQueue } from '../src/write-queue.js';

/** An in-memory store whose batches wait for `release()` (a slow disk) and may be made to fail. */
class GatedStore implements KvStore {
  readonly data = new Map<string, Uint8Array>();
  batches: string[][] = [];
  gated = true;
  failNext: Error | null = null;
  private waiting: (() => void)[] = [];

  release(): void {
    this.gated = false;
    for (const w of this.waiting.splice(0)) w();
  }
  hold(): void {
    this.gated = true;
  }
  get(key: string): Uint8Array | undefined {
    return this.data.get(key);
  }
  async batch(ops: readonly KvBatchOp[]): Promise<void> {
    if (this.gated) await new Promise<void>((r) => this.waiting.push(r));
    if (this.failNext) throw this.failNext;
    this.batches.push(ops.map((o) => o.key));
    for (const op of ops) {
      if (op.type === 'put') this.data.set(op.key, op.value);
      else this.data.delete(op.key);
    }
  }
  async *range(prefix: string, opts?: KvRangeOptions): AsyncIterable<[string, Uint8Array]> {
    // A snapshot taken when iteration starts (as LevelDB's and LMDB's iterators do).
    const { gte, lt } = resolveBounds(prefix, opts);
    const rows = [...this.data.entries()]
      .filter(([k]) => k >= gte && (lt === undefined || k < lt))
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    if (opts?.reverse) rows.reverse();
    let n = 0;
    for (const r of rows) {
      if (opts?.limit !== undefined && n++ >= opts.limit) return;
      await Promise.resolve();
      yield r;
    }
  }
  async close(): Promise<void> {}
}

const v = (n: number) => new Uint8Array([n]);
const put = (key: string, n: number): KvBatchOp => ({ type: 'put', key, value: v(n) });
const del = (key: string): KvBatchOp => ({ type: 'del', key });

async function rows(q: KvStore, prefix: string, opts?: KvRangeOptions): Promise<string[]> {
  const out: string[] = [];
  for await (const [k, val] of q.range(prefix, opts)) out.push(`${k}=${val[0]}`);
  return out;
}

const tick = () => new Promise((r) => setTimeout(r, 0));

async function until(what: string, ok: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !ok(); i++) await tick();
  if (!ok()) throw new Error(`timed out waiting for ${what}`);
}

describe('write queue', () => {
  it('reads see pending batches; they land in order, several in one store batch', async () => {
    const base = new GatedStore();
    base.release();
    await base.batch([put('a/1', 1), put('a/2', 2), put('a/3', 3)]);
    base.hold();
    const landed: number[] = [];
    const q = new WriteQueue(base, { maxPending: 8, onWritten: (h) => landed.push(h) });
    const w1 = (await q.push(1, [put('a/2', 20), del('a/3'), put('b/1', 1)])).written;
    await tick();
    const w2 = (await q.push(2, [put('a/2', 21), put('a/4', 4)])).written;
    const w3 = (await q.push(3, [put('a/3', 30)])).written;
    // Nothing is on disk yet; readers see the pending writes, the latest batch winning.
    expect(base.data.get('a/2')).toEqual(v(2));
    expect(q.get('a/2')).toEqual(v(21));
    expect(q.get('a/3')).toEqual(v(30));
    expect(q.get('b/1')).toEqual(v(1));
    expect(q.get('a/1')).toEqual(v(1));
    expect(await rows(q, 'a/')).toEqual(['a/1=1', 'a/2=21', 'a/3=30', 'a/4=4']);
    expect(await rows(q, 'a/', { reverse: true, limit: 2 })).toEqual(['a/4=4', 'a/3=30']);
    expect(q.size).toBe(3);
    base.release();
    await Promise.all([w1, w2, w3]);
    expect(landed).toEqual([1, 2, 3]);
    // Batch 1 was written alone (it had started); 2 and 3 waited and went together.
    expect(base.batches.slice(-2).map((b) => b.length)).toEqual([3, 3]);
    expect(base.data.get('a/2')).toEqual(v(21));
    expect(base.data.get('a/3')).toEqual(v(30));
    expect(q.size).toBe(0);
    expect(await rows(q, 'a/')).toEqual(['a/1=1', 'a/2=21', 'a/3=30', 'a/4=4']);
  });

  it('an earlier batch landing keeps a later pending write of the same key visible', async () => {
    const base = new GatedStore();
    const q = new WriteQueue(base, { maxPending: 8 });
    const w1 = (await q.push(1, [put('k', 1)])).written;
    await tick(); // batch 1 is being written
    const w2 = (await q.push(2, [put('k', 2)])).written;
    base.release();
    await w1;
    expect(q.get('k')).toEqual(v(2));
    await w2;
    expect(q.get('k')).toEqual(v(2));
  });

  it('merged ranges match a model (forward, reverse, bounds, limits, deletes)', async () => {
    let seed = 42;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    for (let round = 0; round < 30; round++) {
      const base = new GatedStore();
      base.release();
      const model = new Map<string, number>();
      const key = () => `p/${String(rnd(40)).padStart(2, '0')}`;
      const initial: KvBatchOp[] = [];
      for (let i = 0; i < 20; i++) {
        const k = key();
        const n = rnd(250);
        initial.push(put(k, n));
        model.set(k, n);
      }
      await base.batch(initial);
      base.hold();
      const q = new WriteQueue(base, { maxPending: 100 });
      for (let h = 1; h <= 4; h++) {
        const ops: KvBatchOp[] = [];
        for (let i = 0; i < 8; i++) {
          const k = key();
          if (rnd(3) === 0) {
            ops.push(del(k));
            model.delete(k);
          } else {
            const n = rnd(250);
            ops.push(put(k, n));
            model.set(k, n);
          }
        }
        await q.push(h, ops);
      }
      const sorted = [...model.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, n]) => `${k}=${n}`);
      const gte = `p/${String(rnd(40)).padStart(2, '0')}`;
      const lt = `p/${String(rnd(40)).padStart(2, '0')}`;
      const limit = 1 + rnd(10);
      const inRange = sorted.filter((r) => r >= gte && r < lt);
      expect(await rows(q, 'p/')).toEqual(sorted);
      expect(await rows(q, 'p/', { reverse: true })).toEqual([...sorted].reverse());
      expect(await rows(q, 'p/', { gte, lt })).toEqual(inRange);
      expect(await rows(q, 'p/', { gte, lt, reverse: true, limit })).toEqual(
        [...inRange].reverse().slice(0, limit),
      );
      expect(await rows(q, 'p/', { limit })).toEqual(sorted.slice(0, limit));
      for (let i = 0; i < 40; i++) {
        const k = `p/${String(i).padStart(2, '0')}`;
        expect(q.get(k)?.[0]).toBe(model.get(k));
      }
      base.release();
      await q.drain();
      expect(await rows(q, 'p/')).toEqual(sorted);
    }
  });

  it('a range reads one point in time: batches queued after it started are not mixed in', async () => {
    const base = new GatedStore();
    base.release();
    await base.batch([put('s/a', 1), put('s/c', 3)]);
    base.hold();
    const q = new WriteQueue(base, { maxPending: 8 });
    await q.push(1, [put('s/b', 2)]);
    const it = q.range('s/')[Symbol.asyncIterator]();
    const first = await it.next();
    await q.push(2, [put('s/bb', 9), del('s/c')]);
    const rest: string[] = [];
    for (let r = await it.next(); !r.done; r = await it.next()) rest.push(r.value[0]);
    expect([first.value[0], ...rest]).toEqual(['s/a', 's/b', 's/c']);
    base.release();
    await q.drain();
  });

  it('is bounded: the push past maxPending waits until batches land (backpressure)', async () => {
    const base = new GatedStore();
    const q = new WriteQueue(base, { maxPending: 2 });
    await q.push(1, [put('x/1', 1)]);
    await q.push(2, [put('x/2', 2)]);
    let third = false;
    const p3 = q.push(3, [put('x/3', 3)]).then(() => {
      third = true;
    });
    for (let i = 0; i < 20; i++) await tick();
    expect(third).toBe(false);
    expect(q.get('x/3')).toEqual(v(3)); // queued and readable, but the caller waits
    expect(q.size).toBe(3);
    base.release();
    await p3;
    expect(third).toBe(true);
    await q.drain();
    expect(q.size).toBe(0);
  });

  it('a storage error stops the queue for good, reported once; later pushes are refused', async () => {
    const base = new GatedStore();
    const fatal: unknown[] = [];
    const q = new WriteQueue(base, { maxPending: 1, onFatal: (e) => fatal.push(e) });
    const w1 = (await q.push(1, [put('y/1', 1)])).written;
    const p2 = q.push(2, [put('y/2', 2)]); // waits for room
    base.failNext = new Error('disk full');
    base.release();
    await expect(w1).rejects.toThrow('disk full');
    await expect(p2).rejects.toThrow('disk full');
    await until('fatal', () => fatal.length > 0);
    expect(fatal).toHaveLength(1);
    await expect(q.push(3, [put('y/3', 3)])).rejects.toThrow('disk full');
    await expect(q.drain()).rejects.toThrow('disk full');
    expect(base.data.size).toBe(0);
  });
});
