/**
 * JSON shapes of the Web-API (docs/API.md). Conventions: u64 values (amounts, times inside ledger
 * objects) are decimal strings of base units, byte strings are lowercase hex, times in status
 * fields are unix milliseconds as numbers.
 */
import type { ErrorCode, NodeStatus, Role, ServiceKind, Token } from '@roamchain/protocol';

/** Lowercase hex of a byte string. */
export type Hex = string;
/** A u64 as a decimal string (amounts in base units: 6 decimals for UMT and SDR). */
export type U64 = string;

export interface HealthJson {
  ok: boolean;
  height: number;
}

/** `GET /v1/status` (the node's own type, from the protocol). */
export type StatusJson = NodeStatus;

export interface ChainParamsJson {
  blockIntervalMs: number;
  maxTxExpirationMs: number;
  taposWindow: number;
  maxTxBytes: number;
  maxBlockTxs: number;
  minStepTimeoutSec: number;
  maxStepTimeoutSec: number;
  minLifetimeSec: number;
  maxLifetimeSec: number;
  fees: Record<string, U64>;
  communityFeeBps: number;
  communityFund: string;
  vestingBpsPerMonth: number;
  vestingMonthMs: U64;
  genesisTime: U64 | number;
  /** Governance, fee split, NDF, price feeds (docs/GOVERNANCE.md). */
  miniNodeFeeBps?: number;
  ndfFund?: string;
  ndfDailyPayout?: U64;
  govMinVotingMs?: U64;
  govMaxVotingMs?: U64;
  govMaxOpenProposals?: number;
  govMaxSkips?: number;
  feedMaxAgeMs?: U64;
  feedMinCount?: number;
  slaVoteBps?: number;
  [extra: string]: unknown;
}

/** A ledger event as emitted by the state machine (bigints as strings, bytes as hex). */
export interface LedgerEventJson {
  type: string;
  [field: string]: unknown;
}

export interface ReceiptJson {
  txId: Hex;
  index: number;
  /** UMT fee paid, base units. */
  fee: U64;
  events: LedgerEventJson[];
}

export interface TxIncluded {
  txId: Hex;
  status: 'included';
  height: number;
  index: number;
  blockId: Hex;
  receipt: ReceiptJson;
}

export interface TxPending {
  txId: Hex;
  status: 'pending';
}

/** Answer of POST /v1/tx: pending without wait, included with wait. */
export type SubmitResult = TxIncluded | TxPending;

/** What the binary batch route (`client.submitTxs`) says of one transaction. */
export type BatchTxResult =
  | { ok: true; txId: Hex }
  | {
      ok: false;
      /** The node's code (INTERNAL when this SDK does not know it; see `serverCode`). */
      code: ErrorCode;
      serverCode: string;
      message: string;
      /** For MEMPOOL_FULL / RATE_LIMITED of a whole batch: when to resubmit, ms (the answer's Retry-After). */
      retryAfterMs?: number;
    };

/** JSON of a signed transaction (`signedTx.toJSON`). */
export interface SignedTxJson {
  version: number;
  chainId: Hex;
  refBlockNum: number;
  refBlockPrefix: number;
  expiration: U64;
  ops: OperationJson[];
  signatures: Hex[];
}

export interface OperationJson {
  type: string;
  [field: string]: unknown;
}

export interface TxStatusJson {
  txId: Hex;
  status: 'included' | 'pending' | 'rejected';
  height?: number;
  index?: number;
  blockId?: Hex;
  receipt?: ReceiptJson;
  tx?: SignedTxJson;
  code?: string;
  message?: string;
}

export interface BlockHeaderJson {
  version: number;
  chainId: Hex;
  height: U64;
  prev: Hex;
  time: U64;
  producer: string;
  txRoot: Hex;
  stateRoot: Hex;
  txCount: number;
  lastCommitHash: Hex;
}

export interface CommitJson {
  height: number;
  round: number;
  blockId: Hex;
  /** Precommit signatures; `validator` is the index in that height's active set. */
  signatures: { validator: number; signature: Hex }[];
}

