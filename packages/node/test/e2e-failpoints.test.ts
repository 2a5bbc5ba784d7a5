/**
 * Crash points (src/failpoint.ts) on REAL node processes (`roamchain node --config …`): a process
 * armed with ROAMCHAIN_FAILPOINT=<point>:<n> SIGKILLs itself the n-th time it reaches the point;
 * it is restarted on its data directory (armed with the next point, or not at all) and must go on.
 *
 *  1. the single validator (solo, no network: the `npm start` set-up): killed at every point from
 *     a proposal's body to the storage batch, one after the other; also the wedge this fixes —
 *     the same crash with the bodies removed from the WAL (its sign state kept) leaves it
 *     re-proposing a locked block it lacks;
 *  2. one of four validators, killed at each point in turn (then restarted: it syncs and votes);
 *  3. all four at once, at one point (a node that never gets there because the others died first
 *     is SIGKILLed by the test), then all restarted.
 * After each: every node finalises new blocks, all hold identical blocks and state roots at every
 * height, and no validator signed two conflicting votes (no evidence anywhere, the set unchanged).
 *
 * By default a subset of the points runs per scenario (bounded < 4 min on a loaded 2-core box);
 * the full matrix: ROAMCHAIN_FAILPOINT_MATRIX=full npx vitest run packages/node/test/e2e-failpoints.test.ts
 */
import type { ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { devnetGenesis, devnetNodeKey, devnetValidators } from '@roamchain/devnet';
import { afterAll, describe, expect, it } from 'vitest';
import {
  type ClusterMember,
  type ClusterPlan,
  freePort,
  planCluster,
  spawnMember,
  waitForApi,
} from '../src/cluster.js';
import type { Failpoint } from '../src/failpoint.js';
import { parseWal, Wal } from '../src/wal.js';
import { http, sleep, until } from './support/proc.js';

const FULL = process.env.ROAMCHAIN_FAILPOINT_MATRIX === 'full';
/** Every point a block passes from its body to its storage batch. */
const BLOCK_POINTS: Failpoint[] = [
  'body-received',
  'wal-body',
  'wal-synced',
  'proposal-signed',
  'prevote-signed',
  'precommit-signed',
  'decided',
  'before-batch',
  'after-batch',
];
/** A set of one receives no bodies: its own proposal's body goes straight to the WAL. */
const SOLO_POINTS: Failpoint[] = FULL
  ? BLOCK_POINTS.filter((p) => p !== 'body-received')
  : ['wal-body', 'proposal-signed', 'precommit-signed', 'decided', 'before-batch', 'after-batch'];
const ONE_POINTS: Failpoint[] = FULL
  ? [...BLOCK_POINTS, 'sync-import', 'sync-imported']
  : ['precommit-signed', 'before-batch', 'sync-import'];
const ALL_POINTS: Failpoint[] = FULL ? BLOCK_POINTS : ['precommit-signed'];

const root = mkdtempSync(join(tmpdir(), 'rc-failpoints-'));
const procs = new Map<string, ChildProcess>();

afterAll(async () => {
  for (const p of procs.values()) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  await sleep(200);
  rmSync(root, { recursive: true, force: true });
});

async function cluster(name: string, n: number): Promise<ClusterPlan> {
  const { genesis } = devnetGenesis(join(root, name, 'genesis'), n);
  const apiPorts: number[] = [];
  const p2pPorts: number[] = [];
  for (let i = 0; i < n; i++) {
    apiPorts.push(await freePort());
    p2pPorts.push(await freePort());
  }
  return planCluster({
    dir: join(root, name, 'nodes'),
    genesis,
    members: devnetValidators(n).map((v) => ({ name: v, nodeKey: devnetNodeKey(v) })),
    apiPorts,
    p2pPorts,
    blockIntervalMs: 100,
    logLevel: 'info',
  });
}

function start(m: ClusterMember, env: NodeJS.ProcessEnv): ChildProcess {
  const p = spawnMember(m, { env });
  procs.set(m.name, p);
  return p;
}

/** Resolves with how the process ended (a signal name or exit code), or 'running' after `ms`. */
function exitOf(p: ChildProcess, ms: number): Promise<string> {
  if (p.exitCode !== null || p.signalCode !== null)
    return Promise.resolve(String(p.signalCode ?? p.exitCode));
  return new Promise((res) => {
    const t = setTimeout(() => res('running'), ms);
    p.once('exit', (code, sig) => {
      clearTimeout(t);
      res(String(sig ?? code));
    });
  });
}

async function kill9(p: ChildProcess): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return;
  const gone = exitOf(p, 10_000);
  p.kill('SIGKILL');
  await gone;
}

