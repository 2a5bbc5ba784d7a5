/**
 * Golden vector of state transitions: a fixed scenario (fixed genesis time, keys derived by
 * buildGenesis) whose block ids and state roots at every height are stored in
 * golden/transitions.json. A difference means the state transition or the state encoding changed:
 * that is a consensus change, never a test to update casually. To regenerate after an intended
 * change: `UPDATE_GOLDEN=1 npx vitest run packages/state/test/transitions-golden.test.ts`.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  blockId,
  bytesToHex,
  hexToBytes,
  type OfferTerms,
  type Operation,
  sign,
  UNIT,
  type UnsignedVote,
  voteSignBytes,
} from '@roamchain/protocol';
import { describe, expect, it } from 'vitest';
import {
  buildGenesis,
  type Contract,
  derivedKeys,
  K,
  supplyReport,
  TestChain,
  type Validator,
  validatorSetFor,
} from '../src/index.js';

const FILE = fileURLToPath(new URL('./golden/transitions.json', import.meta.url));
const GENESIS_TIME = 1_767_225_600_000n; // 2026-01-01T00:00:00Z
const SEC = 1000n;
const GB = 1_000_000_000n;
const hex = bytesToHex;

interface Golden {
  description: string;
  genesisTime: string;
  chainId: string;
  genesisRoot: string;
  blocks: { height: number; time: string; txIds: string[]; id: string; stateRoot: string }[];
  final: { umt: Record<string, string>; sdr: Record<string, string> };
}

function compute(): Golden {
  const { genesis, keys } = buildGenesis({
    chainName: 'roamchain-golden',
    genesisTime: GENESIS_TIME,
    seed: 'roamchain-golden',
    accounts: [
      { name: 'op-de', roles: ['operator'] },
      { name: 'op-fr', roles: ['operator'] },
      { name: 'gateway', roles: ['gateway'] },
      { name: 'alice', roles: ['subscriber'], homeOperator: 'op-fr' },
      { name: 'node-1', roles: ['node_owner'] },
      { name: 'node-2', roles: ['node_owner'] },
    ],
    umt: {
      'op-de': 1000n * UNIT,
      'op-fr': 1000n * UNIT,
      gateway: 100n * UNIT,
      alice: 10n * UNIT,
      'node-2': 2_000_000n * UNIT,
    },
    validators: ['node-1'],
    params: { epochLength: 4, unbondingDelayMs: 10n * SEC },
  });
  const c = new TestChain(genesis, keys, { verifier: null });
  const genesisRoot = hex(c.state.root());
  let t = GENESIS_TIME;
  const at = (dt: bigint) => {
    t += dt;
    return { time: t };
  };
  const run = (ops: Operation[][], dt = SEC) =>
    c.block(
      ops.map((o) => c.tx(o, { expiration: t + 600n * SEC })),
      at(dt),
    );

  const terms = (price: bigint): OfferTerms => ({
    title: 'DE 5 GB / 7 days',
    kind: 'data',
    category: '',
    countries: ['DE', 'AT'],
    networks: ['262-01'],
    technologies: ['4G', '5G'],
    dataBytes: 5n * GB,
    voiceSeconds: 0n,
    smsCount: 0,
    durationSec: 7 * 86_400,
    price,
    unitPrice: UNIT / 10n,
    unit: 'mb',
    activation: 'on_provision',
    validFrom: 0n,
    validUntil: GENESIS_TIME + 30n * 86_400n * SEC,
    capacity: 10,
    encryptionKey: keys.get('op-de')!.encryption.publicKey,
  });
  // 1: money in, 2: offers, 3: account admin.
  run([
    [{ type: 'sdr_issue', gateway: 'gateway', to: 'alice', amount: 100n * UNIT, paymentRef: 'wire-1' }],
    [{ type: 'sdr_issue', gateway: 'gateway', to: 'gateway', amount: 10n * UNIT, paymentRef: 'wire-2' }],
  ]);
  const published = run([
    [
      { type: 'offer_publish', operator: 'op-de', terms: terms(10n * UNIT) },
      { type: 'offer_publish', operator: 'op-de', terms: terms(20n * UNIT) },
    ],
  ]);
  const [o1, o2] = published.result.receipts[0]!.events.map((e) => hexToBytes(e.offer as string)) as [
    Uint8Array,
    Uint8Array,
  ];
  const dave = derivedKeys('dave', 'roamchain-golden');
  run([
    [
      {
        type: 'account_create',
        creator: 'op-fr',
        name: 'dave',
        signingKey: dave.signing.publicKey,
        encryptionKey: dave.encryption.publicKey,
        homeOperator: 'op-fr',
      },
    ],
    [{ type: 'account_update_keys', account: 'op-de', encryptionKey: new Uint8Array(32).fill(0x42) }],
    [{ type: 'sdr_burn', gateway: 'gateway', amount: 4n * UNIT, redemptionRef: 'redeem-1' }],
  ]);
  // 4: two contracts; the second will be left to expire.
  const req = (offer: Uint8Array, deposit: bigint, lifetimeSec: number): Operation => ({
    type: 'request_open',
    issuer: 'op-fr',
    payer: 'alice',
    subscriber: 'alice',
    offer,
    prev: offer,
    deposit,
    issuerFeeBps: 250,
    feeDeposit: UNIT,
    ephemeralKey: new Uint8Array(32).fill(lifetimeSec & 0xff),
    payload: new Uint8Array([0xca, 0xfe]),
    stepTimeoutSec: 600,
    lifetimeSec,
  });
  const opened = run([[req(o1, 20n * UNIT, 86_400)], [req(o2, 30n * UNIT, 900)]]);
  const [c1, c2] = opened.result.receipts.map((r) => hexToBytes(r.events[0]!.contract as string)) as [
    Uint8Array,
    Uint8Array,
  ];
  const head = (id: Uint8Array) => c.state.get<Contract>(K.contract(hex(id)))!.head;
  const charge = (id: Uint8Array, seq: number, amount: bigint): Operation => ({
    type: 'charge',
    assignee: 'op-de',
    contract: id,
    prev: head(id),
    record: {
      seq,
      usageType: 'data',
      start: t,
      duration: 3600,
      volumeUp: 10n,
      volumeDown: GB,
      units: 1000n,
      amount,
    },
    sealed: new Uint8Array([1, 2, 3, 4]),
  });
  run([[charge(c1, 1, 6n * UNIT)], [charge(c2, 1, 20n * UNIT)]], 60n * SEC);
  // 6: c1's second charge; alice tops c2 up (countersigned by op-fr, who adds to its fee deposit).
  run(
    [
      [charge(c1, 2, 4n * UNIT)],
      [
        {
          type: 'contract_topup',
          issuer: 'op-fr',
          payer: 'alice',
          contract: c2,
          prev: head(c2),
          amount: 5n * UNIT,
          feeDeposit: 100_000n,
        },
      ],
    ],
    60n * SEC,
  );
  // 7: alice closes c1 with a bad-service flag, then rates it; an offer is replaced, another withdrawn.
  run([[{ type: 'refund', by: 'alice', contract: c1, prev: head(c1), badService: true, reason: 2 }]]);
  run([
    [{ type: 'rate', subscriber: 'alice', contract: c1, score: 2 }],
    [{ type: 'offer_pause', operator: 'op-de', offer: o1, paused: true }],
    [{ type: 'offer_replace', operator: 'op-de', offer: o1, terms: terms(12n * UNIT) }],
    [{ type: 'offer_withdraw', operator: 'op-de', offer: o2 }],
  ]);
  run([
    [
      {
        type: 'demand_post',
        subscriber: 'alice',
        kind: 'bundle',
        countries: ['IT'],
        networks: [],
        dataBytes: 2n * GB,
        startAt: GENESIS_TIME,
        endAt: GENESIS_TIME + 86_400n * SEC,
        maxPrice: 15n * UNIT,
        note: 'Rome, one week',
      },
    ],
    [{ type: 'offer_pause', operator: 'op-de', offer: o1, paused: false }],
    [
      {
        type: 'transfer',
        from: 'op-de',
        to: 'node-1',
        token: 'SDR',
        amount: 3n * UNIT,
        memo: new Uint8Array([7]),
      },
    ],
  ]);
  // 10: an empty block past c2's end of life: settled by the chain. 11: long after (tx pruning).
  run([], 900n * SEC);
  run([], 3600n * SEC);
  expect(c.state.get<Contract>(K.contract(hex(c2)))).toMatchObject({ status: 'closed', closedBy: '' });
  expect([...c.state.entries('tx/')]).toEqual([]);
  // 12 (last block of epoch 2): governance admits node-2, which bonds; it validates from epoch 3 (height 13).
  const node2 = derivedKeys('node-2/node', 'roamchain-golden').signing;
  run([
    [
      {
        type: 'validator_set',
        authority: 'ndf',
        account: 'node-2',
        status: 'candidate',
        nodeKey: node2.publicKey,
      },
    ],
    [{ type: 'validator_bond', account: 'node-2', amount: 1_500_000n * UNIT }],
    [{ type: 'validator_set', authority: 'ndf', account: 'node-2', status: 'active' }],
  ]);
  expect(validatorSetFor(c.state, 13n).map((v) => v.account)).toEqual(['node-1', 'node-2']);
  // 13: node-2 unbonds a third (released 10 s later); 14: it double-signed at 13 and is slashed 5 %
  // of its bond and of the unbonding entry (stake that is leaving is still at stake).
  run([[{ type: 'validator_unbond', account: 'node-2', amount: 500_000n * UNIT }]]);
  const vote = (value: Uint8Array | null) => {
    const v: UnsignedVote = { type: 'precommit', height: 13n, round: 0, value, validator: 1 };
    return { ...v, signature: sign(node2.secretKey, voteSignBytes(c.chainId, v)) };
  };
  run([[{ type: 'evidence', a: vote(null), b: vote(new Uint8Array(32).fill(0xab)) }]]);
  expect(validatorSetFor(c.state, 15n).map((v) => v.account)).toEqual(['node-1']);
  // 15: the unbonded UMT is released; 16: epoch 4 starts with node-1 alone.
  run([], 10n * SEC);
  run([]);
  expect(c.state.get<Validator>(K.validator('node-2'))).toMatchObject({
    status: 'jailed',
    bond: 950_000n * UNIT,
    slashed: 75_000n * UNIT,
    unbonding: 0n,
  });
  expect(supplyReport(c.state).problems).toEqual([]);
  c.blocks.slice(1).forEach(({ block }, i) => {
    expect(hex(block.header.prev)).toBe(hex(blockId(c.blocks[i]!.block.header)));
  });

  const bal = (token: 'UMT' | 'SDR') =>
    Object.fromEntries(
      [...c.state.entries<bigint>('bal/')]
        .filter(([k]) => k.endsWith(`/${token}`))
        .map(([k, v]) => [k.slice(4, -token.length - 1), v.toString()])
        .sort(([a], [b]) => (a! < b! ? -1 : 1)),
    );
  return {
    description:
      'roamchain state transitions: block ids and state roots of a fixed scenario (see transitions-golden.test.ts)',
    genesisTime: GENESIS_TIME.toString(),
    chainId: hex(c.chainId),
    genesisRoot,
    blocks: c.blocks.map(({ block, envelopes }) => ({
      height: Number(block.header.height),
      time: block.header.time.toString(),
      txIds: envelopes.map((e) => e.idHex),
      id: hex(blockId(block.header)),
      stateRoot: hex(block.header.stateRoot),
    })),
    final: { umt: bal('UMT'), sdr: bal('SDR') },
  };
}

describe('golden state transitions', () => {
  it('block ids and state roots at every height match golden/transitions.json', () => {
    const got = compute();
    if (process.env.UPDATE_GOLDEN === '1') {
      writeFileSync(FILE, `${JSON.stringify(got, null, 2)}\n`);
      return;
    }
    expect(existsSync(FILE), `${FILE} missing: run with UPDATE_GOLDEN=1 once`).toBe(true);
    const want = JSON.parse(readFileSync(FILE, 'utf8')) as Golden;
    expect(got.chainId).toBe(want.chainId);
    expect(got.genesisRoot).toBe(want.genesisRoot);
    expect(got.blocks.length).toBe(want.blocks.length);
    // Compare height by height so the first divergence is the one reported.
    for (let i = 0; i < want.blocks.length; i++)
      expect(got.blocks[i], `height ${i + 1}`).toEqual(want.blocks[i]);
    expect(got.final).toEqual(want.final);
    expect(got).toEqual(want);
  });

  it('is deterministic: two computations agree', () => {
    expect(compute()).toEqual(compute());
  });
});
