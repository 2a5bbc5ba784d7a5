/**
 * Governance in the state (SPEC §5, docs/GOVERNANCE.md): proposals and votes of the admitted
 * operators, execution at block end from time-bucketed queues, participation, parameter changes.
 *
 * A proposal passes when more than 2/3 of the operators admitted when it was made voted yes
 * (yes x 3 > electorate x 2) before its deadline; it is executed at the end of the block in which
 * it passed (queue `gx`). At its deadline (queue `gd`) an open proposal is rejected and the
 * participation of every eligible operator is counted.
 */
import {
  type AdmittedRole,
  bytesToHex,
  type ChainParams,
  FEE_PARAM_PREFIX,
  GOV_PARAMS,
  type OpName,
  type OpOf,
  PROTOCOL_VERSION,
  type ProposalAction,
  RoamError,
} from '@roamchain/protocol';
import { ApplyCtx } from './context.js';
import { GK, type GovMeta, type GovOperator, type GovVote, type Proposal } from './gov-objects.js';
import { Overlay } from './ledger.js';
import { type Account, K, type Validator } from './objects.js';
import { byName, epochOf, requireNonEmptyNextSet, setActiveIndex } from './validators.js';

export const GOV_EXEC_QUEUE = 'gx';
export const GOV_DEADLINE_QUEUE = 'gd';
const bucket = (ms: bigint): bigint => ms / 1000n;

interface GovEnv {
  ctx: ApplyCtx;
  opHash: Uint8Array;
}

export function readGovMeta(s: { get<T>(k: string): T | undefined }): GovMeta {
  return s.get<GovMeta>(GK.meta) ?? { seq: 0n, pending: [], version: 1 };
}

function requireOperator(ctx: ApplyCtx, account: string): GovOperator {
  const a = ctx.account(account);
  const rec = ctx.o.get<GovOperator>(GK.operator(account));
  if (!a.roles.includes('operator') || !rec) {
    throw new RoamError('GOV_NOT_OPERATOR', `${account} is not an admitted operator`, { account });
  }
  return rec;
}

function getProposal(ctx: ApplyCtx, id: Uint8Array): Proposal {
  const p = ctx.o.get<Proposal>(GK.proposal(bytesToHex(id)));
  if (!p) throw new RoamError('GOV_UNKNOWN', `proposal ${bytesToHex(id)} does not exist`);
  return p;
}

/** Admitted operators, sorted. */
export function operatorsOf(s: { get<T>(k: string): T | undefined }): string[] {
  return s.get<string[]>(GK.operators) ?? [];
}

function addOperator(o: Overlay, account: string, seq: bigint, height: bigint): void {
  const cur = operatorsOf(o);
  if (!cur.includes(account)) o.put(GK.operators, [...cur, account].sort(byName));
  const rec: GovOperator = {
    account,
    admittedSeq: seq,
    admittedAt: height,
    skipped: 0,
    idle: false,
    lastVoteAt: 0n,
  };
  o.put(GK.operator(account), rec);
}

/** Genesis: the operators of the genesis are the first electorate (the bootstrap authority). */
export function initGovernance(
  o: Overlay,
  accounts: readonly { name: string; roles: readonly string[] }[],
): void {
  o.put(GK.meta, { seq: 0n, pending: [], version: 1 } satisfies GovMeta);
  o.put(GK.operators, []);
  for (const a of accounts) if (a.roles.includes('operator')) addOperator(o, a.name, 0n, 0n);
}

/** Touches the participation record after a vote: the streak of skips ends, an idle operator is back. */
function participated(ctx: ApplyCtx, rec: GovOperator): void {
  if (rec.idle) ctx.emit({ type: 'operator_active', operator: rec.account });
  ctx.o.put(GK.operator(rec.account), { ...rec, skipped: 0, idle: false, lastVoteAt: ctx.time });
}

