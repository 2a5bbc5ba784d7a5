import type { KvStore, StoreKind } from './kv.js';
import { LevelStore } from './level.js';
import { LmdbStore } from './lmdb.js';

export type { KeyBounds, KvBatchOp, KvBatchOptions, KvRangeOptions, KvStore, StoreKind } from './kv.js';
export { prefixUpperBound, resolveBounds, u64Key } from './kv.js';
export { LevelStore } from './level.js';
export { LmdbStore, type LmdbStoreOptions } from './lmdb.js';

/** Opens (creating if needed) a store of the given engine in directory `path`. */
export async function openStore(kind: StoreKind, path: string): Promise<KvStore> {
  switch (kind) {
    case 'lmdb':
      return LmdbStore.open(path);
    case 'level':
      return LevelStore.open(path);
  }
}
