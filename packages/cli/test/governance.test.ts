import { describe, expect, it } from 'vitest';
import { ACCOUNTS as A } from '../../sdk/test/testnode.js';
import { useCliDevnet } from './support/devnet.js';

describe('roamchain gov and prices commands', () => {
  const { cli, ok } = useCliDevnet('gov');

  it('proposes, votes, lists; the fee changes from the next block', { timeout: 60_000 }, async () => {
    await ok('keys', 'import-devnet', A.visited, A.home, A.validator, A.stranger);
    const p = await ok(
      'gov',
      'propose',
      'param',
      'fees.transfer',
      '2000',
      '--proposer',
      A.visited,
      '--hours',
      '2',
    );
    expect(p.proposalId).toMatch(/^[0-9a-f]{64}$/);
    expect((await ok('gov', 'show', p.proposalId)).status).toBe('open');
    const v = await ok('gov', 'vote', p.proposalId, '--voter', A.home, '--approve');
    expect(v.status).toBe('included');
    const shown = await ok('gov', 'show', p.proposalId);
    expect(shown).toMatchObject({ status: 'executed', yes: 2, electorate: 2 });
    expect(shown.votes).toHaveLength(2);
    expect((await ok('gov', 'list', '--status', 'executed')).items).toHaveLength(1);
    expect((await ok('params')).fees.transfer).toBe('2000');
    const t = await ok('transfer', A.visited, A.stranger, '1', '--token', 'UMT');
    expect(t.receipt.fee).toBe('2000');
    const dup = await cli('gov', 'vote', p.proposalId, '--voter', A.home, '--reject');
    expect(dup.json?.error?.code).toBe('GOV_DUPLICATE_VOTE');
    const notOp = await cli('gov', 'propose', 'param', 'fees.transfer', '1', '--proposer', A.stranger);
    expect(notOp.json?.error?.code).toBe('GOV_NOT_OPERATOR');
    const bad = await cli('gov', 'propose', 'param', 'epochLength', '5', '--proposer', A.visited);
    expect(bad.json?.error?.code).toBe('GOV_PARAM_INVALID');
    const sn = await ok('gov', 'supernodes');
    expect(sn.items).toEqual([expect.objectContaining({ account: A.validator, slaDays: 0, inSet: true })]);
    const status = await ok('gov', 'status');
    expect(status.operators.map((o: { account: string }) => o.account)).toEqual([A.visited, A.home].sort());
  });

  it('publishes a feed as a Super Node and shows the SDR rate', { timeout: 60_000 }, async () => {
    expect((await ok('prices')).fresh).toBe(false);
    // The validator's whole allocation is bonded: give it UMT for the fee.
    await ok('transfer', A.visited, A.validator, '1', '--token', 'UMT');
    const f = await ok(
      'prices',
      'feed',
      '--validator',
      A.validator,
      '--eur',
      '1.085',
      '--cny',
      '7.25',
      '--jpy',
      '149.5',
      '--gbp',
      '1.27',
    );
    expect(f.status).toBe('included');
    const p = await ok('prices');
    expect(p).toMatchObject({ fresh: true, usdPerSdr: '1.32801', sdr: { JPY: '198.537' } });
    expect((await ok('prices', '--history', '3')).items).toHaveLength(1);
    const no = await cli(
      'prices',
      'feed',
      '--validator',
      A.stranger,
      '--eur',
      '1',
      '--cny',
      '7',
      '--jpy',
      '150',
      '--gbp',
      '1.2',
    );
    expect(no.json?.error?.code).toBe('FEED_NOT_VALIDATOR');
  });
});
