import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bytesToHex, RoamError } from '@roamchain/protocol';
import { RoamApiError, RoamNetworkError } from '@roamchain/sdk';
import { derivedKeys } from '@roamchain/state';
import { type Command, InvalidArgumentError } from 'commander';
import { afterAll, describe, expect, it } from 'vitest';
import {
  amountArg,
  buildProgram,
  countriesArg,
  daysArg,
  describeError,
  gbArg,
  hex32Arg,
  type Io,
  intArg,
  mbArg,
  nameArg,
  networksArg,
  positiveAmountArg,
  run,
  tokenArg,
  UsageError,
} from '../src/index.js';

describe('argument parsers', () => {
  it('amounts are exact decimals of 6 digits', () => {
    expect(amountArg('10')).toBe(10_000_000n);
    expect(amountArg('10.5')).toBe(10_500_000n);
    expect(amountArg('0.000001')).toBe(1n);
    expect(amountArg('123456789.123456')).toBe(123_456_789_123_456n);
    for (const bad of ['1.0000001', '-1', '1e3', 'abc', '', '1,5']) {
      expect(() => amountArg(bad)).toThrowError(InvalidArgumentError);
    }
    expect(() => positiveAmountArg('0')).toThrowError(/more than 0/);
  });

  it('volumes: GB = 10^9 bytes, MB = 10^6 bytes', () => {
    expect(gbArg('5')).toBe(5_000_000_000n);
    expect(gbArg('0.5')).toBe(500_000_000n);
    expect(mbArg('1024')).toBe(1_024_000_000n);
    expect(() => gbArg('five')).toThrowError(InvalidArgumentError);
  });

  it('lists, codes, names, ids', () => {
    expect(countriesArg('de, FR,DE')).toEqual(['DE', 'FR']);
    expect(() => countriesArg('DEU')).toThrowError(InvalidArgumentError);
    expect(networksArg('262-01,208-10')).toEqual(['262-01', '208-10']);
    expect(() => networksArg('26201')).toThrowError(InvalidArgumentError);
    expect(nameArg('telco-de')).toBe('telco-de');
    expect(() => nameArg('Telco')).toThrowError(InvalidArgumentError);
    expect(hex32Arg(`0x${'AB'.repeat(32)}`)).toBe('ab'.repeat(32));
    expect(() => hex32Arg('abcd')).toThrowError(InvalidArgumentError);
    expect(tokenArg('umt')).toBe('UMT');
    expect(() => tokenArg('BTC')).toThrowError(InvalidArgumentError);
    expect(intArg('42', 1, 100)).toBe(42);
    expect(() => intArg('4.2')).toThrowError(InvalidArgumentError);
    expect(daysArg('7')).toBe(604_800);
  });

  it('errors map to exit codes and codes', () => {
    expect(describeError(new RoamError('SSC_NOT_HEAD', 'x'))).toMatchObject({
      exitCode: 1,
      code: 'SSC_NOT_HEAD',
    });
    const api = new RoamApiError({
      code: 'SSC_CLOSED',
      message: 'closed',
      httpStatus: 409,
      method: 'POST',
      url: 'u',
    });
    expect(describeError(api)).toMatchObject({ exitCode: 1, code: 'SSC_CLOSED', message: 'closed' });
    expect(describeError(new RoamNetworkError('down', { method: 'GET', url: 'u' }))).toMatchObject({
      exitCode: 1,
      code: 'NETWORK',
    });
    expect(describeError(new UsageError('bad'))).toMatchObject({ exitCode: 2, code: 'USAGE' });
    expect(describeError(new Error('boom'))).toMatchObject({ exitCode: 1, code: 'INTERNAL' });
  });
});

// ---------------------------------------------------------------- the CLI in-process (no node needed)

const dir = mkdtempSync(join(tmpdir(), 'roam-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function io(env: Record<string, string> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const o: Io = {
    stdout: (s) => void out.push(s),
    stderr: (s) => void err.push(s),
    env: {
      HOME: dir,
      ROAMCHAIN_KEYSTORE: join(dir, 'ks.json'),
      ROAMCHAIN_KEYSTORE_PASSPHRASE: 'test pass',
      ROAMCHAIN_KEYSTORE_SCRYPT_LOG_N: '10',
      ROAMCHAIN_API: 'http://127.0.0.1:9', // nothing listens there
      ...env,
    },
    interactive: false,
  };
  return { o, out: () => out.join(''), err: () => err.join('') };
}

async function cli(args: string[], env?: Record<string, string>) {
  const t = io(env);
  const code = await run(args, t.o);
  return { code, stdout: t.out(), stderr: t.err() };
}

