import { open, type RootDatabase } from 'lmdb';
import {
  type KvBatchOp,
  type KvBatchOptions,
  type KvRangeOptions,
  type KvStore,
  resolveBounds,
} from './kv.js';

export interface LmdbStoreOptions {
  /**
   * Upper bound on the memory map. lmdb-js grows the file on demand (remapChunks) on 64-bit systems, so this
   * is rarely needed.
   */
  mapSize?: number;
}

/**
 * KvStore over lmdb-js (one root database, string keys in lmdb's ordered-binary key encoding, raw binary
 * values).
 *
 * Durability: lmdb-js defaults to `overlappingSync` on Linux, where a write promise resolves when the
 * transaction is committed (visible) and the fsync happens afterwards. `batch` therefore also awaits
 * `db.flushed`, so it only resolves once the data is on disk. `noSync` is never used.
 */
export class LmdbStore implements KvStore {
  private constructor(private readonly db: RootDatabase<Uint8Array, string>) {}

  static open(path: string, opts: LmdbStoreOptions = {}): LmdbStore {
    const db = open<Uint8Array, string>({
      path,
      encoding: 'binary',
      // `path` is always a directory (like LevelDB's); lmdb-js would otherwise treat 'x.db' as a file name.
      noSubdir: false,
      // Never trade durability for speed on a chain database.
      noSync: false,
      ...(opts.mapSize !== undefined ? { mapSize: opts.mapSize } : {}),
    });
    return new LmdbStore(db);
  }

  get(key: string): Uint8Array | undefined {
    return this.db.get(key);
  }

  async batch(ops: readonly KvBatchOp[], opts?: KvBatchOptions): Promise<void> {
    if (ops.length === 0) return;
    const db = this.db;
    // Every write issued inside the callback lands in the same LMDB write transaction (all-or-nothing).
    await db.batch(() => {
      for (const op of ops) {
        if (op.type === 'put') void db.put(op.key, op.value);
        else void db.remove(op.key);
      }
    });
    if (opts?.durable !== false) await db.flushed;
  }

  async *range(prefix: string, opts?: KvRangeOptions): AsyncIterable<[string, Uint8Array]> {
    const { gte, lt } = resolveBounds(prefix, opts);
    if (lt !== undefined && lt <= gte) return;
    const reverse = opts?.reverse === true;
    const base = opts?.limit !== undefined ? { limit: opts.limit } : {};
    // lmdb-js: `start` is inclusive and `end` exclusive in iteration order, so a reverse scan of [gte, lt)
    // starts at `lt` (excluded) and ends at `gte` (included).
    const entries = reverse
      ? this.db.getRange({
          ...base,
          reverse: true,
          ...(lt !== undefined ? { start: lt, exclusiveStart: true } : {}),
          end: gte,
          inclusiveEnd: true,
        })
      : this.db.getRange({ ...base, start: gte, ...(lt !== undefined ? { end: lt } : {}) });
    for (const { key, value } of entries) {
      yield [key, value];
    }
  }

  async close(): Promise<void> {
    await this.db.flushed;
    await this.db.close();
  }
}
