/**
 * Governance in the state (docs/GOVERNANCE.md): a vote that admits an operator who then publishes
 * an offer; a vote that changes the fee schedule, in force from the next block; the 2/3 rule
 * against the electorate of creation time; deadlines from the queue; failed executions change
 * nothing; attacks (non-operators, double votes, late votes, out-of-bound parameters, spam);
 * participation: an operator that skips K proposals is dropped from the set and restored.
 */
import { type Operation, type ProposalAction, RoamError, UNIT, validateOp } from '@roamchain/protocol';
import { describe, expect, it } from 'vitest';
import {
  buildGenesis,
  electSet,
  GK,
  type GovOperator,
  K,
  operatorRating,
  type Proposal,
  protocolVersionAt,
  supplyReport,
  TestChain,
  validatorSetFor,
} from '../src/index.js';

const MIN = 60_000n;

function catchErr(f: () => unknown): RoamError {
  try {
    f();
  } catch (e) {
    if (e instanceof RoamError) return e;
    throw e;
  }
  throw new Error('expected a RoamError, got success');
}

const action = (a: Partial<ProposalAction> & Pick<ProposalAction, 'kind'>): ProposalAction => ({
  displayName: '',
  networks: [],
  param: '',
  value: 0n,
  version: 0,
  ...a,
});

function setup(params: Parameters<typeof buildGenesis>[0]['params'] = {}, validators?: string[]) {
  const { genesis, keys } = buildGenesis({
    accounts: [
      { name: 'op-a', roles: ['operator'] },
      { name: 'op-b', roles: ['operator'] },
      { name: 'op-c', roles: ['operator'] },
      { name: 'newco' },
      { name: 'alice' },
    ],
    umt: {
      'op-a': 1000n * UNIT,
      'op-b': 1000n * UNIT,
      'op-c': 1000n * UNIT,
      newco: 1000n * UNIT,
      alice: 100n * UNIT,
    },
    ...(validators ? { validators } : {}),
    params: { epochLength: 4, ...params },
  });
  return new TestChain(genesis, keys);
}

function propose(c: TestChain, proposer: string, a: ProposalAction, deadlineIn = 10n * MIN) {
  const r = c.submit([
    { type: 'proposal_create', proposer, action: a, deadline: c.time + 500n + deadlineIn, note: '' },
  ]);
  return r.events.find((e) => e.type === 'proposal_created')!.proposal as string;
}
const vote = (proposal: string, voter: string, approve = true): Operation => ({
  type: 'proposal_vote',
  voter,
  proposal: Uint8Array.from(Buffer.from(proposal, 'hex')),
  approve,
});
const prop = (c: TestChain, id: string) => c.state.get<Proposal>(GK.proposal(id))!;

const terms = (c: TestChain) => ({
  title: 'TR 1 GB',
  kind: 'data' as const,
  category: '',
  countries: ['TR'],
  networks: [],
  technologies: ['4G'],
  dataBytes: 1_000_000_000n,
  voiceSeconds: 0n,
  smsCount: 0,
  durationSec: 86_400,
  price: 1n * UNIT,
  unitPrice: 0n,
  unit: 'mb' as const,
  activation: 'on_provision' as const,
  validFrom: 0n,
  validUntil: c.time + 86_400_000n,
  capacity: 10,
  encryptionKey: new Uint8Array(32).fill(7),
});

