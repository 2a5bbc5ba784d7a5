/**
 * The devnet runs the demo operators' agents: a subscriber's purchase completes by itself —
 * countersigned by the home operator's agent (found at GET /v1/agents), provisioned, charged from
 * simulated usage and closed by the visited operator's agent. A real devnet process (`--agents`).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { bytesToHex, encode, unsignedTx } from '@roamchain/protocol';
import { RoamClient, signUnsigned } from '@roamchain/sdk';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { REPO_ROOT, secretOf } from '../../node/test/support/proc.js';

let child: ChildProcess | undefined;
let dir = '';
let url = '';
let out = '';

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'rc-agent-devnet-'));
  const args = ['--import', 'tsx', resolve(REPO_ROOT, 'packages/devnet/bin/devnet.ts')];
  args.push('--data-dir', dir, '--port', '0', '--block-ms', '100', '--quiet', '--agents');
  const env: NodeJS.ProcessEnv = { ...process.env, ROAMCHAIN_LOG_LEVEL: 'warn' };
  delete env.ROAMCHAIN_DEVNET_DIR;
  delete env.ROAMCHAIN_API_PORT;
  const c = spawn(process.execPath, args, { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  child = c;
  c.stderr?.on('data', (d: Buffer) => {
    out = (out + d.toString()).slice(-10_000);
  });
  url = await new Promise<string>((res, rej) => {
    let buf = '';
    const t = setTimeout(() => rej(new Error(`devnet did not start: ${out}`)), 45_000);
    c.stdout?.on('data', (d: Buffer) => {
      buf += d.toString();
      const line = buf.split('\n').find((l) => l.includes('"ready"'));
      if (line) {
        clearTimeout(t);
        res((JSON.parse(line) as { url: string }).url);
      }
    });
    c.once('exit', (code) => rej(new Error(`devnet exited ${code}: ${out}`)));
  });
}, 60_000);

afterAll(async () => {
  const c = child;
  if (c && c.exitCode === null) {
    const gone = new Promise((r) => c.once('exit', r));
    c.kill('SIGTERM');
    await Promise.race([gone, new Promise((r) => setTimeout(r, 5000))]);
    if (c.exitCode === null) c.kill('SIGKILL');
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
});

it("completes a subscriber's purchase by itself", async () => {
  const client = new RoamClient({ url });
  const agents = await client.get<Record<string, string>>('/v1/agents');
  expect(Object.keys(agents).sort()).toEqual(['telco-de', 'telco-fr', 'telco-th', 'telco-tr', 'telco-us']);
  const offer = (await client.offers({ operator: 'telco-tr' })).items.find(
    (o) => BigInt(o.terms.unitPrice) === 0n && o.terms.title.startsWith('Türkiye 5 GB'),
  )!;
  // alice (telco-fr) buys in Türkiye: her wallet signs, her home operator's agent countersigns.
  const p = await client.prepareOpenRequest({
    issuer: 'telco-fr',
    subscriber: 'alice',
    offer: offer.id,
    deposit: 10_000_000n,
    issuerFeeBps: 100,
    feeDeposit: 100_000n,
    lifetimeSec: 3600,
    stepTimeoutSec: 600,
  });
  const res = await fetch(`${agents['telco-fr']}/v1/countersign`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      tx: bytesToHex(encode(unsignedTx, p.tx)),
      subscriber: 'alice',
      signature: bytesToHex(signUnsigned(p.tx, secretOf('alice'))),
    }),
  });
  expect(res.status, await res.clone().text()).toBe(200);
  const deadline = Date.now() + 40_000;
  let c = (await client.contract(p.contractId)).contract;
  while (c.status !== 'closed' && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 300));
    c = (await client.contract(p.contractId)).contract;
  }
  expect(c.status, out).toBe('closed');
  expect(Number(c.provisionedAt)).toBeGreaterThan(0);
  expect(c.closedBy).toBe('telco-tr');
  expect(c.reason).toBe(1);
  expect(c.paidAssignee).toBe(offer.terms.price);
  expect(BigInt(c.volumeUp) + BigInt(c.volumeDown)).toBeGreaterThanOrEqual(BigInt(offer.terms.dataBytes));
}, 60_000);
