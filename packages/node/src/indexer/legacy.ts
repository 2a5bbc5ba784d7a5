/**
 * Older data directories kept the indexes in the node's own store (`xf/…` feed index, `xl/…` list
 * index). They now live in the index worker's store (`<dataDir>/index`, rebuilt from the blocks), so
 * the old keys are deleted once, in the background: bounded batches, not fsynced (a crash leaves the
 * rest for the next start), each after a turn of the event loop so that no block waits on it.
 */
import type { KvStore } from '../store/index.js';

export const LEGACY_INDEX_PREFIXES = ['xf/', 'xl/'] as const;
const BATCH = 1000;

/** Deletes every key under the old index prefixes; resolves with how many were deleted. */
export async function dropLegacyIndexes(store: KvStore, stop: () => boolean = () => false): Promise<number> {
  let deleted = 0;
  for (const prefix of LEGACY_INDEX_PREFIXES) {
    for (;;) {
      if (stop()) return deleted;
      const keys: string[] = [];
      for await (const [k] of store.range(prefix, { limit: BATCH })) keys.push(k);
      if (keys.length === 0) break;
      await store.batch(
        keys.map((key) => ({ type: 'del', key }) as const),
        { durable: false },
      );
      deleted += keys.length;
      await new Promise((r) => setImmediate(r));
    }
  }
  return deleted;
}
