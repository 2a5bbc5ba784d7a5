/**
 * Evaluators: check an operation against state, then apply it (Graphene's split; the stateless
 * half lives in @roamchain/protocol's `validate`). Each throws a RoamError and writes only to the
 * transaction's overlay, so a failure leaves no trace.
 */
import {
  BPS,
  bytesToHex,
  contractIdOf,
  equalBytes,
  nobleVerifier,
  type OfferTerms,
  type Operation,
  type OpName,
  type OpOf,
  RoamError,
  type SignatureVerifier,
  U64_MAX,
  voteSignBytes,
} from '@roamchain/protocol';
import {
  admitDemand,
  demandOf,
  releaseDemand,
  requireFeeDepositForSteps,
  requireOfferFor,
  requireWithinDemand,
  withBadService,
  withRating,
} from './abuse.js';
import { type ApplyCtx, issuerFee } from './context.js';
import { evalPriceFeed } from './feeds.js';
import { evalProposalCreate, evalProposalVote } from './governance.js';
import { evalMiniAttach, evalMiniAttest, evalMiniBond, evalMiniFraud, evalMiniUnbond } from './mini.js';
import { noteMiniActivity } from './mini-importance.js';
import {
  type Account,
  type Attestation,
  type ChainMeta,
  type Contract,
  type Demand,
  K,
  MAX_PENDING_UNBONDING,
  type Offer,
  type OperatorStats,
  type Supply,
  type Unbonding,
  type Validator,
} from './objects.js';
import { noteProvisioned, noteRequestOpened } from './service.js';
import { evalContractTopup, evalOfferPause, requireOfferOnSale } from './topup.js';
import {
  dropFromCurrentSet,
  epochOf,
  evidenceWindowOpen,
  requireNonEmptyNextSet,
  requireValidator,
  setActiveIndex,
  storedSetAt,
} from './validators.js';

/** Everything an evaluator needs besides the operation. */
export interface OpEnv {
  ctx: ApplyCtx;
  /** Hash of this operation (id of what it creates, new head of what it advances). */
  opHash: Uint8Array;
  /** The operation's UMT fee; evaluators of contract-paid operations take it from the fee deposit. */
  fee: bigint;
  /**
   * The block's signature checker. Signatures inside an operation (evidence) are part of its
   * validity, so when the envelope checks are skipped (null) they are checked with the pure-JS one.
   */
  verifier?: SignatureVerifier | null;
}

export const EXPIRY_QUEUE = 'ssc';
/** Unbonded UMT waiting for its release time. */
export const UNBOND_QUEUE = 'unb';
/** Queue buckets are whole seconds: an entry due at t ms goes to bucket floor(t / 1000). */
export const bucketOf = (ms: bigint): bigint => ms / 1000n;

const emptyStats = (): OperatorStats => ({
  contracts: 0,
  closed: 0,
  badService: 0,
  ratingSum: 0,
  ratingCount: 0,
  charged: 0n,
  ratingWeight: 0n,
  ratingScoreWeight: 0n,
  badServiceWeight: 0n,
});

function stats(ctx: ApplyCtx, op: string): OperatorStats {
  return ctx.o.get<OperatorStats>(K.stats(op)) ?? emptyStats();
}

function getContract(ctx: ApplyCtx, id: Uint8Array): Contract {
  const c = ctx.o.get<Contract>(K.contract(bytesToHex(id)));
  if (!c) throw new RoamError('SSC_UNKNOWN', `contract ${bytesToHex(id)} does not exist`);
  return c;
}

function getOffer(ctx: ApplyCtx, id: Uint8Array): Offer {
  const o = ctx.o.get<Offer>(K.offer(bytesToHex(id)));
  if (!o) throw new RoamError('OFFER_UNKNOWN', `offer ${bytesToHex(id)} does not exist`);
  return o;
}

function requireHead(c: Contract, prev: Uint8Array): void {
  if (!equalBytes(c.head, prev)) {
    throw new RoamError('SSC_NOT_HEAD', `prev ${bytesToHex(prev)} is not the head ${bytesToHex(c.head)}`, {
      head: bytesToHex(c.head),
    });
  }
}

/** The checks every assignee step (Provision, Charge) passes: party, open, head, lifetime, step timeout. */
function assigneeStep(
  ctx: ApplyCtx,
  op: { assignee: string; contract: Uint8Array; prev: Uint8Array },
): Contract {
  const c = getContract(ctx, op.contract);
  if (op.assignee !== c.assignee) throw new RoamError('SSC_NOT_PARTY', `${op.assignee} is not the assignee`);
  if (c.status !== 'open') throw new RoamError('SSC_CLOSED');
  requireHead(c, op.prev);
  if (ctx.time >= c.expiresAt) throw new RoamError('SSC_EXPIRED');
  if (ctx.time > c.lastStepAt + BigInt(c.stepTimeoutSec) * 1000n) throw new RoamError('SSC_TIMEOUT');
  return c;
}

