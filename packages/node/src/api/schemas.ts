/**
 * JSON schemas of the Web-API routes. They validate requests (Fastify/Ajv), shape answers
 * (fast-json-stringify) and become the OpenAPI 3.0 document, so they stick to what OpenAPI 3.0
 * accepts (`nullable`, no type arrays, no `const`). Ledger objects keep `additionalProperties:
 * true` so that a field added to a codec is never stripped from an answer.
 */
import {
  type ErrorCode,
  httpStatusOf,
  NAME_RE,
  OP_NAMES,
  ROLES,
  SERVICE_KINDS,
  UNITS,
} from '@roamchain/protocol';
import { VALIDATOR_STATUSES } from '@roamchain/state';

type Schema = Record<string, unknown>;

export const HEX = { type: 'string', pattern: '^[0-9a-f]*$', description: 'lowercase hex' } as const;
export const ID = { type: 'string', pattern: '^[0-9a-fA-F]{64}$', description: '32-byte id, hex' } as const;
export const U64 = {
  type: 'string',
  pattern: '^[0-9]{1,20}$',
  description: 'u64 as a decimal string (amounts in base units, 6 decimals)',
} as const;
export const NAME = { type: 'string', pattern: NAME_RE.source, description: 'account name' } as const;
export const CURSOR = {
  type: 'string',
  pattern: '^[0-9]{1,15}:[0-9]{1,9}$',
  description: 'feed cursor "height:index"',
} as const;
const INT = { type: 'integer' } as const;
const STR = { type: 'string' } as const;
const BOOL = { type: 'boolean' } as const;
const ANY_OBJECT = { type: 'object', additionalProperties: true } as const;
const nullable = (s: Schema): Schema => ({ ...s, nullable: true });
const obj = (properties: Record<string, unknown>, extra: Schema = {}): Schema => ({
  type: 'object',
  properties,
  additionalProperties: true,
  ...extra,
});
const items = (item: Schema, next = false): Schema =>
  obj({ items: { type: 'array', items: item }, ...(next ? { next: nullable(STR) } : {}) });

export const ERROR = {
  type: 'object',
  description: 'Every non-2xx answer; `code` is one of the codes of packages/protocol/src/errors.ts',
  required: ['code', 'message', 'details'],
  properties: { code: STR, message: STR, details: ANY_OBJECT },
} as const;

/** Standard error answers added to every route. */
export const ERRORS_RESPONSES = { '4xx': ERROR, '5xx': ERROR } as const;

/**
 * The error codes a route answers for its typical bad requests, grouped by their HTTP status: one
 * response per status whose `code` is an enum of them (checked against real answers by
 * packages/node/test/api-errors.test.ts). Other failures keep the generic 4xx/5xx answer.
 */
export function errorResponses(codes: readonly ErrorCode[]): Record<string, object> {
  const by = new Map<number, ErrorCode[]>();
  for (const c of codes) by.set(httpStatusOf(c), [...(by.get(httpStatusOf(c)) ?? []), c]);
  const out: Record<string, object> = {};
  for (const [status, list] of by) {
    out[String(status)] = {
      ...ERROR,
      description: `error: ${list.join(', ')}`,
      properties: { ...ERROR.properties, code: { type: 'string', enum: list } },
    };
  }
  return out;
}

export const EVENT = obj({ type: STR }, { description: 'ledger event (u64 as strings, bytes as hex)' });

export const RECEIPT = obj({ txId: HEX, index: INT, fee: U64, events: { type: 'array', items: EVENT } });

export const SIGNED_TX = obj(
  {
    version: INT,
    chainId: HEX,
    refBlockNum: INT,
    refBlockPrefix: INT,
    expiration: U64,
    ops: { type: 'array', items: obj({ type: { type: 'string', enum: [...OP_NAMES] } }) },
    signatures: { type: 'array', items: HEX },
  },
  { description: 'signed transaction (JSON of signedTx)' },
);

export const BLOCK_HEADER = obj({
  version: INT,
  chainId: HEX,
  height: U64,
  prev: HEX,
  time: U64,
  producer: STR,
  txRoot: HEX,
  stateRoot: HEX,
  txCount: INT,
  lastCommitHash: HEX,
});

