/**
 * The CLI's identity and privacy commands (in process, against a real node and a simulated SM-DP+):
 * `identity attest --out` (a 0600 wallet file) / `show` / `verify --only` / `revoke`, `request open`
 * with a chosen subset of claims sealed to the assignee, `provision --smdp`, `contract provisioning`,
 * `transfer --encrypt-memo` and `tx` showing the memo decrypted.
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { type RunningSmdp, startSmdp } from '@roamchain/smdp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACCOUNTS as A } from '../../sdk/test/testnode.js';
import { useCliDevnet } from './support/devnet.js';

const EID = '89049032000001000000000000007777';

describe('roamchain identity, disclosure and provisioning commands', () => {
  const { cli, ok, dir } = useCliDevnet('identity');
  let smdp: RunningSmdp;

  beforeAll(async () => {
    smdp = await startSmdp({ address: 'smdp.op-de.test' });
  });
  afterAll(async () => {
    await smdp?.close();
  });

  it('attests, discloses a subset, provisions through the SM-DP+, and reads encrypted memos', async () => {
    await ok('keys', 'import-devnet', A.visited, A.home, A.gateway, A.subscriber);
    await ok('sdr', 'issue', A.gateway, A.subscriber, '50', '--ref', 'wire-id-cli');
    const offerId: string = (
      await ok(
        'offer',
        'publish',
        '--operator',
        A.visited,
        '--title',
        'DE 1 GB',
        '--country',
        'DE',
        '--days',
        '7',
        '--price',
        '5',
      )
    ).offerId;

    const wallet = join(dir(), 'alice.disclosures.json');
    const att = await ok(
      'identity',
      'attest',
      A.subscriber,
      '--operator',
      A.home,
      '--claim',
      'name=Alice Martin',
      '--claim',
      'nationality=FR',
      '--claim',
      'birthdate=1990-04-01',
      '--level',
      '2',
      '--days',
      '30',
      '--out',
      wallet,
    );
    expect(statSync(wallet).mode & 0o777).toBe(0o600);
    const file = JSON.parse(readFileSync(wallet, 'utf8'));
    expect(file).toMatchObject({
      subscriber: A.subscriber,
      operator: A.home,
      attestation: att.attestationId,
    });
    expect(file.disclosures).toHaveLength(3);
    expect(att.disclosures).toBeUndefined(); // written to the file, not printed

    const shown = await ok('identity', 'show', A.subscriber);
    expect(shown).toMatchObject({ id: att.attestationId, level: 2, state: 'valid' });
    expect(JSON.stringify(shown)).not.toContain('Alice');

    const verified = await ok(
      'identity',
      'verify',
      A.subscriber,
      '--disclosures',
      wallet,
      '--only',
      'name,nationality',
    );
    expect(verified.claims).toEqual({ name: 'Alice Martin', nationality: 'FR' });

    const opened = await ok(
      'request',
      'open',
      '--issuer',
      A.home,
      '--subscriber',
      A.subscriber,
      '--offer',
      offerId,
      '--deposit',
      '6',
      '--disclosures',
      wallet,
      '--disclose',
      'nationality',
      '--eid',
      EID,
    );
    const cid: string = opened.contractId;
    expect(opened.disclosed).toBe('nationality');
    const contract = await ok('contract', 'show', cid);
    expect(contract.contract.attestation).toBe(att.attestationId);

    const prov = await ok('provision', cid, '--assignee', A.visited, '--smdp', smdp.url, '--apn', 'internet');
    expect(prov.smdp).toBe('smdp.op-de.test');
    const mine = await ok('contract', 'provisioning', cid);
    expect(mine.provisioning.activationCode).toMatch(/^LPA:1\$smdp\.op-de\.test\$[0-9A-Z-]+$/);
    expect(mine.provisioning.apn).toBe('internet');
    const issuerCopy = await ok('contract', 'provisioning', cid, '--issuer');
    expect(issuerCopy.provisioning).toEqual(mine.provisioning);

    // A second provisioning attempt is refused; an unknown claim is a usage error.
    expect((await cli('provision', cid, '--assignee', A.visited, '--smdp', smdp.url)).stderr).toMatch(
      /SSC_PROVISIONED/,
    );
    const bad = await cli('identity', 'verify', A.subscriber, '--disclosures', wallet, '--only', 'document');
    expect(bad.code).toBe(2);

    // Revoked: verification fails.
    await ok('identity', 'revoke', A.subscriber, '--operator', A.home, '--reason', '4');
    const revoked = await cli('identity', 'verify', A.subscriber, '--disclosures', wallet);
    expect(revoked.code).toBe(1);
    expect(revoked.stderr).toMatch(/ATTESTATION_REVOKED/);
    expect((await ok('identity', 'show', A.subscriber)).state).toMatch(/^revoked/);

    // Encrypted memo: public on chain only as ciphertext; `tx` decrypts it with the recipient's key.
    const t = await ok(
      'transfer',
      A.subscriber,
      A.home,
      '1',
      '--token',
      'UMT',
      '--encrypt-memo',
      'for the taxi',
    );
    const tx = await ok('tx', t.txId);
    expect(tx.memos).toEqual([{ op: 0, to: A.home, memo: 'for the taxi', encrypted: true }]);
    expect(tx.tx.ops[0].memo).not.toContain(Buffer.from('taxi').toString('hex'));
  });
});