function putContract(ctx: ApplyCtx, c: Contract): void {
  ctx.o.put(K.contract(bytesToHex(c.id)), c);
}

/**
 * Settles a contract in one step (Refund, or the chain at end of life): the assignee gets the
 * charges, the issuer its fee on them, the payer the rest of the deposit, and the issuer the
 * UMT fee deposit that is left.
 */
export function settle(
  ctx: ApplyCtx,
  c: Contract,
  by: string,
  badService: boolean,
  reason: number,
  head: Uint8Array,
): Contract {
  const toIssuer = issuerFee(c.charged, c.issuerFeeBps);
  const toAssignee = c.charged;
  const toPayer = c.deposit - toAssignee - toIssuer;
  if (toPayer < 0n) throw new RoamError('INTERNAL', 'contract over-charged');
  ctx.credit(c.assignee, 'SDR', toAssignee);
  ctx.credit(c.issuer, 'SDR', toIssuer);
  ctx.credit(c.payer, 'SDR', toPayer);
  ctx.credit(c.issuer, 'UMT', c.feeDeposit);
  // SDR the payer spent: Proof of Importance of a Mini Node owner (mini-importance.ts).
  noteMiniActivity(ctx, c.payer, toAssignee + toIssuer, 0);
  const closed: Contract = {
    ...c,
    head,
    status: 'closed',
    closedAt: ctx.time,
    closedBy: by,
    badService,
    reason,
    paidAssignee: toAssignee,
    paidIssuer: toIssuer,
    paidPayer: toPayer,
    feeReturned: c.feeDeposit,
    feeDeposit: 0n,
  };
  putContract(ctx, closed);
  const offer = ctx.o.get<Offer>(K.offer(bytesToHex(c.offer)));
  if (offer) ctx.o.put(K.offer(bytesToHex(c.offer)), { ...offer, openContracts: offer.openContracts - 1 });
  const s = withBadService(stats(ctx, c.assignee), c, badService);
  ctx.o.put(K.stats(c.assignee), { ...s, closed: s.closed + 1, charged: s.charged + c.charged });
  ctx.emit({
    type: 'contract_settled',
    contract: bytesToHex(c.id),
    by: by || 'chain',
    badService,
    reason,
    assignee: c.assignee,
    issuer: c.issuer,
    payer: c.payer,
    subscriber: c.subscriber,
    toAssignee,
    toIssuer,
    toPayer,
    feeReturned: c.feeDeposit,
  });
  return closed;
}

type Evaluator<K extends OpName> = (op: OpOf<K>, env: OpEnv) => void;

function coverageOverlaps(t: OfferTerms, d: Demand): boolean {
  return t.countries.some((c) => d.countries.includes(c)) || t.networks.some((n) => d.networks.includes(n));
}

