/**
 * `roamchain mini …` (in process, against a real node): bond with a key file (its public key is
 * registered), list / show with --json, a bond below the minimum and an unknown Mini Node as typed
 * errors, attach to an inactive Super Node refused, and a full unbond (an exit).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bytesToHex, generateSigningKey, sha256, utf8 } from '@roamchain/protocol';
import { describe, expect, it } from 'vitest';
import { ACCOUNTS as A } from '../../sdk/test/testnode.js';
import { useCliDevnet } from './support/devnet.js';

describe('roamchain mini commands', () => {
  const { cli, ok, fails, dir } = useCliDevnet('mini');

  it('bonds, lists, shows and unbonds a Mini Node', { timeout: 60_000 }, async () => {
    await ok('keys', 'import-devnet', A.visited, A.home);
    await ok('transfer', A.home, A.visited, '100', '--token', 'UMT');
    const seed = sha256(utf8('cli-mini/op-de'));
    const keyFile = join(dir(), 'mini-key.json');
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
