/**
 * Backup and restore of a node's store (docs/OPERATIONS.md, "Backup and restore").
 *
 * A snapshot is every entry of the store (state `s/`, blocks `b/`, commits `c/`, indexes, `m/head`) read
 * through ONE iterator: LevelDB and LMDB iterators read a snapshot taken when they are created, and each
 * block commits in one atomic batch, so a snapshot taken while the node runs holds whole blocks only —
 * the state of its head block, never half of a block. File format:
 *
 *   "ROAMCHAIN-SNAPSHOT 1\n" + JSON header line {chainId, takenAt}
 *   records: u32 key length, key (UTF-8), u32 value length, value
 *   end: u32 0xffffffff, u32 length, JSON trailer {entries, head}, 32-byte SHA-256 of everything before
 *
 * A running node serves its snapshot on a Unix socket in its data directory (`admin.sock`, mode 0600:
 * only its own user, no network exposure); `roamchain node backup` reads it there, or opens the store
 * itself when no node runs. Restore writes the entries into an empty data directory; the node checks
 * the state root against its head block when it opens and catches up from its peers by block sync.
 * Not in a snapshot: the node key, the consensus sign state / WAL (keep a validator's key apart) and
 * the explorer's indexes (`index/`, a store of their own, rebuilt from the blocks after a restore).
 */
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readdirSync, rmSync, unlinkSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import { join } from 'node:path';
import { RoamError } from '@roamchain/protocol';
import type { KvBatchOp, KvStore, StoreKind } from './store/index.js';
import { openStore } from './store/index.js';

const MAGIC = 'ROAMCHAIN-SNAPSHOT 1\n';
const END = 0xffff_ffff;
const MAX_KEY = 64 * 1024;
const MAX_VALUE = 256 * 1024 * 1024;
export const ADMIN_SOCKET = 'admin.sock';

export interface SnapshotInfo {
  entries: number;
  /** The head in the snapshot (`m/head`): its height and block id, if the store had one. */
  head: { height: number; id: string } | null;
  bytes: number;
}

const u32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
};

/** The snapshot of `store` as a stream of chunks (one iterator: a consistent point in time). */
export async function* snapshotChunks(store: KvStore, chainId: string): AsyncGenerator<Buffer> {
  const hash = createHash('sha256');
  const out = (b: Buffer) => {
    hash.update(b);
    return b;
  };
  yield out(Buffer.from(`${MAGIC}${JSON.stringify({ chainId, takenAt: new Date().toISOString() })}\n`));
  let entries = 0;
  let head: SnapshotInfo['head'] = null;
  let pending: Buffer[] = [];
  let size = 0;
  for await (const [k, v] of store.range('')) {
    // The indexes are rebuilt from the blocks: older versions' in-store ones are left out.
    if (k.startsWith('xf/') || k.startsWith('xl/')) continue;
    const key = Buffer.from(k, 'utf8');
    pending.push(u32(key.length), key, u32(v.length), Buffer.from(v.buffer, v.byteOffset, v.byteLength));
    size += 8 + key.length + v.length;
    entries += 1;
    if (k === 'm/head') head = headOf(v);
    if (size >= 1 << 20) {
      yield out(Buffer.concat(pending));
      pending = [];
      size = 0;
    }
  }
  const trailer = Buffer.from(JSON.stringify({ entries, head }));
  pending.push(u32(END), u32(trailer.length), trailer);
  const last = out(Buffer.concat(pending));
  yield Buffer.concat([last, hash.digest()]);
}

function headOf(v: Uint8Array): SnapshotInfo['head'] {
  try {
    const h = JSON.parse(Buffer.from(v).toString('utf8')) as { height?: unknown; id?: unknown };
    return { height: Number(h.height), id: String(h.id) };
  } catch {
    return null;
  }
}

const bad = (why: string): never => {
  throw new RoamError('SNAPSHOT_INVALID', `snapshot: ${why}`);
};

/**
 * Reads a snapshot from `chunks`, calling `onEntries` with batches of entries; checks the framing, the
 * bounds and the SHA-256 at the end (SNAPSHOT_INVALID otherwise).
 */
