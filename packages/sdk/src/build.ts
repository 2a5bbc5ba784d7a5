/**
 * Pure operation builders: typed inputs in, protocol `Operation`s out (checked with the protocol's
 * stateless `validateOp`). Nothing here talks to the network; `RoamClient` actions fill in what
 * needs the chain (TaPoS, contract head, next charge sequence, the operator's encryption key).
 */
import {
  compareVoteValues,
  type Disclosure,
  hexToBytes,
  type OfferTerms,
  type Operation,
  type OpOf,
  RoamError,
  type ServiceKind,
  type Token,
  utf8,
  VALIDATOR_SET_STATUSES,
  type Vote,
  type VoteType,
  validateOp,
} from '@roamchain/protocol';

/** Bytes given as a Uint8Array or as (lower- or upper-case) hex. */
export type BytesLike = Uint8Array | string;

export const DAY_MS = 86_400_000n;
export const GB = 1_000_000_000n;
export const MB = 1_000_000n;
export const DEFAULT_STEP_TIMEOUT_SEC = 3600;
export const DEFAULT_LIFETIME_SEC = 604_800;
export const DEFAULT_OFFER_VALIDITY_MS = 30n * DAY_MS;

export function toBytes(v: BytesLike, what: string, length?: number): Uint8Array {
  let b: Uint8Array;
  if (typeof v === 'string') {
    const h = v.startsWith('0x') ? v.slice(2) : v;
    try {
      b = hexToBytes(h);
    } catch {
      throw new RoamError('BAD_REQUEST', `${what} is not hex`);
    }
  } else if (v instanceof Uint8Array) b = v;
  else throw new RoamError('BAD_REQUEST', `${what} must be bytes or hex`);
  if (length !== undefined && b.length !== length) {
    throw new RoamError('BAD_REQUEST', `${what} must be ${length} bytes, got ${b.length}`);
  }
  return b;
}

const b32 = (v: BytesLike, what: string) => toBytes(v, what, 32);

function checked<T extends Operation>(op: T): T {
  validateOp(op);
  return op;
}

// ---------- tokens and accounts ----------

export interface TransferArgs {
  from: string;
  to: string;
  token: Token;
  /** Base units (6 decimals). */
  amount: bigint;
  /** Free bytes, or a string sent as UTF-8 (public on chain). */
  memo?: Uint8Array | string;
  /**
   * A memo sealed to the recipient's account encryption key (RoamClient.transfer fetches the key and
   * seals it; only the recipient reads it with `openMemo`). Not together with `memo`.
   */
  encryptMemo?: string;
}

export function transferOp(a: TransferArgs): OpOf<'transfer'> {
  const memo = a.memo === undefined ? new Uint8Array(0) : typeof a.memo === 'string' ? utf8(a.memo) : a.memo;
  return checked({ type: 'transfer', from: a.from, to: a.to, token: a.token, amount: a.amount, memo });
}

export interface CreateAccountArgs {
  creator: string;
  name: string;
  signingKey: BytesLike;
  encryptionKey: BytesLike;
  /** Set when an operator creates one of its subscribers (then `homeOperator` = `creator`). */
  homeOperator?: string;
}

export function createAccountOp(a: CreateAccountArgs): OpOf<'account_create'> {
  return checked({
    type: 'account_create',
    creator: a.creator,
    name: a.name,
    signingKey: b32(a.signingKey, 'signingKey'),
    encryptionKey: b32(a.encryptionKey, 'encryptionKey'),
    ...(a.homeOperator !== undefined ? { homeOperator: a.homeOperator } : {}),
  });
}

export interface UpdateKeysArgs {
  account: string;
  signingKey?: BytesLike;
  encryptionKey?: BytesLike;
}

export function updateKeysOp(a: UpdateKeysArgs): OpOf<'account_update_keys'> {
  return checked({
    type: 'account_update_keys',
    account: a.account,
    ...(a.signingKey !== undefined ? { signingKey: b32(a.signingKey, 'signingKey') } : {}),
    ...(a.encryptionKey !== undefined ? { encryptionKey: b32(a.encryptionKey, 'encryptionKey') } : {}),
  });
}

