/**
 * Many hosts: four validator processes, each in its own network namespace (`ip netns`), joined only
 * through a wide-area link of 50–150 ms one-way delay and 1 % loss; then a 2–2 partition and a heal.
 *
 * Topology: namespace i has one veth pair to the test's (root) namespace, 10.<net>.i.2 inside and
 * 10.<net>.i.1 outside, and no route anywhere else (forwarding between them is off), so node i
 * reaches node j only through the relay (support/relay.ts) that listens on 10.<net>.i.1:<port j>
 * and connects to 10.<net>.j.2. The delay and loss are the relay's: this kernel has no netem qdisc,
 * so a TCP relay in user space holds each chunk for the link's delay, and models 1 % loss as what
 * it is to a TCP stream, a retransmission (the chunk and those behind it wait one RTO, 200 ms).
 * A partition severs the relay's links across the cut (connections reset, new ones refused).
 *
 * Checked: safety throughout (the same block id and state root on every node; no side of the 2–2
 * cut finalises, since neither has more than 2/3), liveness after the heal, and the finality latency
 * (a transfer's submit → final on a node, which answers only once the block's batch is durable) is
 * printed before the cut and after the heal. Needs root and iproute2; skips with a message
 * otherwise. The namespaces are removed in every case.
 */
import { type ChildProcess, execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { devnetGenesis, devnetNodeKey, devnetValidators } from '@roamchain/devnet';
import { UNIT, utf8 } from '@roamchain/protocol';
import { afterAll, describe, expect, it } from 'vitest';
import { type ClusterMember, planCluster, spawnMember, waitForApi } from '../src/cluster.js';
import { http, signWith, sleep, submit, txBase, until } from './support/proc.js';
import { Link, seeded } from './support/relay.js';

const N = 4;
const API_PORT = 8080;
const P2P_PORT = 26656;

function canRun(): string | null {
  if (process.platform !== 'linux') return 'not Linux';
  if (process.getuid?.() !== 0) return 'not root (ip netns needs CAP_SYS_ADMIN / CAP_NET_ADMIN)';
  try {
    execFileSync('ip', ['netns', 'list'], { stdio: 'ignore' });
  } catch {
    return 'iproute2 `ip` is missing or cannot list namespaces';
  }
  return null;
}
const why = canRun();
if (why) console.warn(`e2e-netns skipped: ${why}`);

const tag = `rc${process.pid % 100_000}`;
const net = 200 + (process.pid % 50); // 10.<net>.i.0/24: unlikely to meet another run
const ns = (i: number) => `${tag}n${i}`;
const inner = (i: number) => `10.${net}.${i}.2`;
const outer = (i: number) => `10.${net}.${i}.1`;
const ip = (...args: string[]) => execFileSync('ip', args, { stdio: 'pipe' });

const root = mkdtempSync(join(tmpdir(), 'rc-netns-'));
const procs: ChildProcess[] = [];
const links = new Map<string, Link>();

function cleanup(): void {
  for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  for (let i = 0; i < N; i++) {
    try {
      ip('netns', 'del', ns(i)); // also removes the veth pair
    } catch {
      // not created
    }
    try {
      ip('link', 'del', `${tag}v${i}`);
    } catch {
      // gone with the namespace
    }
  }
}
process.once('exit', cleanup);

afterAll(async () => {
  await Promise.all([...links.values()].map((l) => l.close()));
  cleanup();
  await sleep(200);
  rmSync(root, { recursive: true, force: true });
});

function setUpNamespaces(): void {
  for (let i = 0; i < N; i++) {
    ip('netns', 'add', ns(i));
    ip('link', 'add', `${tag}v${i}`, 'type', 'veth', 'peer', 'name', `${tag}p${i}`);
    ip('link', 'set', `${tag}p${i}`, 'netns', ns(i));
    ip('addr', 'add', `${outer(i)}/24`, 'dev', `${tag}v${i}`);
    ip('link', 'set', `${tag}v${i}`, 'up');
    ip('netns', 'exec', ns(i), 'ip', 'addr', 'add', `${inner(i)}/24`, 'dev', `${tag}p${i}`);
    ip('netns', 'exec', ns(i), 'ip', 'link', 'set', `${tag}p${i}`, 'up');
    ip('netns', 'exec', ns(i), 'ip', 'link', 'set', 'lo', 'up');
  }
}

const heightOf = async (m: ClusterMember) =>
  (await http(m.url, '/v1/status', undefined, 3000)).body.height as number;

async function allReach(ms: ClusterMember[], h: number, what: string, timeoutMs = 60_000): Promise<void> {
  await until(
    `${what}: height ${h}`,
    async () => ((await Promise.all(ms.map(heightOf))).every((x) => x >= h) ? true : undefined),
    timeoutMs,
    200,
  );
}

/** Submit → final latency (ms) of `count` transfers, one after another, through node `m`. */
async function finality(m: ClusterMember, count: number, label: string): Promise<number[]> {
  const out: number[] = [];
  for (let k = 0; k < count; k++) {
    const base = await txBase(m.url);
    const tx = signWith(
      base,
      [
        {
          type: 'transfer',
          from: 'telco-de',
          to: 'alice',
          token: 'UMT',
          amount: UNIT,
          memo: utf8(`${label}${k}`),
        },
      ],
      ['telco-de'],
    );
    const t = Date.now();
    const a = await submit(m.url, tx, true, 20_000);
    expect(a.body.status, JSON.stringify(a.body)).toBe('included');
    out.push(Date.now() - t);
  }
  return out.sort((a, b) => a - b);
}

const pct = (xs: number[], p: number) => xs[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))]!;