function recordVote(ctx: ApplyCtx, p: Proposal, voter: string, approve: boolean): Proposal {
  const idHex = bytesToHex(p.id);
  ctx.o.put(GK.vote(idHex, voter), { approve, at: ctx.time } satisfies GovVote);
  let next: Proposal = { ...p, yes: p.yes + (approve ? 1 : 0), no: p.no + (approve ? 0 : 1) };
  if (next.status === 'open') {
    if (next.yes * 3 > next.electorate * 2) {
      next = { ...next, status: 'passed', passedAt: ctx.time };
      ctx.enqueue(GOV_EXEC_QUEUE, bucket(ctx.time), p.id);
      ctx.emit({ type: 'proposal_passed', proposal: idHex, yes: next.yes, electorate: next.electorate });
    } else if ((next.electorate - next.no) * 3 <= next.electorate * 2) {
      // Not enough operators left who could vote yes.
      next = { ...next, status: 'rejected', closedAt: ctx.time };
      ctx.emit({ type: 'proposal_rejected', proposal: idHex, no: next.no, electorate: next.electorate });
    }
  }
  ctx.o.put(GK.proposal(idHex), next);
  return next;
}

export function evalProposalCreate(op: OpOf<'proposal_create'>, { ctx, opHash }: GovEnv): void {
  const p = ctx.params;
  const rec = requireOperator(ctx, op.proposer);
  const min = ctx.time + p.govMinVotingMs;
  const max = ctx.time + p.govMaxVotingMs;
  if (op.deadline < min || op.deadline > max) {
    throw new RoamError('GOV_DEADLINE_INVALID', `deadline must be ${min}..${max} (block time ms)`, {
      min: min.toString(),
      max: max.toString(),
    });
  }
  const openKey = GK.open(op.proposer);
  const open = ctx.o.get<number>(openKey) ?? 0;
  if (open >= p.govMaxOpenProposals) {
    throw new RoamError('GOV_TOO_MANY', `${op.proposer} has ${open} open proposals`, { open });
  }
  const a = op.action;
  if (a.account !== undefined) ctx.account(a.account);
  const meta = readGovMeta(ctx.o);
  const seq = meta.seq + 1n;
  ctx.o.put(GK.meta, { ...meta, seq });
  ctx.o.put(openKey, open + 1);
  const electorate = operatorsOf(ctx.o).length;
  const prop: Proposal = {
    id: opHash,
    seq,
    proposer: op.proposer,
    action: a,
    note: op.note,
    createdAt: ctx.time,
    createdHeight: ctx.height,
    deadline: op.deadline,
    electorate,
    yes: 0,
    no: 0,
    status: 'open',
    passedAt: 0n,
    closedAt: 0n,
    result: '',
    tallied: false,
  };
  ctx.o.put(GK.proposal(bytesToHex(opHash)), prop);
  ctx.enqueue(GOV_DEADLINE_QUEUE, bucket(op.deadline), opHash);
  ctx.emit({
    type: 'proposal_created',
    proposal: bytesToHex(opHash),
    seq,
    proposer: op.proposer,
    kind: a.kind,
    deadline: op.deadline,
    electorate,
  });
  // Proposing is voting yes.
  recordVote(ctx, prop, op.proposer, true);
  participated(ctx, rec);
}

export function evalProposalVote(op: OpOf<'proposal_vote'>, { ctx }: GovEnv): void {
  const rec = requireOperator(ctx, op.voter);
  const p = getProposal(ctx, op.proposal);
  const idHex = bytesToHex(p.id);
  if (ctx.time >= p.deadline) throw new RoamError('GOV_CLOSED', `voting on ${idHex} ended at ${p.deadline}`);
  if (rec.admittedSeq >= p.seq) {
    throw new RoamError('GOV_NOT_ELIGIBLE', `${op.voter} was admitted after proposal #${p.seq} was made`);
  }
  if (ctx.o.get(GK.vote(idHex, op.voter)) !== undefined) {
    throw new RoamError('GOV_DUPLICATE_VOTE', `${op.voter} already voted on ${idHex}`);
  }
  const next = recordVote(ctx, p, op.voter, op.approve);
  participated(ctx, rec);
  ctx.emit({
    type: 'proposal_voted',
    proposal: idHex,
    voter: op.voter,
    approve: op.approve,
    yes: next.yes,
    no: next.no,
    status: next.status,
  });
}

