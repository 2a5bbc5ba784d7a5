/**
 * Backup and restore of one node in this process: a snapshot taken from the admin socket while the
 * node produces blocks, restored into an empty directory, opened by a node (which checks the state
 * root against the head block); a damaged or truncated snapshot, a non-empty target and a snapshot of
 * a stopped node.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildGenesis } from '@roamchain/state';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { ADMIN_SOCKET } from '../src/backup.js';
import { backupNode, restoreNode } from '../src/backup-run.js';
import { Node } from '../src/node.js';
import { serveNode } from '../src/run.js';
import { LevelStore, LmdbStore } from '../src/store/index.js';

const root = mkdtempSync(join(tmpdir(), 'rc-backup-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const { genesis, keys } = buildGenesis({
  accounts: [{ name: 'node-1', roles: ['node_owner'] }],
  validators: ['node-1'],
});
const producer = { account: 'node-1', secretKey: keys.get('node-1')!.signing.secretKey };

async function until(what: string, f: () => boolean, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!f()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('backup and restore of one node', () => {
  it('snapshots a running node and restores it; the restored node opens at the snapshot head', async () => {
    const dataDir = join(root, 'live');
    const running = await serveNode(
      { dataDir, genesis, producer, blockIntervalMs: 20 },
      '127.0.0.1',
      0,
      pino({ level: 'warn' }),
    );
    const snap = join(root, 'live.snap');
    let headAtBackup = 0;
    try {
      running.node.start();
      await until('height 10', () => running.node.height >= 10);
      expect(statSync(join(dataDir, ADMIN_SOCKET)).mode & 0o777).toBe(0o600);
      // Blocks keep coming while the snapshot is read: it still holds whole blocks.
      const r = await backupNode({ dataDir, out: snap });
      process.stderr.write(`backup of a running node: ${r.entries} entries, ${r.bytes} bytes, ${r.ms} ms\n`);
      expect(r.source).toBe('running');
      expect(r.head!.height).toBeGreaterThanOrEqual(10);
      headAtBackup = r.head!.height;
      expect(statSync(snap).mode & 0o777).toBe(0o600);
      await expect(backupNode({ dataDir, out: snap })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    } finally {
      await running.close();
    }
    expect(existsSync(join(dataDir, ADMIN_SOCKET))).toBe(false);

    const target = join(root, 'restored');
    const rr = await restoreNode({ from: snap, dataDir: target });
    process.stderr.write(`restore: ${rr.entries} entries in ${rr.ms} ms\n`);
    expect(rr.head!.height).toBe(headAtBackup);
    // Node.open recomputes the state root and checks it against the head block's header.
    const node = await Node.open({ dataDir: target, genesis, producer: null });
    try {
      expect(node.height).toBe(headAtBackup);
      expect(node.status().headId).toBe(rr.head!.id);
    } finally {
      await node.close();
    }
    // The target now holds a store: a second restore is refused and changes nothing.
    await expect(restoreNode({ from: snap, dataDir: target })).rejects.toMatchObject({
      code: 'SNAPSHOT_TARGET_IN_USE',
    });

    // A stopped node: the backup opens its store directly.
    const offline = await backupNode({ dataDir, out: join(root, 'offline.snap') });
    expect(offline.source).toBe('stopped');
    expect(offline.head!.height).toBeGreaterThanOrEqual(headAtBackup);
  }, 90_000);

  it('refuses a damaged, truncated or foreign snapshot and leaves no partial store', async () => {
    const dataDir = join(root, 'src2');
    const node = await Node.open({ dataDir, genesis, producer, blockIntervalMs: 20 });
    node.start();
    await until('height 3', () => node.height >= 3);
    await node.close();
    const snap = join(root, 'good.snap');
    await backupNode({ dataDir, out: snap });
    const bytes = readFileSync(snap);
    const cases: [string, Buffer][] = [
      ['flipped', Buffer.from(bytes.map((b, i) => (i === Math.floor(bytes.length / 2) ? b ^ 1 : b)))],
      ['truncated', bytes.subarray(0, bytes.length - 40)],
      ['foreign', Buffer.from('PK\u0003\u0004 not a snapshot at all, but long enough to be judged')],
      ['extra', Buffer.concat([bytes, Buffer.from('x')])],
    ];
    for (const [name, content] of cases) {
      const f = join(root, `${name}.snap`);
      writeFileSync(f, content);
      const target = join(root, `t-${name}`);
      await expect(restoreNode({ from: f, dataDir: target }), name).rejects.toMatchObject({
        code: 'SNAPSHOT_INVALID',
      });
      expect(existsSync(target) ? readdirSync(target) : [], name).toEqual([]);
    }
  }, 60_000);

  it('an LMDB store snapshots and restores into LevelDB (every entry, in order)', async () => {
    const src = join(root, 'lmdb-src');
    const lm = LmdbStore.open(src);
    const ops = Array.from({ length: 5000 }, (_, i) => ({
      type: 'put' as const,
      key: `s/k${String(i).padStart(5, '0')}`,
      value: new Uint8Array([i & 255, (i >> 8) & 255, 7]),
    }));
    await lm.batch(ops);
    await lm.close();
    const snap = join(root, 'lmdb.snap');
    const b = await backupNode({ dataDir: src, out: snap, store: 'lmdb' });
    expect(b.entries).toBe(5000);
    expect(b.head).toBeNull();
    const dst = join(root, 'lmdb-to-level');
    await restoreNode({ from: snap, dataDir: dst });
    const lv = await LevelStore.open(dst);
    try {
      const got: [string, Uint8Array][] = [];
      for await (const e of lv.range('')) got.push(e);
      expect(got.map(([k]) => k)).toEqual(ops.map((o) => o.key));
      expect(got.map(([, v]) => Array.from(v))).toEqual(ops.map((o) => Array.from(o.value)));
    } finally {
      await lv.close();
    }
  }, 60_000);
});
