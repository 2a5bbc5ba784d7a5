// Gossip benchmark: 4 nodes in a full mesh on loopback, each in its own worker thread.
//   node --import tsx packages/p2p/bench/gossip.ts [--heartbeat 200] [--D 4]
// Node 0 publishes on 'tx'; the other three receive. Two phases per message size:
//   latency    — paced publishing (one message every 5 ms); per-delivery latency p50 / p99
//   throughput — publishing as fast as the slowest receiver keeps up (at most WINDOW messages ahead of it:
//                gossipsub has no publish backpressure, so an unbounded publisher only measures queueing);
//                unique messages/s delivered to all three receivers
import { randomBytes } from 'node:crypto';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { createP2P, type P2P } from '../src/index.js';

type Cmd =
  | { cmd: 'init'; bootstrap: string[] }
  | { cmd: 'peers' }
  | { cmd: 'publish'; run: number; size: number; count: number; intervalMs: number; seq0?: number }
  | { cmd: 'report'; run: number }
  | { cmd: 'stop' };

const now = (): number => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const chainId = new Uint8Array(32).fill(0x42);

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
}

async function workerMain(): Promise<void> {
  const port = parentPort!;
  const { heartbeatMs, D } = workerData as { heartbeatMs: number; D: number };
  let p2p: P2P | undefined;
  const lat = new Map<number, number[]>(); // run -> latencies (ms)
  const lastAt = new Map<number, number>(); // run -> time of last delivery
  port.on('message', async (m: Cmd & { id: number }) => {
    const reply = (v: unknown) => port.postMessage({ id: m.id, v });
    switch (m.cmd) {
      case 'init': {
        p2p = await createP2P({
          nodeSecretKey: randomBytes(32),
          chainId,
          bootstrap: m.bootstrap,
          gossip: { heartbeatMs, D, Dlo: Math.max(1, D - 1), Dhi: D * 2 },
        });
        p2p.subscribe('tx', (data) => {
          const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
          const run = dv.getUint32(0);
          const sent = dv.getFloat64(8);
          const t = now();
          const l = lat.get(run) ?? [];
          lat.set(run, l);
          l.push(t - sent);
          lastAt.set(run, t);
          if (l.length % 50 === 0) port.postMessage({ progress: true, run, n: l.length });
          return 'accept';
        });
        reply({ addrs: p2p.addrs(), peerId: p2p.peerId });
        return;
      }
      case 'peers':
        reply(p2p!.peers().length);
        return;
      case 'publish': {
        const t0 = now();
        for (let i = 0; i < m.count; i++) {
          const buf = randomBytes(m.size);
          const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
          dv.setUint32(0, m.run);
          dv.setUint32(4, (m.seq0 ?? 0) + i);
          dv.setFloat64(8, now());
          await p2p!.publish('tx', buf);
          if (m.intervalMs > 0) await sleep(m.intervalMs);
        }
        reply({ t0, t1: now() });
        return;
      }
      case 'report':
        reply({
          lat: lat.get(m.run) ?? [],
          lastAt: lastAt.get(m.run) ?? 0,
          scores: p2p!.peers().map((p) => p2p!.peerScore(p.id).toFixed(1)),
        });
        return;
      case 'stop':
        await p2p?.stop();
        reply(true);
        setImmediate(() => process.exit(0));
        return;
    }
  });
}