export const OFFER_TERMS = obj({
  title: STR,
  kind: { type: 'string', enum: [...SERVICE_KINDS] },
  category: STR,
  countries: { type: 'array', items: STR },
  networks: { type: 'array', items: STR },
  technologies: { type: 'array', items: STR },
  dataBytes: U64,
  voiceSeconds: U64,
  smsCount: INT,
  durationSec: INT,
  price: U64,
  unitPrice: U64,
  unit: { type: 'string', enum: [...UNITS] },
  activation: STR,
  validFrom: U64,
  validUntil: U64,
  capacity: INT,
  encryptionKey: HEX,
});

export const OFFER = obj({
  id: HEX,
  operator: STR,
  version: HEX,
  terms: OFFER_TERMS,
  demand: nullable(HEX),
  status: { type: 'string', enum: ['active', 'withdrawn', 'paused'] },
  openContracts: INT,
  totalContracts: INT,
  createdAt: U64,
  updatedAt: U64,
});

export const CONTRACT = obj({
  id: HEX,
  offer: HEX,
  offerVersion: HEX,
  issuer: STR,
  assignee: STR,
  payer: STR,
  subscriber: STR,
  price: U64,
  unitPrice: U64,
  unit: STR,
  kind: STR,
  dataBytes: U64,
  durationSec: INT,
  deposit: U64,
  issuerFeeBps: INT,
  feeDeposit: U64,
  attestation: nullable(HEX),
  ephemeralKey: HEX,
  stepTimeoutSec: INT,
  lifetimeSec: INT,
  openedAt: U64,
  lastStepAt: U64,
  expiresAt: U64,
  head: HEX,
  charged: U64,
  chargeCount: INT,
  volumeUp: U64,
  volumeDown: U64,
  status: { type: 'string', enum: ['open', 'closed'] },
  closedAt: U64,
  closedBy: STR,
  badService: BOOL,
  reason: INT,
  paidAssignee: U64,
  paidIssuer: U64,
  paidPayer: U64,
  feeReturned: U64,
  score: INT,
  iccidHash: nullable(HEX),
  provisionedAt: U64,
});

export const DEMAND = obj({
  id: HEX,
  subscriber: STR,
  kind: STR,
  countries: { type: 'array', items: STR },
  networks: { type: 'array', items: STR },
  dataBytes: U64,
  startAt: U64,
  endAt: U64,
  maxPrice: U64,
  note: STR,
  status: { type: 'string', enum: ['open', 'cancelled'] },
  answers: INT,
  createdAt: U64,
});

export const ATTESTATION = obj(
  {
    id: HEX,
    subscriber: STR,
    operator: STR,
    digests: { type: 'array', items: HEX, description: 'SHA-256 of each disclosure [salt, claim, value]' },
    level: INT,
    issuedAt: U64,
    expiresAt: U64,
    revokedAt: { ...U64, description: 'when it was revoked, "0" = not revoked' },
    revokeReason: INT,
  },
  { description: "a home operator's identity attestation of its subscriber" },
);

export const RATING = obj({
  operator: STR,
  ratingBps: INT,
  starsX100: INT,
  ratingCount: INT,
  contracts: INT,
  closed: INT,
  badService: INT,
  serviceBps: {
    ...INT,
    description:
      'service signal for the ranking, bps: 10,000 x (5 + provisioned30d) / (5 + provisioned30d + failed30d)',
  },
  service: {
    type: 'string',
    enum: ['new', 'serving', 'unproven', 'failing'],
    description:
      "'new': no Request settled in 30 days; 'serving': provisioned at least as many as timed out; 'unproven': none provisioned, some timed out; 'failing': more timed out than provisioned",
  },
  servedShareBps: {
    ...INT,
    description: "share of the last 30 days' settled Requests provisioned in time, bps (10,000 when none)",
  },
  opened30d: { ...INT, description: "Requests opened on the operator's offers in the last 30 days" },
  provisioned30d: {
    ...INT,
    description: 'Requests provisioned within their step timeout in the last 30 days',
  },
  failed30d: {
    ...INT,
    description: 'Requests whose step timeout passed without a Provision in the last 30 days',
  },
  meanProvisionMs30d: { ...INT, description: 'mean time from Request to Provision, ms (0 when none)' },
});

export const ACCOUNT = obj({
  name: STR,
  roles: { type: 'array', items: { type: 'string', enum: [...ROLES] } },
  homeOperator: nullable(STR),
  signingKey: HEX,
  encryptionKey: HEX,
  createdAt: U64,
  balances: obj({ UMT: U64, SDR: U64 }),
  lockedUMT: U64,
});

