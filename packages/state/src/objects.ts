/**
 * Ledger objects: what the state holds, their keys and their canonical encodings. Every object is
 * immutable once stored (evaluators write new objects), so that layered overlays can be discarded
 * when a transaction or a block is rejected.
 */
import {
  bool,
  bytes32,
  type Codec,
  chainParams,
  decode,
  encode,
  enumOf,
  type Infer,
  name,
  offerTerms,
  opt,
  ROLES,
  RoamError,
  SERVICE_KINDS,
  str,
  struct,
  UNITS,
  u8,
  u16,
  u32,
  u64,
  vec,
} from '@roamchain/protocol';
import { GOV_CODECS } from './gov-objects.js';
import { MINI_CODECS } from './mini-objects.js';
import { SERVICE_CODECS } from './service-objects.js';

export const account = struct({
  name,
  signingKey: bytes32,
  encryptionKey: bytes32,
  roles: vec(enumOf(ROLES), 5),
  homeOperator: opt(name),
  createdAt: u64,
  /** Founders' vesting: `total` UMT locked at `start`, released by block time. */
  vestingTotal: u64,
  vestingStart: u64,
});
export type Account = Infer<typeof account>;

export const offer = struct({
  id: bytes32,
  operator: name,
  /** Hash of the operation that set the current terms; a Request names it as `prev`. */
  version: bytes32,
  terms: offerTerms,
  demand: opt(bytes32),
  /** 'paused' (appended: earlier encodings unchanged) cannot be bought until resumed. */
  status: enumOf(['active', 'withdrawn', 'paused'] as const),
  openContracts: u32,
  totalContracts: u32,
  createdAt: u64,
  updatedAt: u64,
});
export type Offer = Infer<typeof offer>;

export const CONTRACT_STATUS = ['open', 'closed'] as const;
export const contract = struct({
  id: bytes32,
  offer: bytes32,
  offerVersion: bytes32,
  issuer: name,
  assignee: name,
  payer: name,
  subscriber: name,
  /** Terms the contract was opened on (an offer replaced later does not change them). */
  price: u64,
  unitPrice: u64,
  unit: enumOf(UNITS),
  kind: enumOf(SERVICE_KINDS),
  dataBytes: u64,
  durationSec: u32,
  deposit: u64,
  issuerFeeBps: u16,
  /** UMT left in the contract's fee deposit. */
  feeDeposit: u64,
  attestation: opt(bytes32),
  ephemeralKey: bytes32,
  stepTimeoutSec: u32,
  lifetimeSec: u32,
  openedAt: u64,
  lastStepAt: u64,
  expiresAt: u64,
  /** Hash of the contract's latest transition; the next transition must name it as `prev`. */
  head: bytes32,
  charged: u64,
  chargeCount: u32,
  volumeUp: u64,
  volumeDown: u64,
  status: enumOf(CONTRACT_STATUS),
  closedAt: u64,
  /** Who closed it: an account name, or "" when the chain settled it at end of life. */
  closedBy: str(32),
  badService: bool,
  reason: u16,
  paidAssignee: u64,
  paidIssuer: u64,
  paidPayer: u64,
  feeReturned: u64,
  /** Subscriber's score 1..5, 0 = not rated. */
  score: u8,
  /** Set by the provision step: hash of the ICCID and when it happened (0 = not yet). */
  iccidHash: opt(bytes32),
  provisionedAt: u64,
});
export type Contract = Infer<typeof contract>;

export const demand = struct({
  id: bytes32,
  subscriber: name,
  kind: enumOf(SERVICE_KINDS),
  countries: vec(str(2), 16),
  networks: vec(str(7), 16),
  dataBytes: u64,
  startAt: u64,
  endAt: u64,
  maxPrice: u64,
  note: str(200),
  status: enumOf(['open', 'cancelled'] as const),
  answers: u32,
  createdAt: u64,
});
export type Demand = Infer<typeof demand>;

