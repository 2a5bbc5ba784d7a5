/**
 * Mini Nodes (SPEC §5, docs/GOVERNANCE.md §8): bond, unbond, attach, audit attestations and fraud
 * proofs. A Mini Node (id = its owner account) bonds at least `minMiniBond` UMT and attaches to an
 * active Super Node (at most `maxMiniPerSuper` each). Every `miniAttestInterval` blocks it signs
 * (height, state root) with its node key; `mini_attest` records attestations that match the root
 * the chain committed at that height (the roots of the last `miniRootsKept` attested heights are
 * kept in state, `mini/r/`); `mini_fraud` proves one that does not, and the whole bond (and what it
 * is unbonding) goes to the community fund and the Mini Node is removed for good.
 */
import {
  bytesToHex,
  type ChainParams,
  equalBytes,
  type MiniAttestation,
  miniAttestSignBytes,
  nobleVerifier,
  type OpOf,
  RoamError,
  type SignatureVerifier,
} from '@roamchain/protocol';
import type { ApplyCtx } from './context.js';
import type { Drain } from './governance.js';
import type { Overlay } from './ledger.js';
import { MAX_MINI_UNBONDING, type MiniNode, type MiniRoot, type MiniUnbonding, MK } from './mini-objects.js';
import { type ChainMeta, K, type Validator } from './objects.js';
import { byName } from './validators.js';

export const MINI_UNBOND_QUEUE = 'munb';

interface MiniEnv {
  ctx: ApplyCtx;
  opHash: Uint8Array;
  verifier?: SignatureVerifier | null;
}

export function miniOf(s: { get<T>(key: string): T | undefined }, owner: string): MiniNode | undefined {
  return s.get<MiniNode>(MK.node(owner));
}

function requireMini(ctx: ApplyCtx, owner: string): MiniNode {
  const m = miniOf(ctx.o, owner);
  if (!m) throw new RoamError('MINI_UNKNOWN', `${owner} has no Mini Node`, { account: owner });
  return m;
}

/** Bond points of the importance formula: one per whole UMT bonded. */
export const bondPoints = (bond: bigint): bigint => bond / 1_000_000n;

function setAttached(ctx: ApplyCtx, superNode: string, owner: string, attached: boolean): void {
  const key = MK.ofSuper(superNode);
  const cur = ctx.o.get<string[]>(key) ?? [];
  if (cur.includes(owner) === attached) return;
  if (attached && cur.length >= ctx.params.maxMiniPerSuper) {
    throw new RoamError('MINI_SUPER_FULL', `${superNode} has ${cur.length} Mini Nodes, the most it may`, {
      superNode,
      max: ctx.params.maxMiniPerSuper,
    });
  }
  const next = attached ? [...cur, owner].sort(byName) : cur.filter((a) => a !== owner);
  if (next.length > 0) ctx.o.put(key, next);
  else ctx.o.del(key);
}

function requireSuper(ctx: ApplyCtx, superNode: string): void {
  const v = ctx.o.get<Validator>(K.validator(superNode));
  if (v?.status !== 'active') {
    throw new RoamError('MINI_SUPER_INVALID', `${superNode} is not an active Super Node`, { superNode });
  }
}

export function evalMiniBond(op: OpOf<'mini_bond'>, { ctx }: MiniEnv): void {
  const p = ctx.params;
  const prev = miniOf(ctx.o, op.owner);
  if (prev?.status === 'slashed') throw new RoamError('MINI_STATUS', `${op.owner}'s Mini Node was slashed`);
  if (prev?.status === 'active') {
    // A top-up of the same Mini Node; moving it is `mini_attach`, a new key a new registration.
    if (prev.superNode !== op.superNode || !equalBytes(prev.nodeKey, op.nodeKey)) {
      throw new RoamError(
        'MINI_INVALID',
        'a top-up names the same Super Node and node key (mini_attach moves it)',
      );
    }
    ctx.debit(op.owner, 'UMT', op.amount);
    const bond = prev.bond + op.amount;
    ctx.o.put(MK.node(op.owner), { ...prev, bond, updatedAt: ctx.time } satisfies MiniNode);
    ctx.emit({ type: 'mini_bonded', account: op.owner, superNode: op.superNode, amount: op.amount, bond });
    return;
  }
  if (op.amount < p.minMiniBond) {
    throw new RoamError('MINI_BOND_LOW', `bond ${op.amount} is below the minimum ${p.minMiniBond}`, {
      bond: op.amount.toString(),
      minimum: p.minMiniBond.toString(),
    });
  }
  requireSuper(ctx, op.superNode);
  const kk = MK.key(bytesToHex(op.nodeKey));
  const holder = ctx.o.get<string>(kk);
  if (holder !== undefined && holder !== op.owner) {
    throw new RoamError('MINI_KEY_TAKEN', `the node key belongs to Mini Node ${holder}`, { owner: holder });
  }
  if (prev && !equalBytes(prev.nodeKey, op.nodeKey)) ctx.o.del(MK.key(bytesToHex(prev.nodeKey)));
  ctx.o.put(kk, op.owner);
  ctx.debit(op.owner, 'UMT', op.amount);
  setAttached(ctx, op.superNode, op.owner, true);
  const m: MiniNode = {
    owner: op.owner,
    superNode: op.superNode,
    nodeKey: op.nodeKey,
    bond: op.amount,
    unbonding: prev?.unbonding ?? 0n,
    status: 'active',
    slashed: 0n,
    lastAttested: 0n,
    attestations: prev?.attestations ?? 0n,
    importance: bondPoints(op.amount),
    importanceAt: ctx.time,
    createdAt: prev?.createdAt ?? ctx.time,
    updatedAt: ctx.time,
  };
  ctx.o.put(MK.node(op.owner), m);
  ctx.emit({ type: 'mini_registered', account: op.owner, superNode: op.superNode, bond: op.amount });
}