// ------------------------------------------------------------------ execution

function grantRole(ctx: ApplyCtx, account: string, role: AdmittedRole): Account {
  const a = ctx.account(account);
  if (a.roles.includes(role)) throw new RoamError('GOV_INVALID', `${account} already has role ${role}`);
  if (a.roles.includes('subscriber'))
    throw new RoamError('ROLE_INVALID', `${account} is a subscriber account`);
  const next = { ...a, roles: [...a.roles, role] };
  ctx.o.put(K.account(account), next);
  return next;
}

/** Writes a parameter into a params record (a copy). */
export function withParam(params: ChainParams, param: string, value: bigint): ChainParams {
  if (param.startsWith(FEE_PARAM_PREFIX)) {
    const op = param.slice(FEE_PARAM_PREFIX.length) as OpName;
    return { ...params, fees: { ...params.fees, [op]: value } };
  }
  const cur = (params as unknown as Record<string, unknown>)[param];
  return { ...params, [param]: typeof cur === 'bigint' ? value : Number(value) };
}

function checkParamsConsistent(p: ChainParams): void {
  if (p.communityFeeBps + p.miniNodeFeeBps > 10_000)
    throw new RoamError('GOV_PARAM_INVALID', 'communityFeeBps + miniNodeFeeBps above 100 %');
  if (p.minStepTimeoutSec > p.maxStepTimeoutSec || p.minLifetimeSec > p.maxLifetimeSec)
    throw new RoamError('GOV_PARAM_INVALID', 'a minimum above its maximum');
  if (p.govMinVotingMs > p.govMaxVotingMs)
    throw new RoamError('GOV_PARAM_INVALID', 'govMinVotingMs above govMaxVotingMs');
}

