/**
 * Pipelined heights under a crash, on a REAL node process (the single validator, `npm start`'s
 * set-up): its disk is made slow (ROAMCHAIN_FAILPOINT_DELAY=batch-write:<ms>) so that several decided
 * blocks wait in the write queue, and it SIGKILLs itself at `batches-pending` (a decided block's
 * batch queued behind two or more unwritten ones) while clients submit transfers. Then:
 *  - the store on disk is behind: the decided heights above it are in the consensus WAL (2 or more);
 *  - restarted (no delay), the node commits every one of them again, in order, with the same block
 *    ids (so the same state roots: a block id hashes its header), and builds on the last;
 *  - every transaction in those blocks, and every one a client was told was included, is included
 *    at the same height;
 *  - a graceful stop leaves a store whose full replay gives the root of its head block.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { devnetGenesis, devnetNodeKey, devnetValidators } from '@roamchain/devnet';
import { envelope, type SignedTx, UNIT, utf8 } from '@roamchain/protocol';
import { afterAll, describe, expect, it } from 'vitest';
import { type ClusterMember, freePort, planCluster, spawnMember, waitForApi } from '../src/cluster.js';
import { sodiumVerifier } from '../src/crypto/verifier.js';
import { replayStore } from '../src/node.js';
import { openStore } from '../src/store/index.js';
import { http, signWith, sleep, submit, txBase, until } from './support/proc.js';
import { type PendingDecision, pendingDecisions } from './support/wal.js';

const root = mkdtempSync(join(tmpdir(), 'rc-pipeline-'));
const procs: ChildProcess[] = [];

afterAll(async () => {
  for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  await sleep(200);
  rmSync(root, { recursive: true, force: true });
});

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

function start(m: ClusterMember, env: NodeJS.ProcessEnv): ChildProcess {
  const p = spawnMember(m, { env: { ROAMCHAIN_SOLO: '1', ...env } });
  procs.push(p);
  return p;
}

const SENDERS = ['telco-de', 'telco-fr', 'telco-tr', 'telco-th', 'telco-us'];
const TO = ['alice', 'bob', 'chen'];

/** Submits transfers (wait=true) until the process dies; returns those answered "included". */
async function loadUntilDead(
  url: string,
  p: ChildProcess,
  attempt: number,
): Promise<Map<string, { height: number; blockId: string }>> {
  const seen = new Map<string, { height: number; blockId: string }>();
  let n = 0;
  const dead = () => p.exitCode !== null || p.signalCode !== null;
  const worker = async (w: number) => {
    while (!dead()) {
      let base: Awaited<ReturnType<typeof txBase>>;
      try {
        base = await txBase(url);
      } catch {
        await sleep(50);
        continue;
      }
      const k = n++;
      const from = SENDERS[(w + k) % SENDERS.length]!;
      const tx: SignedTx = signWith(
        base,
        [
          {
            type: 'transfer',
            from,
            to: TO[k % TO.length]!,
            token: 'UMT',
            amount: UNIT / 1000n + BigInt(k),
            memo: utf8(`pipe ${attempt} ${k}`),
          },
        ],
        [from],
      );
      const a = await submit(url, tx, true, 5000).catch(() => null);
      if (a?.status === 200 && a.body.status === 'included')
        seen.set(envelope(tx).idHex, { height: a.body.height, blockId: a.body.blockId });
    }
  };
  await Promise.all([0, 1, 2, 3].map(worker));
  return seen;
}

