/**
 * Super Node validator set in the ledger state: genesis bonds, governance admission effective at
 * the next epoch boundary, bonding and unbonding (exact release time), evidence of double signing
 * (exact slash, jail, removal from the set of the next height), the never-empty rule, pruning and
 * deterministic replay.
 */
import {
  BPS,
  blockId,
  bytesToHex,
  type Genesis,
  type Operation,
  RoamError,
  sign,
  UNIT,
  type UnsignedVote,
  type Vote,
  voteSignBytes,
} from '@roamchain/protocol';
import { describe, expect, it } from 'vitest';
import {
  applyBlock,
  buildGenesis,
  derivedKeys,
  electSet,
  genesisState,
  K,
  type LedgerEvent,
  MAX_PENDING_UNBONDING,
  supplyReport,
  TestChain,
  type Unbonding,
  type Validator,
  validatorOf,
  validatorSetFor,
} from '../src/index.js';

const SEC = 1000n;
const MIN = 1_000_000n * UNIT;
const EPOCH = 4;
const DELAY = 60n * SEC;
const hex = bytesToHex;

/** Node keys distinct from the owners' account keys (as in real deployments). */
const nodeKey = (n: string) => derivedKeys(`${n}/node`, 'validators-test').signing;

function catchErr(f: () => unknown): RoamError {
  try {
    f();
  } catch (e) {
    if (e instanceof RoamError) return e;
    throw e;
  }
  throw new Error('expected a RoamError, got success');
}

function setup(
  tweak: (g: Genesis) => void = () => {},
  params: Parameters<typeof buildGenesis>[0]['params'] = {},
) {
  const built = buildGenesis({
    accounts: [
      { name: 'node-1', roles: ['node_owner'] },
      { name: 'node-2', roles: ['node_owner'] },
      { name: 'node-3', roles: ['node_owner'] },
      { name: 'user' },
    ],
    umt: { 'node-2': 3_000_000n * UNIT, 'node-3': 3_000_000n * UNIT, user: 10n * UNIT },
    validators: ['node-1'],
    params: { epochLength: EPOCH, unbondingDelayMs: DELAY, ...params },
  });
  tweak(built.genesis);
  return built;
}

function chain(params: Parameters<typeof setup>[1] = {}): TestChain {
  const { genesis, keys } = setup(undefined, params);
  return new TestChain(genesis, keys);
}

const bal = (c: TestChain, n: string): bigint => c.state.get<bigint>(K.balance(n, 'UMT')) ?? 0n;
const setOf = (c: TestChain, h: bigint) => validatorSetFor(c.state, h).map((v) => v.account);
const rec = (c: TestChain, n: string): Validator => validatorOf(c.state, n)!;

/** Submits and expects a typed rejection that leaves the state root untouched. */
function rejects(c: TestChain, ops: Operation[], code: string, opts: { time?: bigint } = {}): RoamError {
  const root = hex(c.state.root());
  const height = c.height;
  const e = catchErr(() => c.submit(ops, opts));
  expect(e.code, e.message).toBe(code);
  expect(hex(c.state.root())).toBe(root);
  expect(c.height).toBe(height);
  return e;
}

const admit = (account: string, status: 'candidate' | 'active' | 'removed', withKey = true): Operation => ({
  type: 'validator_set',
  authority: 'ndf',
  account,
  status,
  ...(withKey ? { nodeKey: nodeKey(account).publicKey } : {}),
});
const bond = (account: string, amount: bigint): Operation => ({ type: 'validator_bond', account, amount });
const unbond = (account: string, amount: bigint): Operation => ({
  type: 'validator_unbond',
  account,
  amount,
});

/** Block time of height `h`. */
const timeOf = (c: TestChain, h: bigint): bigint =>
  c.blocks.find((b) => b.block.header.height === h)!.block.header.time;

/** Empty blocks until the chain's height is `h`. */
function until(c: TestChain, h: bigint): void {
  while (c.height < h) c.block([]);
}

