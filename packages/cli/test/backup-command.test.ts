/**
 * `roamchain node backup --data-dir X --out FILE` and `roamchain node restore --from FILE --data-dir Z`
 * through the CLI (in this process): a node running in this process is snapshotted over its admin
 * socket, the snapshot restored; typed errors for a missing store, a damaged file, a non-empty target.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeLogger, serveNode } from '@roamchain/node';
import { buildGenesis } from '@roamchain/state';
import { afterAll, describe, expect, it } from 'vitest';
import { runInProcess } from './harness.js';

const dir = mkdtempSync(join(tmpdir(), 'rc-cli-backup-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('roamchain node backup / restore', () => {
  it('snapshots a running node and restores it, printing the times', async () => {
    const { genesis, keys } = buildGenesis({
      accounts: [{ name: 'node-1', roles: ['node_owner'] }],
      validators: ['node-1'],
    });
    const dataDir = join(dir, 'chain');
    const running = await serveNode(
      {
        dataDir,
        genesis,
        producer: { account: 'node-1', secretKey: keys.get('node-1')!.signing.secretKey },
        blockIntervalMs: 20,
      },
      '127.0.0.1',
      0,
      makeLogger('warn'),
    );
    const snap = join(dir, 'chain.snap');
    try {
      running.node.start();
      const end = Date.now() + 30_000;
      while (running.node.height < 5 && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
      const b = await runInProcess(['node', 'backup', '--data-dir', dataDir, '--out', snap], {});
      expect(b.code, b.stderr).toBe(0);
      expect(b.stdout).toMatch(
        /^snapshot of the running node at height \d+: \d+ entries, [\d.]+ MiB in \d+ ms -> /,
      );
      const again = await runInProcess(
        ['node', 'backup', '--data-dir', dataDir, '--out', snap, '--json'],
        {},
      );
      expect(again.code).not.toBe(0);
      expect(again.stderr).toMatch(/exists/);
    } finally {
      await running.close();
    }
    const r = await runInProcess(
      ['node', 'restore', '--from', snap, '--data-dir', join(dir, 'restored'), '--json'],
      {},
    );
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout) as { head: { height: number }; ms: number; entries: number };
    expect(j.head.height).toBeGreaterThanOrEqual(5);
    expect(j.ms).toBeGreaterThanOrEqual(0);
    const twice = await runInProcess(
      ['node', 'restore', '--from', snap, '--data-dir', join(dir, 'restored'), '--json'],
      {},
    );
    expect(twice.code).not.toBe(0);
    expect(twice.stderr + twice.stdout).toMatch(/SNAPSHOT_TARGET_IN_USE/);
    writeFileSync(join(dir, 'junk.snap'), 'ROAMCHAIN-SNAPSHOT 1\n{}\nnot records');
    const junk = await runInProcess(
      ['node', 'restore', '--from', join(dir, 'junk.snap'), '--data-dir', join(dir, 'r2'), '--json'],
      {},
    );
    expect(junk.stderr + junk.stdout).toMatch(/SNAPSHOT_INVALID/);
    const none = await runInProcess(
      ['node', 'backup', '--data-dir', join(dir, 'nothing'), '--out', join(dir, 'n.snap'), '--json'],
      {},
    );
    expect(none.stderr + none.stdout).toMatch(/NOT_FOUND/);
  }, 60_000);
});