describe('proposals and votes', () => {
  it('a vote admits an operator, who then publishes an offer', () => {
    const c = setup();
    const offer: Operation = { type: 'offer_publish', operator: 'newco', terms: terms(c) };
    expect(catchErr(() => c.submit([offer])).code).toBe('ROLE_REQUIRED');
    const id = propose(
      c,
      'op-a',
      action({
        kind: 'admit',
        account: 'newco',
        role: 'operator',
        displayName: 'NewCo Mobile',
        country: 'TR',
        networks: ['286-01'],
      }),
    );
    expect(prop(c, id)).toMatchObject({ status: 'open', electorate: 3, yes: 1, seq: 1n });
    c.submit([vote(id, 'op-b')]);
    // 2 of 3 is not more than 2/3.
    expect(prop(c, id).status).toBe('open');
    expect(catchErr(() => c.submit([offer])).code).toBe('ROLE_REQUIRED');
    const r = c.submit([vote(id, 'op-c')]);
    expect(prop(c, id)).toMatchObject({ status: 'executed', yes: 3 });
    expect(c.blocks.length).toBeGreaterThan(0);
    expect(c.state.get<{ roles: string[] }>(K.account('newco'))!.roles).toContain('operator');
    expect(r.events.map((e) => e.type)).toContain('proposal_passed');
    expect(c.state.get(GK.profile('newco', 'operator'))).toMatchObject({
      displayName: 'NewCo Mobile',
      country: 'TR',
    });
    c.submit([offer]);
    // The newcomer was not in the electorate of the first proposal, it is in the next one's.
    const id2 = propose(
      c,
      'op-a',
      action({ kind: 'admit', account: 'alice', role: 'gateway', displayName: 'Alice Pay', country: 'DE' }),
    );
    expect(prop(c, id2).electorate).toBe(4);
    expect(catchErr(() => c.submit([vote(id, 'newco')])).code).toBe('GOV_NOT_ELIGIBLE');
    expect(supplyReport(c.state).problems).toEqual([]);
  });

  it('a vote changes the fee schedule, in force from the next block', () => {
    const c = setup();
    const old = c.state.get<{ fees: { transfer: bigint } }>(K.params)!.fees.transfer;
    const id = propose(c, 'op-a', action({ kind: 'param', param: 'fees.transfer', value: 5_000n }));
    c.submit([vote(id, 'op-b')]);
    const pay = {
      type: 'transfer',
      from: 'alice',
      to: 'op-a',
      token: 'UMT',
      amount: 1n,
      memo: new Uint8Array(),
    } as const;
    // The deciding vote and a transfer in the same block: the transfer still pays the old fee.
    const { result } = c.block([c.tx([vote(id, 'op-c')]), c.tx([pay])]);
    expect(result.receipts[1]!.fee).toBe(old);
    expect(prop(c, id).status).toBe('executed');
    expect(result.endEvents.find((e) => e.type === 'param_changed')).toMatchObject({
      param: 'fees.transfer',
      value: 5_000n,
    });
    expect(c.submit([pay]).fee).toBe(5_000n);
  });

  it('is rejected at its deadline without a 2/3 majority, and by enough no votes', () => {
    const c = setup();
    const id = propose(c, 'op-a', action({ kind: 'param', param: 'fees.transfer', value: 7n }), MIN);
    c.submit([vote(id, 'op-b', false)]);
    expect(prop(c, id).status).toBe('rejected'); // 3 - 1 = 2 possible yes votes: never more than 2/3
    const id2 = propose(c, 'op-a', action({ kind: 'param', param: 'fees.transfer', value: 7n }), MIN);
    c.submit([vote(id2, 'op-b')]);
    expect(prop(c, id2).status).toBe('open');
    c.block([], { time: prop(c, id2).deadline });
    expect(prop(c, id2)).toMatchObject({ status: 'rejected', tallied: true });
    expect(catchErr(() => c.submit([vote(id2, 'op-c')])).code).toBe('GOV_CLOSED');
    expect(c.state.get<{ fees: { transfer: bigint } }>(K.params)!.fees.transfer).not.toBe(7n);
  });

  it('a proposal that cannot be executed fails and changes nothing', () => {
    const c = setup();
    const id = propose(c, 'op-a', action({ kind: 'remove', account: 'op-b', role: 'operator' }));
    c.submit([vote(id, 'op-b'), vote(id, 'op-c')].map((o) => o) as Operation[]);
    expect(prop(c, id).status).toBe('executed');
    const id2 = propose(
      c,
      'op-a',
      action({ kind: 'admit', account: 'op-c', role: 'operator', displayName: 'C', country: 'FR' }),
    );
    c.submit([vote(id2, 'op-c')]);
    expect(prop(c, id2)).toMatchObject({ status: 'failed' });
    expect(prop(c, id2).result).toMatch(/^GOV_INVALID/);
    expect(c.state.get<string[]>(GK.operators)).toEqual(['op-a', 'op-c']);
  });

  it('rejects non-operators, double and late votes, bad parameters and proposal spam', () => {
    const c = setup({ govMaxOpenProposals: 2 });
    const a = action({ kind: 'param', param: 'fees.transfer', value: 9n });
    expect(catchErr(() => propose(c, 'alice', a)).code).toBe('GOV_NOT_OPERATOR');
    const id = propose(c, 'op-a', a);
    expect(catchErr(() => c.submit([vote(id, 'alice')])).code).toBe('GOV_NOT_OPERATOR');
    expect(catchErr(() => c.submit([vote(id, 'op-a')])).code).toBe('GOV_DUPLICATE_VOTE');
    expect(catchErr(() => c.submit([vote('00'.repeat(32), 'op-a')])).code).toBe('GOV_UNKNOWN');
    expect(catchErr(() => propose(c, 'op-a', a, 1_000n)).code).toBe('GOV_DEADLINE_INVALID');
    propose(c, 'op-a', a);
    expect(catchErr(() => propose(c, 'op-a', a)).code).toBe('GOV_TOO_MANY');
    const bad = (x: ProposalAction) =>
      catchErr(() =>
        validateOp({ type: 'proposal_create', proposer: 'op-a', action: x, deadline: 1n, note: '' }),
      ).code;
    expect(bad(action({ kind: 'param', param: 'epochLength', value: 10n }))).toBe('GOV_PARAM_INVALID');
    expect(bad(action({ kind: 'param', param: 'taposWindow', value: 10n }))).toBe('GOV_PARAM_INVALID');
    expect(bad(action({ kind: 'param', param: 'maxValidators', value: 0n }))).toBe('GOV_PARAM_INVALID');
    expect(bad(action({ kind: 'param', param: 'fees.nothing', value: 1n }))).toBe('GOV_PARAM_INVALID');
    expect(bad(action({ kind: 'param', param: 'fees.transfer', value: 1n, account: 'op-a' }))).toBe(
      'GOV_INVALID',
    );
    expect(
      bad(action({ kind: 'admit', account: 'x-y', role: 'operator', displayName: '', country: 'DE' })),
    ).toBe('GOV_INVALID');
    expect(bad(action({ kind: 'upgrade', version: 1, value: 100n }))).toBe('GOV_INVALID');
    // Sum of fee shares above 100 % fails at execution.
    const c2 = setup();
    const id2 = propose(c2, 'op-a', action({ kind: 'param', param: 'miniNodeFeeBps', value: 8_000n }));
    c2.submit([vote(id2, 'op-b'), vote(id2, 'op-c')]);
    expect(prop(c2, id2).result).toMatch(/^GOV_PARAM_INVALID/);
  });

  it('epoch-bound parameters and upgrades wait for their boundary / height', () => {
    const c = setup();
    const id = propose(c, 'op-a', action({ kind: 'param', param: 'maxValidators', value: 7n }));
    c.submit([vote(id, 'op-b'), vote(id, 'op-c')]);
    expect(c.height % 4n).not.toBe(0n);
    expect(c.state.get<{ maxValidators: number }>(K.params)!.maxValidators).not.toBe(7);
    while (c.height % 4n !== 0n) c.block([]);
    expect(c.state.get<{ maxValidators: number }>(K.params)!.maxValidators).toBe(7);
    const up = propose(c, 'op-a', action({ kind: 'upgrade', version: 2, value: 1_000n }));
    c.submit([vote(up, 'op-b'), vote(up, 'op-c')]);
    expect(c.state.get<{ upgrade?: { version: number; height: bigint } }>(GK.meta)!.upgrade).toMatchObject({
      version: 2,
      height: 1_000n,
    });
  });

  it('a node that does not implement a voted protocol version stops before its height', () => {
    const c = setup();
    const at = c.height + 4n;
    // This software implements version 2 (PROTOCOL_VERSION); version 3 is unknown to it.
    const up = propose(c, 'op-a', action({ kind: 'upgrade', version: 3, value: at }));
    c.submit([vote(up, 'op-b'), vote(up, 'op-c')]);
    expect(protocolVersionAt(c.state, at - 1n)).toBe(1);
    expect(protocolVersionAt(c.state, at)).toBe(3);
    while (c.height + 1n < at) c.block([]);
    const root = c.state.root();
    const e = catchErr(() => c.block([]));
    expect(e.code).toBe('UPGRADE_REQUIRED');
    expect(e.message).toMatch(/version 3 is in force from height/);
    expect(c.state.root()).toEqual(root);
    expect(c.height).toBe(at - 1n);
  });
});

