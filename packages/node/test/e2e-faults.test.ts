/**
 * Four validator PROCESSES (`roamchain node --config …`, BFT over libp2p on loopback) under a load
 * of signed transfers:
 *  1. every few seconds one validator is killed with SIGKILL and restarted on its data directory
 *     (it must never sign a conflicting vote: its sign state is fsynced before each signature);
 *  2. then one validator is cut off from its peers for a while: SIGUSR2 makes it close and refuse
 *     every connection for ROAMCHAIN_ISOLATE_MS while it keeps running (its timeouts fire, it
 *     moves through rounds alone), then it reconnects and must catch up;
 *  3. then one validator is frozen with SIGSTOP (its peers' connections to it stall) and resumed
 *     with SIGCONT, after which it must catch up.
 * At the end every node has the same block id and state root at the final height, every
 * transaction the load generator saw final is in the chain (same block on every node), and no
 * validator was caught equivocating.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { devnetGenesis, devnetNodeKey, devnetValidators } from '@roamchain/devnet';
import { envelope, UNIT, utf8 } from '@roamchain/protocol';
import { afterAll, describe, expect, it } from 'vitest';
import {
  type ClusterMember,
  type ClusterPlan,
  freePort,
  planCluster,
  spawnMember,
  waitForApi,
} from '../src/cluster.js';
import { http, signWith, sleep, submit, txBase, until } from './support/proc.js';

const N = 4;
const KILLS = 4;
const SENDERS = ['telco-de', 'telco-fr', 'telco-tr', 'telco-th', 'telco-us', 'telco-de2', 'telco-fr2'];

const root = mkdtempSync(join(tmpdir(), 'rc-faults-'));
let plan: ClusterPlan;
const procs = new Map<string, ChildProcess>();

function start(m: ClusterMember): void {
  procs.set(m.name, spawnMember(m));
}

async function kill9(m: ClusterMember): Promise<void> {
  const p = procs.get(m.name);
  if (!p || p.exitCode !== null || p.signalCode !== null) return;
  const gone = new Promise((r) => p.once('exit', r));
  p.kill('SIGKILL');
  await gone;
}

const running = (m: ClusterMember) => {
  const p = procs.get(m.name);
  return p !== undefined && p.exitCode === null && p.signalCode === null && !frozen.has(m.name);
};
const frozen = new Set<string>();

afterAll(async () => {
  for (const p of procs.values()) {
    if (p.exitCode === null && p.signalCode === null) {
      p.kill('SIGCONT');
      p.kill('SIGKILL');
    }
  }
  await sleep(200);
  rmSync(root, { recursive: true, force: true });
});

async function heightOf(m: ClusterMember): Promise<number> {
  const s = await http(m.url, '/v1/status', undefined, 2000);
  return s.body.height as number;
}

describe('validator processes under kill -9 and a partition', () => {
  it('stay safe and live; every final transaction is in every copy of the chain', async () => {
    try {
      await scenario();
    } catch (e) {
      // What each node was doing: the tail of its log.
      for (const m of plan?.members ?? []) {
        const log = readFileSync(join(m.dir, 'node.log'), 'utf8').trimEnd().split('\n');
        const decided = log.filter((l) => l.includes('"msg":"decided"'));
        const rest = log.filter((l) => !l.includes('"msg":"decided"'));
        process.stderr.write(
          `---- ${m.name}: last decision ${decided.at(-1) ?? 'none'}\n${rest.slice(-30).join('\n')}\n`,
        );
      }
      throw e;
    }
  }, 420_000);
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
  process.env.ROAMCHAIN_ISOLATE_MS = '6000'; // the members inherit it: SIGUSR2 cuts one off for 6 s
  for (const m of plan.members) start(m);
  await Promise.all(plan.members.map((m) => waitForApi(m.url, 90_000)));
  await until(
    'height 3 on every node',
    async () => {
      const hs = await Promise.all(plan.members.map(heightOf));
      return hs.every((h) => h >= 3) ? true : undefined;
    },
    60_000,
  );

  // ---- load: each sender sends transfers one after another to a running node, waiting for finality
  const final = new Map<string, { height: number; blockId: string }>();
  let stopLoad = false;
  let seq = 0;
  const sender = async (from: string) => {
    while (!stopLoad) {
      const alive = plan.members.filter(running);
      const m = alive[seq++ % Math.max(1, alive.length)];
      if (!m) {
        await sleep(100);
        continue;
      }
      try {
        const base = await txBase(m.url);
        const tx = signWith(
          base,
          [{ type: 'transfer', from, to: 'alice', token: 'UMT', amount: UNIT, memo: utf8(`f${seq}`) }],
          [from],
        );
        const a = await submit(m.url, tx, true, 8000);
        if (a.status === 200 && a.body.status === 'included') {
          final.set(envelope(tx).idHex, {
            height: a.body.height as number,
            blockId: a.body.blockId as string,
          });
        }
      } catch {
        // The node was killed or frozen under us: try another.
        await sleep(50);
      }
    }
  };
  const load = Promise.all(SENDERS.map(sender));

  // ---- 1. kill -9 one validator every few seconds, restart it, let it catch up
  for (let k = 0; k < KILLS; k++) {
    await sleep(2500);
    const victim = plan.members[k % N]!;
    await kill9(victim);
    await sleep(1500);
    start(victim);
    await waitForApi(victim.url, 60_000);
    const others = plan.members.filter((m) => m !== victim);
    await until(
      `${victim.name} to catch up after kill -9 #${k + 1}`,
      async () => {
        const target = Math.max(...(await Promise.all(others.map(heightOf))));
        return (await heightOf(victim)) >= target - 1 ? true : undefined;
      },
      60_000,
    );
  }
  const beforePartition = final.size;

  // ---- 2. cut one validator off from its peers (it keeps running), then it catches up
  const iso = plan.members[2]!;
  const hIso = await heightOf(iso);
  procs.get(iso.name)!.kill('SIGUSR2');
  const others = plan.members.filter((m) => m !== iso);
  const hOthers = Math.max(...(await Promise.all(others.map(heightOf))));
  await until(
    'the others to finalise while it is cut off',
    async () => {
      const hs = await Promise.all(others.map(heightOf));
      return hs.every((h) => h >= hOthers + 5) ? true : undefined;
    },
    60_000,
  );
  // While cut off it cannot have finalised anything new beyond what it had.
  expect(await heightOf(iso)).toBeLessThanOrEqual(hOthers + 1);
  await until(
    `${iso.name} to catch up after the partition`,
    async () => {
      const target = Math.max(...(await Promise.all(others.map(heightOf))));
      return (await heightOf(iso)) >= target - 1 ? true : undefined;
    },
    60_000,
  );
  expect(await heightOf(iso)).toBeGreaterThan(hIso + 5);
  const isoLog = readFileSync(join(iso.dir, 'node.log'), 'utf8');
  expect(isoLog).toMatch(/p2p isolated from every peer/);
  expect(isoLog).toMatch(/p2p isolation over/);

  // ---- 3. freeze one validator (no message in or out), the others go on, then it catches up
  const cut = plan.members[1]!;
  const hCut = await heightOf(cut);
  procs.get(cut.name)!.kill('SIGSTOP');
  frozen.add(cut.name);
  const rest = plan.members.filter((m) => m !== cut);
  const hRest = Math.max(...(await Promise.all(rest.map(heightOf))));
  await until(
    'the others to finalise without it',
    async () => {
      const hs = await Promise.all(rest.map(heightOf));
      return hs.every((h) => h >= hRest + 5) ? true : undefined;
    },
    60_000,
  );
  await sleep(3000);
  procs.get(cut.name)!.kill('SIGCONT');
  frozen.delete(cut.name);
  await until(
    `${cut.name} to catch up after the partition`,
    async () => {
      const target = Math.max(...(await Promise.all(rest.map(heightOf))));
      return (await heightOf(cut)) >= target - 1 ? true : undefined;
    },
    60_000,
  );
  expect(await heightOf(cut)).toBeGreaterThan(hCut + 5);

  await sleep(1500);
  stopLoad = true;
  await load;
  expect(final.size).toBeGreaterThan(beforePartition);
  expect(final.size).toBeGreaterThan(20);

  // ---- the same chain everywhere
  // Every member reaches the height of the last final transaction (one may be a block behind at the
  // moment the load stops), then every member has the same block there.
  const need = Math.max(...[...final.values()].map((f) => f.height));
  await until(
    'every member at the last final height',
    async () => ((await Promise.all(plan.members.map(heightOf))).every((h) => h >= need) ? true : undefined),
    60_000,
  );
  const H = Math.min(...(await Promise.all(plan.members.map(heightOf))));
  expect(H).toBeGreaterThanOrEqual(need);
  const heads = await Promise.all(plan.members.map((m) => http(m.url, `/v1/blocks/${H}`)));
  expect(new Set(heads.map((h) => h.body.id)).size).toBe(1);
  expect(new Set(heads.map((h) => h.body.header.stateRoot)).size).toBe(1);
  for (const [id, f] of final) {
    for (const m of plan.members) {
      const s = await http(m.url, `/v1/tx/${id}`);
      expect(s.body.status).toBe('included');
      expect(s.body.height).toBe(f.height);
      expect(s.body.blockId).toBe(f.blockId);
    }
  }
  // No validator signed conflicting votes (an equivocation would have become evidence).
  for (const m of plan.members) {
    const st = await http(m.url, '/v1/status');
    expect(st.body.consensus.evidence).toBe(0);
  }
  const logs = plan.members.map((m) => readFileSync(join(m.dir, 'node.log'), 'utf8')).join('\n');
  expect(logs).not.toMatch(/equivocation evidence submitted/);
}