describe('roamchain (in-process)', () => {
  it('--help on every command exits 0 and describes it', async () => {
    const top = await cli(['--help']);
    expect(top.code).toBe(0);
    expect(top.stdout).toContain('Usage: roamchain');
    const paths: string[][] = [];
    const walk = (c: Command, path: string[]) => {
      for (const sub of c.commands) {
        if (sub.name() === 'help') continue;
        paths.push([...path, sub.name()]);
        walk(sub, [...path, sub.name()]);
      }
    };
    walk(buildProgram(io().o), []);
    expect(paths.length).toBeGreaterThan(40);
    for (const cmd of paths) {
      const r = await cli([...cmd, '--help']);
      expect(r.code, cmd.join(' ')).toBe(0);
      expect(r.stdout).toContain(`Usage: roamchain ${cmd.join(' ')}`);
      expect(r.stdout.split('\n')[2]!.trim().length, `${cmd.join(' ')} has a description`).toBeGreaterThan(
        10,
      );
    }
    expect((await cli(['keys', 'import-devnet', '--help'])).stdout).toContain('PUBLIC demo keys');
  });

  it('usage errors exit 2 with "error USAGE:"', async () => {
    const missing = await cli(['transfer', 'alice', 'bob']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^error USAGE: .*amount/);
    const badAmount = await cli(['transfer', 'alice', 'bob', '1.0000001']);
    expect(badAmount.code).toBe(2);
    expect(badAmount.stderr).toContain('more than 6 decimals');
    expect((await cli(['charge', 'ab'.repeat(32), '--assignee', 'telco-de'])).code).toBe(2); // no --amount
    expect((await cli(['no-such-command'])).code).toBe(2);
    expect((await cli(['offer', 'rank'])).code).toBe(2); // needs --country or --network
    expect((await cli(['contract', 'watch'])).code).toBe(2);
    const json = await cli(['transfer', 'alice', 'bob', 'x', '--json']);
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stdout).error.code).toBe('USAGE');
  });

  it('an unreachable node is "error NETWORK" and exit 1', async () => {
    const r = await cli(['status']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error NETWORK: GET http:\/\/127\.0\.0\.1:9\/v1\/status/);
    const j = await cli(['--api', 'http://127.0.0.1:9', 'account', 'show', 'alice', '--json']);
    expect(j.code).toBe(1);
    expect(JSON.parse(j.stdout).error.code).toBe('NETWORK');
  });

  it('keys: new, import-devnet (deterministic), list, show; secrets never printed', async () => {
    const n = await cli(['keys', 'new', 'my-op', '--json']);
    expect(n.code).toBe(0);
    const created = JSON.parse(n.stdout);
    expect(created.signingKey).toMatch(/^[0-9a-f]{64}$/);
    expect(Object.keys(created)).toEqual(['name', 'signingKey', 'encryptionKey', 'keystore']);
    expect(statSync(join(dir, 'ks.json')).mode & 0o777).toBe(0o600);
    expect((await cli(['keys', 'new', 'my-op'])).stderr).toContain('error BAD_REQUEST');

    const d = await cli(['keys', 'import-devnet', 'telco-de', 'alice', '--json']);
    expect(d.code).toBe(0);
    const imported = JSON.parse(d.stdout) as { name: string; signingKey: string }[];
    expect(imported.map((k) => k.signingKey)).toEqual([
      bytesToHex(derivedKeys('telco-de').signing.publicKey),
      bytesToHex(derivedKeys('alice').signing.publicKey),
    ]);
    const again = await cli(['keys', 'import-devnet', 'alice', '--json']);
    expect(JSON.parse(again.stdout)[0].status).toBe('already present');

    const list = await cli(['keys', 'list', '--json']);
    expect(JSON.parse(list.stdout).map((k: { name: string }) => k.name)).toEqual([
      'alice',
      'my-op',
      'telco-de',
    ]);
    const show = await cli(['keys', 'show', 'alice']);
    expect(show.stdout).toContain(bytesToHex(derivedKeys('alice').encryption.publicKey));
    expect(show.stdout).not.toContain(bytesToHex(derivedKeys('alice').signing.secretKey));
    expect(show.stdout.split('\n').map((l) => l.split(/\s{2,}/)[0])).toEqual([
      'name',
      'signing key',
      'encryption key',
      '',
    ]);
    const none = await cli(['keys', 'show', 'nobody']);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/^error KEYSTORE_NO_KEY:/);

    const wrong = await cli(['keys', 'list'], { ROAMCHAIN_KEYSTORE_PASSPHRASE: 'wrong' });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/^error KEYSTORE_BAD_PASSPHRASE:/);
    const nopass = await cli(['keys', 'list'], { ROAMCHAIN_KEYSTORE_PASSPHRASE: '' });
    expect(nopass.code).toBe(1);
    expect(nopass.stderr).toContain('ROAMCHAIN_KEYSTORE_PASSPHRASE');
  });

  it('signing commands need the key in the keystore', async () => {
    const r = await cli(['--keystore', join(dir, 'missing.json'), 'transfer', 'alice', 'bob', '1']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error KEYSTORE_NO_KEY: no keystore at /);
  });
});