describe('participation', () => {
  it('an operator skipping K proposals loses rating and its Super Node leaves the set until it votes', () => {
    const c = setup({ govMaxSkips: 2 }, ['op-a', 'op-b']);
    const set = () => validatorSetFor(c.state, c.height + 1n).map((m) => m.account);
    const toBoundary = () => {
      c.block([]);
      while (c.height % 4n !== 0n) c.block([]);
    };
    expect(set()).toEqual(['op-a', 'op-b']);
    const ratingBefore = operatorRating(c.state, 'op-b').ratingBps;
    for (let i = 0; i < 2; i++) {
      const id = propose(c, 'op-a', action({ kind: 'param', param: 'fees.rate', value: BigInt(i) }), MIN);
      c.submit([vote(id, 'op-c', false)]);
      c.block([], { time: prop(c, id).deadline });
    }
    expect(c.state.get<GovOperator>(GK.operator('op-b'))).toMatchObject({ skipped: 2, idle: true });
    expect(c.state.get<GovOperator>(GK.operator('op-c'))).toMatchObject({ skipped: 0, idle: false });
    expect(operatorRating(c.state, 'op-b').ratingBps).toBe(Math.floor(ratingBefore / 2));
    expect(electSet(c.state, c.state.get(K.params)!).map((m) => m.account)).toEqual(['op-a']);
    toBoundary();
    expect(set()).toEqual(['op-a']);
    // It votes again: restored, back in the set from the next epoch.
    const id = propose(c, 'op-a', action({ kind: 'param', param: 'fees.rate', value: 0n }), MIN);
    const r = c.submit([vote(id, 'op-b', false)]);
    expect(r.events.map((e) => e.type)).toContain('operator_active');
    expect(operatorRating(c.state, 'op-b').ratingBps).toBe(ratingBefore);
    toBoundary();
    expect(set()).toEqual(['op-a', 'op-b']);
  });
});