async function status(m: ClusterMember) {
  return (await http(m.url, '/v1/status', undefined, 2000)).body;
}
const heightOf = async (m: ClusterMember) => (await status(m)).height as number;

const t0 = Date.now();
const phase = (what: string) =>
  console.log(`[failpoints] ${((Date.now() - t0) / 1000).toFixed(1)} s ${what}`);

async function allReach(ms: ClusterMember[], h: number, what: string, timeoutMs = 60_000): Promise<void> {
  await until(
    `${what}: height ${h} on ${ms.map((m) => m.name).join(', ')}`,
    async () => ((await Promise.all(ms.map(heightOf))).every((x) => x >= h) ? true : undefined),
    timeoutMs,
    100,
  );
}

/**
 * Identical blocks on every node: the same block id and state root at the lowest head (a block id
 * hashes its parent's, so one id is the whole chain below it); no evidence, the set whole.
 */
async function checkSafety(plan: ClusterPlan, validators: number): Promise<number> {
  const H = Math.min(...(await Promise.all(plan.members.map(heightOf))));
  for (const h of new Set([1, Math.ceil(H / 2), H])) {
    const bs = await Promise.all(plan.members.map((m) => http(m.url, `/v1/blocks/${h}`)));
    expect(new Set(bs.map((b) => b.body.id)).size, `block ${h}`).toBe(1);
    expect(new Set(bs.map((b) => b.body.header.stateRoot)).size, `state root ${h}`).toBe(1);
  }
  for (const m of plan.members) {
    const st = await status(m);
    expect(st.consensus.evidence, `${m.name} saw no equivocation`).toBe(0);
    const vs = await http(m.url, '/v1/validators');
    expect((vs.body.active as unknown[]).length, `${m.name}: nobody slashed out of the set`).toBe(validators);
    const log = readFileSync(join(m.dir, 'node.log'), 'utf8');
    expect(log).not.toMatch(/equivocation evidence submitted/);
    expect(log).not.toMatch(/WAL_CORRUPT|consensus WAL recovery failed/);
  }
  return H;
}

function dump(plan: ClusterPlan | undefined): void {
  for (const m of plan?.members ?? []) {
    const f = join(m.dir, 'node.log');
    if (!existsSync(f)) continue;
    const log = readFileSync(f, 'utf8').trimEnd().split('\n');
    process.stderr.write(`---- ${m.name}\n${log.slice(-25).join('\n')}\n`);
  }
}

/** Runs `body`, printing each node's log tail if it fails. */
async function withLogs(plan: ClusterPlan, body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (e) {
    dump(plan);
    throw e;
  }
}

const SOLO = { ROAMCHAIN_SOLO: '1' };