export interface BlockJson {
  id: Hex;
  height: number;
  header: BlockHeaderJson;
  /** The parent's commit this block carries (null in block 1). */
  lastCommit: CommitJson | null;
  /** The commit that finalised this block, when the node has it. */
  commit: CommitJson | null;
  txs: { id: Hex; tx: SignedTxJson }[];
  receipts: ReceiptJson[];
  endEvents: LedgerEventJson[];
}

export interface BlockSummaryJson {
  id: Hex;
  height: number;
  time: number | U64;
  producer: string;
  txCount: number;
}

export interface AccountJson {
  name: string;
  roles: Role[];
  homeOperator?: string | null;
  signingKey: Hex;
  encryptionKey: Hex;
  createdAt: U64;
  balances: Record<Token, U64>;
  lockedUMT: U64;
}

export interface OfferTermsJson {
  title: string;
  kind: ServiceKind;
  category: string;
  countries: string[];
  networks: string[];
  technologies: string[];
  dataBytes: U64;
  voiceSeconds: U64;
  smsCount: number;
  durationSec: number;
  price: U64;
  unitPrice: U64;
  unit: 'mb' | 'minute' | 'sms' | 'unit';
  activation: 'on_provision' | 'on_first_use';
  validFrom: U64;
  validUntil: U64;
  capacity: number;
  encryptionKey: Hex;
}

export interface OfferJson {
  id: Hex;
  operator: string;
  /** Hash of the operation that set the current terms: a Request names it as `prev`. */
  version: Hex;
  terms: OfferTermsJson;
  demand?: Hex | null;
  status: 'active' | 'withdrawn' | 'paused';
  openContracts: number;
  totalContracts: number;
  createdAt: U64;
  updatedAt: U64;
}

export interface OperatorRatingJson {
  operator: string;
  ratingBps: number;
  starsX100: number;
  ratingCount: number;
  contracts: number;
  closed: number;
  badService: number;
  /** Service signal for the ranking, bps (10,000 = no evidence against the operator); absent on older nodes. */
  serviceBps?: number;
  /**
   * 'new': no Request settled in the last 30 days; 'serving': provisioned at least as many as timed
   * out; 'unproven': none provisioned, some timed out; 'failing': more timed out than provisioned.
   */
  service?: 'new' | 'serving' | 'unproven' | 'failing';
  /** Share of the last 30 days' settled Requests provisioned in time, bps (10,000 when none). */
  servedShareBps?: number;
  /** Requests opened on the operator's offers in the last 30 days. */
  opened30d?: number;
  /** Requests provisioned within their step timeout in the last 30 days. */
  provisioned30d?: number;
  /** Requests whose step timeout passed without a Provision in the last 30 days. */
  failed30d?: number;
  /** Mean time from Request to Provision over the last 30 days, ms (0 when none). */
  meanProvisionMs30d?: number;
}

export interface RankedOfferJson {
  offerId: Hex;
  offer: OfferJson;
  cost: U64;
  score: number;
  priceScore: number;
  qualityScore: number;
  rating: OperatorRatingJson;
  reasons: string[];
}

export interface ContractJson {
  id: Hex;
  offer: Hex;
  offerVersion: Hex;
  issuer: string;
  assignee: string;
  payer: string;
  subscriber: string;
  price: U64;
  unitPrice: U64;
  unit: string;
  kind: ServiceKind;
  dataBytes: U64;
  durationSec: number;
  deposit: U64;
  issuerFeeBps: number;
  feeDeposit: U64;
  attestation?: Hex | null;
  ephemeralKey: Hex;
  stepTimeoutSec: number;
  lifetimeSec: number;
  openedAt: U64;
  lastStepAt: U64;
  expiresAt: U64;
  /** Hash of the latest transition; the next one names it as `prev`. */
  head: Hex;
  charged: U64;
  chargeCount: number;
  volumeUp: U64;
  volumeDown: U64;
  status: 'open' | 'closed';
  closedAt: U64;
  closedBy: string;
  badService: boolean;
  reason: number;
  paidAssignee: U64;
  paidIssuer: U64;
  paidPayer: U64;
  feeReturned: U64;
  score: number;
  /** SHA-256 of the ICCID, once provisioned. */
  iccidHash?: Hex | null;
  /** When the assignee provisioned the subscriber (0 = not yet). */
  provisionedAt?: U64;
}