export function evalMiniAttach(op: OpOf<'mini_attach'>, { ctx }: MiniEnv): void {
  const m = requireMini(ctx, op.owner);
  if (m.status !== 'active') throw new RoamError('MINI_STATUS', `${op.owner}'s Mini Node is ${m.status}`);
  if (m.superNode === op.superNode)
    throw new RoamError('MINI_INVALID', `already attached to ${op.superNode}`);
  requireSuper(ctx, op.superNode);
  setAttached(ctx, m.superNode, op.owner, false);
  setAttached(ctx, op.superNode, op.owner, true);
  ctx.o.put(MK.node(op.owner), { ...m, superNode: op.superNode, updatedAt: ctx.time } satisfies MiniNode);
  ctx.emit({ type: 'mini_attached', account: op.owner, superNode: op.superNode, previous: m.superNode });
}

export function evalMiniUnbond(op: OpOf<'mini_unbond'>, { ctx, opHash }: MiniEnv): void {
  const p = ctx.params;
  const m = requireMini(ctx, op.owner);
  if (m.status !== 'active') throw new RoamError('MINI_STATUS', `${op.owner}'s Mini Node is ${m.status}`);
  if (op.amount > m.bond) {
    throw new RoamError('BALANCE_LOW', `${op.owner} has ${m.bond} bonded, cannot unbond ${op.amount}`, {
      account: op.owner,
      bond: m.bond.toString(),
    });
  }
  const bond = m.bond - op.amount;
  if (bond !== 0n && bond < p.minMiniBond) {
    throw new RoamError(
      'MINI_BOND_LOW',
      `${bond} would stay bonded, below ${p.minMiniBond}: unbond all to exit`,
      {
        bond: bond.toString(),
        minimum: p.minMiniBond.toString(),
      },
    );
  }
  const pending = ctx.o.get<Uint8Array[]>(MK.pending(op.owner)) ?? [];
  if (pending.length >= MAX_MINI_UNBONDING) {
    throw new RoamError(
      'VALIDATOR_UNBONDING_LIMIT',
      `${op.owner} has ${pending.length} unbonding entries pending`,
      {
        account: op.owner,
        pending: pending.length,
      },
    );
  }
  const releaseAt = ctx.time + p.unbondingDelayMs;
  ctx.o.put(MK.unbonding(bytesToHex(opHash)), { id: opHash, owner: op.owner, amount: op.amount, releaseAt });
  ctx.o.put(MK.pending(op.owner), [...pending, opHash]);
  ctx.enqueue(MINI_UNBOND_QUEUE, releaseAt / 1000n, opHash);
  const exit = bond === 0n;
  if (exit) setAttached(ctx, m.superNode, op.owner, false);
  ctx.o.put(MK.node(op.owner), {
    ...m,
    bond,
    status: exit ? 'exited' : 'active',
    unbonding: m.unbonding + op.amount,
    updatedAt: ctx.time,
  } satisfies MiniNode);
  ctx.emit({ type: 'mini_unbonding', account: op.owner, amount: op.amount, bond, releaseAt, exit });
}

/** The kept state root of an attested height, if any. */
export function keptRoot(
  s: { get<T>(key: string): T | undefined },
  p: ChainParams,
  height: bigint,
): MiniRoot | undefined {
  const n = BigInt(p.miniAttestInterval);
  if (height === 0n || height % n !== 0n) return undefined;
  const r = s.get<MiniRoot>(MK.root((height / n) % BigInt(p.miniRootsKept)));
  return r?.height === height ? r : undefined;
}

/**
 * At the start of block `parent + 1`: the parent's state root is kept if the parent is an attested
 * height (the BlockBuilder calls this with the head's root, which every validator knows).
 */
export function rememberMiniRoot(o: Overlay, p: ChainParams, parent: bigint, root: () => Uint8Array): void {
  const n = BigInt(p.miniAttestInterval);
  if (parent === 0n || parent % n !== 0n) return;
  o.put(MK.root((parent / n) % BigInt(p.miniRootsKept)), { height: parent, root: root() } satisfies MiniRoot);
}