/** node-2 (1.5M) and node-3 (MIN) admitted and bonded, active from epoch 1 (height 5). */
function threeValidators(params: Parameters<typeof setup>[1] = {}): TestChain {
  const c = chain(params);
  c.submit([admit('node-2', 'active'), admit('node-3', 'active')]);
  c.submit([bond('node-2', 1_500_000n * UNIT), bond('node-3', MIN)]);
  until(c, 4n);
  expect(setOf(c, 5n)).toEqual(['node-1', 'node-2', 'node-3']);
  return c;
}

function vote(c: TestChain, signer: Uint8Array, v: UnsignedVote, chainId = c.chainId): Vote {
  return { ...v, signature: sign(signer, voteSignBytes(chainId, v)) };
}

/** Conflicting precommits of `account` (index `index` in the set of `height`), nil first. */
function equivocation(
  c: TestChain,
  account: string,
  height: bigint,
  index: number,
  round = 0,
  k = nodeKey(account).secretKey,
): Operation {
  const base = { type: 'precommit', height, round, validator: index } as const;
  return {
    type: 'evidence',
    a: vote(c, k, { ...base, value: null }),
    b: vote(c, k, { ...base, value: new Uint8Array(32).fill(7) }),
  };
}

describe('genesis validators', () => {
  it('bond is debited from the owner allocation, held as bonded, and the UMT supply is unchanged', () => {
    const { genesis } = setup();
    expect(genesis.params.minValidatorBond).toBe(MIN);
    expect(genesis.validators).toEqual([
      { account: 'node-1', nodeKey: derivedKeys('node-1').signing.publicKey, bond: MIN },
    ]);
    // node-1 got exactly its bond from the crowdsale (its `umt` entry was 0).
    const alloc = genesis.allocations.filter((a) => a.account === 'node-1');
    expect(alloc).toEqual([{ bucket: 'crowdsale', account: 'node-1', amount: MIN }]);
    const { state } = genesisState(genesis);
    expect(state.get(K.balance('node-1', 'UMT'))).toBeUndefined();
    expect(validatorOf(state, 'node-1')).toEqual({
      account: 'node-1',
      nodeKey: genesis.validators[0]!.nodeKey,
      bond: MIN,
      status: 'active',
      slashed: 0n,
      jailedAt: 0n,
      unbonding: 0n,
      createdAt: genesis.genesisTime,
      updatedAt: genesis.genesisTime,
    });
    const r = supplyReport(state);
    expect(r.problems).toEqual([]);
    expect(r.umt.bonded).toBe(MIN);
    expect(r.umt.total).toBe(r.umt.expected);
    expect(r.umt.balances + MIN).toBe(r.umt.expected);
    // The state at height 0 answers for height 1 only.
    expect(validatorSetFor(state, 1n)).toEqual([
      { account: 'node-1', nodeKey: genesis.validators[0]!.nodeKey },
    ]);
    expect(catchErr(() => validatorSetFor(state, 2n)).code).toBe('VALIDATOR_SET_UNKNOWN');
    expect(catchErr(() => validatorSetFor(state, 0n)).code).toBe('VALIDATOR_SET_UNKNOWN');
  });

  it('the set of epoch 0 is ordered by account name, whatever the genesis order', () => {
    const { genesis } = buildGenesis({
      accounts: [{ name: 'zed' }, { name: 'amy' }, { name: 'mia' }],
      umt: {},
      validators: ['zed', 'amy', 'mia'],
    });
    const { state } = genesisState(genesis);
    expect(validatorSetFor(state, 1n).map((v) => v.account)).toEqual(['amy', 'mia', 'zed']);
    expect(supplyReport(state).umt.bonded).toBe(3n * MIN);
  });

  it('an invalid validator genesis throws GENESIS_INVALID', () => {
    const bad = (tweak: (g: Genesis) => void) => catchErr(() => genesisState(setup(tweak).genesis)).code;
    expect(bad((g) => (g.validators[0]!.bond = MIN - 1n))).toBe('GENESIS_INVALID');
    // More bond than node-1's allocation.
    expect(bad((g) => (g.validators[0]!.bond = MIN + 1n))).toBe('GENESIS_INVALID');
    expect(bad((g) => (g.params.governance = 'nobody'))).toBe('GENESIS_INVALID');
    expect(
      bad((g) => g.validators.push({ account: 'node-2', nodeKey: g.validators[0]!.nodeKey, bond: MIN })),
    ).toBe('GENESIS_INVALID');
    expect(bad((g) => g.validators.push({ ...g.validators[0]! }))).toBe('GENESIS_INVALID');
    expect(bad((g) => (g.params.epochLength = 0))).toBe('GENESIS_INVALID');
    // A founder cannot bond UMT that vesting still locks.
    expect(
      bad((g) => g.validators.push({ account: 'founders', nodeKey: new Uint8Array(32).fill(5), bond: MIN })),
    ).toBe('GENESIS_INVALID');
    expect(genesisState(setup().genesis).state.meta.height).toBe(0n);
  });
});