describe.skipIf(why !== null)('four validators on four network namespaces, 50–150 ms apart', () => {
  it('stay safe through a 2–2 partition and finalise again after the heal', async () => {
    setUpNamespaces();
    const { genesis } = devnetGenesis(join(root, 'genesis'), N);
    const plan = planCluster({
      dir: join(root, 'nodes'),
      genesis,
      members: devnetValidators(N).map((v) => ({ name: v, nodeKey: devnetNodeKey(v) })),
      apiPorts: Array(N).fill(API_PORT),
      p2pPorts: Array(N).fill(P2P_PORT),
      blockIntervalMs: 200,
      logLevel: 'info',
    });
    // One link per ordered pair, with a fixed one-way delay in 50–150 ms (the same both ways).
    const rnd = seeded(11);
    const delay = new Map<string, number>();
    for (let i = 0; i < N; i++)
      for (let j = i + 1; j < N; j++) delay.set(`${i}-${j}`, 50 + Math.floor(rnd() * 100));
    for (let i = 0; i < N; i++) {
      for (let j = 0; j < N; j++) {
        if (i === j) continue;
        const l = new Link({
          listenHost: outer(i),
          toHost: inner(j),
          toPort: P2P_PORT,
          delayMs: delay.get(i < j ? `${i}-${j}` : `${j}-${i}`)!,
          jitterMs: 10,
          loss: 0.01,
          rtoMs: 200,
          random: seeded(i * 10 + j),
        });
        await l.listen();
        links.set(`${i}>${j}`, l);
      }
    }
    // Each member listens and serves its API inside its namespace and dials the others via the relay.
    plan.members.forEach((m, i) => {
      const cfg = JSON.parse(readFileSync(m.configPath, 'utf8'));
      cfg.host = inner(i);
      cfg.p2pListen = [`/ip4/${inner(i)}/tcp/${P2P_PORT}`];
      cfg.bootstrap = plan.members
        .map((x, j) =>
          j === i ? null : `/ip4/${outer(i)}/tcp/${links.get(`${i}>${j}`)!.port}/p2p/${x.peerId}`,
        )
        .filter((x) => x !== null);
      writeFileSync(m.configPath, `${JSON.stringify(cfg, null, 2)}\n`);
      m.url = `http://${inner(i)}:${API_PORT}`;
    });
    const t0 = Date.now();
    const phase = (s: string) => console.log(`[netns] ${((Date.now() - t0) / 1000).toFixed(1)} s ${s}`);
    try {
      plan.members.forEach((m, i) => {
        procs.push(spawnMember(m, { wrap: ['ip', 'netns', 'exec', ns(i)] }));
      });
      await Promise.all(plan.members.map((m) => waitForApi(m.url, 90_000)));
      await allReach(plan.members, 3, 'start', 90_000);
      phase(`up; one-way delays ${[...delay].map(([k, v]) => `${k}:${v}ms`).join(' ')}`);

      const before = await finality(plan.members[0]!, 6, 'a');
      phase(
        `finality before the cut: median ${pct(before, 50)} ms, p90 ${pct(before, 90)} ms (${before.join(', ')})`,
      );

      // ---- 2–2 partition: {0,1} | {2,3}. Neither side has more than 2/3: nobody finalises.
      const cross = [...links.entries()].filter(([k]) => {
        const [a, b] = k.split('>').map(Number) as [number, number];
        return a < 2 !== b < 2;
      });
      for (const [, l] of cross) l.cut();
      await sleep(1500); // what was in flight lands
      const hCut = await Promise.all(plan.members.map(heightOf));
      phase(`partitioned at heights ${hCut.join(', ')}`);
      // Both sides enter the next height and vote (a proposal or nil after the propose timeout), but
      // with 2 of 4 prevotes neither reaches a quorum: no height is finalised while the cut lasts.
      await until(
        'every node voting in the next height during the partition',
        async () => {
          const st = await Promise.all(plan.members.map((m) => http(m.url, '/v1/status', undefined, 3000)));
          return st.every(
            (x, i) => x.body.consensus?.height === hCut[i]! + 1 && x.body.consensus?.step !== 'propose',
          )
            ? true
            : undefined;
        },
        60_000,
        200,
      );
      await sleep(5000); // the window in which a finalised block would be a safety failure
      const hDuring = await Promise.all(plan.members.map(heightOf));
      expect(hDuring, 'no side of a 2–2 cut finalises').toEqual(hCut);

      // ---- heal
      for (const [, l] of cross) l.heal();
      const tHeal = Date.now();
      const top = Math.max(...hDuring);
      await allReach(plan.members, top + 3, 'every node after the heal', 90_000);
      phase(`healed: 3 new heights on every node ${Date.now() - tHeal} ms after the heal`);
      const after = await finality(plan.members[2]!, 6, 'b');
      phase(
        `finality after the heal: median ${pct(after, 50)} ms, p90 ${pct(after, 90)} ms (${after.join(', ')})`,
      );

      // ---- safety: one chain (a block id hashes its parent's), one state
      const H = Math.min(...(await Promise.all(plan.members.map(heightOf))));
      for (const h of new Set([1, ...hCut, H])) {
        const bs = await Promise.all(plan.members.map((m) => http(m.url, `/v1/blocks/${h}`)));
        expect(new Set(bs.map((b) => b.body.id)).size, `block ${h}`).toBe(1);
        expect(new Set(bs.map((b) => b.body.header.stateRoot)).size, `state root ${h}`).toBe(1);
      }
      for (const m of plan.members) {
        const st = await http(m.url, '/v1/status');
        expect(st.body.consensus.evidence).toBe(0);
      }
      const lost = [...links.values()].reduce((a, l) => a + l.stats.lost, 0);
      const chunks = [...links.values()].reduce((a, l) => a + l.stats.chunks, 0);
      phase(`safe at height ${H}; relay chunks ${chunks}, retransmitted ${lost}`);
    } catch (e) {
      // ROAMCHAIN_NETNS_KEEP=<dir>: keep the nodes' logs there for diagnosis.
      const keep = process.env.ROAMCHAIN_NETNS_KEEP;
      if (keep) for (const m of plan.members) cpSync(join(m.dir, 'node.log'), join(keep, `${m.name}.log`));
      for (const m of plan.members) {
        const f = join(m.dir, 'node.log');
        if (existsSync(f))
          process.stderr.write(
            `---- ${m.name}\n${readFileSync(f, 'utf8').trimEnd().split('\n').slice(-20).join('\n')}\n`,
          );
      }
      throw e;
    }
  }, 180_000);
});