export interface IssueSdrArgs {
  gateway: string;
  to: string;
  amount: bigint;
  /** The external (fiat) payment reference; each may be used once per gateway. */
  paymentRef: string;
}

export function issueSdrOp(a: IssueSdrArgs): OpOf<'sdr_issue'> {
  return checked({
    type: 'sdr_issue',
    gateway: a.gateway,
    to: a.to,
    amount: a.amount,
    paymentRef: a.paymentRef,
  });
}

export interface BurnSdrArgs {
  gateway: string;
  amount: bigint;
  redemptionRef: string;
}

export function burnSdrOp(a: BurnSdrArgs): OpOf<'sdr_burn'> {
  return checked({ type: 'sdr_burn', gateway: a.gateway, amount: a.amount, redemptionRef: a.redemptionRef });
}

// ---------- offers ----------

/**
 * Offer terms with defaults: kind 'data', no category/networks/technologies, no voice/SMS, no unit
 * price (unit 'mb'), activation on provision, valid from `now` for 30 days, capacity 100. The
 * encryption key defaults to the operator's key on chain (filled in by the client).
 */
export interface OfferTermsInput {
  title: string;
  kind?: ServiceKind;
  category?: string;
  countries?: string[];
  networks?: string[];
  technologies?: string[];
  dataBytes?: bigint;
  voiceSeconds?: bigint;
  smsCount?: number;
  durationSec: number;
  /** Package price, SDR base units. */
  price: bigint;
  /** Price per unit beyond the package, SDR base units. */
  unitPrice?: bigint;
  unit?: OfferTerms['unit'];
  activation?: OfferTerms['activation'];
  /** Unix ms. */
  validFrom?: bigint;
  validUntil?: bigint;
  capacity?: number;
  encryptionKey?: BytesLike;
}

export function offerTerms(t: OfferTermsInput, ctx: { now: bigint; encryptionKey?: BytesLike }): OfferTerms {
  const key = t.encryptionKey ?? ctx.encryptionKey;
  if (key === undefined) throw new RoamError('BAD_REQUEST', 'offer terms need the operator encryption key');
  const validFrom = t.validFrom ?? ctx.now;
  return {
    title: t.title,
    kind: t.kind ?? 'data',
    category: t.category ?? '',
    countries: t.countries ?? [],
    networks: t.networks ?? [],
    technologies: t.technologies ?? [],
    dataBytes: t.dataBytes ?? 0n,
    voiceSeconds: t.voiceSeconds ?? 0n,
    smsCount: t.smsCount ?? 0,
    durationSec: t.durationSec,
    price: t.price,
    unitPrice: t.unitPrice ?? 0n,
    unit: t.unit ?? 'mb',
    activation: t.activation ?? 'on_provision',
    validFrom,
    validUntil: t.validUntil ?? validFrom + DEFAULT_OFFER_VALIDITY_MS,
    capacity: t.capacity ?? 100,
    encryptionKey: b32(key, 'encryptionKey'),
  };
}

export interface PublishOfferArgs {
  operator: string;
  terms: OfferTermsInput;
  /** Answer to a subscriber's Demand. */
  demand?: BytesLike;
}

export function publishOfferOp(a: {
  operator: string;
  terms: OfferTerms;
  demand?: BytesLike;
}): OpOf<'offer_publish'> {
  return checked({
    type: 'offer_publish',
    operator: a.operator,
    terms: a.terms,
    ...(a.demand !== undefined ? { demand: b32(a.demand, 'demand') } : {}),
  });
}

export interface ReplaceOfferArgs {
  operator: string;
  offer: BytesLike;
  terms: OfferTermsInput;
}

export function replaceOfferOp(a: {
  operator: string;
  offer: BytesLike;
  terms: OfferTerms;
}): OpOf<'offer_replace'> {
  return checked({
    type: 'offer_replace',
    operator: a.operator,
    offer: b32(a.offer, 'offer'),
    terms: a.terms,
  });
}

export interface WithdrawOfferArgs {
  operator: string;
  offer: BytesLike;
}

