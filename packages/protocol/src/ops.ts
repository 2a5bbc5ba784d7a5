/**
 * Operations: data plus a stateless `validate` (Graphene's split). Evaluators in @roamchain/state
 * check them against state and apply them. Numeric tags are part of the protocol and are never
 * reused; retired operations keep their tag reserved.
 */
import {
  bool,
  bytes,
  bytes32,
  type Codec,
  enumOf,
  type Infer,
  opt,
  type Reader,
  str,
  struct,
  u8,
  u16,
  u32,
  u64,
  vec,
  type Writer,
} from './codec.js';
import { RoamError } from './errors.js';
import { GOVERNANCE_OPS, KNOWN_OP_NAMES } from './ops-governance.js';
import { TOPUP_OPS } from './ops-topup.js';
import { country, NAME_RE, name, network } from './primitives.js';
import { equivocationProblem, voteCodec } from './votes.js';

export { NAME_RE, name };
export const TOKENS = ['UMT', 'SDR'] as const;
export type Token = (typeof TOKENS)[number];
export const token = enumOf(TOKENS);

export const ROLES = ['operator', 'provider', 'gateway', 'subscriber', 'node_owner'] as const;
export type Role = (typeof ROLES)[number];

export const SERVICE_KINDS = ['data', 'voice', 'sms', 'bundle', 'other'] as const;
export type ServiceKind = (typeof SERVICE_KINDS)[number];
export const USAGE_TYPES = ['data', 'voice', 'sms', 'package', 'content'] as const;
export const UNITS = ['mb', 'minute', 'sms', 'unit'] as const;
export const ACTIVATION = ['on_provision', 'on_first_use'] as const;

const technology = str(8, /^[A-Za-z0-9.+-]{1,8}$/);

/** Basis points: 10,000 = 100 %. */
export const BPS = 10_000n;
/** Max SDR price/amount in base units in any single field (1e15 = 1 billion SDR). */
export const MAX_AMOUNT = 1_000_000_000_000_000n;

export const offerTerms = struct({
  title: str(80),
  kind: enumOf(SERVICE_KINDS),
  category: str(32),
  countries: vec(country, 64),
  networks: vec(network, 64),
  technologies: vec(technology, 8),
  dataBytes: u64,
  voiceSeconds: u64,
  smsCount: u32,
  durationSec: u32,
  price: u64,
  unitPrice: u64,
  unit: enumOf(UNITS),
  activation: enumOf(ACTIVATION),
  validFrom: u64,
  validUntil: u64,
  capacity: u32,
  encryptionKey: bytes32,
});
export type OfferTerms = Infer<typeof offerTerms>;

export const usageRecord = struct({
  seq: u32,
  usageType: enumOf(USAGE_TYPES),
  start: u64,
  duration: u32,
  volumeUp: u64,
  volumeDown: u64,
  units: u64,
  amount: u64,
});
export type UsageRecord = Infer<typeof usageRecord>;

/**
 * Who pays an operation's UMT fee: a named account, the contract's UMT fee deposit, or nobody
 * (self-authenticating operations such as `evidence`, whose schedule entry is ignored).
 */
export type FeePayer = { account: string } | { contract: Uint8Array } | { none: true };

interface OpDef<C extends Codec<any>> {
  tag: number;
  codec: C;
  /** Accounts whose signatures the operation needs (before key lookup). */
  signers(op: Infer<C>): string[];
  feePayer(op: Infer<C>): FeePayer;
  /** Stateless checks; throws RoamError. */
  validate(op: Infer<C>): void;
}

function bad(
  code:
    | 'OFFER_INVALID'
    | 'SSC_TERMS_INVALID'
    | 'AMOUNT_INVALID'
    | 'DEMAND_INVALID'
    | 'SSC_CHARGE_INVALID'
    | 'RATE_INVALID'
    | 'SELF_TRANSFER'
    | 'TX_INVALID'
    | 'VALIDATOR_INVALID'
    | 'EVIDENCE_INVALID',
  msg: string,
): never {
  throw new RoamError(code, msg);
}
function amountOk(v: bigint, what: string, allowZero = false): void {
  if ((!allowZero && v === 0n) || v > MAX_AMOUNT)
    bad('AMOUNT_INVALID', `${what} must be ${allowZero ? '0' : '1'}..${MAX_AMOUNT}`);
}

/** What governance sets with `validator_set` (the state also knows 'jailed', set only by evidence). */
export const VALIDATOR_SET_STATUSES = ['candidate', 'active', 'removed'] as const;