describe('governance admits validators at epoch boundaries', () => {
  it('a candidate made active joins the set only from the next epoch', () => {
    const c = chain();
    const r1 = c.submit([admit('node-2', 'candidate')]); // height 1
    expect(r1.events).toEqual([
      {
        type: 'validator_status',
        authority: 'ndf',
        account: 'node-2',
        status: 'candidate',
        previous: null,
        nodeKey: hex(nodeKey('node-2').publicKey),
      },
    ]);
    expect(rec(c, 'node-2')).toMatchObject({ status: 'candidate', bond: 0n });
    const before = bal(c, 'node-2');
    const r2 = c.submit([bond('node-2', MIN)]); // height 2
    expect(bal(c, 'node-2')).toBe(before - MIN - r2.fee);
    expect(r2.events).toEqual([{ type: 'validator_bonded', account: 'node-2', amount: MIN, bond: MIN }]);
    c.submit([admit('node-2', 'active', false)]); // height 3
    expect(setOf(c, 4n)).toEqual(['node-1']);
    const b4 = c.block([]); // height 4: last block of epoch 0
    expect(b4.result.endEvents.filter((e) => e.type === 'validator_set_changed')).toEqual([
      {
        type: 'validator_set_changed',
        epoch: 1n,
        fromHeight: 5n,
        validators: ['node-1', 'node-2'],
        reason: 'epoch',
      },
    ]);
    expect(validatorSetFor(c.state, 5n)).toEqual([
      { account: 'node-1', nodeKey: derivedKeys('node-1').signing.publicKey },
      { account: 'node-2', nodeKey: nodeKey('node-2').publicKey },
    ]);
    // Earlier heights keep the set that validated them.
    expect(setOf(c, 4n)).toEqual(['node-1']);
    expect(setOf(c, 1n)).toEqual(['node-1']);
    expect(supplyReport(c.state).problems).toEqual([]);
  });

  it('only active validators with at least the minimum bond are elected, capped by bond then name', () => {
    const c = chain({ maxValidators: 2 });
    // node-3 is admitted but has no bond: not eligible.
    c.submit([admit('node-2', 'active'), admit('node-3', 'active')]);
    c.submit([bond('node-2', MIN)]);
    until(c, 4n);
    expect(setOf(c, 5n)).toEqual(['node-1', 'node-2']);
    // node-3 bonds more than both: it wins a seat; node-1 and node-2 tie on bond, node-1 wins by name.
    c.submit([bond('node-3', 2n * MIN)]);
    until(c, 8n);
    expect(setOf(c, 9n)).toEqual(['node-1', 'node-3']);
    expect(electSet(c.state, c.state.get(K.params)!).map((m) => m.account)).toEqual(['node-1', 'node-3']);
  });

  it('a signer other than the governance authority is rejected', () => {
    const c = chain();
    rejects(
      c,
      [{ ...admit('node-2', 'active'), authority: 'user' } as Operation],
      'VALIDATOR_NOT_GOVERNANCE',
    );
    rejects(
      c,
      [{ ...admit('node-2', 'active'), authority: 'node-2' } as Operation],
      'VALIDATOR_NOT_GOVERNANCE',
    );
    // The governance name signed with someone else's key does not pass the envelope.
    const user = derivedKeys('user').signing.secretKey;
    const e = catchErr(() => c.submit([admit('node-2', 'active')], { signers: { ndf: user } }));
    expect(e.code).toBe('SIG_INVALID');
    expect(validatorOf(c.state, 'node-2')).toBeUndefined();
  });

  it('rejects a new record without key, an unknown removal, a no-op, a taken node key, bonding an unknown account', () => {
    const c = chain();
    rejects(c, [admit('node-2', 'active', false)], 'VALIDATOR_INVALID');
    rejects(c, [admit('node-2', 'removed', false)], 'VALIDATOR_UNKNOWN');
    rejects(c, [bond('node-2', MIN)], 'VALIDATOR_UNKNOWN');
    rejects(c, [unbond('node-2', 1n)], 'VALIDATOR_UNKNOWN');
    c.submit([admit('node-2', 'candidate')]);
    rejects(c, [admit('node-2', 'candidate', false)], 'VALIDATOR_STATUS');
    rejects(
      c,
      [{ ...admit('node-3', 'candidate'), nodeKey: nodeKey('node-2').publicKey } as Operation],
      'VALIDATOR_KEY_TAKEN',
    );
    rejects(c, [{ ...admit('node-3', 'candidate'), account: 'ghost' } as Operation], 'ACCOUNT_UNKNOWN');
    // A bond that leaves the record below the minimum is refused; one above the free balance too.
    rejects(c, [bond('node-2', MIN - 1n)], 'VALIDATOR_BOND_LOW');
    rejects(c, [bond('node-2', 3_000_001n * UNIT)], 'BALANCE_LOW');
  });

  it('never lets the next set become empty', () => {
    const c = chain();
    rejects(c, [admit('node-1', 'removed', false)], 'VALIDATOR_SET_EMPTY');
    rejects(c, [admit('node-1', 'candidate', false)], 'VALIDATOR_SET_EMPTY');
    rejects(c, [unbond('node-1', MIN)], 'VALIDATOR_SET_EMPTY');
    // With a second eligible validator, node-1 may go: it leaves at the next boundary.
    c.submit([admit('node-2', 'active')]);
    c.submit([bond('node-2', MIN)]);
    c.submit([admit('node-1', 'removed', false)]);
    expect(rec(c, 'node-1').status).toBe('removed');
    expect(setOf(c, 4n)).toEqual(['node-1']);
    until(c, 4n);
    expect(setOf(c, 5n)).toEqual(['node-2']);
    rejects(c, [unbond('node-2', MIN)], 'VALIDATOR_SET_EMPTY');
  });

  it('keeps the current set when no validator is eligible at the boundary (e.g. all jailed)', () => {
    const c = chain();
    c.block([]);
    // In the test kit node-1's node key is its account key (genesis validators sign blocks with it).
    const r = c.submit([equivocation(c, 'node-1', 1n, 0, 0, derivedKeys('node-1').signing.secretKey)]);
    expect(r.events.map((e) => e.type)).toEqual(['validator_slashed']);
    expect(rec(c, 'node-1').status).toBe('jailed');
    // The only validator stays in the set of the next height and of the next epoch.
    expect(setOf(c, 3n)).toEqual(['node-1']);
    until(c, 4n);
    expect(setOf(c, 5n)).toEqual(['node-1']);
  });
});

