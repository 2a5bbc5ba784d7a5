/**
 * `roamchain mini …` (in process, against a real node): bond with a key file (its public key is
 * registered), list / show with --json, a bond below the minimum and an unknown Mini Node as typed
 * errors, attach to an inactive Super Node refused, and a full unbond (an exit).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bytesToHex, generateSigningKey, sha256, utf8 } from '@roamchain/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACCOUNTS as A, startTestNode, type TestNode } from '../../sdk/test/testnode.js';
import { inProcessCli } from './harness.js';

describe('roamchain mini commands', () => {
  let tn: TestNode;
  let dir: string;
  let env: Record<string, string> = {};
  const { cli, ok } = inProcessCli(() => env);

  async function fails(code: string, ...args: string[]) {
    const r = await cli(...args);
    expect(r.code, `roamchain ${args.join(' ')}: ${r.stderr}`).toBe(1);
    expect(r.json?.error?.code).toBe(code);
  }

  beforeAll(async () => {
    tn = await startTestNode();
    dir = mkdtempSync(join(tmpdir(), 'roam-cli-mini-'));
    env = {
      ROAMCHAIN_API: tn.url,
      ROAMCHAIN_KEYSTORE: join(dir, 'keystore.json'),
      ROAMCHAIN_KEYSTORE_PASSPHRASE: 'e2e passphrase',
      ROAMCHAIN_KEYSTORE_SCRYPT_LOG_N: '10',
    };
  });
  afterAll(async () => {
    await tn?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('bonds, lists, shows and unbonds a Mini Node', { timeout: 60_000 }, async () => {
    await ok('keys', 'import-devnet', A.visited, A.home);
    await ok('transfer', A.home, A.visited, '100', '--token', 'UMT');
    const seed = sha256(utf8('cli-mini/op-de'));
    const keyFile = join(dir, 'mini-key.json');
    writeFileSync(keyFile, `${JSON.stringify({ nodeKey: bytesToHex(seed) })}\n`, { mode: 0o600 });
    await fails(
      'MINI_BOND_LOW',
      'mini',
      'bond',
      '--owner',
      A.visited,
      '--super',
      A.validator,
      '--key-file',
      keyFile,
      '--amount',
      '999',
    );
    const bonded = await ok(
      'mini',
      'bond',
      '--owner',
      A.visited,
      '--super',
      A.validator,
      '--key-file',
      keyFile,
      '--amount',
      '1000',
    );
    expect(bonded.status).toBe('included');
    expect(bonded.receipt.events).toContainEqual(
      expect.objectContaining({
        type: 'mini_registered',
        account: A.visited,
        superNode: A.validator,
        bond: '1000000000',
      }),
    );
    const list = await ok('mini', 'list');
    expect(list.items).toEqual([
      expect.objectContaining({
        owner: A.visited,
        superNode: A.validator,
        nodeKey: bytesToHex(generateSigningKey(seed).publicKey),
        bond: '1000000000',
        importance: '1000',
        attesting: false,
      }),
    ]);
    expect((await ok('mini', 'show', A.visited)).activity.txs).toHaveLength(30);
    await fails('MINI_UNKNOWN', 'mini', 'show', A.home);
    await fails('MINI_SUPER_INVALID', 'mini', 'attach', '--owner', A.visited, '--super', A.home);
    const out = await ok('mini', 'unbond', '--owner', A.visited, '--amount', '1000');
    expect(out.receipt.events).toContainEqual(
      expect.objectContaining({ type: 'mini_unbonding', exit: true }),
    );
    expect(await ok('mini', 'show', A.visited)).toMatchObject({
      status: 'exited',
      bond: '0',
      unbonding: '1000000000',
    });
    expect((await ok('mini', 'list')).items).toEqual([]);
    // Usage errors: exit 2.
    expect(
      (await cli('mini', 'bond', '--owner', A.visited, '--super', A.validator, '--amount', '0')).code,
    ).toBe(2);
  });
});