export const STATUS = obj({
  chainId: HEX,
  chainName: STR,
  height: INT,
  finalizedHeight: INT,
  headId: HEX,
  headTime: INT,
  time: INT,
  mempool: INT,
  producer: nullable(STR),
  consensus: nullable(
    obj({
      validator: BOOL,
      height: INT,
      round: INT,
      step: STR,
      validators: INT,
      peers: INT,
      syncing: BOOL,
      syncHeight: INT,
      syncTarget: INT,
      decisions: INT,
      maxRound: INT,
      refusedSignatures: INT,
      evidence: INT,
    }),
  ),
  protocolVersion: INT,
  /** Set when the node halted before a protocol upgrade it does not implement (docs/OPERATIONS.md). */
  halted: nullable(
    obj({
      reason: { type: 'string', enum: ['UPGRADE_REQUIRED'] },
      version: INT,
      height: INT,
      proposal: HEX,
      implemented: INT,
      message: STR,
    }),
  ),
});

export const TX_STATUS = obj({
  txId: HEX,
  status: { type: 'string', enum: ['included', 'pending', 'rejected'] },
  height: INT,
  index: INT,
  blockId: HEX,
  receipt: RECEIPT,
  tx: SIGNED_TX,
  code: STR,
  message: STR,
});

export const COMMIT = obj(
  {
    height: INT,
    round: INT,
    blockId: HEX,
    signatures: { type: 'array', items: obj({ validator: INT, signature: HEX }) },
  },
  {
    description:
      'more than 2/3 of the active set precommitted blockId at height (validator = index in the set)',
  },
);

export const BLOCK = obj({
  id: HEX,
  height: INT,
  header: BLOCK_HEADER,
  lastCommit: nullable(COMMIT),
  commit: nullable(COMMIT),
  txs: { type: 'array', items: obj({ id: HEX, tx: SIGNED_TX }) },
  receipts: { type: 'array', items: RECEIPT },
  endEvents: { type: 'array', items: EVENT },
});

export const BLOCK_SUMMARY = obj({ id: HEX, height: INT, time: INT, producer: STR, txCount: INT });

export const FEED_EVENT = obj({ cursor: STR, height: INT, txId: nullable(HEX), event: EVENT });

export const RANKED = obj({
  offerId: HEX,
  offer: OFFER,
  cost: U64,
  score: INT,
  priceScore: INT,
  qualityScore: INT,
  rating: RATING,
  reasons: { type: 'array', items: STR },
});

export const CONTRACT_TX = obj({ txId: STR, height: INT, index: INT, opIndex: INT, type: STR });

const VALIDATOR_FIELDS = {
  account: STR,
  nodeKey: { ...HEX, description: 'Ed25519 key the node signs consensus messages with' },
  bond: { ...U64, description: 'bonded UMT, base units' },
  status: { type: 'string', enum: [...VALIDATOR_STATUSES] },
  slashed: U64,
  jailedAt: { ...U64, description: 'height of the block that jailed it last, "0" = never' },
  unbonding: { ...U64, description: 'UMT in the unbonding queue, not yet paid out' },
  createdAt: U64,
  updatedAt: U64,
};

export const VALIDATOR = obj(VALIDATOR_FIELDS, { description: "a Super Node's validator record" });

export const ACTIVE_VALIDATOR = obj(
  {
    index: { ...INT, description: 'index in the set = validator index in consensus votes' },
    account: STR,
    nodeKey: HEX,
    bond: U64,
    peerId: { ...STR, description: 'libp2p peer id of the node key' },
  },
  { description: 'a member of the active set, in consensus order' },
);

export const VALIDATOR_SET = obj({
  epoch: { ...INT, description: 'epoch of `height`' },
  height: { ...INT, description: 'the next block (head + 1): the height the active set validates' },
  active: { type: 'array', items: ACTIVE_VALIDATOR },
  records: { type: 'array', items: VALIDATOR, description: 'every validator record, by account' },
});

export const VALIDATOR_DETAIL = obj(
  {
    ...VALIDATOR_FIELDS,
    inSet: { ...BOOL, description: 'in the set that validates `height`' },
    index: nullable({ ...INT, description: 'its index in that set' }),
    peerId: STR,
    epoch: INT,
    height: INT,
  },
  { description: 'a validator record and its place in the set of the next block' },
);

export const PAGE = { items, nullable };
