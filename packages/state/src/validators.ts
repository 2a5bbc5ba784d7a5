/**
 * The Super Node validator set in the ledger state (see ../VALIDATORS.md).
 *
 * Epoch of height h: (h - 1) / epochLength (height 1 starts epoch 0). At the end of the last block
 * of an epoch the next epoch's set is computed from the active-validator index (never a scan of the
 * state) and stored under `valset/<epoch>`; evidence can shorten the current epoch's set from the
 * next height on. A set is kept (and evidence of its heights accepted) while its validators' stake
 * could still be slashed: for `evidenceMaxAgeEpochs` epochs and at least `unbondingDelayMs` of block
 * time after the epoch ended (`evidenceWindowOpen`); older sets are pruned at epoch boundaries.
 */
import { type ChainParams, equalBytes, RoamError } from '@roamchain/protocol';
import type { ApplyCtx } from './context.js';
import { DAY_MS, isIdleOperator, slaDaysOf } from './gov-objects.js';
import type { StateReader } from './ledger.js';
import { type ChainMeta, K, type SetMember, type Validator, type ValidatorSetRecord } from './objects.js';

/** Epoch of a block height (height 1 is the first block of epoch 0). */
export function epochOf(params: Pick<ChainParams, 'epochLength'>, height: bigint): bigint {
  if (height < 1n) throw new RoamError('VALIDATOR_SET_UNKNOWN', 'heights start at 1');
  return (height - 1n) / BigInt(params.epochLength);
}

/** First block height of an epoch. */
export function epochStart(params: Pick<ChainParams, 'epochLength'>, epoch: bigint): bigint {
  return epoch * BigInt(params.epochLength) + 1n;
}

/** The stored segment that covers `height`, without any bound on how far ahead it is (state-machine use). */
export function storedSetAt(s: StateReader, params: ChainParams, height: bigint): readonly SetMember[] {
  const epoch = epochOf(params, height);
  const rec = s.get<ValidatorSetRecord>(K.validatorSet(epoch));
  if (!rec) {
    throw new RoamError(
      'VALIDATOR_SET_UNKNOWN',
      `no validator set stored for height ${height} (epoch ${epoch})`,
      {
        height: height.toString(),
        epoch: epoch.toString(),
      },
    );
  }
  let seg = rec.segments[0]!;
  for (const x of rec.segments) if (x.from <= height) seg = x;
  return seg.validators;
}

/**
 * The active set that validates (signs) block `height`, in consensus order (index in the list =
 * validator index in votes). The state after block
 * h - 1 answers for h (the next block) and for earlier heights whose epoch is still kept; any other
 * height throws VALIDATOR_SET_UNKNOWN.
 */
export function validatorSetFor(state: StateReader, height: bigint): readonly SetMember[] {
  const meta = state.get<ChainMeta>(K.meta);
  const params = state.get<ChainParams>(K.params);
  if (!meta || !params) throw new RoamError('INTERNAL', 'state is not initialised from a genesis');
  if (height < 1n || height > meta.height + 1n) {
    throw new RoamError(
      'VALIDATOR_SET_UNKNOWN',
      `the state at height ${meta.height} knows the validator sets of heights 1..${meta.height + 1n} at most`,
      { height: height.toString() },
    );
  }
  // Stored objects are never mutated (evaluators write new ones), so the stored list is returned as is.
  return storedSetAt(state, params, height);
}

/** The validator record of an account, if it has one. */
export function validatorOf(state: StateReader, account: string): Validator | undefined {
  return state.get<Validator>(K.validator(account));
}

/** The validator record of an account, or VALIDATOR_UNKNOWN. */
export function requireValidator(state: StateReader, account: string): Validator {
  const v = validatorOf(state, account);
  if (!v) throw new RoamError('VALIDATOR_UNKNOWN', `${account} has no validator record`, { account });
  return v;
}

/**
 * Whether evidence of votes of `epoch` is still accepted at (`nowEpoch`, block time `time`): within
 * `evidenceMaxAgeEpochs` epochs, or until `unbondingDelayMs` after the epoch ended — as long as stake
 * that was bonded during the epoch (now bonded or unbonding) can still be slashed. Its set must be
 * kept (the evidence is checked against it).
 */
export function evidenceWindowOpen(
  s: StateReader,
  params: ChainParams,
  epoch: bigint,
  nowEpoch: bigint,
  time: bigint,
): boolean {
  if (s.get(K.validatorSet(epoch)) === undefined) return false;
  if (epoch + BigInt(params.evidenceMaxAgeEpochs) >= nowEpoch) return true;
  const end = s.get<bigint>(K.validatorSetEnd(epoch));
  return end !== undefined && end + params.unbondingDelayMs >= time;
}

/**
 * Delete the sets that left the evidence window, oldest first (amortised O(1) per boundary: each
 * epoch is deleted once). `next` is the epoch whose set was just stored; it and the current one stay.
 */
function pruneValidatorSets(ctx: ApplyCtx, next: bigint): void {
  const p = ctx.params;
  const from = ctx.o.get<bigint>(K.oldestValidatorSet) ?? 0n;
  let e = from;
  while (e + 1n < next && !evidenceWindowOpen(ctx.o, p, e, next, ctx.time)) {
    if (ctx.o.get(K.validatorSet(e)) !== undefined) ctx.o.del(K.validatorSet(e));
    if (ctx.o.get(K.validatorSetEnd(e)) !== undefined) ctx.o.del(K.validatorSetEnd(e));
    e++;
  }
  if (e !== from) ctx.o.put(K.oldestValidatorSet, e);
}