describe('bond and unbond', () => {
  it('unbonded UMT arrives in the first block at or after releaseAt, exactly', () => {
    const c = threeValidators();
    const r = c.submit([unbond('node-2', 500_000n * UNIT)]);
    const releaseAt = c.time + DELAY;
    const ev = r.events[0]!;
    expect(ev).toMatchObject({
      type: 'validator_unbonding',
      account: 'node-2',
      amount: 500_000n * UNIT,
      releaseAt,
    });
    expect(rec(c, 'node-2')).toMatchObject({ bond: MIN, unbonding: 500_000n * UNIT, status: 'active' });
    expect(c.state.get<Unbonding>(K.unbonding(ev.unbonding as string))).toMatchObject({ releaseAt });
    expect(supplyReport(c.state)).toMatchObject({ problems: [], umt: { unbonding: 500_000n * UNIT } });
    const before = bal(c, 'node-2');
    const early = c.block([], { time: releaseAt - 1n });
    expect(early.result.endEvents.filter((e) => e.type === 'validator_released')).toEqual([]);
    expect(bal(c, 'node-2')).toBe(before);
    const on = c.block([], { time: releaseAt });
    expect(on.result.endEvents.filter((e) => e.type === 'validator_released')).toEqual([
      { type: 'validator_released', account: 'node-2', amount: 500_000n * UNIT, unbonding: ev.unbonding },
    ]);
    expect(bal(c, 'node-2')).toBe(before + 500_000n * UNIT);
    expect(rec(c, 'node-2').unbonding).toBe(0n);
    expect(c.state.get(K.unbonding(ev.unbonding as string))).toBeUndefined();
    expect(supplyReport(c.state)).toMatchObject({ problems: [], umt: { unbonding: 0n } });
  });

  it('a block long after releaseAt releases it once (queue drained over the gap)', () => {
    const c = threeValidators();
    c.submit([unbond('node-2', 1n * UNIT)]);
    const releaseAt = c.time + DELAY;
    const before = bal(c, 'node-2');
    const late = c.block([], { time: releaseAt + 5n * 3_600_000n + 123n });
    expect(late.result.endEvents.filter((e) => e.type === 'validator_released')).toHaveLength(1);
    expect(bal(c, 'node-2')).toBe(before + UNIT);
    const next = c.block([]);
    expect(next.result.endEvents.filter((e) => e.type === 'validator_released')).toEqual([]);
  });

  it('partial unbond below the minimum is rejected; unbonding everything is a full exit at the next epoch', () => {
    const c = threeValidators();
    rejects(c, [unbond('node-3', 1n)], 'VALIDATOR_BOND_LOW');
    rejects(c, [unbond('node-3', MIN + 1n)], 'BALANCE_LOW');
    rejects(c, [unbond('node-2', 500_000n * UNIT + 1n)], 'VALIDATOR_BOND_LOW');
    const r = c.submit([unbond('node-3', MIN)]);
    expect(r.events[0]).toMatchObject({ exit: true, bond: 0n });
    expect(rec(c, 'node-3')).toMatchObject({ status: 'removed', bond: 0n, unbonding: MIN });
    expect(setOf(c, c.height + 1n)).toEqual(['node-1', 'node-2', 'node-3']); // until the boundary
    rejects(c, [bond('node-3', MIN)], 'VALIDATOR_STATUS');
    until(c, 8n);
    expect(setOf(c, 9n)).toEqual(['node-1', 'node-2']);
    expect(supplyReport(c.state).problems).toEqual([]);
  });
});