describe('crash points (real processes)', () => {
  it('the single validator resumes after a crash at each point from body to batch', async () => {
    const plan = await cluster('solo', 1);
    const m = plan.members[0]!;
    await withLogs(plan, async () => {
      for (const point of SOLO_POINTS) {
        const p = start(m, { ...SOLO, ROAMCHAIN_FAILPOINT: `${point}:3` });
        // The third time it gets there it kills itself: it must have got there (it went on).
        expect(await exitOf(p, 60_000), `solo killed at ${point}:3`).toBe('SIGKILL');
        expect(readFileSync(join(m.dir, 'node.log'), 'utf8')).toContain(`failpoint ${point} #3: SIGKILL`);
      }
      start(m, SOLO);
      await waitForApi(m.url, 60_000);
      const h0 = await heightOf(m);
      await allReach([m], h0 + 5, 'solo after the last crash');
      phase(`solo safe at height ${await checkSafety(plan, 1)}`);
      // The log replayed and a decided-but-unstored block was committed from it (before-batch).
      const log = readFileSync(join(m.dir, 'node.log'), 'utf8');
      expect(log).toMatch(/consensus WAL replayed/);
      expect(log).toMatch(/decided block committed from the WAL/);
    });
    await kill9(procs.get(m.name)!);
  }, 240_000);

  it('without the bodies in its WAL the same crash wedges the single validator (what the WAL fixes)', async () => {
    const plan = await cluster('wedge', 1);
    const m = plan.members[0]!;
    await withLogs(plan, async () => {
      const p = start(m, { ...SOLO, ROAMCHAIN_FAILPOINT: 'precommit-signed:3' });
      expect(await exitOf(p, 60_000)).toBe('SIGKILL');
      // The WAL without its bodies and decisions: only the sign state (the lock) is kept.
      const walPath = join(m.dir, 'chain', 'consensus', 'wal.bin');
      const sign = parseWal(new Uint8Array(readFileSync(walPath)))
        .records.filter((r) => r.kind === 'sign')
        .at(-1);
      expect(sign?.kind, 'the sign state is in the WAL').toBe('sign');
      const aside = mkdtempSync(join(root, 'wal-'));
      const { wal } = Wal.open(aside);
      if (sign?.kind === 'sign') wal.signState(sign.height, sign.state);
      wal.close();
      copyFileSync(join(aside, 'wal.bin'), walPath);
      start(m, SOLO);
      await waitForApi(m.url, 60_000);
      const h = await heightOf(m);
      // Locked on a block whose body it lost: round after round, and never a block.
      await until(
        'rounds to climb',
        async () => ((await status(m)).consensus.round >= 3 ? true : undefined),
        60_000,
        100,
      );
      expect(await heightOf(m)).toBe(h);
    });
    await kill9(procs.get(m.name)!);
  }, 120_000);

  it('one of four validators crashes at each point, restarts and catches up; all four at once', async () => {
    const plan = await cluster('four', 4);
    await withLogs(plan, async () => {
      // ---- one of four: node-4 is armed with the first point from the start; each time it dies
      // it is restarted armed with the next point (reaching a point again proves it went on), and
      // at last without one. Before a sync point the others move on, so it restarts behind.
      const victim = plan.members[3]!;
      const others = plan.members.filter((x) => x !== victim);
      const arm = (point: Failpoint) => ({
        ROAMCHAIN_FAILPOINT: `${point}:${point.startsWith('sync-') ? 1 : 3}`,
      });
      for (const m of others) start(m, {});
      let p = start(victim, arm(ONE_POINTS[0]!));
      await Promise.all(others.map((m) => waitForApi(m.url, 90_000)));
      phase('four validators up');
      for (const [i, point] of ONE_POINTS.entries()) {
        expect(await exitOf(p, 90_000), `${victim.name} killed at ${point}`).toBe('SIGKILL');
        phase(`${victim.name} crashed at ${point}`);
        const next = ONE_POINTS[i + 1];
        if (next?.startsWith('sync-')) {
          const h = Math.max(...(await Promise.all(others.map(heightOf))));
          await allReach(others, h + 3, `the others while ${victim.name} is down`);
        }
        p = start(victim, next ? arm(next) : {});
      }
      await waitForApi(victim.url, 60_000);
      let target = Math.max(...(await Promise.all(plan.members.map(heightOf)))) + 3;
      await allReach(plan.members, target, `every node after ${victim.name}'s crashes`);
      phase(`${victim.name} caught up`);

      // ---- all four at once
      for (const point of ALL_POINTS) {
        for (const m of plan.members) await kill9(procs.get(m.name)!);
        const ps = plan.members.map((m) => start(m, { ROAMCHAIN_FAILPOINT: `${point}:4` }));
        // They reach the point at the same height; one that has not within 5 s of the first death
        // cannot any more (too few left to decide) and is SIGKILLed here: all four are down.
        const first = await Promise.race(ps.map((x) => exitOf(x, 120_000)));
        expect(first, `the first node to reach ${point}`).toBe('SIGKILL');
        const how = await Promise.all(ps.map((x) => exitOf(x, 5000)));
        for (const x of ps) await kill9(x);
        for (const m of plan.members) start(m, {});
        await Promise.all(plan.members.map((m) => waitForApi(m.url, 90_000)));
        target = Math.max(...(await Promise.all(plan.members.map(heightOf)))) + 3;
        await allReach(plan.members, target, `every node after all crashed at ${point}`, 90_000);
        phase(`all four crashed at ${point} (${how.join(', ')}) and went on`);
      }
      phase(`safe at height ${await checkSafety(plan, 4)}`);
    });
    for (const m of plan.members) await kill9(procs.get(m.name)!);
  }, 420_000);
});
