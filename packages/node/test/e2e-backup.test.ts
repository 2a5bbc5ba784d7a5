/**
 * Backup and restore on a running network of four validator PROCESSES (`roamchain node --config …`,
 * BFT over libp2p on loopback): a snapshot of one validator is taken while the network commits
 * blocks; that validator then loses its disk (SIGKILL, its data directory deleted), is restored from
 * the snapshot and restarted: it opens at the snapshot's head (state root checked against the head
 * block), catches up from its peers by block sync (a transfer committed after the snapshot included)
 * and follows the chain again. The snapshot and restore times are printed.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { devnetGenesis, devnetNodeKey, devnetValidators } from '@roamchain/devnet';
import { envelope, UNIT, utf8 } from '@roamchain/protocol';
import { afterAll, describe, expect, it } from 'vitest';
import { backupNode, restoreNode } from '../src/backup-run.js';
import { type ClusterPlan, freePort, planCluster, spawnMember, waitForApi } from '../src/cluster.js';
import { http, signWith, sleep, submitIncluded, txBase, until } from './support/proc.js';

const N = 4;
const root = mkdtempSync(join(tmpdir(), 'rc-e2e-backup-'));
let plan: ClusterPlan | undefined;
const procs: ChildProcess[] = [];

afterAll(async () => {
  for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  await sleep(200);
  rmSync(root, { recursive: true, force: true });
});

const heightOf = async (url: string) =>
  (await http(url, '/v1/status', undefined, 2000)).body.height as number;
const blockId = async (url: string, h: number) =>
  (await http(url, `/v1/blocks/${h}`, undefined, 2000)).body.id as string;

async function transfer(url: string, memo: string): Promise<{ id: string; height: number }> {
  const tx = signWith(
    await txBase(url),
    [{ type: 'transfer', from: 'telco-de', to: 'alice', token: 'UMT', amount: UNIT, memo: utf8(memo) }],
    ['telco-de'],
  );
  const a = await submitIncluded(url, tx, 30_000);
  expect(a.status, JSON.stringify(a.body)).toBe(200);
  const id = envelope(tx).idHex;
  const s = await until(
    `${id} included`,
    async () => {
      const r = await http(url, `/v1/tx/${id}`);
      return r.status === 200 && r.body.status === 'included' ? r.body : undefined;
    },
    30_000,
  );
  return { id, height: s.height as number };
}

describe('backup and restore on a running four-validator network', () => {
  it('a validator restored from a snapshot taken while it ran rejoins and catches up', async () => {
    try {
      await scenario();
    } catch (e) {
      for (const m of plan?.members ?? []) {
        const log = readFileSync(join(m.dir, 'node.log'), 'utf8').trimEnd().split('\n');
        process.stderr.write(`---- ${m.name}\n${log.slice(-15).join('\n')}\n`);
      }
      throw e;
    }
  }, 300_000);
});

async function scenario(): Promise<void> {
  const { genesis } = devnetGenesis(join(root, 'genesis'), N);
  const apiPorts: number[] = [];
  const p2pPorts: number[] = [];
  for (let i = 0; i < N; i++) {
    apiPorts.push(await freePort());
    p2pPorts.push(await freePort());
  }
  plan = planCluster({
    dir: join(root, 'nodes'),
    genesis,
    members: devnetValidators(N).map((name) => ({ name, nodeKey: devnetNodeKey(name) })),
    apiPorts,
    p2pPorts,
    blockIntervalMs: 200,
    logLevel: 'info',
  });
  const members = plan.members;
  const procOf = new Map<string, ChildProcess>();
  for (const m of members) {
    const p = spawnMember(m);
    procs.push(p);
    procOf.set(m.name, p);
  }
  await Promise.all(members.map((m) => waitForApi(m.url, 120_000)));
  await until(
    'height 3 on every node',
    async () =>
      (await Promise.all(members.map((m) => heightOf(m.url)))).every((h) => h >= 3) ? true : undefined,
    90_000,
  );
  const [first, , , victim] = members as [(typeof members)[0], unknown, unknown, (typeof members)[0]];
  const before = await transfer(first.url, 'before the snapshot');
  await until(
    'the victim has the first transfer',
    async () => ((await heightOf(victim.url)) >= before.height ? true : undefined),
    30_000,
  );

  // The snapshot, from the victim's admin socket, while the network keeps committing blocks.
  const chainDir = join(victim.dir, 'chain');
  const snap = join(root, 'victim.snap');
  const b = await backupNode({ dataDir: chainDir, out: snap });
  process.stderr.write(
    `snapshot of a running validator: height ${b.head?.height}, ${b.entries} entries, ${b.bytes} bytes, ${b.ms} ms\n`,
  );
  expect(b.source).toBe('running');
  expect(b.head!.height).toBeGreaterThanOrEqual(before.height);

  // The victim loses its disk; meanwhile the other three (a quorum) go on.
  const p = procOf.get(victim.name)!;
  const gone = new Promise((r) => p.once('exit', r));
  p.kill('SIGKILL');
  await gone;
  rmSync(chainDir, { recursive: true, force: true });
  const after = await transfer(first.url, 'after the snapshot');
  expect(after.height).toBeGreaterThan(b.head!.height);

  const r = await restoreNode({ from: snap, dataDir: chainDir });
  process.stderr.write(`restore: ${r.entries} entries in ${r.ms} ms\n`);
  expect(r.head).toEqual(b.head);

  const restarted = spawnMember(victim);
  procs.push(restarted);
  await waitForApi(victim.url, 120_000);
  // It catches up past the snapshot by block sync: the later transfer is in its copy of the chain.
  await until(
    'the restored validator to reach the later transfer',
    async () => ((await heightOf(victim.url)) >= after.height ? true : undefined),
    120_000,
  );
  const tx = await http(victim.url, `/v1/tx/${after.id}`);
  expect(tx.body.status).toBe('included');
  expect(await blockId(victim.url, after.height)).toBe(await blockId(first.url, after.height));
  // And it follows the chain from then on: the same block as the others at a later height.
  const target = (await heightOf(first.url)) + 3;
  await until(
    'the restored validator to follow the chain',
    async () => ((await heightOf(victim.url)) >= target ? true : undefined),
    60_000,
  );
  expect(await blockId(victim.url, target)).toBe(await blockId(first.url, target));
}
