import { bytesToHex, generateSigningKey, sha256, utf8 } from '@roamchain/protocol';
import { derivedKeys } from '@roamchain/state';
import { describe, expect, it } from 'vitest';
import { ACCOUNTS as A } from '../../sdk/test/testnode.js';
import { useCliDevnet } from './support/devnet.js';

describe('roamchain validator commands', () => {
  const { cli, ok, fails } = useCliDevnet('validator');

  it('lists and shows validators, bonds and unbonds, and registers a candidate', {
    timeout: 60_000,
  }, async () => {
    const params = await ok('params');
    const gov: string = params.governance;
    const minBond = BigInt(params.minValidatorBond);
    await ok('keys', 'import-devnet', A.validator, A.visited, gov);

    const list = await ok('validator', 'list');
    const nodeKey = bytesToHex(derivedKeys(A.validator).signing.publicKey);
    expect(list.active).toEqual([
      expect.objectContaining({ index: 0, account: A.validator, nodeKey, bond: minBond.toString() }),
    ]);
    expect(list.records.map((r: { account: string }) => r.account)).toEqual([A.validator]);
    const shown = await ok('validator', 'show', A.validator);
    expect(shown).toMatchObject({ account: A.validator, status: 'active', inSet: true, index: 0 });
    await fails('VALIDATOR_UNKNOWN', 'validator', 'show', A.visited);

    // The validator's whole allocation is bonded: give it UMT for the bond and the fees first.
    await ok('transfer', A.visited, A.validator, '20', '--token', 'UMT');
    const bonded = await ok('validator', 'bond', A.validator, '--amount', '12.5');
    expect(bonded.status).toBe('included');
    expect(bonded.receipt.events).toContainEqual(
      expect.objectContaining({ type: 'validator_bonded', account: A.validator, amount: '12500000' }),
    );
    expect((await ok('validator', 'show', A.validator)).bond).toBe((minBond + 12_500_000n).toString());

    const unbonded = await ok('validator', 'unbond', A.validator, '--amount', '2.5');
    expect(unbonded.unbondingId).toMatch(/^[0-9a-f]{64}$/);
    const after = await ok('validator', 'show', A.validator);
    expect(after).toMatchObject({ bond: (minBond + 10_000_000n).toString(), unbonding: '2500000' });
    // What stays must be at least the minimum bond.
    await fails('VALIDATOR_BOND_LOW', 'validator', 'unbond', A.validator, '--amount', '11');

    const candidateKey = bytesToHex(generateSigningKey(sha256(utf8('cli-validator/op-de'))).publicKey);
    await fails(
      'VALIDATOR_NOT_GOVERNANCE',
      'validator',
      'set',
      A.visited,
      '--status',
      'candidate',
      '--node-key',
      candidateKey,
      '--authority',
      A.visited,
    );
    await ok(
      'validator',
      'set',
      A.visited,
      '--status',
      'candidate',
      '--node-key',
      candidateKey,
      '--authority',
      gov,
    );
    expect(await ok('validator', 'show', A.visited)).toMatchObject({
      status: 'candidate',
      nodeKey: candidateKey,
      bond: '0',
      inSet: false,
      index: null,
    });
    const again = await ok('validator', 'list');
    expect(again.records.map((r: { account: string; status: string }) => [r.account, r.status])).toEqual([
      [A.validator, 'active'],
      [A.visited, 'candidate'],
    ]);
    expect(again.active).toHaveLength(1);

    // Usage errors: exit 2.
    expect((await cli('validator', 'set', A.visited, '--status', 'jailed', '--authority', gov)).code).toBe(2);
    expect((await cli('validator', 'unbond', A.validator)).code).toBe(2);
  });
});
