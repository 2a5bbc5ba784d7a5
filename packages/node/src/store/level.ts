import { ClassicLevel } from 'classic-level';
import {
  type KvBatchOp,
  type KvBatchOptions,
  type KvRangeOptions,
  type KvStore,
  resolveBounds,
} from './kv.js';

/** abstract-level's implementer API, as classic-level implements it (not in its public types). */
interface RawBatch {
  _batch(ops: readonly KvBatchOp[], options: { sync: boolean }): Promise<void>;
}

/**
 * LevelDB's memtable (and its log) size: LevelDB's default, 4 MiB. At the bench's ~1.4 KB stored
 * per transaction it becomes an L0 table about every second, and LevelDB's background compaction
 * thread is a sizeable part of the node's CPU. A 32 MiB memtable (fewer flushes, a key's versions
 * dropped within it) looked ~10 % cheaper in one A/B on a loaded machine, but on a quiet one it
 * was not (4 MiB: 4,358 tx/s and 342 µs of node CPU per transaction; 32 MiB: 3,957–4,268 tx/s and
 * 342–361 µs), and the flood bench's unloaded phase had p99 stalls of 94–182 ms with it against
 * 60 ms without — larger flushes in one burst behind the WAL's synchronous fsync, presumably. So
 * the default stays; `LevelStoreOptions.writeBufferSize` sets another.
 */
export const WRITE_BUFFER_BYTES = 4 * 1024 * 1024;

export interface LevelStoreOptions {
  /** Memtable size in bytes (default `WRITE_BUFFER_BYTES`). */
  writeBufferSize?: number;
}

/**
 * KvStore over classic-level (LevelDB): utf8 string keys (LevelDB's default bytewise comparator), values as
 * Uint8Array views. Batches are written with `sync: true`, i.e. the write-ahead log is fsynced before the
 * promise resolves; a LevelDB write batch is a single log record, hence atomic across crashes.
 */
export class LevelStore implements KvStore {
  private constructor(private readonly db: ClassicLevel<string, Uint8Array>) {}

  static async open(path: string, opts: LevelStoreOptions = {}): Promise<LevelStore> {
    const db = new ClassicLevel<string, Uint8Array>(path, {
      keyEncoding: 'utf8',
      valueEncoding: 'view',
      writeBufferSize: opts.writeBufferSize ?? WRITE_BUFFER_BYTES,
    });
    await db.open();
    return new LevelStore(db);
  }

  get(key: string): Uint8Array | undefined {
    return this.db.getSync(key);
  }

  /**
   * Writes through abstract-level's implementer API (`_batch`), which hands the operations to
   * LevelDB's native binding as they are. The public `batch()` clones every operation, looks up and
   * runs its encodings, and checks hooks and events we never use: measured at several microseconds
   * per operation, a fifth of the node's main thread under load (the bench's CPU profile). Our keys
   * are already strings and our values byte arrays — the formats the binding takes — and what the
   * public path would check is checked here: the store is open, every key is a string, every value
   * bytes.
   */
  async batch(ops: readonly KvBatchOp[], opts?: KvBatchOptions): Promise<void> {
    if (ops.length === 0) return;
    if (this.db.status !== 'open') throw new Error(`LevelStore.batch: the store is ${this.db.status}`);
    for (const op of ops) {
      if (typeof op.key !== 'string') throw new TypeError('LevelStore.batch: a key is not a string');
      if (op.type === 'put' && !(op.value instanceof Uint8Array))
        throw new TypeError(`LevelStore.batch: the value of ${op.key} is not bytes`);
    }
    await (this.db as unknown as RawBatch)._batch(ops, { sync: opts?.durable !== false });
  }

  async *range(prefix: string, opts?: KvRangeOptions): AsyncIterable<[string, Uint8Array]> {
    const { gte, lt } = resolveBounds(prefix, opts);
    if (lt !== undefined && lt <= gte) return;
    const it = this.db.iterator({
      gte,
      ...(lt !== undefined ? { lt } : {}),
      ...(opts?.reverse === true ? { reverse: true } : {}),
      ...(opts?.limit !== undefined ? { limit: opts.limit } : {}),
    });
    try {
      // nextv() pulls entries in chunks, which is much cheaper than one native call per entry.
      for (;;) {
        const chunk = await it.nextv(1000);
        if (chunk.length === 0) return;
        for (const entry of chunk) yield entry;
      }
    } finally {
      await it.close();
    }
  }

  async close(): Promise<void> {
    await this.db.close();
  }
}
