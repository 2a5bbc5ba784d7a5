/**
 * `roamchain contract topup` and `roamchain offer pause|resume` (in process, against a real node):
 * a paused offer refuses a Request with OFFER_PAUSED; a top-up signed by the payer and the issuer
 * from the keystore grows the deposit; a top-up of a paused offer's contract is refused.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACCOUNTS as A, startTestNode, type TestNode } from '../../sdk/test/testnode.js';
import { inProcessCli } from './harness.js';

describe('roamchain contract topup and offer pause', () => {
  let tn: TestNode;
  let dir: string;
  let env: Record<string, string> = {};
  const { cli, ok } = inProcessCli(() => env);

  beforeAll(async () => {
    tn = await startTestNode();
    dir = mkdtempSync(join(tmpdir(), 'roam-cli-topup-'));
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

  it('pauses, refuses, resumes; tops up; refuses a top-up while paused', { timeout: 90_000 }, async () => {
    await ok('keys', 'import-devnet', A.visited, A.home, A.gateway, A.subscriber);
    await ok('sdr', 'issue', A.gateway, A.subscriber, '100', '--ref', 'wire-topup-1');
    const pub = await ok(
      'offer',
      'publish',
      '--operator',
      A.visited,
      '--title',
      'DE 5 GB',
      '--country',
      'DE',
      '--data-gb',
      '5',
      '--days',
      '7',
      '--price',
      '10',
      '--unit-price',
      '0.01',
      '--capacity',
      '10',
      '--valid-days',
      '30',
    );
    const offerId: string = pub.offerId;
    const open = (...extra: string[]) =>
      cli(
        'request',
        'open',
        '--issuer',
        A.home,
        '--subscriber',
        A.subscriber,
        '--offer',
        offerId,
        '--deposit',
        '20',
        ...extra,
      );

    const paused = await ok('offer', 'pause', offerId, '--operator', A.visited);
    expect(paused.receipt.events[0]).toMatchObject({ type: 'offer_paused', offer: offerId });
    expect((await ok('offer', 'show', offerId)).status).toBe('paused');
    expect((await ok('offer', 'list', '--status', 'paused')).items.map((o: { id: string }) => o.id)).toEqual([
      offerId,
    ]);
    const refused = await open();
    expect(refused.code).toBe(1);
    expect(refused.json?.error?.code).toBe('OFFER_PAUSED');
    const again = await cli('offer', 'pause', offerId, '--operator', A.visited);
    expect(again.json?.error?.code).toBe('OFFER_PAUSE_STATE');
    await ok('offer', 'resume', offerId, '--operator', A.visited);

    const opened = await open();
    expect(opened.code, opened.stderr).toBe(0);
    const cid: string = opened.json.contractId;
    const sdr0 = BigInt((await ok('account', 'show', A.subscriber)).balances.SDR);
    const t = await ok('contract', 'topup', cid, '--amount', '5', '--payer', A.subscriber);
    expect(t).toMatchObject({ status: 'included', contractId: cid, deposit: '25000000' });
    expect(t.receipt.events[0]).toMatchObject({ type: 'contract_topped_up', amount: '5000000' });
    expect(BigInt((await ok('account', 'show', A.subscriber)).balances.SDR)).toBe(sdr0 - 5_000_000n);

    const low = await cli('contract', 'topup', cid, '--amount', '0.001', '--payer', A.subscriber);
    expect(low.json?.error?.code).toBe('SSC_DEPOSIT_LOW');
    await ok('offer', 'pause', offerId, '--operator', A.visited);
    const whilePaused = await cli('contract', 'topup', cid, '--amount', '5', '--payer', A.subscriber);
    expect(whilePaused.json?.error?.code).toBe('OFFER_PAUSED');
    const shown = await ok('contract', 'show', cid);
    expect(shown.contract.deposit).toBe('25000000');
    // The node indexes the top-up among the contract's transactions.
    expect(shown.transactions.map((x: { type: string }) => x.type)).toEqual([
      'request_open',
      'contract_topup',
    ]);
    const bad = await cli(
      'contract',
      'topup',
      cid,
      '--amount',
      '5',
      '--payer',
      A.subscriber,
      '--agent',
      'ftp://x',
    );
    expect(bad.code).toBe(2);
  });
});
