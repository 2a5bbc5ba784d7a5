/**
 * `roamchain node backup` and `roamchain node restore` (docs/OPERATIONS.md): a snapshot of a running
 * node from its admin socket (or of a stopped node's store), written to a file and verified; a
 * snapshot file restored into an empty data directory. Both report how long they took.
 */

import { once } from 'node:events';
import { createReadStream, createWriteStream, existsSync, renameSync, rmSync } from 'node:fs';
import { RoamError } from '@roamchain/protocol';
import {
  holdsStore,
  readSnapshot,
  restoreSnapshot,
  type SnapshotInfo,
  snapshotChunks,
  snapshotFromSocket,
} from './backup.js';
import { openStore, type StoreKind } from './store/index.js';

export interface BackupResult extends SnapshotInfo {
  /** 'running': served by the node on its admin socket; 'stopped': read from the store directly. */
  source: 'running' | 'stopped';
  out: string;
  ms: number;
}

/** Takes a snapshot of the node on `dataDir` into `out` (written to `out.partial`, checked, renamed). */
export async function backupNode(o: {
  dataDir: string;
  out: string;
  store?: StoreKind;
}): Promise<BackupResult> {
  const t0 = performance.now();
  if (existsSync(o.out))
    throw new RoamError('BAD_REQUEST', `${o.out} exists: choose a new file`, { out: o.out });
  const partial = `${o.out}.partial`;
  let chunks = await snapshotFromSocket(o.dataDir);
  const source = chunks ? 'running' : 'stopped';
  let close = async () => {};
  if (!chunks) {
    if (!holdsStore(o.dataDir))
      throw new RoamError('NOT_FOUND', `no node store in ${o.dataDir}`, { dataDir: o.dataDir });
    // No node answers on the admin socket: open the store (refused by its lock if a node still holds it).
    const store = await openStore(o.store ?? 'level', o.dataDir);
    close = () => store.close();
    chunks = snapshotChunks(store, '');
  }
  try {
    const file = createWriteStream(partial, { mode: 0o600 });
    try {
      for await (const c of chunks) if (!file.write(c)) await once(file, 'drain');
      file.end();
      await once(file, 'finish');
    } catch (e) {
      file.destroy();
      throw e;
    }
  } catch (e) {
    rmSync(partial, { force: true });
    throw e;
  } finally {
    await close();
  }
  // Read it back: the framing and the checksum, before the file takes its name.
  let info: SnapshotInfo;
  try {
    info = await readSnapshot(createReadStream(partial), async () => {});
  } catch (e) {
    rmSync(partial, { force: true });
    throw e;
  }
  renameSync(partial, o.out);
  return { ...info, source, out: o.out, ms: Math.round(performance.now() - t0) };
}

export interface RestoreResult extends SnapshotInfo {
  chainId: string;
  dataDir: string;
  ms: number;
}

/** Restores the snapshot file `from` into `dataDir` (which must hold no store). */
export async function restoreNode(o: {
  from: string;
  dataDir: string;
  store?: StoreKind;
}): Promise<RestoreResult> {
  const t0 = performance.now();
  if (!existsSync(o.from)) throw new RoamError('NOT_FOUND', `no snapshot file ${o.from}`, { from: o.from });
  const info = await restoreSnapshot(createReadStream(o.from), o.dataDir, o.store ?? 'level');
  return { ...info, dataDir: o.dataDir, ms: Math.round(performance.now() - t0) };
}