export function withdrawOfferOp(a: WithdrawOfferArgs): OpOf<'offer_withdraw'> {
  return checked({ type: 'offer_withdraw', operator: a.operator, offer: b32(a.offer, 'offer') });
}

// ---------- service smart contract ----------

export interface OpenRequestArgs {
  /** The subscriber's home operator; signs and pays the operation fee. */
  issuer: string;
  subscriber: string;
  /** Whose SDR is frozen: the subscriber (default) or the issuer. Signs too when not the issuer. */
  payer?: string;
  offer: BytesLike;
  /** The offer version the Request accepts; the client fetches the current one when omitted. */
  prev?: BytesLike;
  /** SDR base units frozen for the contract. */
  deposit: bigint;
  /** Issuer fee on charges, basis points (default 0). */
  issuerFeeBps?: number;
  /**
   * UMT base units that pay the contract's later transactions (default 0.1 UMT; the chain refuses
   * less than a provision plus a charge: SSC_FEE_DEPOSIT_LOW).
   */
  feeDeposit?: bigint;
  attestation?: BytesLike;
  /** X25519 public key; the client generates a fresh one when omitted. */
  ephemeralKey?: BytesLike;
  /** Ciphertext for the assignee (identity data, EID/IMEI); empty by default. */
  payload?: Uint8Array;
  /**
   * Identity to disclose to the assignee: RoamClient seals `{ v: 1, disclosures, eid, imei? }` with the
   * generated ephemeral key to the offer's encryption key (see identity.ts). Not together with `payload`.
   */
  disclose?: DiscloseInput;
  stepTimeoutSec?: number;
  lifetimeSec?: number;
}

/** What a subscriber discloses in a Request: chosen disclosures (objects or canonical strings), the EID. */
export interface DiscloseInput {
  disclosures: Disclosure[] | string[];
  eid: string;
  imei?: string;
}

export function openRequestOp(
  a: OpenRequestArgs & { prev: BytesLike; ephemeralKey: BytesLike },
): OpOf<'request_open'> {
  return checked({
    type: 'request_open',
    issuer: a.issuer,
    payer: a.payer ?? a.subscriber,
    subscriber: a.subscriber,
    offer: b32(a.offer, 'offer'),
    prev: b32(a.prev, 'prev'),
    deposit: a.deposit,
    issuerFeeBps: a.issuerFeeBps ?? 0,
    feeDeposit: a.feeDeposit ?? 100_000n,
    ...(a.attestation !== undefined ? { attestation: b32(a.attestation, 'attestation') } : {}),
    ephemeralKey: b32(a.ephemeralKey, 'ephemeralKey'),
    payload: a.payload ?? new Uint8Array(0),
    stepTimeoutSec: a.stepTimeoutSec ?? DEFAULT_STEP_TIMEOUT_SEC,
    lifetimeSec: a.lifetimeSec ?? DEFAULT_LIFETIME_SEC,
  });
}

export interface ChargeArgs {
  assignee: string;
  contract: BytesLike;
  /** Contract head; fetched when omitted. */
  prev?: BytesLike;
  /** Charge sequence number (1, 2, …); the next one is fetched when omitted. */
  seq?: number;
  /** SDR base units billed by this step. */
  amount: bigint;
  usageType?: 'data' | 'voice' | 'sms' | 'package' | 'content';
  /** Start of the usage, unix ms (defaults to the node's time). */
  start?: bigint;
  duration?: number;
  volumeUp?: bigint;
  volumeDown?: bigint;
  units?: bigint;
  /** Data for the issuer and subscriber (e.g. an activation code), already encrypted. */
  sealed?: Uint8Array;
}

export function chargeOp(a: ChargeArgs & { prev: BytesLike; seq: number; start: bigint }): OpOf<'charge'> {
  return checked({
    type: 'charge',
    assignee: a.assignee,
    contract: b32(a.contract, 'contract'),
    prev: b32(a.prev, 'prev'),
    record: {
      seq: a.seq,
      usageType: a.usageType ?? 'data',
      start: a.start,
      duration: a.duration ?? 0,
      volumeUp: a.volumeUp ?? 0n,
      volumeDown: a.volumeDown ?? 0n,
      units: a.units ?? 0n,
      amount: a.amount,
    },
    sealed: a.sealed ?? new Uint8Array(0),
  });
}