describe('pipelined heights: crash with several batches pending', () => {
  it('restarts at the same head and root, every decided block and final transaction kept', async () => {
    const { genesis } = devnetGenesis(join(root, 'genesis'), 1);
    const m = planCluster({
      dir: join(root, 'nodes'),
      genesis,
      members: devnetValidators(1).map((v) => ({ name: v, nodeKey: devnetNodeKey(v) })),
      apiPorts: [await freePort()],
      p2pPorts: [await freePort()],
      blockIntervalMs: 100,
      logLevel: 'info',
    }).members[0]!;
    const chainDir = join(m.dir, 'chain');
    const seen = new Map<string, { height: number; blockId: string }>();
    const recovered: PendingDecision[][] = [];
    try {
      // An attempt whose kill left fewer than 2 decided blocks pending, or none with a transaction,
      // is repeated (each attempt still checks the recovery).
      for (let attempt = 1; attempt <= 4; attempt++) {
        const p = start(m, {
          ROAMCHAIN_FAILPOINT_DELAY: 'batch-write:250',
          ROAMCHAIN_FAILPOINT: 'batches-pending:30',
        });
        await waitForApi(m.url, 60_000).catch(() => {});
        const got = await loadUntilDead(m.url, p, attempt);
        expect(await exitOf(p, 60_000), 'killed at batches-pending').toBe('SIGKILL');
        for (const [k, s] of got) seen.set(k, s);

        // On disk now: the store's head, and the decided heights above it in the WAL.
        const store = await openStore('level', chainDir);
        let stored: number;
        try {
          stored = JSON.parse(Buffer.from(store.get('m/head')!).toString()).height as number;
        } finally {
          await store.close();
        }
        const pending = pendingDecisions(chainDir, stored);
        recovered.push(pending);
        console.info(
          `[pipeline] attempt ${attempt}: stored head ${stored}, decided and pending ${pending.map((d) => `${d.height}(${d.txIds.length} tx)`).join(' ')}, ${got.size} seen included`,
        );
        expect(
          pending.length,
          'the WAL holds the decision of the batch that triggered the kill',
        ).toBeGreaterThanOrEqual(1);
        // Bounded: the write queue holds at most 4 waiting batches plus the one being pushed.
        expect(pending.length).toBeLessThanOrEqual(5);

        const q = start(m, {});
        await waitForApi(m.url, 60_000);
        const last = pending.at(-1)!;
        await until(
          `height ${last.height + 1} after the restart`,
          async () => ((await http(m.url, '/v1/status')).body.height >= last.height + 1 ? true : undefined),
          60_000,
          100,
        );
        for (const d of pending) {
          const b = await http(m.url, `/v1/blocks/${d.height}`);
          expect(b.body.id, `decided block ${d.height} re-committed from the WAL`).toBe(d.id);
          for (const id of d.txIds) {
            const t = await http(m.url, `/v1/tx/${id}`);
            expect(t.body.status === 'included' && t.body.height, `${id} of block ${d.height}`).toBe(
              d.height,
            );
          }
        }
        const after = await http(m.url, `/v1/blocks/${last.height + 1}`);
        expect(after.body.header.prev, 'builds on the last decided block').toBe(last.id);
        const log = readFileSync(join(m.dir, 'node.log'), 'utf8');
        expect(log).toMatch(/decided block committed from the WAL/);
        // Every transaction a client was told was included (before any kill) still is, in that block.
        for (const [id, s] of seen) {
          const t = await http(m.url, `/v1/tx/${id}`);
          expect([t.body.status, t.body.height, t.body.blockId], id).toEqual([
            'included',
            s.height,
            s.blockId,
          ]);
        }
        q.kill('SIGTERM');
        expect(await exitOf(q, 30_000)).toBe('0');
        const multi = recovered.some((r) => r.length >= 2 && r.some((d) => d.txIds.length > 0));
        if (multi && seen.size > 0) break;
      }
      expect(
        recovered.some((r) => r.length >= 2),
        'a kill left 2 or more decided blocks pending',
      ).toBe(true);
      expect(seen.size, 'clients saw transactions included').toBeGreaterThan(0);

      // A graceful stop leaves a store whose full replay gives its head block's root.
      const store = await openStore('level', chainDir);
      try {
        const head = JSON.parse(Buffer.from(store.get('m/head')!).toString()) as { height: number };
        const replay = await replayStore(store, genesis, sodiumVerifier());
        expect(replay.height).toBe(head.height);
      } finally {
        await store.close();
      }
    } catch (e) {
      process.stderr.write(readFileSync(join(m.dir, 'node.log'), 'utf8').split('\n').slice(-40).join('\n'));
      throw e;
    }
  }, 400_000);
});
