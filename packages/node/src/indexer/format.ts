/**
 * The index worker's store (`<dataDir>/index`) carries the version of its key layout:
 *
 *   xv -> format version (JSON number)
 *
 *   1 (no `xv` key): every event's bytes under each account and contract it names, every list row
 *     under each account (copies);
 *   2: each event and row once, pointers (empty values) under accounts and contracts (feed.ts,
 *     lists.ts).
 *
 * The indexes are derived data: a store in any other format (older, or newer after a downgrade) is
 * never read, but deleted and rebuilt from the blocks (the indexers catch up from height 0).
 */
import { rmSync } from 'node:fs';
import { type KvStore, openStore, type StoreKind } from '../store/index.js';

export const INDEX_FORMAT = 2;
export const FORMAT_KEY = 'xv';

/** The format version written in `store`, undefined when there is none (or it does not parse). */
export function indexFormatOf(store: KvStore): number | undefined {
  const v = store.get(FORMAT_KEY);
  if (v === undefined) return undefined;
  try {
    const n: unknown = JSON.parse(Buffer.from(v).toString('utf8'));
    return typeof n === 'number' && Number.isSafeInteger(n) ? n : undefined;
  } catch {
    return undefined;
  }
}

async function isEmpty(store: KvStore): Promise<boolean> {
  for await (const _ of store.range('', { limit: 1 })) return false;
  return true;
}

/**
 * Opens the index store in `dir`; one in another format than `INDEX_FORMAT` is deleted first (its
 * indexes are rebuilt from the blocks). A new or rebuilt store gets the current version.
 */
export async function openIndexStore(
  kind: StoreKind,
  dir: string,
  log?: (level: 'warn', msg: string, data?: Record<string, unknown>) => void,
): Promise<KvStore> {
  let store = await openStore(kind, dir);
  const found = indexFormatOf(store);
  if (found === INDEX_FORMAT) return store;
  if (!(await isEmpty(store))) {
    log?.('warn', 'index store in another format: deleted, rebuilt from the blocks', {
      found: found ?? 1,
      format: INDEX_FORMAT,
    });
    await store.close();
    rmSync(dir, { recursive: true, force: true });
    store = await openStore(kind, dir);
  }
  await store.batch([{ type: 'put', key: FORMAT_KEY, value: Buffer.from(JSON.stringify(INDEX_FORMAT)) }]);
  return store;
}