function execute(ctx: ApplyCtx, p: Proposal): void {
  const a: ProposalAction = p.action;
  const idHex = bytesToHex(p.id);
  switch (a.kind) {
    case 'admit': {
      const account = a.account!;
      const role = a.role!;
      grantRole(ctx, account, role);
      if (role === 'operator') addOperator(ctx.o, account, readGovMeta(ctx.o).seq, ctx.height);
      ctx.o.put(GK.profile(account, role), {
        account,
        role,
        displayName: a.displayName,
        country: a.country!,
        networks: a.networks,
        admittedAt: ctx.height,
        proposal: p.id,
      });
      ctx.emit({ type: 'role_admitted', account, role, proposal: idHex, displayName: a.displayName });
      return;
    }
    case 'remove': {
      const account = a.account!;
      const role = a.role!;
      const acct = ctx.account(account);
      if (!acct.roles.includes(role)) throw new RoamError('GOV_INVALID', `${account} has no role ${role}`);
      if (role === 'operator') {
        const ops = operatorsOf(ctx.o);
        if (ops.length <= 1) throw new RoamError('GOV_INVALID', 'the last operator cannot be removed');
        ctx.o.put(
          GK.operators,
          ops.filter((x) => x !== account),
        );
        ctx.o.del(GK.operator(account));
      }
      ctx.o.put(K.account(account), { ...acct, roles: acct.roles.filter((r) => r !== role) });
      ctx.o.del(GK.profile(account, role));
      ctx.emit({ type: 'role_removed', account, role, proposal: idHex });
      return;
    }
    case 'validator_register': {
      const account = a.account!;
      const nodeKey = a.nodeKey!;
      ctx.account(account);
      const key = K.validator(account);
      const prev = ctx.o.get<Validator>(key);
      const kk = K.nodeKey(bytesToHex(nodeKey));
      const owner = ctx.o.get<string>(kk);
      if (owner !== undefined && owner !== account)
        throw new RoamError('VALIDATOR_KEY_TAKEN', `the node key belongs to validator ${owner}`);
      if (prev?.status === 'active') throw new RoamError('VALIDATOR_STATUS', `${account} is already active`);
      if (prev) ctx.o.del(K.nodeKey(bytesToHex(prev.nodeKey)));
      ctx.o.put(kk, account);
      const v: Validator = prev
        ? { ...prev, status: 'active', nodeKey, updatedAt: ctx.time }
        : {
            account,
            nodeKey,
            bond: 0n,
            status: 'active',
            slashed: 0n,
            jailedAt: 0n,
            unbonding: 0n,
            createdAt: ctx.time,
            updatedAt: ctx.time,
          };
      ctx.o.put(key, v);
      setActiveIndex(ctx, account, true);
      ctx.emit({ type: 'validator_status', authority: `proposal:${idHex}`, account, status: 'active' });
      return;
    }
    case 'validator_remove': {
      const account = a.account!;
      const key = K.validator(account);
      const prev = ctx.o.get<Validator>(key);
      if (!prev) throw new RoamError('VALIDATOR_UNKNOWN', `${account} has no validator record`);
      if (prev.status === 'removed') throw new RoamError('VALIDATOR_STATUS', `${account} was removed`);
      ctx.o.put(key, { ...prev, status: 'removed', updatedAt: ctx.time });
      setActiveIndex(ctx, account, false);
      requireNonEmptyNextSet(ctx);
      ctx.emit({ type: 'validator_status', authority: `proposal:${idHex}`, account, status: 'removed' });
      return;
    }
    case 'param': {
      const bound = Object.hasOwn(GOV_PARAMS, a.param) ? GOV_PARAMS[a.param] : undefined;
      const params = ctx.o.get<ChainParams>(K.params)!;
      checkParamsConsistent(withParam(params, a.param, a.value));
      if (bound?.epoch) {
        const meta = readGovMeta(ctx.o);
        const pending = [
          ...meta.pending.filter((c) => c.param !== a.param),
          { param: a.param, value: a.value },
        ];
        ctx.o.put(GK.meta, { ...meta, pending });
        ctx.emit({ type: 'param_scheduled', param: a.param, value: a.value, proposal: idHex });
      } else {
        ctx.o.put(K.params, withParam(params, a.param, a.value));
        ctx.emit({ type: 'param_changed', param: a.param, value: a.value, proposal: idHex });
      }
      return;
    }
    case 'upgrade': {
      if (a.value <= ctx.height) throw new RoamError('GOV_INVALID', `height ${a.value} has passed`);
      // The version in force now becomes the base; a pending (not yet active) upgrade is replaced.
      const version = protocolVersionAt(ctx.o, ctx.height);
      if (a.version <= version) {
        throw new RoamError(
          'GOV_INVALID',
          `protocol version ${version} is in force: an upgrade names a higher one`,
        );
      }
      const meta = readGovMeta(ctx.o);
      ctx.o.put(GK.meta, {
        ...meta,
        version,
        upgrade: { version: a.version, height: a.value, proposal: p.id },
      });
      ctx.emit({ type: 'upgrade_scheduled', version: a.version, height: a.value, proposal: idHex });
      return;
    }
  }
}

/** Executes a passed proposal in its own overlay: a failure marks it `failed` and changes nothing else. */
function executeProposal(ctx: ApplyCtx, p: Proposal): void {
  const sub = new Overlay(ctx.o);
  const sctx = new ApplyCtx(sub, ctx.params, ctx.height, ctx.time);
  let next: Proposal;
  try {
    execute(sctx, p);
    sub.mergeInto(ctx.o);
    for (const e of sctx.events) ctx.emit(e);
    next = { ...p, status: 'executed', closedAt: ctx.time };
  } catch (e) {
    if (!(e instanceof RoamError)) throw e;
    next = { ...p, status: 'failed', closedAt: ctx.time, result: `${e.code}: ${e.message}`.slice(0, 200) };
  }
  ctx.o.put(GK.proposal(bytesToHex(p.id)), next);
  ctx.emit({
    type: 'proposal_executed',
    proposal: bytesToHex(p.id),
    kind: p.action.kind,
    status: next.status,
    result: next.result,
  });
}

