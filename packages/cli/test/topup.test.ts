import { describe, expect, it } from 'vitest';
import { ACCOUNTS as A } from '../../sdk/test/testnode.js';
import { useCliDevnet } from './support/devnet.js';

describe('roamchain contract topup and offer pause', () => {
  const { cli, ok } = useCliDevnet('topup');

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