/** A subscriber's open demands (id, endAt), for the per-subscriber bound (`maxOpenDemandsPerSubscriber`). */
export const subscriberDemands = vec(struct({ id: bytes32, endAt: u64 }), 65_535);
export type SubscriberDemands = Infer<typeof subscriberDemands>;

/** A home operator's attestation of its subscriber's identity (SPEC §4). */
export const attestation = struct({
  id: bytes32,
  subscriber: name,
  operator: name,
  digests: vec(bytes32, 32),
  level: u8,
  issuedAt: u64,
  expiresAt: u64,
  /** 0 = not revoked. */
  revokedAt: u64,
  revokeReason: u16,
});
export type Attestation = Infer<typeof attestation>;

/** Per-operator record that feeds the rating (see rating.ts). */
export const operatorStats = struct({
  contracts: u32,
  closed: u32,
  badService: u32,
  ratingSum: u32,
  ratingCount: u32,
  charged: u64,
  /** Rating weights (rating.ts): SDR paid on the rated contracts, sum of score x paid, paid on bad-service refunds. */
  ratingWeight: u64,
  ratingScoreWeight: u64,
  badServiceWeight: u64,
});
export type OperatorStats = Infer<typeof operatorStats>;

export const supply = struct({ sdrMinted: u64, sdrBurned: u64 });
export type Supply = Infer<typeof supply>;

export const chainMeta = struct({
  chainId: bytes32,
  /** Height of the last applied block (0 = genesis). Its id is the chain's business, not the state's. */
  height: u64,
  time: u64,
  genesisTime: u64,
});
export type ChainMeta = Infer<typeof chainMeta>;

export const VALIDATOR_STATUSES = ['candidate', 'active', 'jailed', 'removed'] as const;
export type ValidatorStatus = (typeof VALIDATOR_STATUSES)[number];

/**
 * A Super Node: its owner account, the node's consensus key, the bonded UMT and its standing.
 * Only 'active' validators with a bond of at least `minValidatorBond` enter the next epoch's set.
 * Records are never deleted (a full exit leaves a 'removed' record with bond 0).
 */
export const validator = struct({
  account: name,
  nodeKey: bytes32,
  /** Bonded UMT (base units): counts in the UMT supply, slashable, not spendable. */
  bond: u64,
  status: enumOf(VALIDATOR_STATUSES),
  /** Total UMT slashed so far. */
  slashed: u64,
  /** Height of the block that jailed it last (0 = never jailed). */
  jailedAt: u64,
  /** UMT in the unbonding queue, not yet released. */
  unbonding: u64,
  createdAt: u64,
  updatedAt: u64,
});
export type Validator = Infer<typeof validator>;

/** One member of an active set, in consensus order (index = position). */
export const setMember = struct({ account: name, nodeKey: bytes32 });
export type SetMember = Infer<typeof setMember>;

/**
 * The active set of one epoch. Normally one segment from the epoch's first height; evidence adds a
 * segment from the next height without the jailed validator (earlier heights keep their set, so
 * older votes and commits are still checked against the set that signed them).
 */
export const validatorSet = struct({
  epoch: u64,
  segments: vec(struct({ from: u64, validators: vec(setMember, 65_535, 1) }), 65_535, 1),
});
export type ValidatorSetRecord = Infer<typeof validatorSet>;

/** Pending unbonding entries kept per validator (evidence cuts each of them; Cosmos allows 7). */
export const MAX_PENDING_UNBONDING = 32;

/** UMT on its way back to its owner: released into the free balance at the first block at/after `releaseAt`. */
export const unbonding = struct({ id: bytes32, account: name, amount: u64, releaseAt: u64 });
export type Unbonding = Infer<typeof unbonding>;

/** A time-bucketed queue position: buckets below `next` were drained. */
export const queueCursor = struct({ next: u64 });
export const queueChunk = vec(bytes32, 64);
export const count = u32;
export const amount = u64;
export const marker = u64;
export const id32 = bytes32;