export async function readSnapshot(
  chunks: AsyncIterable<Uint8Array>,
  onEntries: (ops: KvBatchOp[]) => Promise<void>,
): Promise<SnapshotInfo & { chainId: string }> {
  const hash = createHash('sha256');
  let buf = Buffer.alloc(0);
  let bytes = 0;
  let header: { chainId?: unknown } | undefined;
  let ops: KvBatchOp[] = [];
  let opsSize = 0;
  let entries = 0;
  let trailer: { entries?: unknown; head?: SnapshotInfo['head'] } | undefined;
  let digest: Buffer | undefined;
  const take = (n: number): Buffer => {
    const b = buf.subarray(0, n);
    if (digest === undefined) hash.update(b);
    buf = buf.subarray(n);
    return b;
  };
  for await (const c of chunks) {
    bytes += c.length;
    buf = buf.length ? Buffer.concat([buf, c]) : Buffer.from(c);
    for (;;) {
      if (header === undefined) {
        const nl = buf.indexOf(10, MAGIC.length);
        if (buf.length >= MAGIC.length && buf.subarray(0, MAGIC.length).toString() !== MAGIC)
          bad('not a roamchain snapshot');
        if (nl < 0) {
          if (buf.length > 4096) bad('header too long');
          break;
        }
        try {
          header = JSON.parse(
            take(nl + 1)
              .subarray(MAGIC.length)
              .toString('utf8'),
          );
        } catch {
          bad('header is not JSON');
        }
        continue;
      }
      if (trailer !== undefined) {
        if (buf.length > 32) bad('bytes after the end');
        if (buf.length === 32) digest = Buffer.from(buf);
        break;
      }
      if (buf.length < 8) break;
      const kl = buf.readUInt32BE(0);
      if (kl === END) {
        const tl = buf.readUInt32BE(4);
        if (tl > 4096) bad('trailer too long');
        if (buf.length < 8 + tl) break;
        take(8);
        try {
          trailer = JSON.parse(take(tl).toString('utf8'));
        } catch {
          bad('trailer is not JSON');
        }
        continue;
      }
      if (kl === 0 || kl > MAX_KEY) bad(`key length ${kl}`);
      if (buf.length < 4 + kl + 4) break;
      const vl = buf.readUInt32BE(4 + kl);
      if (vl > MAX_VALUE) bad(`value length ${vl}`);
      if (buf.length < 8 + kl + vl) break;
      take(4);
      const key = take(kl).toString('utf8');
      take(4);
      const value = new Uint8Array(take(vl));
      ops.push({ type: 'put', key, value });
      opsSize += kl + vl;
      entries += 1;
      if (ops.length >= 2000 || opsSize >= 16 << 20) {
        await onEntries(ops);
        ops = [];
        opsSize = 0;
      }
    }
  }
  if (header === undefined || trailer === undefined || digest === undefined) bad('truncated');
  if (!hash.digest().equals(digest!)) bad('checksum mismatch');
  if (trailer!.entries !== entries) bad(`${entries} entries, the trailer says ${String(trailer!.entries)}`);
  if (ops.length) await onEntries(ops);
  return { chainId: String(header!.chainId), entries, head: trailer!.head ?? null, bytes };
}

/** True when `dir` holds a LevelDB or LMDB store. */
export function holdsStore(dir: string): boolean {
  return existsSync(join(dir, 'CURRENT')) || existsSync(join(dir, 'data.mdb'));
}

/**
 * Restores a snapshot into `dataDir`, which must not hold a store (SNAPSHOT_TARGET_IN_USE); other files
 * (the node key, a config) may be there. On a damaged snapshot the partial store is removed.
 */
export async function restoreSnapshot(
  chunks: AsyncIterable<Uint8Array>,
  dataDir: string,
  kind: StoreKind = 'level',
): Promise<SnapshotInfo & { chainId: string }> {
  if (holdsStore(dataDir))
    throw new RoamError(
      'SNAPSHOT_TARGET_IN_USE',
      `${dataDir} already holds a store: restore into an empty directory`,
      {
        dataDir,
      },
    );
  // The explorer's indexes (`index/`, not in a snapshot) are rebuilt from the restored blocks at the
  // first start: a directory left from another store must not be taken for theirs.
  rmSync(join(dataDir, 'index'), { recursive: true, force: true });
  const before = existsSync(dataDir) ? new Set(readdirSync(dataDir)) : new Set<string>();
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const store = await openStore(kind, dataDir);
  let ok = false;
  try {
    const info = await readSnapshot(chunks, (ops) => store.batch(ops));
    ok = true;
    return info;
  } finally {
    await store.close();
    if (!ok) {
      for (const f of readdirSync(dataDir))
        if (!before.has(f)) rmSync(join(dataDir, f), { recursive: true, force: true });
    }
  }
}

/** Serves `GET /v1/snapshot` on `<dataDir>/admin.sock` (mode 0600) for `roamchain node backup`. */
export async function serveAdminSocket(
  dataDir: string,
  store: KvStore,
  chainId: string,
  log: (msg: string, data?: Record<string, unknown>) => void = () => {},
): Promise<Server | null> {
  if (process.platform === 'win32') return null;
  const path = join(dataDir, ADMIN_SOCKET);
  if (existsSync(path)) unlinkSync(path); // left by a killed process (the store's lock says none runs)
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || req.url !== '/v1/snapshot') {
      res.writeHead(404).end();
      return;
    }
    const started = Date.now();
    res.writeHead(200, { 'content-type': 'application/octet-stream' });
    void (async () => {
      try {
        for await (const c of snapshotChunks(store, chainId)) {
          if (!res.write(c)) await new Promise((r) => res.once('drain', r));
          if (res.destroyed) return;
        }
        res.end();
        log('snapshot served', { ms: Date.now() - started });
      } catch (e) {
        log('snapshot failed', { err: String(e) });
        res.destroy(e as Error);
      }
    })();
  });
  server.maxConnections = 2;
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => resolve());
    });
    chmodSync(path, 0o600);
  } catch (e) {
    log('admin socket unavailable (backups need the node stopped)', { path, err: String(e) });
    return null;
  }
  return server;
}

/** The snapshot stream of the node running on `dataDir`, or null when no node listens there. */
export function snapshotFromSocket(dataDir: string): Promise<AsyncIterable<Uint8Array> | null> {
  const socketPath = join(dataDir, ADMIN_SOCKET);
  if (!existsSync(socketPath)) return Promise.resolve(null);
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path: '/v1/snapshot', method: 'GET' }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        reject(new RoamError('INTERNAL', `admin socket answered ${res.statusCode}`));
      } else resolve(res);
    });
    req.on('error', (e: NodeJS.ErrnoException) => {
      // A socket file without a listener: the node is not running.
      if (e.code === 'ECONNREFUSED' || e.code === 'ENOENT') resolve(null);
      else reject(e);
    });
    req.end();
  });
}