function pct(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function main(): Promise<void> {
  const heartbeatMs = arg('heartbeat', 200);
  const D = arg('D', 4);
  const N = 4;
  let nextId = 0;
  const workers = Array.from(
    { length: N },
    () =>
      // Node 20 does not apply `--import tsx` to a .ts worker entry: register tsx inside the worker first.
      new Worker(
        `import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(import.meta.url)}); })`,
        { eval: true, workerData: { heartbeatMs, D } },
      ),
  );
  const pending = new Map<number, (v: unknown) => void>();
  const progress = new Map<Worker, Map<number, number>>(workers.map((w) => [w, new Map()]));
  let onProgress: (() => void) | undefined;
  for (const w of workers) {
    w.on('message', (m: { id: number; v: unknown } | { progress: true; run: number; n: number }) => {
      if ('progress' in m) {
        progress.get(w)!.set(m.run, m.n);
        onProgress?.();
      } else pending.get(m.id)?.(m.v);
    });
    w.on('error', (e) => {
      console.error('worker error', e);
      process.exit(1);
    });
  }
  const call = <T>(w: Worker, c: Cmd): Promise<T> =>
    new Promise((res) => {
      const id = nextId++;
      pending.set(id, (v) => {
        pending.delete(id);
        res(v as T);
      });
      w.postMessage({ ...c, id });
    });

  // full mesh: node i bootstraps from every node before it
  const addrs: string[] = [];
  for (const w of workers) {
    const r = await call<{ addrs: string[] }>(w, { cmd: 'init', bootstrap: [...addrs] });
    addrs.push(r.addrs[0]!);
  }
  for (;;) {
    const counts = await Promise.all(workers.map((w) => call<number>(w, { cmd: 'peers' })));
    if (counts.every((c) => c === N - 1)) break;
    await sleep(50);
  }
  const [pub, ...recv] = workers as [Worker, ...Worker[]];
  let run = 1;
  // warm-up: until every receiver has seen traffic (subscriptions exchanged, mesh grafted)
  for (;;) {
    const r = run++;
    await call(pub, { cmd: 'publish', run: r, size: 64, count: 5, intervalMs: 20 });
    await sleep(100);
    const reps = await Promise.all(recv.map((w) => call<{ lat: number[] }>(w, { cmd: 'report', run: r })));
    if (reps.every((x) => x.lat.length === 5)) break;
  }
  console.log(`4 nodes, full mesh, loopback, worker thread per node; heartbeat ${heartbeatMs} ms, D ${D}`);
  console.log('size     phase        msgs  delivered   p50 ms   p99 ms    max ms   msgs/s   MB/s/receiver');

  for (const [size, latCount, tputCount] of [
    [1024, 400, 5000],
    [64 * 1024, 200, 500],
  ] as const) {
    for (const phase of ['latency', 'throughput'] as const) {
      const r = run++;
      const count = phase === 'latency' ? latCount : tputCount;
      let t0: number;
      if (phase === 'latency') {
        ({ t0 } = await call<{ t0: number; t1: number }>(pub, {
          cmd: 'publish',
          run: r,
          size,
          count,
          intervalMs: 5,
        }));
      } else {
        const WINDOW = size > 4096 ? 64 : 500;
        const CHUNK = 50;
        t0 = now();
        for (let sent = 0; sent < count; ) {
          const slowest = Math.min(...recv.map((w) => progress.get(w)!.get(r) ?? 0));
          if (sent - slowest >= WINDOW) {
            await new Promise<void>((res) => {
              onProgress = res;
              setTimeout(res, 100);
            });
            continue;
          }
          const n = Math.min(CHUNK, count - sent);
          await call(pub, { cmd: 'publish', run: r, size, count: n, intervalMs: 0, seq0: sent });
          sent += n;
        }
      }
      // wait until all delivered (or 30 s)
      const deadline = Date.now() + 30_000;
      let reps: { lat: number[]; lastAt: number }[];
      for (;;) {
        reps = await Promise.all(
          recv.map((w) => call<{ lat: number[]; lastAt: number }>(w, { cmd: 'report', run: r })),
        );
        if (reps.every((x) => x.lat.length >= count) || Date.now() > deadline) break;
        await sleep(50);
      }
      if (process.env.BENCH_DEBUG)
        console.log(
          'scores',
          reps.map((x) => (x as unknown as { scores: string[] }).scores),
        );
      const all = reps.flatMap((x) => x.lat).sort((a, b) => a - b);
      const delivered = Math.min(...reps.map((x) => x.lat.length));
      const end = Math.max(...reps.map((x) => x.lastAt));
      const secs = (end - t0) / 1000;
      const rate = phase === 'throughput' ? delivered / secs : Number.NaN;
      console.log(
        [
          `${size / 1024} KB`.padEnd(8),
          phase.padEnd(11),
          String(count).padStart(5),
          String(delivered).padStart(10),
          pct(all, 50).toFixed(2).padStart(8),
          pct(all, 99).toFixed(2).padStart(8),
          (all.at(-1) ?? Number.NaN).toFixed(2).padStart(9),
          (Number.isNaN(rate) ? '-' : rate.toFixed(0)).padStart(8),
          (Number.isNaN(rate) ? '-' : ((rate * size) / 1e6).toFixed(1)).padStart(15),
        ].join(' '),
      );
    }
  }
  await Promise.all(workers.map((w) => call(w, { cmd: 'stop' })));
}

if (isMainThread) await main();
else await workerMain();