/** Deadline: an open proposal is rejected; every eligible operator that did not vote skipped one. */
function closeAtDeadline(ctx: ApplyCtx, p: Proposal): void {
  const idHex = bytesToHex(p.id);
  let next = p;
  if (p.status === 'open') {
    next = { ...p, status: 'rejected', closedAt: ctx.time };
    ctx.emit({ type: 'proposal_rejected', proposal: idHex, yes: p.yes, electorate: p.electorate });
  }
  ctx.o.put(GK.proposal(idHex), { ...next, tallied: true });
  const openKey = GK.open(p.proposer);
  const open = (ctx.o.get<number>(openKey) ?? 1) - 1;
  if (open > 0) ctx.o.put(openKey, open);
  else ctx.o.del(openKey);
  const k = ctx.params.govMaxSkips;
  for (const op of operatorsOf(ctx.o)) {
    const rec = ctx.o.get<GovOperator>(GK.operator(op));
    if (!rec || rec.admittedSeq >= p.seq) continue;
    if (ctx.o.get(GK.vote(idHex, op)) !== undefined) continue;
    const skipped = rec.skipped + 1;
    const idle = rec.idle || skipped >= k;
    ctx.o.put(GK.operator(op), { ...rec, skipped, idle });
    if (idle && !rec.idle) ctx.emit({ type: 'operator_idle', operator: op, skipped });
  }
}

/**
 * The protocol version in force at `height` as the state knows it (heights from the state's own
 * on): the voted upgrade's version from its height, else the version in force before it.
 */
export function protocolVersionAt(s: { get<T>(k: string): T | undefined }, height: bigint): number {
  const meta = readGovMeta(s);
  const up = meta.upgrade;
  return up && height >= up.height ? up.version : meta.version;
}

/**
 * Refuses to build or apply block `height` when a voted protocol version above `implemented` (this
 * software's, or less if the node is told so) is in force there: the node stops before that height
 * and says why.
 */
export function requireKnownProtocol(
  s: { get<T>(k: string): T | undefined },
  height: bigint,
  implemented: number = PROTOCOL_VERSION,
): void {
  const v = protocolVersionAt(s, height);
  if (v > implemented) {
    const up = readGovMeta(s).upgrade!;
    throw new RoamError(
      'UPGRADE_REQUIRED',
      `protocol version ${v} is in force from height ${up.height} (proposal ${bytesToHex(up.proposal)}); ` +
        `this node implements version ${implemented}: upgrade it to go on`,
      { version: v, height: up.height.toString(), implemented },
    );
  }
}

export type Drain = (
  queue: string,
  dueAt: (id: Uint8Array) => bigint | undefined,
  each: (id: Uint8Array) => void,
) => void;

/**
 * Block-end work of governance: passed proposals are executed, deadlines close proposals and count
 * participation, and the last block of an epoch writes the pending epoch-bound parameters.
 */
export function governanceEnd(ctx: ApplyCtx, drain: Drain): void {
  const prop = (id: Uint8Array) => ctx.o.get<Proposal>(GK.proposal(bytesToHex(id)));
  drain(
    GOV_EXEC_QUEUE,
    (id) => {
      const p = prop(id);
      return p?.status === 'passed' ? p.passedAt : undefined;
    },
    (id) => executeProposal(ctx, prop(id)!),
  );
  drain(
    GOV_DEADLINE_QUEUE,
    (id) => {
      const p = prop(id);
      return p && !p.tallied ? p.deadline : undefined;
    },
    (id) => closeAtDeadline(ctx, prop(id)!),
  );
  const p = ctx.params;
  if (ctx.height % BigInt(p.epochLength) !== 0n) return;
  const meta = readGovMeta(ctx.o);
  if (meta.pending.length === 0) return;
  let params = ctx.o.get<ChainParams>(K.params)!;
  for (const c of meta.pending) params = withParam(params, c.param, c.value);
  ctx.o.put(K.params, params);
  ctx.o.put(GK.meta, { ...meta, pending: [] });
  ctx.emit({
    type: 'params_applied',
    epoch: epochOf(p, ctx.height) + 1n,
    changes: meta.pending.map((c) => ({ param: c.param, value: c.value })),
  });
}
