import { ClassicLevel } from 'classic-level';
import {
  type KvBatchOp,
  type KvBatchOptions,
  type KvRangeOptions,
  type KvStore,
  resolveBounds,
} from './kv.js';

/**
 * KvStore over classic-level (LevelDB): utf8 string keys (LevelDB's default bytewise comparator), values as
 * Uint8Array views. Batches are written with `sync: true`, i.e. the write-ahead log is fsynced before the
 * promise resolves; a LevelDB write batch is a single log record, hence atomic across crashes.
 */
export class LevelStore implements KvStore {
  private constructor(private readonly db: ClassicLevel<string, Uint8Array>) {}

  static async open(path: string): Promise<LevelStore> {
    const db = new ClassicLevel<string, Uint8Array>(path, { keyEncoding: 'utf8', valueEncoding: 'view' });
    await db.open();
    return new LevelStore(db);
  }

  get(key: string): Uint8Array | undefined {
    return this.db.getSync(key);
  }

  async batch(ops: readonly KvBatchOp[], opts?: KvBatchOptions): Promise<void> {
    if (ops.length === 0) return;
    const levelOps = ops.map((op) =>
      op.type === 'put'
        ? { type: 'put' as const, key: op.key, value: op.value }
        : { type: 'del' as const, key: op.key },
    );
    await this.db.batch(levelOps, { sync: opts?.durable !== false });
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