export interface RefundArgs {
  by: string;
  contract: BytesLike;
  prev?: BytesLike;
  badService?: boolean;
  reason?: number;
}

export function refundOp(a: RefundArgs & { prev: BytesLike }): OpOf<'refund'> {
  return checked({
    type: 'refund',
    by: a.by,
    contract: b32(a.contract, 'contract'),
    prev: b32(a.prev, 'prev'),
    badService: a.badService ?? false,
    reason: a.reason ?? 0,
  });
}

export interface RateArgs {
  subscriber: string;
  contract: BytesLike;
  score: number;
}

export function rateOp(a: RateArgs): OpOf<'rate'> {
  return checked({
    type: 'rate',
    subscriber: a.subscriber,
    contract: b32(a.contract, 'contract'),
    score: a.score,
  });
}

// ---------- demands ----------

export interface PostDemandArgs {
  subscriber: string;
  kind?: ServiceKind;
  countries?: string[];
  networks?: string[];
  dataBytes?: bigint;
  /** Unix ms; defaults to the node's time. */
  startAt?: bigint;
  endAt: bigint;
  /** SDR base units. */
  maxPrice: bigint;
  note?: string;
}

export function postDemandOp(a: PostDemandArgs & { startAt: bigint }): OpOf<'demand_post'> {
  return checked({
    type: 'demand_post',
    subscriber: a.subscriber,
    kind: a.kind ?? 'data',
    countries: a.countries ?? [],
    networks: a.networks ?? [],
    dataBytes: a.dataBytes ?? 0n,
    startAt: a.startAt,
    endAt: a.endAt,
    maxPrice: a.maxPrice,
    note: a.note ?? '',
  });
}

export interface CancelDemandArgs {
  subscriber: string;
  demand: BytesLike;
}

export function cancelDemandOp(a: CancelDemandArgs): OpOf<'demand_cancel'> {
  return checked({ type: 'demand_cancel', subscriber: a.subscriber, demand: b32(a.demand, 'demand') });
}

// ---------- provisioning and identity ----------

export interface ProvisionArgs {
  assignee: string;
  contract: BytesLike;
  /** Contract head; fetched when omitted. */
  prev?: BytesLike;
  /** SHA-256 of the ICCID (or give `iccid` and the client hashes it). */
  iccidHash?: BytesLike;
  iccid?: string;
  /** Already sealed boxes; or give `plaintext` + `encryptionSecret` and the client seals them. */
  forRequester?: Uint8Array;
  forIssuer?: Uint8Array;
  /** Sealed to the subscriber's account encryption key (empty when omitted with explicit boxes). */
  forSubscriber?: Uint8Array;
  /** What the subscriber needs to install the profile (activation code, APN, ICCID). */
  plaintext?: Uint8Array;
  /** The assignee's X25519 secret (its account encryption key), to seal `plaintext`. */
  encryptionSecret?: Uint8Array;
}

export function provisionOp(a: {
  assignee: string;
  contract: BytesLike;
  prev: BytesLike;
  iccidHash: BytesLike;
  forRequester: Uint8Array;
  forIssuer: Uint8Array;
  forSubscriber?: Uint8Array;
}): OpOf<'provision'> {
  return checked({
    type: 'provision',
    assignee: a.assignee,
    contract: b32(a.contract, 'contract'),
    prev: b32(a.prev, 'prev'),
    iccidHash: b32(a.iccidHash, 'iccidHash'),
    forRequester: a.forRequester,
    forIssuer: a.forIssuer,
    forSubscriber: a.forSubscriber ?? new Uint8Array(0),
  });
}

export interface AttestIdentityArgs {
  operator: string;
  subscriber: string;
  /** SHA-256 digests of the disclosures (see `makeDisclosures`), sorted. */
  digests: BytesLike[];
  level: number;
  /** Unix ms. */
  expiresAt: bigint;
}