export function validateOfferTerms(t: OfferTerms): void {
  if (t.title.trim().length === 0) bad('OFFER_INVALID', 'title is empty');
  if (t.countries.length + t.networks.length === 0)
    bad('OFFER_INVALID', 'coverage needs a country or a network');
  if (new Set(t.countries).size !== t.countries.length) bad('OFFER_INVALID', 'duplicate country');
  if (new Set(t.networks).size !== t.networks.length) bad('OFFER_INVALID', 'duplicate network');
  if (t.kind === 'other' && t.category.length === 0)
    bad('OFFER_INVALID', 'category required for kind "other"');
  if (t.price === 0n && t.unitPrice === 0n) bad('OFFER_INVALID', 'price or unit price must be positive');
  amountOk(t.price, 'price', true);
  amountOk(t.unitPrice, 'unitPrice', true);
  if (t.durationSec === 0) bad('OFFER_INVALID', 'package duration must be positive');
  if (t.validUntil <= t.validFrom) bad('OFFER_INVALID', 'validUntil must be after validFrom');
  if (t.capacity === 0) bad('OFFER_INVALID', 'capacity must be at least 1');
}

function def<C extends Codec<any>>(d: OpDef<C>): OpDef<C> {
  return d;
}

export const OPS = {
  transfer: def({
    tag: 1,
    codec: struct({ from: name, to: name, token, amount: u64, memo: bytes(1024) }),
    signers: (o) => [o.from],
    feePayer: (o) => ({ account: o.from }),
    validate(o) {
      amountOk(o.amount, 'amount');
      if (o.from === o.to) bad('SELF_TRANSFER', 'cannot transfer to oneself');
    },
  }),
  account_create: def({
    tag: 2,
    codec: struct({
      creator: name,
      name,
      signingKey: bytes32,
      encryptionKey: bytes32,
      homeOperator: opt(name),
    }),
    signers: (o) => [o.creator],
    feePayer: (o) => ({ account: o.creator }),
    validate() {},
  }),
  account_update_keys: def({
    tag: 3,
    codec: struct({ account: name, signingKey: opt(bytes32), encryptionKey: opt(bytes32) }),
    signers: (o) => [o.account],
    feePayer: (o) => ({ account: o.account }),
    validate(o) {
      if (!o.signingKey && !o.encryptionKey) bad('TX_INVALID', 'nothing to update');
    },
  }),
  sdr_issue: def({
    tag: 4,
    codec: struct({ gateway: name, to: name, amount: u64, paymentRef: str(64, /^[\x21-\x7e]{1,64}$/) }),
    signers: (o) => [o.gateway],
    feePayer: (o) => ({ account: o.gateway }),
    validate(o) {
      amountOk(o.amount, 'amount');
    },
  }),
  sdr_burn: def({
    tag: 5,
    codec: struct({ gateway: name, amount: u64, redemptionRef: str(64, /^[\x21-\x7e]{1,64}$/) }),
    signers: (o) => [o.gateway],
    feePayer: (o) => ({ account: o.gateway }),
    validate(o) {
      amountOk(o.amount, 'amount');
    },
  }),
  offer_publish: def({
    tag: 10,
    codec: struct({ operator: name, terms: offerTerms, demand: opt(bytes32) }),
    signers: (o) => [o.operator],
    feePayer: (o) => ({ account: o.operator }),
    validate: (o) => validateOfferTerms(o.terms),
  }),
  offer_replace: def({
    tag: 11,
    codec: struct({ operator: name, offer: bytes32, terms: offerTerms }),
    signers: (o) => [o.operator],
    feePayer: (o) => ({ account: o.operator }),
    validate: (o) => validateOfferTerms(o.terms),
  }),
  offer_withdraw: def({
    tag: 12,
    codec: struct({ operator: name, offer: bytes32 }),
    signers: (o) => [o.operator],
    feePayer: (o) => ({ account: o.operator }),
    validate() {},
  }),
  request_open: def({
    tag: 20,
    codec: struct({
      issuer: name,
      payer: name,
      subscriber: name,
      offer: bytes32,
      prev: bytes32,
      deposit: u64,
      issuerFeeBps: u16,
      feeDeposit: u64,
      attestation: opt(bytes32),
      ephemeralKey: bytes32,
      payload: bytes(8192),
      stepTimeoutSec: u32,
      lifetimeSec: u32,
    }),
    signers: (o) => (o.payer === o.issuer ? [o.issuer] : [o.issuer, o.payer]),
    feePayer: (o) => ({ account: o.issuer }),
    validate(o) {
      amountOk(o.deposit, 'deposit');
      amountOk(o.feeDeposit, 'feeDeposit', true);
      if (BigInt(o.issuerFeeBps) > BPS) bad('SSC_TERMS_INVALID', 'issuer fee above 100%');
      if (o.payer !== o.subscriber && o.payer !== o.issuer)
        bad('SSC_TERMS_INVALID', 'payer must be the subscriber or the issuer');
      if (o.stepTimeoutSec === 0 || o.lifetimeSec === 0)
        bad('SSC_TERMS_INVALID', 'timeouts must be positive');
      if (o.stepTimeoutSec > o.lifetimeSec) bad('SSC_TERMS_INVALID', 'step timeout longer than lifetime');
    },
  }),
  charge: def({
    tag: 21,
    codec: struct({
      assignee: name,
      contract: bytes32,
      prev: bytes32,
      record: usageRecord,
      sealed: bytes(8192),
    }),
    signers: (o) => [o.assignee],
    feePayer: (o) => ({ contract: o.contract }),
    validate(o) {
      amountOk(o.record.amount, 'amount', true);
      if (o.record.seq === 0) bad('SSC_CHARGE_INVALID', 'sequence numbers start at 1');
    },
  }),
  provision: def({
    tag: 24,
    codec: struct({
      assignee: name,
      contract: bytes32,
      prev: bytes32,
      /** SHA-256 of the ICCID; the ICCID itself travels only inside the sealed boxes. */
      iccidHash: bytes32,
      /** Activation code, APN, ICCID: sealed on the contract channel to whoever made the Request. */
      forRequester: bytes(4096),
      /** The same, sealed to the issuer's account encryption key. */
      forIssuer: bytes(4096),
      /**
       * The same, sealed to the subscriber account's encryption key (appended field; may be empty), so
       * any device holding the subscriber's key opens it, not only the one that made the Request.
       */
      forSubscriber: bytes(4096),
    }),
    signers: (o) => [o.assignee],
    feePayer: (o) => ({ contract: o.contract }),
    validate(o) {
      if (o.forRequester.length === 0)
        bad('SSC_CHARGE_INVALID', 'provisioning data for the requester is empty');
    },
  }),
  refund: def({
    tag: 22,
    codec: struct({ by: name, contract: bytes32, prev: bytes32, badService: bool, reason: u16 }),
    signers: (o) => [o.by],
    feePayer: (o) => ({ contract: o.contract }),
    validate() {},
  }),
  rate: def({
    tag: 23,
    codec: struct({ subscriber: name, contract: bytes32, score: u8 }),
    signers: (o) => [o.subscriber],
    feePayer: (o) => ({ account: o.subscriber }),
    validate(o) {
      if (o.score < 1 || o.score > 5) bad('RATE_INVALID', 'score must be 1..5');
    },
  }),
  demand_post: def({
    tag: 30,
    codec: struct({
      subscriber: name,
      kind: enumOf(SERVICE_KINDS),
      countries: vec(country, 16),
      networks: vec(network, 16),
      dataBytes: u64,
      startAt: u64,
      endAt: u64,
      maxPrice: u64,
      note: str(200),
    }),
    signers: (o) => [o.subscriber],
    feePayer: (o) => ({ account: o.subscriber }),
    validate(o) {
      if (o.countries.length + o.networks.length === 0)
        bad('DEMAND_INVALID', 'where: a country or a network');
      if (o.endAt <= o.startAt) bad('DEMAND_INVALID', 'endAt must be after startAt');
      amountOk(o.maxPrice, 'maxPrice');
    },
  }),
  demand_cancel: def({
    tag: 31,
    codec: struct({ subscriber: name, demand: bytes32 }),
    signers: (o) => [o.subscriber],
    feePayer: (o) => ({ account: o.subscriber }),
    validate() {},
  }),
  identity_attest: def({
    tag: 40,
    codec: struct({
      operator: name,
      subscriber: name,
      /** SHA-256 of each disclosure [salt, claim, value]; salts and values never touch the chain. */
      digests: vec(bytes32, 32, 1),
      level: u8,
      expiresAt: u64,
    }),
    signers: (o) => [o.operator],
    feePayer: (o) => ({ account: o.operator }),
    validate(o) {
      const seen = new Set(o.digests.map((d) => d.join(',')));
      if (seen.size !== o.digests.length) bad('TX_INVALID', 'duplicate digest');
    },
  }),
  identity_revoke: def({
    tag: 41,
    codec: struct({ operator: name, subscriber: name, reason: u16 }),
    signers: (o) => [o.operator],
    feePayer: (o) => ({ account: o.operator }),
    validate() {},
  }),
  /**
   * Governance (the `governance` chain parameter) registers a Super Node candidate with its node key,
   * admits it ('active'), demotes it ('candidate') or removes it. The bond is the owner's business
   * (`validator_bond`). Changes reach the active set at the next epoch boundary.
   */
  validator_set: def({
    tag: 50,
    codec: struct({
      authority: name,
      account: name,
      status: enumOf(VALIDATOR_SET_STATUSES),
      /** Ed25519 key the node signs consensus messages with; required for a new record, else a rotation. */
      nodeKey: opt(bytes32),
    }),
    signers: (o) => [o.authority],
    feePayer: (o) => ({ account: o.authority }),
    validate(o) {
      if (o.nodeKey?.every((b) => b === 0)) bad('VALIDATOR_INVALID', 'node key is all zeros');
    },
  }),
  /**
   * Two conflicting signed consensus votes of one validator (same height, round, type and index,
   * different values; in canonical order: nil first, then by bytes). Self-authenticating: nobody
   * signs it and nobody pays a fee; the state checks the signatures against the validator set.
   */
  evidence: def({
    tag: 51,
    codec: struct({ a: voteCodec, b: voteCodec }),
    signers: () => [],
    feePayer: () => ({ none: true }),
    validate({ a, b }) {
      const problem = equivocationProblem(a, b);
      if (problem) bad('EVIDENCE_INVALID', problem);
      if (a.height === 0n) bad('EVIDENCE_INVALID', 'height 0 has no votes');
    },
  }),
  /** The owner raises its validator bond from its free UMT. */
  validator_bond: def({
    tag: 52,
    codec: struct({ account: name, amount: u64 }),
    signers: (o) => [o.account],
    feePayer: (o) => ({ account: o.account }),
    validate(o) {
      amountOk(o.amount, 'amount');
    },
  }),
  /**
   * The owner unbonds part of its bond (what stays must be at least the minimum) or all of it (a
   * full exit, which also removes it at the next epoch). The UMT is paid out after the unbonding delay.
   */
  validator_unbond: def({
    tag: 53,
    codec: struct({ account: name, amount: u64 }),
    signers: (o) => [o.account],
    feePayer: (o) => ({ account: o.account }),
    validate(o) {
      amountOk(o.amount, 'amount');
    },
  }),
  /** Governance proposals and votes, Super Node price feeds (tags 60-62; see ops-governance.ts). */
  ...GOVERNANCE_OPS,
  /** Contract top-up and offer pause (tags 80-81; see ops-topup.ts). */
  ...TOPUP_OPS,
} as const;

