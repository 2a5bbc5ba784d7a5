/**
 * `roamchain node --producer <account> --keystore <file>`: the CLI reads the producer's key from the
 * encrypted keystore and hands it to the node (@roamchain/node does not depend on the SDK's keystore).
 * A real process; the node must produce blocks signed with that key.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { genesisToJSON } from '@roamchain/protocol';
import { Keystore } from '@roamchain/sdk/keystore';
import { buildGenesis } from '@roamchain/state';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from './harness.js';

const MAIN = resolve(dirname(fileURLToPath(import.meta.url)), '../src/main.ts');
const PASS = 'node-command-test';

let dir: string;
let args: string[];
const children: ChildProcess[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'rc-cli-node-'));
  const { genesis, keys } = buildGenesis({
    chainName: 'roamchain-node-command',
    genesisTime: BigInt(Date.now() - 60_000),
    accounts: [{ name: 'node-1', roles: ['node_owner'] }],
  });
  writeFileSync(join(dir, 'genesis.json'), JSON.stringify(genesisToJSON(genesis)));
  const ks = await Keystore.create(join(dir, 'keystore.json'), PASS, { scrypt: { N: 2 ** 14 } });
  const k = keys.get('node-1')!;
  ks.add('node-1', { signingSecret: k.signing.secretKey, encryptionSecret: k.encryption.secretKey });
  ks.save();
  ks.close();
  args = [
    '--import',
    'tsx',
    MAIN,
    'node',
    '--producer',
    'node-1',
    '--keystore',
    join(dir, 'keystore.json'),
    '--genesis',
    join(dir, 'genesis.json'),
    '--data-dir',
    join(dir, 'chain'),
    '--port',
    '0',
    '--block-interval-ms',
    '100',
    '--log-level',
    'info',
  ];
});

afterAll(async () => {
  await Promise.all(children.map(stop));
  rmSync(dir, { recursive: true, force: true });
});

function start(passphrase: string | undefined): { child: ChildProcess; out: () => string } {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('ROAMCHAIN_')) delete env[k];
  if (passphrase !== undefined) env.ROAMCHAIN_KEYSTORE_PASSPHRASE = passphrase;
  const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  child.stdout?.on('data', (b: Buffer) => {
    out += b.toString();
  });
  child.stderr?.on('data', (b: Buffer) => {
    out += b.toString();
  });
  return { child, out: () => out };
}

function stop(c: ChildProcess): Promise<void> {
  return new Promise((res) => {
    if (c.exitCode !== null || c.signalCode !== null) return res();
    c.once('exit', () => res());
    c.kill('SIGTERM');
    setTimeout(() => c.kill('SIGKILL'), 10_000).unref();
  });
}

describe('roamchain node --producer --keystore', () => {
  it('refuses to start without the keystore passphrase', async () => {
    const { child, out } = start(undefined);
    const code = await until('the exit', () => child.exitCode ?? undefined);
    expect(code).not.toBe(0);
    expect(out()).toContain('KEYSTORE_NO_KEY');
  });

  it("produces blocks with the producer's key from the keystore", async () => {
    const { child, out } = start(PASS);
    const url = await until('the node to serve', () => {
      if (child.exitCode !== null) throw new Error(`node exited ${child.exitCode}: ${out()}`);
      return /"url":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(out())?.[1];
    });
    const height = await until('two blocks', async () => {
      const s = (await (await fetch(`${url}/v1/status`)).json()) as { height: number; producer: string };
      expect(s.producer).toBe('node-1');
      return s.height >= 2 ? s.height : undefined;
    });
    expect(height).toBeGreaterThanOrEqual(2);
    await stop(child);
  });
});