export interface ContractTxRefJson {
  txId: Hex;
  height: number;
  index: number;
  opIndex: number;
  type: string;
}

export interface ContractDetailJson {
  contract: ContractJson;
  transactions: ContractTxRefJson[];
}

export interface DemandJson {
  id: Hex;
  subscriber: string;
  kind: ServiceKind;
  countries: string[];
  networks: string[];
  dataBytes: U64;
  startAt: U64;
  endAt: U64;
  maxPrice: U64;
  note: string;
  status: 'open' | 'cancelled';
  answers: number;
  createdAt: U64;
}

export interface FeedEventJson {
  /** Resumable position `${height}:${index}`. */
  cursor: string;
  height: number;
  txId: Hex | null;
  event: LedgerEventJson;
}

export interface Page<T> {
  items: T[];
  next?: string | null;
}

export interface Items<T> {
  items: T[];
}

/** A validator record's standing ('jailed' only by evidence). */
export type ValidatorStatusJson = 'candidate' | 'active' | 'jailed' | 'removed';

/** A Super Node's validator record (GET /v1/validators, /v1/validators/:account). */
export interface ValidatorJson {
  account: string;
  /** Ed25519 key the node signs consensus messages with. */
  nodeKey: Hex;
  /** Bonded UMT, base units. */
  bond: U64;
  status: ValidatorStatusJson;
  /** UMT slashed so far. */
  slashed: U64;
  /** Height of the block that jailed it last ("0" = never). */
  jailedAt: U64;
  /** UMT in the unbonding queue, not yet paid out. */
  unbonding: U64;
  createdAt: U64;
  updatedAt: U64;
}

/** A member of the active set, in consensus order (`index` = its index in votes). */
export interface ActiveValidatorJson {
  index: number;
  account: string;
  nodeKey: Hex;
  bond: U64;
  /** libp2p peer id of the node key. */
  peerId?: string;
}

/** GET /v1/validators: the set that signs the next block and every validator record. */
export interface ValidatorSetJson {
  /** Epoch of `height`. */
  epoch: number;
  /** The next block's height (head + 1): the height `active` validates. */
  height: number;
  active: ActiveValidatorJson[];
  /** Every record (candidates, jailed and removed ones too), by account. */
  records: ValidatorJson[];
}

/** GET /v1/validators/:account: the record, and whether it is in the set of the next block. */
export interface ValidatorDetailJson extends ValidatorJson {
  inSet: boolean;
  /** Its index in the active set, or null. */
  index: number | null;
  peerId?: string;
  /** Epoch and height (head + 1) `inSet` and `index` refer to. */
  epoch: number;
  height: number;
}

// ---- query parameters ----

export interface OffersQuery {
  country?: string;
  network?: string;
  kind?: ServiceKind;
  operator?: string;
  /** SDR base units. */
  minPrice?: bigint;
  maxPrice?: bigint;
  status?: 'active' | 'withdrawn' | 'paused' | 'all';
  cursor?: string;
  limit?: number;
}

export type Preference = 'price' | 'quality' | 'balanced';

export interface RankQuery {
  country?: string;
  network?: string;
  kind?: ServiceKind;
  /** Data volume wanted, in bytes. */
  volume?: bigint;
  /** Most the subscriber will pay, SDR base units. */
  budget?: bigint;
  preference?: Preference;
  limit?: number;
  /** Also list answers to this subscriber's demands (hidden from everyone else). */
  subscriber?: string;
}

export interface BlocksQuery {
  before?: number;
  limit?: number;
}

export interface ContractsQuery {
  party?: string;
  limit?: number;
  before?: string;
}

export interface EventsQuery {
  cursor?: string;
  limit?: number;
}