/** Code-unit order of account names (ASCII), independent of any locale. */
export const byName = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Add or remove an account in the sorted index of 'active' validators. */
export function setActiveIndex(ctx: ApplyCtx, account: string, active: boolean): void {
  const cur = ctx.o.get<string[]>(K.activeValidators) ?? [];
  const has = cur.includes(account);
  if (has === active) return;
  const next = active ? [...cur, account].sort(byName) : cur.filter((a) => a !== account);
  ctx.o.put(K.activeValidators, next);
}

/**
 * The set the next epoch would get from the records as they are now: 'active' validators with at
 * least the minimum bond and not owned by an idle operator, the `maxValidators` most important
 * (SLA days of the last 100, then bond, then account name), ordered by name.
 */
export function electSet(s: StateReader, params: ChainParams): SetMember[] {
  const min = params.minValidatorBond;
  const eligible: Validator[] = [];
  for (const a of s.get<string[]>(K.activeValidators) ?? []) {
    const v = s.get<Validator>(K.validator(a));
    // An owner that is an idle operator (skipped too many proposals) sits out until it votes again.
    if (v && v.status === 'active' && v.bond >= min && !isIdleOperator(s, a)) eligible.push(v);
  }
  // Proof of Importance (docs/GOVERNANCE.md §5): the days of the last 100 on which it met the SLA,
  // then the bond, then the account name.
  const meta = s.get<ChainMeta>(K.meta);
  const today = meta ? meta.time / DAY_MS : 0n;
  const importance = new Map(eligible.map((v) => [v.account, slaDaysOf(s, v.account, today)]));
  eligible.sort((x, y) => {
    const d = importance.get(y.account)! - importance.get(x.account)!;
    if (d !== 0) return d;
    return x.bond === y.bond ? byName(x.account, y.account) : x.bond > y.bond ? -1 : 1;
  });
  return eligible
    .slice(0, params.maxValidators)
    .sort((x, y) => byName(x.account, y.account))
    .map((v) => ({ account: v.account, nodeKey: v.nodeKey }));
}

/** Throws VALIDATOR_SET_EMPTY if the next epoch would have no validator (checked by operations that shrink it). */
export function requireNonEmptyNextSet(ctx: ApplyCtx): void {
  if (electSet(ctx.o, ctx.params).length === 0) {
    throw new RoamError('VALIDATOR_SET_EMPTY', 'no eligible validator would be left for the next epoch');
  }
}

const sameSet = (a: readonly SetMember[], b: readonly SetMember[]): boolean =>
  a.length === b.length &&
  a.every((m, i) => m.account === b[i]!.account && equalBytes(m.nodeKey, b[i]!.nodeKey));

/**
 * Evidence jailed `account` in block `ctx.height`: from the next height on, if that height is still
 * in the current epoch, the current set no longer contains it (unless it is the only member: a set
 * is never empty). The next epoch's set excludes it anyway (it is no longer 'active').
 */
export function dropFromCurrentSet(ctx: ApplyCtx, account: string): void {
  const next = ctx.height + 1n;
  const epoch = epochOf(ctx.params, next);
  if (epoch !== epochOf(ctx.params, ctx.height)) return; // the boundary computes the next epoch
  const key = K.validatorSet(epoch);
  const rec = ctx.o.get<ValidatorSetRecord>(key);
  if (!rec) throw new RoamError('INTERNAL', `validator set of epoch ${epoch} missing`);
  const last = rec.segments[rec.segments.length - 1]!;
  if (!last.validators.some((m) => m.account === account) || last.validators.length === 1) return;
  const validators = last.validators.filter((m) => m.account !== account);
  const segments =
    last.from === next
      ? [...rec.segments.slice(0, -1), { from: next, validators }]
      : [...rec.segments, { from: next, validators }];
  ctx.o.put(key, { ...rec, segments });
  ctx.emit({
    type: 'validator_set_changed',
    epoch,
    fromHeight: next,
    validators: validators.map((m) => m.account),
    reason: 'evidence',
  });
}

/**
 * Block-end work of the last block of an epoch: store the next epoch's set (or keep the current one
 * if none would be eligible: the chain never stops for want of validators) and prune the set that
 * has left the evidence window.
 */
export function epochBoundary(ctx: ApplyCtx): void {
  const p = ctx.params;
  const h = ctx.height;
  if (h % BigInt(p.epochLength) !== 0n) return;
  const epoch = epochOf(p, h);
  const next = epoch + 1n;
  const current = storedSetAt(ctx.o, p, h);
  let elected = electSet(ctx.o, p);
  if (elected.length === 0) elected = [...current];
  ctx.o.put(K.validatorSet(next), { epoch: next, segments: [{ from: h + 1n, validators: elected }] });
  ctx.o.put(K.validatorSetEnd(epoch), ctx.time);
  pruneValidatorSets(ctx, next);
  if (!sameSet(current, elected)) {
    ctx.emit({
      type: 'validator_set_changed',
      epoch: next,
      fromHeight: h + 1n,
      validators: elected.map((m) => m.account),
      reason: 'epoch',
    });
  }
}