/** Tags retired or reserved for later issues; never to be reused for something else. */
export const RESERVED_TAGS: Record<number, string> = {};

export type OpName = keyof typeof OPS;
type OpsT = typeof OPS;
export type OpData<K extends OpName> = Infer<OpsT[K]['codec']>;
export type Operation = { [K in OpName]: { type: K } & OpData<K> }[OpName];
export type OpOf<K extends OpName> = Extract<Operation, { type: K }>;

const byTag = new Map<number, OpName>();
for (const [k, d] of Object.entries(OPS) as [OpName, OpDef<any>][]) {
  if (byTag.has(d.tag) || RESERVED_TAGS[d.tag]) throw new Error(`duplicate op tag ${d.tag}`);
  byTag.set(d.tag, k);
}

function opDef(t: OpName): OpDef<Codec<any>> {
  return OPS[t] as unknown as OpDef<Codec<any>>;
}

function stripType(op: Operation): Record<string, unknown> {
  const { type: _t, ...rest } = op as Operation & Record<string, unknown>;
  return rest;
}

export const operation: Codec<Operation> = {
  kind: 'operation',
  enc(w: Writer, op) {
    const d = opDef(op.type);
    if (!d) throw new RoamError('CODEC_UNKNOWN_OP', `unknown operation ${String(op.type)}`);
    w.u16(d.tag);
    d.codec.enc(w, op);
  },
  dec(r: Reader) {
    const tag = r.u16();
    const t = byTag.get(tag);
    if (!t) throw new RoamError('CODEC_UNKNOWN_OP', `unknown operation tag ${tag}`);
    const v = opDef(t).codec.dec(r) as Record<string, unknown>;
    return { type: t, ...v } as Operation;
  },
  toJSON(op) {
    return { type: op.type, ...(opDef(op.type).codec.toJSON(stripType(op)) as object) };
  },
  fromJSON(j, path) {
    if (typeof j !== 'object' || j === null)
      throw new RoamError('CODEC_BAD_JSON', `${path}: expected an operation object`);
    const { type, ...rest } = j as { type?: unknown };
    if (typeof type !== 'string' || !Object.hasOwn(OPS, type)) {
      throw new RoamError('CODEC_UNKNOWN_OP', `${path}.type: unknown operation ${String(type)}`);
    }
    return { type, ...(opDef(type as OpName).codec.fromJSON(rest, path) as object) } as Operation;
  },
};

export function opTag(t: OpName): number {
  return OPS[t].tag;
}
export function opSigners(op: Operation): string[] {
  return opDef(op.type).signers(op);
}
export function opFeePayer(op: Operation): FeePayer {
  return opDef(op.type).feePayer(op);
}
export function validateOp(op: Operation): void {
  opDef(op.type).validate(op);
}
export const OP_NAMES = Object.keys(OPS) as OpName[];
KNOWN_OP_NAMES.push(...OP_NAMES);