describe('evidence', () => {
  it('slashes exactly slashBps of the bond to the community fund, jails, and drops it from the next height', () => {
    const c = threeValidators();
    until(c, 6n);
    const op = equivocation(c, 'node-2', 6n, 1);
    const fund = bal(c, 'tcdf');
    const r = c.submit([op]); // height 7
    const slash = (1_500_000n * UNIT * 500n) / BPS;
    expect(slash).toBe(75_000n * UNIT);
    expect(r.fee).toBe(0n);
    expect(c.blocks.at(-1)!.block.txs[0]!.signatures).toEqual([]);
    expect(r.events).toEqual([
      {
        type: 'validator_slashed',
        account: 'node-2',
        height: 6n,
        round: 0,
        voteType: 'precommit',
        amount: slash,
        bond: 1_500_000n * UNIT - slash,
        unbondingSlashed: 0n,
        to: 'tcdf',
      },
      {
        type: 'validator_set_changed',
        epoch: 1n,
        fromHeight: 8n,
        validators: ['node-1', 'node-3'],
        reason: 'evidence',
      },
    ] satisfies LedgerEvent[]);
    expect(bal(c, 'tcdf')).toBe(fund + slash);
    expect(rec(c, 'node-2')).toMatchObject({
      status: 'jailed',
      jailedAt: 7n,
      slashed: slash,
      bond: 1_425_000n * UNIT,
    });
    expect(setOf(c, 8n)).toEqual(['node-1', 'node-3']);
    // Heights before keep the set (and indices) that signed them.
    expect(setOf(c, 7n)).toEqual(['node-1', 'node-2', 'node-3']);
    expect(setOf(c, 6n)).toEqual(['node-1', 'node-2', 'node-3']);
    expect(supplyReport(c.state).problems).toEqual([]);
    // The same offence again (another transaction) is a duplicate; the next epoch excludes it.
    rejects(c, [equivocation(c, 'node-2', 6n, 1)], 'EVIDENCE_DUPLICATE');
    until(c, 8n);
    expect(setOf(c, 9n)).toEqual(['node-1', 'node-3']);
    // Governance may re-admit a jailed validator (its slashed bond is still above the minimum).
    c.submit([admit('node-2', 'active', false)]);
    until(c, 12n);
    expect(setOf(c, 13n)).toEqual(['node-1', 'node-2', 'node-3']);
  });

  it('another round of the same height is another offence; a later epoch evidence uses that epoch set', () => {
    const c = threeValidators();
    until(c, 6n);
    c.submit([equivocation(c, 'node-3', 5n, 2, 0)]);
    c.submit([equivocation(c, 'node-3', 5n, 2, 1)]);
    const s1 = (MIN * 500n) / BPS;
    const s2 = ((MIN - s1) * 500n) / BPS;
    expect(rec(c, 'node-3').slashed).toBe(s1 + s2);
    expect(rec(c, 'node-3').bond).toBe(MIN - s1 - s2);
  });

  it('rejects forged, non-conflicting, misindexed, future, foreign-chain and too old evidence', () => {
    const c = threeValidators();
    until(c, 6n);
    const good = equivocation(c, 'node-2', 6n, 1) as Extract<Operation, { type: 'evidence' }>;
    // Signed by node-3's key but naming node-2's index.
    const forged = equivocation(c, 'node-3', 6n, 1);
    rejects(c, [forged], 'EVIDENCE_INVALID');
    // One valid vote and one with a broken signature.
    const broken = {
      ...good,
      b: { ...good.b, signature: good.b.signature.map((x, i) => (i === 0 ? x ^ 1 : x)) },
    };
    rejects(c, [broken], 'EVIDENCE_INVALID');
    // Not conflicting: the same value twice, different rounds, types, validators.
    rejects(c, [{ ...good, b: good.a }], 'EVIDENCE_INVALID');
    const k2 = nodeKey('node-2').secretKey;
    const other = vote(c, k2, {
      type: 'precommit',
      height: 6n,
      round: 1,
      value: new Uint8Array(32).fill(7),
      validator: 1,
    });
    rejects(c, [{ ...good, b: other }], 'EVIDENCE_INVALID');
    const prevote = vote(c, k2, {
      type: 'prevote',
      height: 6n,
      round: 0,
      value: new Uint8Array(32).fill(7),
      validator: 1,
    });
    rejects(c, [{ ...good, b: prevote }], 'EVIDENCE_INVALID');
    // Not in canonical order (nil first).
    rejects(c, [{ ...good, a: good.b, b: good.a }], 'EVIDENCE_INVALID');
    // Index outside the set.
    rejects(c, [equivocation(c, 'node-2', 6n, 3)], 'EVIDENCE_INVALID');
    // Votes for a height the chain has not reached.
    rejects(c, [equivocation(c, 'node-2', 9n, 1)], 'EVIDENCE_INVALID');
    // Signed for another chain.
    const k = { type: 'precommit', height: 6n, round: 0, validator: 1 } as const;
    const foreign = new Uint8Array(32).fill(1);
    rejects(
      c,
      [
        {
          type: 'evidence',
          a: vote(c, k2, { ...k, value: null }, foreign),
          b: vote(c, k2, { ...k, value: new Uint8Array(32).fill(7) }, foreign),
        },
      ],
      'EVIDENCE_INVALID',
    );
    expect(rec(c, 'node-2')).toMatchObject({ status: 'active', slashed: 0n });
    // Epoch 1 (heights 5-8) evidence is accepted for the unbonding delay after the epoch ended (block
    // time), however many epochs later; then it is too old.
    until(c, 15n);
    const endOfEpoch1 = timeOf(c, 8n);
    until(c, 20n); // epoch 5 is next: far beyond evidenceMaxAgeEpochs (2)
    const lastChance = c.submit([good], { time: endOfEpoch1 + DELAY });
    expect(lastChance.events[0]).toMatchObject({ type: 'validator_slashed', account: 'node-2' });
    const late = threeValidators();
    until(late, 16n);
    late.block([], { time: timeOf(late, 8n) + DELAY + SEC });
    rejects(late, [equivocation(late, 'node-2', 6n, 1)], 'EVIDENCE_TOO_OLD');
  });

  it('a validator that unbonds and is then proven to have double-signed loses part of the unbonding stake', () => {
    const c = threeValidators();
    const u = c.submit([unbond('node-2', 500_000n * UNIT)]); // height 6, released DELAY later
    const id = u.events[0]!.unbonding as string;
    const releaseAt = c.time + DELAY;
    const fund = bal(c, 'tcdf');
    const before = rec(c, 'node-2');
    const r = c.submit([equivocation(c, 'node-2', 6n, 1)]);
    const bondCut = (before.bond * 500n) / BPS;
    const unbondingCut = (500_000n * UNIT * 500n) / BPS;
    expect(r.events[0]).toMatchObject({
      type: 'validator_slashed',
      amount: bondCut + unbondingCut,
      bond: before.bond - bondCut,
      unbondingSlashed: unbondingCut,
    });
    expect(rec(c, 'node-2')).toMatchObject({
      bond: before.bond - bondCut,
      unbonding: 500_000n * UNIT - unbondingCut,
      slashed: bondCut + unbondingCut,
    });
    expect(c.state.get<Unbonding>(K.unbonding(id))!.amount).toBe(500_000n * UNIT - unbondingCut);
    expect(bal(c, 'tcdf')).toBe(fund + bondCut + unbondingCut);
    expect(supplyReport(c.state).problems).toEqual([]);
    // What is released is what is left of the entry; the pending list is emptied.
    const owner = bal(c, 'node-2');
    const on = c.block([], { time: releaseAt });
    expect(on.result.endEvents.filter((e) => e.type === 'validator_released')).toEqual([
      {
        type: 'validator_released',
        account: 'node-2',
        amount: 500_000n * UNIT - unbondingCut,
        unbonding: id,
      },
    ]);
    expect(bal(c, 'node-2')).toBe(owner + 500_000n * UNIT - unbondingCut);
    expect(rec(c, 'node-2').unbonding).toBe(0n);
    expect(c.state.get(K.pendingUnbonding('node-2'))).toBeUndefined();
    expect(supplyReport(c.state).problems).toEqual([]);
  });

  it('a validator that exits and double-signed on its way out is slashed epochs later, while its stake unbonds', () => {
    const c = threeValidators();
    const fullBond = rec(c, 'node-3').bond;
    c.submit([unbond('node-3', fullBond)]); // height 6: a full exit, leaves the set at epoch 2
    until(c, 20n); // four epochs later: far beyond evidenceMaxAgeEpochs, inside the unbonding delay
    expect(setOf(c, 21n)).toEqual(['node-1', 'node-2']);
    const r = c.submit([equivocation(c, 'node-3', 6n, 2)]);
    const cut = (fullBond * 500n) / BPS;
    expect(r.events[0]).toMatchObject({
      type: 'validator_slashed',
      account: 'node-3',
      amount: cut,
      unbondingSlashed: cut,
    });
    expect(rec(c, 'node-3')).toMatchObject({
      bond: 0n,
      unbonding: fullBond - cut,
      slashed: cut,
      status: 'removed',
    });
    expect(supplyReport(c.state).problems).toEqual([]);
  });

  it('pending unbonding entries per validator are bounded', () => {
    const c = threeValidators();
    for (let i = 0; i < MAX_PENDING_UNBONDING; i++) c.submit([unbond('node-2', 1n * UNIT + BigInt(i))]);
    expect((c.state.get<Uint8Array[]>(K.pendingUnbonding('node-2')) ?? []).length).toBe(
      MAX_PENDING_UNBONDING,
    );
    rejects(c, [unbond('node-2', 1n * UNIT)], 'VALIDATOR_UNBONDING_LIMIT');
    c.block([], { time: c.time + DELAY + SEC }); // all released
    expect(c.state.get(K.pendingUnbonding('node-2'))).toBeUndefined();
    c.submit([unbond('node-2', 1n * UNIT)]);
  });

  it('an evidence transaction needs no signature and may sit next to other operations', () => {
    const c = threeValidators();
    c.block([]);
    const r = c.submit([
      equivocation(c, 'node-3', 5n, 2),
      { type: 'transfer', from: 'user', to: 'node-2', token: 'UMT', amount: 1n, memo: new Uint8Array() },
    ]);
    expect(r.events.map((e) => e.type)).toEqual(['validator_slashed', 'validator_set_changed', 'transfer']);
    expect(r.fee).toBe(c.genesis.params.fees.transfer);
  });
});

