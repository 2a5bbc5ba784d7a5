/**
 * `roamchain operator run --config`: a real agent process started by the CLI (the same `runAgent` as
 * the agent's own main.ts). Key rotation without downtime (docs/AGENT.md): a key added to the config
 * is refused before SIGHUP and accepted after it; SIGTERM stops the process with exit code 0.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Keystore } from '@roamchain/sdk/keystore';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from './harness.js';

const MAIN = resolve(dirname(fileURLToPath(import.meta.url)), '../src/main.ts');
const PASS = 'operator-run-test';
const OLD_KEY = 'o'.repeat(40);
const NEW_KEY = 'n'.repeat(40);

let dir = '';
let fakeNode: Server;
let child: ChildProcess | undefined;

const config = (keys: string[]) =>
  JSON.stringify({
    operator: 'op-de',
    api: `http://127.0.0.1:${(fakeNode.address() as AddressInfo).port}`,
    keystore: join(dir, 'keystore.json'),
    stateDir: join(dir, 'agent'),
    port: 0,
    tickMs: 60_000,
    simulation: true,
    // The usage scope only: GET /metrics (admin) is 403 for a known key, 401 for an unknown one.
    clients: [{ id: 'billing', keys, scopes: ['usage'] }],
  });

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'rc-cli-operator-'));
  // A stand-in for the node's API: nothing there.
  fakeNode = createServer((_req, res) => {
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ code: 'NOT_FOUND', message: 'nothing here', details: {} }));
  });
  await new Promise<void>((r) => fakeNode.listen(0, '127.0.0.1', r));
  const ks = await Keystore.create(join(dir, 'keystore.json'), PASS, { scrypt: { N: 2 ** 14 } });
  ks.generate('op-de');
  ks.save();
  ks.close();
  writeFileSync(join(dir, 'agent.json'), config([OLD_KEY]));
});

afterAll(async () => {
  if (child && child.exitCode === null && child.signalCode === null) {
    const c = child;
    await new Promise<void>((res) => {
      c.once('exit', () => res());
      c.kill('SIGKILL');
    });
  }
  await new Promise((r) => fakeNode?.close(r));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('roamchain operator run', () => {
  it('serves, takes a rotated key on SIGHUP, stops on SIGTERM with exit code 0', async () => {
    const env: NodeJS.ProcessEnv = { ...process.env };
    for (const k of Object.keys(env)) if (k.startsWith('ROAMCHAIN_')) delete env[k];
    env.ROAMCHAIN_KEYSTORE_PASSPHRASE = PASS;
    const c = spawn(
      process.execPath,
      ['--import', 'tsx', MAIN, 'operator', 'run', '--config', join(dir, 'agent.json')],
      { env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child = c;
    let out = '';
    let err = '';
    c.stdout?.on('data', (b: Buffer) => {
      out += b.toString();
    });
    c.stderr?.on('data', (b: Buffer) => {
      err += b.toString();
    });
    const ready = await until('the ready line', () => {
      if (c.exitCode !== null) throw new Error(`exited ${c.exitCode}: ${err}`);
      const line = out.split('\n').find((l) => l.includes('"ready":true'));
      return line ? (JSON.parse(line) as { operator: string; url: string }) : undefined;
    });
    expect(ready.operator).toBe('op-de');
    const metrics = (key: string) =>
      fetch(`${ready.url}/metrics`, { headers: { authorization: `Bearer ${key}` } }).then((r) => r.status);
    expect(await metrics(OLD_KEY)).toBe(403);
    expect(await metrics(NEW_KEY)).toBe(401);

    // Rotation: the new key is in the file, but counts only once the agent is told to re-read it.
    writeFileSync(join(dir, 'agent.json'), config([OLD_KEY, NEW_KEY]));
    expect(await metrics(NEW_KEY)).toBe(401);
    c.kill('SIGHUP');
    await until('the new key', async () => ((await metrics(NEW_KEY)) === 403 ? true : undefined));
    expect(err).toContain('credentials reloaded');
    expect(await metrics(OLD_KEY)).toBe(403);

    c.kill('SIGTERM');
    const code = await until('the exit', () => c.exitCode ?? undefined);
    expect(code).toBe(0);
  });
});