function verifyAttestation(
  ctx: ApplyCtx,
  m: MiniNode,
  a: MiniAttestation,
  verifier?: SignatureVerifier | null,
): void {
  const chainId = ctx.o.get<ChainMeta>(K.meta)!.chainId;
  if (!(verifier ?? nobleVerifier).verify(m.nodeKey, miniAttestSignBytes(chainId, a), a.signature)) {
    throw new RoamError(
      'MINI_ATTEST_INVALID',
      `the attestation's signature does not verify with ${a.mini}'s node key`,
    );
  }
}

export function evalMiniAttest(op: OpOf<'mini_attest'>, { ctx, verifier }: MiniEnv): void {
  for (const a of op.attestations) {
    const m = requireMini(ctx, a.mini);
    if (m.status !== 'active') throw new RoamError('MINI_STATUS', `${a.mini}'s Mini Node is ${m.status}`);
    const kept = keptRoot(ctx.o, ctx.params, a.height);
    if (!kept) {
      throw new RoamError(
        'MINI_ATTEST_INVALID',
        `height ${a.height} is not an attested height whose root is kept`,
        {
          height: a.height.toString(),
        },
      );
    }
    if (a.height <= m.lastAttested) {
      throw new RoamError('MINI_ATTEST_DUPLICATE', `${a.mini} attested height ${m.lastAttested} already`);
    }
    verifyAttestation(ctx, m, a, verifier);
    if (!equalBytes(kept.root, a.stateRoot)) {
      throw new RoamError(
        'MINI_ATTEST_INVALID',
        `${a.mini} attests a root the chain did not commit (mini_fraud proves it)`,
      );
    }
    ctx.o.put(MK.node(a.mini), {
      ...m,
      lastAttested: a.height,
      attestations: m.attestations + 1n,
      updatedAt: ctx.time,
    } satisfies MiniNode);
    ctx.emit({ type: 'mini_attested', account: a.mini, superNode: m.superNode, height: a.height });
  }
}

export function evalMiniFraud(op: OpOf<'mini_fraud'>, { ctx, verifier }: MiniEnv): void {
  const a = op.attestation;
  const m = requireMini(ctx, a.mini);
  if (m.status === 'slashed') throw new RoamError('MINI_STATUS', `${a.mini}'s Mini Node was slashed already`);
  const kept = keptRoot(ctx.o, ctx.params, a.height);
  if (!kept) throw new RoamError('MINI_FRAUD_INVALID', `no committed root kept for height ${a.height}`);
  verifyAttestation(ctx, m, a, verifier);
  if (equalBytes(kept.root, a.stateRoot)) {
    throw new RoamError(
      'MINI_FRAUD_INVALID',
      `the root ${a.mini} attested at ${a.height} is the committed one`,
    );
  }
  // The whole bond and every pending unbonding entry (stake that is leaving is still at stake).
  let cut = m.bond;
  for (const id of ctx.o.get<Uint8Array[]>(MK.pending(a.mini)) ?? []) {
    const key = MK.unbonding(bytesToHex(id));
    const u = ctx.o.get<MiniUnbonding>(key);
    if (!u) continue;
    cut += u.amount;
    ctx.o.put(key, { ...u, amount: 0n } satisfies MiniUnbonding);
  }
  if (m.status === 'active') setAttached(ctx, m.superNode, a.mini, false);
  ctx.o.put(MK.node(a.mini), {
    ...m,
    bond: 0n,
    unbonding: 0n,
    status: 'slashed',
    slashed: m.slashed + cut,
    importance: 0n,
    updatedAt: ctx.time,
  } satisfies MiniNode);
  ctx.credit(ctx.params.communityFund, 'UMT', cut);
  ctx.emit({
    type: 'mini_slashed',
    account: a.mini,
    superNode: m.superNode,
    height: a.height,
    amount: cut,
    to: ctx.params.communityFund,
  });
}

/** Block-end: unbonded Mini Node UMT whose delay is over goes back to the owner. */
export function miniUnbondEnd(ctx: ApplyCtx, drain: Drain): void {
  const entry = (id: Uint8Array) => ctx.o.get<MiniUnbonding>(MK.unbonding(bytesToHex(id)));
  drain(
    MINI_UNBOND_QUEUE,
    (id) => entry(id)?.releaseAt,
    (id) => {
      const u = entry(id)!;
      const m = requireMini(ctx, u.owner);
      ctx.o.put(MK.node(u.owner), { ...m, unbonding: m.unbonding - u.amount } satisfies MiniNode);
      ctx.o.del(MK.unbonding(bytesToHex(id)));
      const pk = MK.pending(u.owner);
      const left = (ctx.o.get<Uint8Array[]>(pk) ?? []).filter((x) => !equalBytes(x, id));
      if (left.length > 0) ctx.o.put(pk, left);
      else ctx.o.del(pk);
      ctx.credit(u.owner, 'UMT', u.amount);
      ctx.emit({ type: 'mini_released', account: u.owner, amount: u.amount });
    },
  );
}