describe('pruning and determinism', () => {
  it('keeps the sets of the evidence window only: the unbonding delay after their epoch ended', () => {
    const c = threeValidators();
    until(c, 12n); // epochs 0..2 ended less than the unbonding delay ago: all kept
    expect(setOf(c, 4n)).toEqual(['node-1']);
    c.block([], { time: c.time + DELAY }); // 13
    until(c, 16n); // at the end of epoch 3, epochs 0 and 1 ended more than DELAY ago and are > 2 back
    expect(catchErr(() => validatorSetFor(c.state, 8n)).code).toBe('VALIDATOR_SET_UNKNOWN');
    expect(setOf(c, 9n)).toEqual(['node-1', 'node-2', 'node-3']);
    expect([...c.state.entries('valset/')].map(([k]) => k).sort()).toEqual([
      'valset/2',
      'valset/3',
      'valset/4',
    ]);
    expect([...c.state.entries('valend/')].map(([k]) => k).sort()).toEqual(['valend/2', 'valend/3']);
    expect(c.state.get(K.oldestValidatorSet)).toBe(2n);
  });

  it('a replica replaying the blocks reaches the same roots, sets and records', () => {
    const c = threeValidators();
    c.submit([unbond('node-2', 200_000n * UNIT)]);
    until(c, 6n);
    c.submit([equivocation(c, 'node-3', 6n, 2)]);
    c.block([], { time: c.time + DELAY });
    until(c, 13n);
    const replica = genesisState(c.genesis).state;
    let head = c.chainId;
    for (const { block, envelopes } of c.blocks) {
      const r = applyBlock(replica, block, envelopes, head, { verifier: null });
      expect(hex(r.stateRoot)).toBe(hex(block.header.stateRoot));
      head = blockId(block.header);
    }
    expect(hex(replica.root())).toBe(hex(c.state.root()));
    expect(validatorSetFor(replica, 14n)).toEqual(validatorSetFor(c.state, 14n));
    expect(validatorOf(replica, 'node-3')).toEqual(rec(c, 'node-3'));
    expect(supplyReport(replica).problems).toEqual([]);
  });
});