/** Key layout. The prefix decides the codec (see `codecForKey`). */
export const K = {
  meta: 'meta/chain',
  params: 'meta/params',
  supply: 'meta/supply',
  /** Accounts whose validator status is 'active', sorted: what the next epoch's set is chosen from. */
  activeValidators: 'meta/validators',
  validator: (account: string) => `val/${account}`,
  /** Node key (hex) -> owner account: a key serves one validator only. */
  nodeKey: (keyHex: string) => `vkey/${keyHex}`,
  validatorSet: (epoch: bigint) => `valset/${epoch}`,
  /** Block time at which an epoch ended (its last block): its set is kept for the unbonding delay after. */
  validatorSetEnd: (epoch: bigint) => `valend/${epoch}`,
  /** The oldest epoch whose set is still kept. */
  oldestValidatorSet: 'meta/valsetOldest',
  /** Ids of a validator's pending unbonding entries (at most MAX_PENDING_UNBONDING). */
  pendingUnbonding: (account: string) => `unbv/${account}`,
  unbonding: (idHex: string) => `unb/${idHex}`,
  /** A punished offence: validator, height, round, vote type. */
  evidence: (account: string, height: bigint, round: number, type: string) =>
    `evd/${account}/${height}/${round}/${type}`,
  account: (n: string) => `acct/${n}`,
  balance: (n: string, t: string) => `bal/${n}/${t}`,
  offer: (idHex: string) => `offer/${idHex}`,
  contract: (idHex: string) => `ssc/${idHex}`,
  demand: (idHex: string) => `dem/${idHex}`,
  demandsOf: (subscriber: string) => `dsub/${subscriber}`,
  stats: (n: string) => `stat/${n}`,
  attestation: (subscriber: string) => `att/${subscriber}`,
  paymentRef: (gw: string, ref: string) => `pref/${gw}/${ref}`,
  redemptionRef: (gw: string, ref: string) => `rref/${gw}/${ref}`,
  blockId: (slot: number) => `bid/${slot}`,
  queueCursor: (q: string) => `qc/${q}`,
  queueCount: (q: string, bucket: bigint) => `qn/${q}/${bucket}`,
  /** Entries per hour of buckets, so that draining skips empty hours in one lookup. */
  queueHour: (q: string, hour: bigint) => `qh/${q}/${hour}`,
  queueChunk: (q: string, bucket: bigint, chunk: number) => `qk/${q}/${bucket}/${chunk}`,
} as const;

const CODECS: [string, Codec<any>][] = [
  ['meta/chain', chainMeta],
  ['meta/params', chainParams],
  ['meta/supply', supply],
  ['meta/validators', vec(name, 65_535)],
  ['val/', validator],
  ['vkey/', name],
  ['meta/valsetOldest', marker],
  ['valset/', validatorSet],
  ['valend/', marker],
  ['unb/', unbonding],
  ['unbv/', vec(bytes32, MAX_PENDING_UNBONDING)],
  ['evd/', marker],
  ['acct/', account],
  ['bal/', amount],
  ['offer/', offer],
  ['ssc/', contract],
  ['dem/', demand],
  ['dsub/', subscriberDemands],
  ['stat/', operatorStats],
  ['att/', attestation],
  ['pref/', marker],
  ['rref/', marker],
  ['tx/', marker],
  ['bid/', id32],
  ['qc/', queueCursor],
  ['qn/', count],
  ['qh/', count],
  ['qk/', queueChunk],
  ...GOV_CODECS,
  ...MINI_CODECS,
  ...SERVICE_CODECS,
];

export function codecForKey(key: string): Codec<unknown> {
  for (const [p, c] of CODECS) if (key.startsWith(p)) return c;
  throw new RoamError('INTERNAL', `no codec for state key ${key}`);
}

export function encodeEntry(key: string, value: unknown): Uint8Array {
  return encode(codecForKey(key), value);
}
export function decodeEntry(key: string, bytes: Uint8Array): unknown {
  return decode(codecForKey(key), bytes);
}