export const EVALUATORS: { [K in OpName]: Evaluator<K> } = {
  transfer(op, { ctx }) {
    ctx.account(op.to);
    ctx.debit(op.from, op.token, op.amount);
    ctx.credit(op.to, op.token, op.amount);
    ctx.emit({ type: 'transfer', from: op.from, to: op.to, token: op.token, amount: op.amount });
  },

  account_create(op, { ctx }) {
    if (ctx.o.get(K.account(op.name))) throw new RoamError('ACCOUNT_EXISTS', `account ${op.name} exists`);
    let roles: Account['roles'] = [];
    if (op.homeOperator !== undefined) {
      // Only an operator creates its own subscribers (it did the KYC when it sold the SIM).
      if (op.homeOperator !== op.creator) {
        throw new RoamError('ROLE_REQUIRED', 'a subscriber is created by its home operator');
      }
      ctx.requireRole(op.creator, 'operator');
      roles = ['subscriber'];
    }
    const a: Account = {
      name: op.name,
      signingKey: op.signingKey,
      encryptionKey: op.encryptionKey,
      roles,
      createdAt: ctx.time,
      vestingTotal: 0n,
      vestingStart: 0n,
      ...(op.homeOperator !== undefined ? { homeOperator: op.homeOperator } : {}),
    };
    ctx.o.put(K.account(op.name), a);
    ctx.emit({ type: 'account_created', account: op.name, creator: op.creator, roles });
  },

  account_update_keys(op, { ctx }) {
    const a = ctx.account(op.account);
    ctx.o.put(K.account(op.account), {
      ...a,
      signingKey: op.signingKey ?? a.signingKey,
      encryptionKey: op.encryptionKey ?? a.encryptionKey,
    });
    ctx.emit({ type: 'keys_updated', account: op.account });
  },

  sdr_issue(op, { ctx }) {
    ctx.requireRole(op.gateway, 'gateway');
    ctx.account(op.to);
    const refKey = K.paymentRef(op.gateway, op.paymentRef);
    if (ctx.o.get(refKey) !== undefined) {
      throw new RoamError('SDR_REF_USED', `payment reference ${op.paymentRef} was already used`);
    }
    ctx.o.put(refKey, ctx.height);
    const s = ctx.o.get<Supply>(K.supply)!;
    if (s.sdrMinted + op.amount > U64_MAX)
      throw new RoamError('AMOUNT_INVALID', 'SDR supply counter would overflow');
    ctx.o.put(K.supply, { ...s, sdrMinted: s.sdrMinted + op.amount });
    ctx.credit(op.to, 'SDR', op.amount);
    ctx.emit({
      type: 'sdr_issued',
      gateway: op.gateway,
      to: op.to,
      amount: op.amount,
      paymentRef: op.paymentRef,
    });
  },

  sdr_burn(op, { ctx }) {
    ctx.requireRole(op.gateway, 'gateway');
    const refKey = K.redemptionRef(op.gateway, op.redemptionRef);
    if (ctx.o.get(refKey) !== undefined) {
      throw new RoamError('SDR_REF_USED', `redemption reference ${op.redemptionRef} was already used`);
    }
    ctx.o.put(refKey, ctx.height);
    ctx.debit(op.gateway, 'SDR', op.amount);
    const s = ctx.o.get<Supply>(K.supply)!;
    ctx.o.put(K.supply, { ...s, sdrBurned: s.sdrBurned + op.amount });
    ctx.emit({ type: 'sdr_burned', gateway: op.gateway, amount: op.amount, redemptionRef: op.redemptionRef });
  },

  offer_publish(op, { ctx, opHash }) {
    ctx.requireRole(op.operator, 'operator', 'provider');
    if (op.terms.validUntil <= ctx.time) throw new RoamError('OFFER_INVALID', 'offer validity already over');
    if (op.demand) {
      const dKey = K.demand(bytesToHex(op.demand));
      const d = ctx.o.get<Demand>(dKey);
      if (!d) throw new RoamError('DEMAND_UNKNOWN', `demand ${bytesToHex(op.demand)} does not exist`);
      if (d.status !== 'open' || d.endAt <= ctx.time) throw new RoamError('DEMAND_CLOSED');
      if (!coverageOverlaps(op.terms, d))
        throw new RoamError('OFFER_INVALID', 'offer does not cover the demand');
      requireWithinDemand(op.terms, d);
      ctx.o.put(dKey, { ...d, answers: d.answers + 1 });
    }
    const o: Offer = {
      id: opHash,
      operator: op.operator,
      version: opHash,
      terms: op.terms,
      status: 'active',
      openContracts: 0,
      totalContracts: 0,
      createdAt: ctx.time,
      updatedAt: ctx.time,
      ...(op.demand ? { demand: op.demand } : {}),
    };
    ctx.o.put(K.offer(bytesToHex(opHash)), o);
    ctx.emit({ type: 'offer_published', offer: bytesToHex(opHash), operator: op.operator });
  },

  offer_replace(op, { ctx, opHash }) {
    const o = getOffer(ctx, op.offer);
    if (o.operator !== op.operator) throw new RoamError('OFFER_NOT_OWNER');
    if (o.status === 'withdrawn')
      throw new RoamError('OFFER_INACTIVE', 'a withdrawn offer cannot be replaced');
    if (op.terms.validUntil <= ctx.time) throw new RoamError('OFFER_INVALID', 'offer validity already over');
    const answered = demandOf(ctx, o);
    if (answered) requireWithinDemand(op.terms, answered);
    ctx.o.put(K.offer(bytesToHex(o.id)), { ...o, terms: op.terms, version: opHash, updatedAt: ctx.time });
    ctx.emit({
      type: 'offer_replaced',
      offer: bytesToHex(o.id),
      operator: o.operator,
      version: bytesToHex(opHash),
    });
  },

  offer_withdraw(op, { ctx }) {
    const o = getOffer(ctx, op.offer);
    if (o.operator !== op.operator) throw new RoamError('OFFER_NOT_OWNER');
    if (o.status === 'withdrawn') throw new RoamError('OFFER_INACTIVE', 'offer already withdrawn');
    ctx.o.put(K.offer(bytesToHex(o.id)), { ...o, status: 'withdrawn', updatedAt: ctx.time });
    ctx.emit({ type: 'offer_withdrawn', offer: bytesToHex(o.id), operator: o.operator });
  },

  request_open(op, { ctx, opHash }) {
    const p = ctx.params;
    ctx.requireRole(op.issuer, 'operator');
    const sub = ctx.account(op.subscriber);
    if (!sub.roles.includes('subscriber') || sub.homeOperator !== op.issuer) {
      throw new RoamError('SSC_NOT_SUBSCRIBER', `${op.subscriber} is not a subscriber of ${op.issuer}`);
    }
    const offer = getOffer(ctx, op.offer);
    const t = offer.terms;
    requireOfferOnSale(ctx, offer);
    if (!equalBytes(offer.version, op.prev)) {
      throw new RoamError('OFFER_VERSION_STALE', `current version is ${bytesToHex(offer.version)}`, {
        version: bytesToHex(offer.version),
      });
    }
    if (offer.openContracts >= t.capacity) throw new RoamError('OFFER_FULL');
    requireOfferFor(ctx, offer, op.subscriber);
    requireFeeDepositForSteps(ctx, op.feeDeposit);
    if (op.attestation) {
      const att = ctx.o.get<Attestation>(K.attestation(op.subscriber));
      if (!att) throw new RoamError('IDENTITY_UNKNOWN', `${op.subscriber} has no attestation`);
      if (!equalBytes(att.id, op.attestation))
        throw new RoamError('IDENTITY_INVALID', 'not the current attestation');
      if (att.revokedAt !== 0n) throw new RoamError('IDENTITY_INVALID', 'attestation revoked');
      if (att.expiresAt <= ctx.time) throw new RoamError('IDENTITY_INVALID', 'attestation expired');
    }
    if (op.stepTimeoutSec < p.minStepTimeoutSec || op.stepTimeoutSec > p.maxStepTimeoutSec) {
      throw new RoamError(
        'SSC_TERMS_INVALID',
        `step timeout must be ${p.minStepTimeoutSec}..${p.maxStepTimeoutSec} s`,
      );
    }
    if (op.lifetimeSec < p.minLifetimeSec || op.lifetimeSec > p.maxLifetimeSec) {
      throw new RoamError('SSC_TERMS_INVALID', `lifetime must be ${p.minLifetimeSec}..${p.maxLifetimeSec} s`);
    }
    const needed = t.price + issuerFee(t.price, op.issuerFeeBps);
    if (op.deposit < needed) {
      throw new RoamError('SSC_DEPOSIT_LOW', `deposit ${op.deposit} below price plus fee ${needed}`, {
        needed: needed.toString(),
      });
    }
    const meta = ctx.o.get<ChainMeta>(K.meta)!;
    const id = contractIdOf(meta.chainId, op.ephemeralKey);
    if (ctx.o.get(K.contract(bytesToHex(id)))) {
      throw new RoamError('SSC_EXISTS', 'the ephemeral key was used by another contract: use a fresh one');
    }
    ctx.debit(op.payer, 'SDR', op.deposit);
    ctx.debit(op.issuer, 'UMT', op.feeDeposit);
    const expiresAt = ctx.time + BigInt(op.lifetimeSec) * 1000n;
    const c: Contract = {
      id,
      offer: offer.id,
      offerVersion: offer.version,
      issuer: op.issuer,
      assignee: offer.operator,
      payer: op.payer,
      subscriber: op.subscriber,
      price: t.price,
      unitPrice: t.unitPrice,
      unit: t.unit,
      kind: t.kind,
      dataBytes: t.dataBytes,
      durationSec: t.durationSec,
      deposit: op.deposit,
      issuerFeeBps: op.issuerFeeBps,
      feeDeposit: op.feeDeposit,
      ephemeralKey: op.ephemeralKey,
      stepTimeoutSec: op.stepTimeoutSec,
      lifetimeSec: op.lifetimeSec,
      openedAt: ctx.time,
      lastStepAt: ctx.time,
      expiresAt,
      head: opHash,
      charged: 0n,
      chargeCount: 0,
      volumeUp: 0n,
      volumeDown: 0n,
      status: 'open',
      closedAt: 0n,
      closedBy: '',
      badService: false,
      reason: 0,
      paidAssignee: 0n,
      paidIssuer: 0n,
      paidPayer: 0n,
      feeReturned: 0n,
      score: 0,
      provisionedAt: 0n,
      ...(op.attestation ? { attestation: op.attestation } : {}),
    };
    putContract(ctx, c);
    ctx.o.put(K.offer(bytesToHex(offer.id)), {
      ...offer,
      openContracts: offer.openContracts + 1,
      totalContracts: offer.totalContracts + 1,
    });
    const s = stats(ctx, offer.operator);
    ctx.o.put(K.stats(offer.operator), { ...s, contracts: s.contracts + 1 });
    ctx.enqueue(EXPIRY_QUEUE, bucketOf(expiresAt), id);
    noteRequestOpened(ctx, c);
    ctx.emit({
      type: 'contract_opened',
      contract: bytesToHex(id),
      offer: bytesToHex(offer.id),
      issuer: op.issuer,
      assignee: offer.operator,
      payer: op.payer,
      subscriber: op.subscriber,
      deposit: op.deposit,
      expiresAt,
    });
  },

  charge(op, { ctx, opHash, fee }) {
    const c = assigneeStep(ctx, op);
    const r = op.record;
    if (r.seq !== c.chargeCount + 1) {
      throw new RoamError('SSC_BAD_SEQUENCE', `expected charge #${c.chargeCount + 1}, got #${r.seq}`);
    }
    if (c.volumeUp + r.volumeUp > U64_MAX || c.volumeDown + r.volumeDown > U64_MAX) {
      throw new RoamError('SSC_CHARGE_INVALID', 'usage volume counters would overflow');
    }
    const charged = c.charged + r.amount;
    const total = charged + issuerFee(charged, c.issuerFeeBps);
    if (total > c.deposit) {
      throw new RoamError(
        'SSC_OVERCHARGE',
        `charges plus issuer fee ${total} exceed the deposit ${c.deposit}`,
        {
          deposit: c.deposit.toString(),
          charged: c.charged.toString(),
          available: (c.deposit - c.charged - issuerFee(c.charged, c.issuerFeeBps)).toString(),
        },
      );
    }
    if (c.feeDeposit < fee) {
      throw new RoamError('BALANCE_LOW', 'the contract fee deposit cannot pay this charge', {
        feeDeposit: c.feeDeposit.toString(),
      });
    }
    ctx.fees += fee;
    putContract(ctx, {
      ...c,
      feeDeposit: c.feeDeposit - fee,
      head: opHash,
      charged,
      chargeCount: r.seq,
      lastStepAt: ctx.time,
      volumeUp: c.volumeUp + r.volumeUp,
      volumeDown: c.volumeDown + r.volumeDown,
    });
    // The assignee's first step within the timeout is what the service window counts (service.ts).
    if (c.provisionedAt === 0n && c.chargeCount === 0) noteProvisioned(ctx, c);
    ctx.emit({
      type: 'contract_charged',
      contract: bytesToHex(c.id),
      assignee: c.assignee,
      issuer: c.issuer,
      payer: c.payer,
      subscriber: c.subscriber,
      seq: r.seq,
      amount: r.amount,
      charged,
      usageType: r.usageType,
    });
  },

  provision(op, { ctx, opHash, fee }) {
    const c = assigneeStep(ctx, op);
    if (c.provisionedAt !== 0n) throw new RoamError('SSC_PROVISIONED');
    if (c.feeDeposit < fee)
      throw new RoamError('BALANCE_LOW', 'the contract fee deposit cannot pay this step');
    ctx.fees += fee;
    putContract(ctx, {
      ...c,
      feeDeposit: c.feeDeposit - fee,
      head: opHash,
      lastStepAt: ctx.time,
      iccidHash: op.iccidHash,
      provisionedAt: ctx.time,
    });
    if (c.chargeCount === 0) noteProvisioned(ctx, c);
    ctx.emit({
      type: 'contract_provisioned',
      contract: bytesToHex(c.id),
      assignee: c.assignee,
      issuer: c.issuer,
      payer: c.payer,
      subscriber: c.subscriber,
      iccidHash: bytesToHex(op.iccidHash),
    });
  },

  refund(op, { ctx, opHash, fee }) {
    const c = getContract(ctx, op.contract);
    if (op.by !== c.assignee && op.by !== c.issuer && op.by !== c.subscriber && op.by !== c.payer) {
      throw new RoamError('SSC_NOT_PARTY', `${op.by} is not a party of the contract`);
    }
    if (c.status !== 'open') throw new RoamError('SSC_CLOSED', 'contract already closed');
    requireHead(c, op.prev);
    // A party can always close: the fee is what the deposit still holds, up to the schedule's fee.
    const take = c.feeDeposit < fee ? c.feeDeposit : fee;
    ctx.fees += take;
    settle(ctx, { ...c, feeDeposit: c.feeDeposit - take }, op.by, op.badService, op.reason, opHash);
  },

  rate(op, { ctx }) {
    const c = getContract(ctx, op.contract);
    if (op.subscriber !== c.subscriber) throw new RoamError('SSC_NOT_PARTY', 'only the subscriber rates');
    if (c.status !== 'closed') throw new RoamError('RATE_NOT_CLOSED');
    if (c.score !== 0) throw new RoamError('RATE_DUPLICATE');
    const s = withRating(stats(ctx, c.assignee), c, op.score);
    putContract(ctx, { ...c, score: op.score });
    ctx.o.put(K.stats(c.assignee), s);
    ctx.emit({ type: 'contract_rated', contract: bytesToHex(c.id), assignee: c.assignee, score: op.score });
  },

  demand_post(op, { ctx, opHash }) {
    const a = ctx.account(op.subscriber);
    if (!a.roles.includes('subscriber'))
      throw new RoamError('ROLE_REQUIRED', 'only subscribers post demands');
    if (op.endAt <= ctx.time) throw new RoamError('DEMAND_INVALID', 'demand already over');
    admitDemand(ctx, op.subscriber, opHash, op.endAt);
    const d: Demand = {
      id: opHash,
      subscriber: op.subscriber,
      kind: op.kind,
      countries: op.countries,
      networks: op.networks,
      dataBytes: op.dataBytes,
      startAt: op.startAt,
      endAt: op.endAt,
      maxPrice: op.maxPrice,
      note: op.note,
      status: 'open',
      answers: 0,
      createdAt: ctx.time,
    };
    ctx.o.put(K.demand(bytesToHex(opHash)), d);
    ctx.emit({ type: 'demand_posted', demand: bytesToHex(opHash), subscriber: op.subscriber });
  },

  identity_attest(op, { ctx, opHash }) {
    ctx.requireRole(op.operator, 'operator');
    const sub = ctx.account(op.subscriber);
    if (!sub.roles.includes('subscriber') || sub.homeOperator !== op.operator) {
      throw new RoamError('IDENTITY_NOT_HOME', `${op.operator} is not the home operator of ${op.subscriber}`);
    }
    if (op.expiresAt <= ctx.time) throw new RoamError('TX_INVALID', 'attestation already expired');
    const att: Attestation = {
      id: opHash,
      subscriber: op.subscriber,
      operator: op.operator,
      digests: op.digests,
      level: op.level,
      issuedAt: ctx.time,
      expiresAt: op.expiresAt,
      revokedAt: 0n,
      revokeReason: 0,
    };
    // Re-attesting replaces the previous attestation.
    ctx.o.put(K.attestation(op.subscriber), att);
    ctx.emit({
      type: 'identity_attested',
      subscriber: op.subscriber,
      operator: op.operator,
      attestation: bytesToHex(opHash),
    });
  },

  identity_revoke(op, { ctx }) {
    const att = ctx.o.get<Attestation>(K.attestation(op.subscriber));
    if (!att) throw new RoamError('IDENTITY_UNKNOWN');
    if (att.operator !== op.operator) throw new RoamError('IDENTITY_NOT_HOME');
    if (att.revokedAt !== 0n) throw new RoamError('IDENTITY_INVALID', 'already revoked');
    ctx.o.put(K.attestation(op.subscriber), { ...att, revokedAt: ctx.time, revokeReason: op.reason });
    ctx.emit({
      type: 'identity_revoked',
      subscriber: op.subscriber,
      operator: op.operator,
      reason: op.reason,
    });
  },

  demand_cancel(op, { ctx }) {
    const key = K.demand(bytesToHex(op.demand));
    const d = ctx.o.get<Demand>(key);
    if (!d) throw new RoamError('DEMAND_UNKNOWN');
    if (d.subscriber !== op.subscriber)
      throw new RoamError('SSC_NOT_PARTY', 'only its subscriber cancels a demand');
    if (d.status !== 'open') throw new RoamError('DEMAND_CLOSED');
    ctx.o.put(key, { ...d, status: 'cancelled' });
    releaseDemand(ctx, d.subscriber, d.id);
    ctx.emit({ type: 'demand_cancelled', demand: bytesToHex(op.demand) });
  },

  validator_set(op, { ctx }) {
    const p = ctx.params;
    if (op.authority !== p.governance) {
      throw new RoamError('VALIDATOR_NOT_GOVERNANCE', `${op.authority} is not the governance authority`, {
        governance: p.governance,
      });
    }
    ctx.account(op.account);
    const key = K.validator(op.account);
    const prev = ctx.o.get<Validator>(key);
    if (!prev && op.status === 'removed') {
      throw new RoamError('VALIDATOR_UNKNOWN', `${op.account} has no validator record`, {
        account: op.account,
      });
    }
    if (!prev && !op.nodeKey) throw new RoamError('VALIDATOR_INVALID', 'a new validator needs a node key');
    const keyChanges = op.nodeKey !== undefined && !(prev && equalBytes(prev.nodeKey, op.nodeKey));
    if (prev && prev.status === op.status && !keyChanges) {
      throw new RoamError('VALIDATOR_STATUS', `${op.account} is already ${op.status}`);
    }
    if (keyChanges) {
      const kk = K.nodeKey(bytesToHex(op.nodeKey!));
      const owner = ctx.o.get<string>(kk);
      if (owner !== undefined && owner !== op.account) {
        throw new RoamError('VALIDATOR_KEY_TAKEN', `the node key belongs to validator ${owner}`, { owner });
      }
      if (prev) ctx.o.del(K.nodeKey(bytesToHex(prev.nodeKey)));
      ctx.o.put(kk, op.account);
    }
    const v: Validator = prev
      ? { ...prev, status: op.status, nodeKey: op.nodeKey ?? prev.nodeKey, updatedAt: ctx.time }
      : {
          account: op.account,
          nodeKey: op.nodeKey!,
          bond: 0n,
          status: op.status,
          slashed: 0n,
          jailedAt: 0n,
          unbonding: 0n,
          createdAt: ctx.time,
          updatedAt: ctx.time,
        };
    ctx.o.put(key, v);
    setActiveIndex(ctx, op.account, v.status === 'active');
    if (prev?.status === 'active' && v.status !== 'active') requireNonEmptyNextSet(ctx);
    ctx.emit({
      type: 'validator_status',
      authority: op.authority,
      account: op.account,
      status: v.status,
      previous: prev?.status ?? null,
      nodeKey: bytesToHex(v.nodeKey),
    });
  },

  validator_bond(op, { ctx }) {
    const key = K.validator(op.account);
    const v = requireValidator(ctx.o, op.account);
    if (v.status === 'removed') throw new RoamError('VALIDATOR_STATUS', `${op.account} was removed`);
    const bond = v.bond + op.amount;
    const min = ctx.params.minValidatorBond;
    if (bond < min) {
      throw new RoamError('VALIDATOR_BOND_LOW', `bond ${bond} is below the minimum ${min}`, {
        bond: bond.toString(),
        minimum: min.toString(),
      });
    }
    ctx.debit(op.account, 'UMT', op.amount);
    ctx.o.put(key, { ...v, bond, updatedAt: ctx.time });
    ctx.emit({ type: 'validator_bonded', account: op.account, amount: op.amount, bond });
  },

  validator_unbond(op, { ctx, opHash }) {
    const p = ctx.params;
    const key = K.validator(op.account);
    const v = requireValidator(ctx.o, op.account);
    if (op.amount > v.bond) {
      throw new RoamError('BALANCE_LOW', `${op.account} has ${v.bond} bonded, cannot unbond ${op.amount}`, {
        account: op.account,
        bond: v.bond.toString(),
      });
    }
    const bond = v.bond - op.amount;
    if (bond !== 0n && bond < p.minValidatorBond) {
      throw new RoamError(
        'VALIDATOR_BOND_LOW',
        `${bond} would stay bonded, below the minimum ${p.minValidatorBond}: unbond all to exit`,
        { bond: bond.toString(), minimum: p.minValidatorBond.toString() },
      );
    }
    // Evidence cuts every pending entry, so they are listed per validator (and bounded).
    const pending = ctx.o.get<Uint8Array[]>(K.pendingUnbonding(op.account)) ?? [];
    if (pending.length >= MAX_PENDING_UNBONDING) {
      throw new RoamError(
        'VALIDATOR_UNBONDING_LIMIT',
        `${op.account} has ${pending.length} unbonding entries pending; wait for one to be released`,
        { account: op.account, pending: pending.length },
      );
    }
    const releaseAt = ctx.time + p.unbondingDelayMs;
    const entry: Unbonding = { id: opHash, account: op.account, amount: op.amount, releaseAt };
    ctx.o.put(K.unbonding(bytesToHex(opHash)), entry);
    ctx.o.put(K.pendingUnbonding(op.account), [...pending, opHash]);
    ctx.enqueue(UNBOND_QUEUE, bucketOf(releaseAt), opHash);
    // A full exit also leaves the set at the next epoch boundary.
    const status = bond === 0n ? 'removed' : v.status;
    ctx.o.put(key, { ...v, bond, status, unbonding: v.unbonding + op.amount, updatedAt: ctx.time });
    if (status !== v.status) {
      setActiveIndex(ctx, op.account, false);
      if (v.status === 'active') requireNonEmptyNextSet(ctx);
    }
    ctx.emit({
      type: 'validator_unbonding',
      account: op.account,
      amount: op.amount,
      bond,
      releaseAt,
      unbonding: bytesToHex(opHash),
      exit: bond === 0n,
    });
  },

  evidence(op, { ctx, verifier }) {
    const p = ctx.params;
    const { a, b } = op;
    const h = a.height;
    if (h > ctx.height) throw new RoamError('EVIDENCE_INVALID', `votes for height ${h} are from the future`);
    const epoch = epochOf(p, h);
    const now = epochOf(p, ctx.height);
    // Accepted as long as the stake bonded then could still be slashed (the unbonding delay after
    // the epoch ended, in block time), and never fewer than evidenceMaxAgeEpochs epochs back.
    if (!evidenceWindowOpen(ctx.o, p, epoch, now, ctx.time)) {
      throw new RoamError(
        'EVIDENCE_TOO_OLD',
        `votes of epoch ${epoch}: its stake was released ${p.unbondingDelayMs} ms after the epoch ended`,
        { epoch: epoch.toString() },
      );
    }
    const member = storedSetAt(ctx.o, p, h)[a.validator];
    if (!member)
      throw new RoamError(
        'EVIDENCE_INVALID',
        `validator index ${a.validator} is not in the set of height ${h}`,
      );
    const chainId = ctx.o.get<ChainMeta>(K.meta)!.chainId;
    const check = verifier ?? nobleVerifier;
    for (const [which, vote] of [
      ['first', a],
      ['second', b],
    ] as const) {
      if (!check.verify(member.nodeKey, voteSignBytes(chainId, vote), vote.signature)) {
        throw new RoamError('EVIDENCE_INVALID', `the ${which} vote's signature does not verify`);
      }
    }
    const offence = K.evidence(member.account, h, a.round, a.type);
    if (ctx.o.get(offence) !== undefined) {
      throw new RoamError('EVIDENCE_DUPLICATE', `${member.account} was already punished for this vote`);
    }
    ctx.o.put(offence, ctx.height);
    const vkey = K.validator(member.account);
    const v = ctx.o.get<Validator>(vkey);
    if (!v) throw new RoamError('INTERNAL', `validator record of ${member.account} missing`);
    // The bond and every pending unbonding entry lose slashBps (stake that is leaving is still at stake).
    const bondCut = (v.bond * BigInt(p.slashBps)) / BPS;
    const unbondingCut = slashUnbonding(ctx, member.account, p.slashBps);
    const amount = bondCut + unbondingCut;
    const status = v.status === 'removed' ? 'removed' : 'jailed';
    ctx.o.put(vkey, {
      ...v,
      bond: v.bond - bondCut,
      unbonding: v.unbonding - unbondingCut,
      slashed: v.slashed + amount,
      status,
      jailedAt: ctx.height,
      updatedAt: ctx.time,
    });
    // Slashed UMT goes to the community fund: the UMT supply stays constant.
    ctx.credit(p.communityFund, 'UMT', amount);
    setActiveIndex(ctx, member.account, false);
    ctx.emit({
      type: 'validator_slashed',
      account: member.account,
      height: h,
      round: a.round,
      voteType: a.type,
      amount,
      bond: v.bond - bondCut,
      unbondingSlashed: unbondingCut,
      to: p.communityFund,
    });
    dropFromCurrentSet(ctx, member.account);
  },

  proposal_create: evalProposalCreate,
  proposal_vote: evalProposalVote,
  price_feed: evalPriceFeed,
  contract_topup: evalContractTopup,
  offer_pause: evalOfferPause,
  mini_bond: evalMiniBond,
  mini_unbond: evalMiniUnbond,
  mini_attach: evalMiniAttach,
  mini_attest: evalMiniAttest,
  mini_fraud: evalMiniFraud,
};

/** Cut every pending unbonding entry of `account` by `bps`; returns the total cut. */
function slashUnbonding(ctx: ApplyCtx, account: string, bps: number): bigint {
  let total = 0n;
  for (const id of ctx.o.get<Uint8Array[]>(K.pendingUnbonding(account)) ?? []) {
    const key = K.unbonding(bytesToHex(id));
    const u = ctx.o.get<Unbonding>(key);
    if (!u) continue;
    const cut = (u.amount * BigInt(bps)) / BPS;
    if (cut === 0n) continue;
    ctx.o.put(key, { ...u, amount: u.amount - cut });
    total += cut;
  }
  return total;
}

export function evaluate(op: Operation, env: OpEnv): void {
  (EVALUATORS[op.type] as Evaluator<OpName>)(op as never, env);
}
