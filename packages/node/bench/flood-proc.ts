/**
 * The bench's flooder in a process of its own (forked by loadgen.ts with --flood; not run by hand).
 *
 * Why a process: in the load generator's own event loop, building and sending ~600 flood requests a
 * second and parsing their refusals delayed the loop that timestamps the others' inclusions (the
 * WebSocket feed), so the measured "flooded" latency held the load generator's own delay. Here the
 * flood has its own loop, and the parent lowers this process's CPU priority (nice 19): an attacker
 * runs on its own machine, not on the node's cores; on a shared 2-core machine the lowest priority
 * is the nearest to that. What the flood costs the node (reading, refusing, penalising its
 * requests) is still all on the node.
 *
 * Protocol (IPC, advanced serialization): the parent sends `{ start: FloodJob }`, later `'stop'`;
 * this process answers `{ stats: FloodStats }` once stopped, and exits.
 */
import http from 'node:http';
import { Flooder, type FloodStats, httpRequest } from './batch.js';

export interface FloodJob {
  url: string;
  /** Source address of the flooder's connections (another client than the others). */
  localAddress?: string;
  workers: number;
  batch: number;
  txs: Uint8Array[];
}

if (!process.send) throw new Error('flood-proc.ts runs as a child of loadgen.ts (fork with IPC)');

let flood: Flooder | undefined;
process.on('message', (m: { start?: FloodJob } | 'stop') => {
  if (m === 'stop') {
    void (async () => {
      await flood?.stop();
      const stats: FloodStats | undefined = flood?.stats;
      process.send!({ stats }, () => process.exit(0));
    })();
    return;
  }
  const job = m.start;
  if (!job || flood) return;
  const base = new URL(job.url);
  const agent = new http.Agent({
    keepAlive: true,
    maxSockets: job.workers,
    ...(job.localAddress ? { localAddress: job.localAddress } : {}),
  });
  const post = (_node: number, body: Buffer) =>
    httpRequest(base, agent, 'POST', '/v1/txs', body, 'application/octet-stream');
  flood = new Flooder(post, 0, job.txs, { workers: job.workers, batch: job.batch });
  flood.start();
});
