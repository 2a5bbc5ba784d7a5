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
 * LevelDB's memtable (and its log) size. LevelDB's default, 4 MiB, filled in about a second at the
 * bench's ~1.5 KB stored per transaction: every second an L0 table, and a background compaction
 * thread rewriting it through the levels (snappy, crc, table building) used ~34 % of a core, about
 * 100 µs per transaction — a fifth of the node's CPU. A larger memtable flushes less often and
 * drops the versions a key had within it (an account's balance, a contract's state rewritten at
 * each step): see the closing note of issue 10 for the measured effect. The cost is memory (two
 * memtables at most: the active one and the one being flushed) and a longer log to replay at start.
 */
export const WRITE_BUFFER_BYTES = 32 * 1024 * 1024;

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
