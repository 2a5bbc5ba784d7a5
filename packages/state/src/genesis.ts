import {
  BPS,
  bytesToHex,
  chainIdOf,
  type Genesis,
  RoamError,
  UMT_ALLOCATION_BPS,
  UMT_SUPPLY,
} from '@roamchain/protocol';
import { bucketOf, EXPIRY_QUEUE, UNBOND_QUEUE } from './evaluators.js';
import { LedgerState, Overlay, type StateChange } from './ledger.js';
import { type Account, K, type SetMember, type Validator } from './objects.js';
import { byName } from './validators.js';

function bad(msg: string): never {
  throw new RoamError('GENESIS_INVALID', msg);
}

/**
 * Build the state at height 0 from a genesis. Enforces SPEC §2: the UMT buckets add up to
 * exactly their shares of the fixed supply; founders' UMT is locked and vests by block time.
 */
export function genesisState(g: Genesis): {
  state: LedgerState;
  changes: StateChange[];
  chainId: Uint8Array;
} {
  const chainId = chainIdOf(g);
  const state = new LedgerState();
  const o = new Overlay(state);
  const names = new Set<string>();
  for (const a of g.accounts) {
    if (names.has(a.name)) bad(`duplicate account ${a.name}`);
    names.add(a.name);
  }
  for (const a of g.accounts) {
    const isSub = a.roles.includes('subscriber');
    if (isSub !== (a.homeOperator !== undefined))
      bad(`${a.name}: a subscriber, and only a subscriber, has a home operator`);
    if (a.homeOperator !== undefined) {
      const home = g.accounts.find((x) => x.name === a.homeOperator);
      if (!home?.roles.includes('operator'))
        bad(`${a.name}: home operator ${a.homeOperator} is not an operator`);
    }
    if (new Set(a.roles).size !== a.roles.length) bad(`${a.name}: duplicate role`);
  }
  const perBucket = new Map<string, bigint>();
  const umt = new Map<string, bigint>();
  const vesting = new Map<string, bigint>();
  for (const al of g.allocations) {
    if (!names.has(al.account)) bad(`allocation to unknown account ${al.account}`);
    if (al.amount === 0n) bad('zero allocation');
    perBucket.set(al.bucket, (perBucket.get(al.bucket) ?? 0n) + al.amount);
    umt.set(al.account, (umt.get(al.account) ?? 0n) + al.amount);
    if (al.bucket === 'founders') vesting.set(al.account, (vesting.get(al.account) ?? 0n) + al.amount);
  }
  for (const [bucket, bps] of Object.entries(UMT_ALLOCATION_BPS)) {
    const want = (UMT_SUPPLY * bps) / 10_000n;
    const got = perBucket.get(bucket) ?? 0n;
    if (got !== want) bad(`UMT bucket ${bucket} must total ${want} base units, has ${got}`);
  }
  if (!names.has(g.params.communityFund)) bad(`community fund account ${g.params.communityFund} missing`);
  if (!names.has(g.params.governance)) bad(`governance account ${g.params.governance} missing`);
  const p = g.params;
  if (p.epochLength < 1) bad('epochLength must be at least 1 block');
  if (p.maxValidators < 1) bad('maxValidators must be at least 1');
  if (BigInt(p.slashBps) > BPS) bad('slashBps above 100%');
  if (g.validators.length > p.maxValidators) bad(`${g.validators.length} validators exceed maxValidators`);
  const nodeKeys = new Set<string>();
  const bonded = new Set<string>();
  for (const v of g.validators) {
    if (!names.has(v.account)) bad(`validator account ${v.account} missing`);
    if (bonded.has(v.account)) bad(`duplicate validator ${v.account}`);
    bonded.add(v.account);
    const k = bytesToHex(v.nodeKey);
    if (nodeKeys.has(k)) bad(`validator ${v.account}: node key used twice`);
    nodeKeys.add(k);
    if (v.bond < p.minValidatorBond)
      bad(`validator ${v.account}: bond ${v.bond} below ${p.minValidatorBond}`);
    // The bond comes out of the owner's allocation, never out of UMT still locked by vesting.
    const free = (umt.get(v.account) ?? 0n) - (vesting.get(v.account) ?? 0n);
    if (free < v.bond) bad(`validator ${v.account}: bond ${v.bond} exceeds its free UMT allocation ${free}`);
    umt.set(v.account, umt.get(v.account)! - v.bond);
  }

  o.put(K.meta, { chainId, height: 0n, time: g.genesisTime, genesisTime: g.genesisTime });
  o.put(K.params, g.params);
  o.put(K.supply, { sdrMinted: 0n, sdrBurned: 0n });
  for (const a of g.accounts) {
    const acct: Account = {
      name: a.name,
      signingKey: a.signingKey,
      encryptionKey: a.encryptionKey,
      roles: a.roles,
      createdAt: g.genesisTime,
      vestingTotal: vesting.get(a.name) ?? 0n,
      vestingStart: g.genesisTime,
      ...(a.homeOperator !== undefined ? { homeOperator: a.homeOperator } : {}),
    };
    o.put(K.account(a.name), acct);
  }
  for (const [n, amt] of umt) if (amt > 0n) o.put(K.balance(n, 'UMT'), amt);
  for (const v of g.validators) {
    const rec: Validator = {
      account: v.account,
      nodeKey: v.nodeKey,
      bond: v.bond,
      status: 'active',
      slashed: 0n,
      jailedAt: 0n,
      unbonding: 0n,
      createdAt: g.genesisTime,
      updatedAt: g.genesisTime,
    };
    o.put(K.validator(v.account), rec);
    o.put(K.nodeKey(bytesToHex(v.nodeKey)), v.account);
  }
  const set: SetMember[] = g.validators
    .map((v) => ({ account: v.account, nodeKey: v.nodeKey }))
    .sort((x, y) => byName(x.account, y.account));
  o.put(
    K.activeValidators,
    set.map((m) => m.account),
  );
  o.put(K.validatorSet(0n), { epoch: 0n, segments: [{ from: 1n, validators: set }] });
  for (const q of [EXPIRY_QUEUE, UNBOND_QUEUE]) o.put(K.queueCursor(q), { next: bucketOf(g.genesisTime) });
  const { changes } = state.commit(o);
  return { state, changes, chainId };
}

/** Seam for governance: grant an admitted role (operator, provider, gateway) outside genesis. */
export function admitRole(o: Overlay, account: string, role: Account['roles'][number]): void {
  const a = o.get<Account>(K.account(account));
  if (!a) throw new RoamError('ACCOUNT_UNKNOWN', `account ${account} does not exist`);
  if (role === 'subscriber')
    throw new RoamError('ROLE_INVALID', 'subscribers are attached by their home operator');
  if (!a.roles.includes(role)) o.put(K.account(account), { ...a, roles: [...a.roles, role] });
}
