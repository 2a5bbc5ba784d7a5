/**
 * A protocol upgrade across four validator PROCESSES (`bin/node.ts --config …`, BFT over libp2p on
 * loopback): the operators vote version 2 at height H; three nodes run this software (it implements
 * version 2: from H block headers carry version 2), the fourth is configured as older software
 * (`maxProtocolVersion: 1` in its config, what `--max-protocol-version 1` sets). The chain passes H
 * with the three (quorum 3 of 4, same blocks on each); the fourth halts cleanly before H — its head
 * stays H − 1, `GET /v1/status` says `halted: {reason: 'UPGRADE_REQUIRED', version: 2, height: H}`,
 * `roamchain_halted{reason="UPGRADE_REQUIRED"}` is 1, its log has the error naming the version and
 * the height — and the process keeps running, serving reads.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { devnetGenesis, devnetNodeKey, devnetValidators } from '@roamchain/devnet';
import { hexToBytes, type Operation } from '@roamchain/protocol';
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
const root = mkdtempSync(join(tmpdir(), 'rc-upgrade-'));
let plan: ClusterPlan;
const procs = new Map<string, ChildProcess>();

afterAll(async () => {
  for (const p of procs.values()) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  await sleep(200);
  rmSync(root, { recursive: true, force: true });
});

async function status(m: ClusterMember): Promise<Record<string, unknown>> {
  const s = await http(m.url, '/v1/status', undefined, 5000);
  if (s.status !== 200) throw new Error(`status ${s.status}`);
  return s.body as Record<string, unknown>;
}
const heightOf = async (m: ClusterMember) => (await status(m)).height as number;

describe('a protocol upgrade across four validator processes', () => {
  it('three upgraded nodes pass the height; the old one halts cleanly before it', async () => {
    try {
      await scenario();
    } catch (e) {
      for (const m of plan?.members ?? []) {
        const log = readFileSync(join(m.dir, 'node.log'), 'utf8').trimEnd().split('\n');
        const rest = log.filter((l) => !l.includes('"msg":"decided"'));
        process.stderr.write(`---- ${m.name}\n${rest.slice(-25).join('\n')}\n`);
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
  const [a, b, c, old] = plan.members as [ClusterMember, ClusterMember, ClusterMember, ClusterMember];
  const upgraded = [a, b, c];
  // The fourth member runs as older software: it implements protocol version 1 only.
  const cfg = JSON.parse(readFileSync(old.configPath, 'utf8')) as Record<string, unknown>;
  writeFileSync(old.configPath, `${JSON.stringify({ ...cfg, maxProtocolVersion: 1 }, null, 2)}\n`);
  for (const m of plan.members) procs.set(m.name, spawnMember(m));
  await Promise.all(plan.members.map((m) => waitForApi(m.url, 120_000)));
  expect((await status(old)).protocolVersion).toBe(1);
  expect((await status(a)).protocolVersion).toBe(2);
  await until(
    'height 3 on every node',
    async () => ((await Promise.all(plan.members.map(heightOf))).every((h) => h >= 3) ? true : undefined),
    120_000,
    200,
  );

  // ---- the vote: one operator proposes version 2 at H, the others approve (more than 2/3 of them)
  const gov = await http(a.url, '/v1/governance');
  const operators = (gov.body.operators as { account: string }[]).map((o) => o.account);
  expect(operators.length).toBeGreaterThanOrEqual(3);
  const H = (await heightOf(a)) + 60;
  const deadline = BigInt(Date.now()) + 600_000n;
  const propose: Operation = {
    type: 'proposal_create',
    proposer: operators[0]!,
    action: { kind: 'upgrade', displayName: '', networks: [], param: '', value: BigInt(H), version: 2 },
    deadline,
    note: 'e2e: protocol version 2',
  } as Operation;
  const created = await submit(
    a.url,
    signWith(await txBase(a.url), [propose], [operators[0]!]),
    true,
    60_000,
  );
  expect(created.status).toBe(200);
  const list = await http(a.url, '/v1/governance/proposals');
  const prop = (list.body.items as { id: string; action: { kind: string } }[]).find(
    (p) => p.action.kind === 'upgrade',
  )!;
  expect(prop).toBeDefined();
  await Promise.all(
    operators.slice(1).map(async (voter, i) => {
      const m = upgraded[i % upgraded.length]!;
      const op = {
        type: 'proposal_vote',
        voter,
        proposal: hexToBytes(prop.id),
        approve: true,
      } as Operation;
      await submit(m.url, signWith(await txBase(m.url), [op], [voter]), false);
    }),
  );
  await until(
    'the upgrade proposal executed',
    async () => {
      const p = await http(a.url, `/v1/governance/proposals/${prop.id}`);
      if (p.body.status === 'failed' || p.body.status === 'rejected') throw new Error(JSON.stringify(p.body));
      return p.body.status === 'executed' ? true : undefined;
    },
    120_000,
    200,
  );
  const g = await http(old.url, '/v1/governance');
  expect(g.body.upgrade).toMatchObject({ version: 2, height: String(H), implemented: 1, supported: false });
  expect((await http(a.url, '/v1/governance')).body.upgrade).toMatchObject({
    implemented: 2,
    supported: true,
  });

  // ---- the three pass H; the fourth halts before it
  await until(
    `height ${H + 3} on the three upgraded nodes`,
    async () => ((await Promise.all(upgraded.map(heightOf))).every((h) => h >= H + 3) ? true : undefined),
    240_000,
    250,
  );
  const halted = await until(
    'the old node halted',
    async () => {
      const s = await status(old);
      return s.halted ? s : undefined;
    },
    60_000,
    200,
  );
  expect(halted.halted).toMatchObject({
    reason: 'UPGRADE_REQUIRED',
    version: 2,
    height: H,
    implemented: 1,
    proposal: prop.id,
  });
  expect(halted.height).toBe(H - 1);
  // The chain goes on without it; it never applies H (it still answers: the process is up).
  await sleep(2000);
  expect(await heightOf(old)).toBe(H - 1);
  expect(procs.get(old.name)!.exitCode).toBeNull();
  const metrics = await (await fetch(`${old.url}/metrics`)).text();
  expect(metrics).toMatch(/^roamchain_halted\{reason="UPGRADE_REQUIRED"\} 1$/m);
  const okMetrics = await (await fetch(`${a.url}/metrics`)).text();
  expect(okMetrics).toMatch(/^roamchain_halted\{reason="UPGRADE_REQUIRED"\} 0$/m);
  const log = readFileSync(join(old.dir, 'node.log'), 'utf8');
  const line = log.split('\n').find((l) => l.includes('"level":50') && l.includes('halted'));
  expect(line).toBeDefined();
  expect(line).toContain(`protocol version 2 is in force from height ${H}`);
  // Reads still served by the halted node.
  const last = await http(old.url, `/v1/blocks/${H - 1}`);
  expect(last.status).toBe(200);

  // ---- the same blocks on the three, headers of version 1 before H and 2 from it
  const at = async (m: ClusterMember, h: number) => (await http(m.url, `/v1/blocks/${h}`)).body;
  const bH = await Promise.all(upgraded.map((m) => at(m, H)));
  expect(new Set(bH.map((x) => x.id)).size).toBe(1);
  expect((bH[0]!.header as { version: number }).version).toBe(2);
  expect(((await at(a, H - 1)).header as { version: number }).version).toBe(1);
  expect((await at(old, H - 1)).id).toBe((await at(a, H - 1)).id);
}