export function attestIdentityOp(a: AttestIdentityArgs): OpOf<'identity_attest'> {
  return checked({
    type: 'identity_attest',
    operator: a.operator,
    subscriber: a.subscriber,
    digests: a.digests.map((d, i) => b32(d, `digests[${i}]`)),
    level: a.level,
    expiresAt: a.expiresAt,
  });
}

export interface RevokeIdentityArgs {
  operator: string;
  subscriber: string;
  reason?: number;
}

export function revokeIdentityOp(a: RevokeIdentityArgs): OpOf<'identity_revoke'> {
  return checked({
    type: 'identity_revoke',
    operator: a.operator,
    subscriber: a.subscriber,
    reason: a.reason ?? 0,
  });
}

// ---------- validators (Super Nodes) and evidence ----------

/** What governance can set with `validator_set` ('jailed' is set only by evidence). */
export type ValidatorSetStatus = (typeof VALIDATOR_SET_STATUSES)[number];

export interface SetValidatorArgs {
  /** The governance authority (the `governance` chain parameter); signs and pays the fee. */
  authority: string;
  /** The validator's owner account. */
  account: string;
  /** 'candidate' registers or demotes, 'active' admits, 'removed' removes (from the next epoch on). */
  status: ValidatorSetStatus;
  /** Ed25519 public key the node signs consensus messages with: required for a new record, else a rotation. */
  nodeKey?: BytesLike;
}

export function setValidatorOp(a: SetValidatorArgs): OpOf<'validator_set'> {
  if (!(VALIDATOR_SET_STATUSES as readonly string[]).includes(a.status)) {
    throw new RoamError(
      'VALIDATOR_INVALID',
      `status must be one of ${VALIDATOR_SET_STATUSES.join(', ')}, not ${String(a.status)}`,
    );
  }
  return checked({
    type: 'validator_set',
    authority: a.authority,
    account: a.account,
    status: a.status,
    ...(a.nodeKey !== undefined ? { nodeKey: b32(a.nodeKey, 'nodeKey') } : {}),
  });
}

export interface BondValidatorArgs {
  /** The validator's owner account; signs and pays from its free UMT. */
  account: string;
  /** UMT base units added to the bond. */
  amount: bigint;
}

export function bondValidatorOp(a: BondValidatorArgs): OpOf<'validator_bond'> {
  return checked({ type: 'validator_bond', account: a.account, amount: a.amount });
}

export interface UnbondValidatorArgs {
  account: string;
  /**
   * UMT base units taken out of the bond: what stays must be at least the minimum bond, or unbond it
   * all (a full exit). Paid out after the unbonding delay.
   */
  amount: bigint;
}

export function unbondValidatorOp(a: UnbondValidatorArgs): OpOf<'validator_unbond'> {
  return checked({ type: 'validator_unbond', account: a.account, amount: a.amount });
}

/** A signed consensus vote, with bytes given as Uint8Array or hex (e.g. from a node's log or JSON). */
export interface VoteInput {
  type: VoteType;
  height: bigint | number;
  round: number;
  /** The block id voted for, or null for nil. */
  value: BytesLike | null;
  /** Index of the voter in the validator set of `height`. */
  validator: number;
  /** 64-byte Ed25519 signature of the vote's sign bytes. */
  signature: BytesLike;
}

export interface EvidenceArgs {
  /** Two conflicting votes of one validator (same height, round and type; different values), in any order. */
  a: VoteInput;
  b: VoteInput;
}

function voteOf(v: VoteInput, what: string): Vote {
  return {
    type: v.type,
    height: BigInt(v.height),
    round: v.round,
    value: v.value === null ? null : b32(v.value, `${what}.value`),
    validator: v.validator,
    signature: toBytes(v.signature, `${what}.signature`, 64),
  };
}

/**
 * Evidence of a double signature. The votes are put in the canonical order the protocol requires
 * (nil first, then by bytes), so they may be given in any order. Nobody signs it, nobody pays a fee.
 */
export function evidenceOp(e: EvidenceArgs): OpOf<'evidence'> {
  const x = voteOf(e.a, 'a');
  const y = voteOf(e.b, 'b');
  const [a, b] = compareVoteValues(x.value, y.value) > 0 ? [y, x] : [x, y];
  return checked({ type: 'evidence', a, b });
}
