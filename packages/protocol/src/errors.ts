/**
 * The one list of error codes. Each code has an HTTP status and a default message; the node, the
 * API and the SDK all speak these codes. Codes are stable: never rename or reuse one.
 */
export const ERRORS = {
  // codec
  CODEC_TRUNCATED: [400, 'Input ends before the value does'],
  CODEC_TRAILING: [400, 'Input has bytes after the value'],
  CODEC_TOO_LARGE: [413, 'A length exceeds its limit'],
  CODEC_NONCANONICAL: [400, 'Input is not in canonical form'],
  CODEC_BAD_VALUE: [400, 'A field has an invalid value'],
  CODEC_BAD_JSON: [400, 'JSON does not match the expected shape'],
  CODEC_UNKNOWN_OP: [400, 'Unknown operation type'],
  CODEC_VERSION: [400, 'Unsupported format version'],
  // transaction envelope
  TX_WRONG_CHAIN: [400, 'Transaction is for another chain'],
  TX_EXPIRED: [400, 'Transaction has expired'],
  TX_EXPIRATION_TOO_FAR: [400, 'Transaction expiration is too far in the future'],
  TX_TAPOS_INVALID: [400, 'Transaction references an unknown or too old block'],
  TX_DUPLICATE: [409, 'Transaction was already included'],
  TX_TOO_LARGE: [413, 'Transaction exceeds the maximum size'],
  TX_INVALID: [400, 'Transaction is malformed'],
  SIG_MISSING: [401, 'A required signature is missing'],
  SIG_INVALID: [401, 'A signature does not verify'],
  SIG_EXTRA: [400, 'Transaction carries signatures that are not required'],
  // accounts and tokens
  ACCOUNT_UNKNOWN: [404, 'Account does not exist'],
  ACCOUNT_EXISTS: [409, 'Account name is taken'],
  ACCOUNT_NAME_INVALID: [400, 'Account name breaks the naming rules'],
  ROLE_REQUIRED: [403, 'The account lacks the role this operation needs'],
  ROLE_INVALID: [400, 'Role cannot be granted this way'],
  BALANCE_LOW: [422, 'Balance too low'],
  VESTING_LOCKED: [422, 'Amount is still locked by vesting'],
  AMOUNT_INVALID: [400, 'Amount must be positive and within range'],
  SELF_TRANSFER: [400, 'Sender and recipient are the same account'],
  SDR_REF_USED: [409, 'This external payment reference was already used'],
  // offers and demands
  OFFER_INVALID: [400, 'Offer terms are invalid'],
  OFFER_UNKNOWN: [404, 'Offer does not exist'],
  OFFER_NOT_OWNER: [403, 'Only the publishing operator may change this offer'],
  OFFER_INACTIVE: [409, 'Offer is withdrawn or outside its validity window'],
  OFFER_VERSION_STALE: [409, 'Offer terms changed since the version referenced'],
  OFFER_FULL: [409, 'Offer has no capacity left'],
  DEMAND_INVALID: [400, 'Demand is invalid'],
  DEMAND_UNKNOWN: [404, 'Demand does not exist'],
  DEMAND_CLOSED: [409, 'Demand is closed or expired'],
  // service smart contract
  SSC_UNKNOWN: [404, 'Contract does not exist'],
  SSC_EXISTS: [409, 'A contract with this ephemeral key already exists'],
  SSC_TERMS_INVALID: [400, 'Contract terms are invalid'],
  SSC_NOT_SUBSCRIBER: [403, 'Subscriber is not attached to this issuer'],
  SSC_PAYER_INVALID: [403, 'Payer must be the subscriber or the issuer'],
  SSC_DEPOSIT_LOW: [422, 'Deposit does not cover the package price and the issuer fee'],
  SSC_NOT_HEAD: [409, 'prev is not the head of the contract'],
  SSC_NOT_PARTY: [403, 'Sender is not a party of this contract in this role'],
  SSC_OVERCHARGE: [422, 'Charges plus issuer fee would exceed the deposit'],
  SSC_CLOSED: [409, 'Contract is closed'],
  SSC_TIMEOUT: [409, 'Step timeout passed: no more charges'],
  SSC_EXPIRED: [409, 'Contract lifetime is over: no more charges'],
  SSC_BAD_SEQUENCE: [409, 'Charge sequence number is not the next one'],
  SSC_PROVISIONED: [409, 'Contract was already provisioned'],
  SSC_CHARGE_INVALID: [400, 'Charge record is invalid'],
  IDENTITY_NOT_HOME: [403, 'Only the home operator attests its own subscriber'],
  IDENTITY_UNKNOWN: [404, 'The subscriber has no identity attestation'],
  IDENTITY_INVALID: [409, 'Attestation is revoked, expired or not the current one'],
  RATE_NOT_CLOSED: [409, 'Only a closed contract can be rated'],
  RATE_DUPLICATE: [409, 'Contract was already rated'],
  RATE_INVALID: [400, 'Score must be 1 to 5'],
  RATE_NOT_SERVED: [409, 'Only a contract that was provisioned or charged can be rated'],
  SSC_FEE_DEPOSIT_LOW: [422, 'Fee deposit cannot pay the steps of the contract'],
  DEMAND_LIMIT: [409, 'The subscriber has the most open demands allowed'],
  OFFER_RESERVED: [403, "The offer answers another subscriber's demand"],
  OFFER_PAUSED: [409, 'Offer is paused by its operator: it cannot be bought until resumed'],
  OFFER_PAUSE_STATE: [409, 'Offer is already paused, or not paused'],
  // operator agent (its HTTP endpoints and countersign policy)
  AGENT_UNAUTHORIZED: [401, 'A valid credential is required'],
  AGENT_FORBIDDEN: [403, 'The credential does not allow this route'],
  AGENT_RATE_LIMITED: [429, 'Too many requests: retry later'],
  AGENT_MEDIA_TYPE: [415, 'Only application/json is accepted'],
  AGENT_BODY_TOO_LARGE: [413, 'Request body too large'],
  USAGE_INVALID: [400, 'Usage record is invalid'],
  POLICY_TX: [400, 'The transaction must be a single request_open'],
  POLICY_ISSUER: [403, 'The Request names another issuer'],
  POLICY_PAYER: [403, 'The subscriber must pay its own Request'],
  POLICY_SUBSCRIBER: [403, 'Not a subscriber of this operator'],
  POLICY_FEE: [403, 'The issuer fee is not the policy fee'],
  POLICY_COUNTRY: [403, 'The offer country is not allowed'],
  POLICY_OPEN_LIMIT: [403, 'Too many open contracts for the subscriber'],
  POLICY_DEPOSIT_LIMIT: [403, "The subscriber's frozen deposits would pass the limit"],
  POLICY_FEE_DEPOSIT: [403, "The Request's fee deposit is outside the policy"],
  POLICY_LIFETIME: [403, "The Request's lifetime is outside the policy"],
  POLICY_STEP_TIMEOUT: [403, "The Request's step timeout is outside the policy"],
  POLICY_TOPUP_LIMIT: [403, 'The top-up is outside the policy'],
  POLICY_SUBSCRIBER_RATE: [429, 'Too many Requests from this subscriber: retry later'],
  SIGNUP_DISABLED: [404, 'This operator does not offer sign-up through its agent'],
  SIGNUP_INVALID: [400, 'The sign-up request is malformed'],
  SIGNUP_STALE: [400, 'The sign-up request is outside its time window'],
  SIGNUP_REPLAY: [409, 'This sign-up request was already received'],
  SIGNUP_KYC_REFUSED: [403, 'The identity check refused the sign-up'],
  // validators (Super Nodes) and evidence
  VALIDATOR_INVALID: [400, 'Validator operation is malformed'],
  VALIDATOR_NOT_GOVERNANCE: [403, 'Only the governance authority changes the validator set'],
  VALIDATOR_UNKNOWN: [404, 'The account has no validator record'],
  VALIDATOR_STATUS: [409, 'The validator status does not allow this'],
  VALIDATOR_KEY_TAKEN: [409, 'The node key belongs to another validator'],
  VALIDATOR_BOND_LOW: [422, 'Bond would fall below the minimum validator bond'],
  VALIDATOR_SET_EMPTY: [409, 'The active validator set would become empty'],
  VALIDATOR_SET_UNKNOWN: [404, 'No validator set is known for this height'],
  EVIDENCE_INVALID: [400, 'Evidence does not prove a double signature'],
  EVIDENCE_DUPLICATE: [409, 'This offence was already punished'],
  EVIDENCE_TOO_OLD: [409, 'Evidence is older than the evidence window'],
  VALIDATOR_UNBONDING_LIMIT: [409, 'Too many unbonding entries of this validator are pending'],
  // governance and price feeds (docs/GOVERNANCE.md)
  GOV_INVALID: [400, 'Proposal is malformed'],
  GOV_PARAM_INVALID: [400, 'Parameter cannot be changed by a vote, or the value is out of bounds'],
  GOV_NOT_OPERATOR: [403, 'Only an admitted operator proposes and votes'],
  GOV_NOT_ELIGIBLE: [403, 'The operator was admitted after the proposal was made'],
  GOV_UNKNOWN: [404, 'Proposal does not exist'],
  GOV_CLOSED: [409, 'The proposal deadline has passed'],
  GOV_DUPLICATE_VOTE: [409, 'The operator already voted on this proposal'],
  GOV_DEADLINE_INVALID: [400, 'Deadline outside the allowed voting period'],
  GOV_TOO_MANY: [429, 'Too many open proposals of this operator'],
  FEED_INVALID: [400, 'Price feed rates are invalid'],
  FEED_NOT_VALIDATOR: [403, 'Only a Super Node of the active set publishes price feeds'],
  // Mini Nodes (docs/GOVERNANCE.md §8)
  MINI_INVALID: [400, 'Mini Node operation is malformed'],
  MINI_UNKNOWN: [404, 'The account has no Mini Node'],
  MINI_STATUS: [409, 'The Mini Node status does not allow this'],
  MINI_BOND_LOW: [422, 'Bond would fall below the minimum Mini Node bond'],
  MINI_KEY_TAKEN: [409, 'The node key belongs to another Mini Node'],
  MINI_SUPER_INVALID: [409, 'The Super Node to attach to is not an active Super Node'],
  MINI_SUPER_FULL: [409, 'The Super Node has as many Mini Nodes as it may'],
  MINI_ATTEST_INVALID: [400, 'Attestation does not verify or does not match the committed state root'],
  MINI_ATTEST_DUPLICATE: [409, 'The Mini Node already attested this window'],
  MINI_FRAUD_INVALID: [400, 'The attestation does not contradict a committed state root'],
  UPGRADE_REQUIRED: [503, 'A protocol version this node does not implement is in force: upgrade the node'],
  // blocks and genesis
  BLOCK_INVALID: [400, 'Block is invalid'],
  BLOCK_BAD_HEIGHT: [400, 'Block height is not the next one'],
  BLOCK_BAD_PREV: [400, 'Block does not extend the head'],
  BLOCK_BAD_TIME: [400, 'Block time does not advance'],
  BLOCK_BAD_TX_ROOT: [400, 'Block transaction root mismatch'],
  BLOCK_BAD_STATE_ROOT: [400, 'Block state root mismatch'],
  BLOCK_BAD_PRODUCER: [400, 'Block producer is not allowed'],
  BLOCK_BAD_SIGNATURE: [401, 'Block signature does not verify'],
  BLOCK_TOO_LARGE: [413, 'Block exceeds its limits'],
  BLOCK_BAD_COMMIT: [400, 'Block commit (more than 2/3 of precommit signatures) does not verify'],
  SYNC_FAILED: [502, 'Block sync from peers failed'],
  WAL_CORRUPT: [500, 'The consensus write-ahead log is damaged'],
  GENESIS_INVALID: [400, 'Genesis is invalid'],
  // node and API
  NOT_FOUND: [404, 'Not found'],
  BAD_REQUEST: [400, 'Bad request'],
  UNSUPPORTED_MEDIA_TYPE: [415, 'The request body has a content type this route does not accept'],
  MEMPOOL_FULL: [503, 'Mempool is full'],
  MEMPOOL_ACCOUNT_LIMIT: [429, 'Too many pending transactions for this account'],
  ACCOUNT_BUSY: [
    429,
    'This account has too many transactions in admission or exceeds its rate: retry after the time in Retry-After',
  ],
  WAIT_TIMEOUT: [504, 'Transaction not included within the wait time'],
  RATE_LIMITED: [429, 'Too many requests from this client: retry after the time in Retry-After'],
  API_KEY_INVALID: [401, 'Unknown API key'],
  API_BUSY: [503, 'The node serves as many connections as it can: retry after the time in Retry-After'],
  KEYSTORE_BAD_PASSPHRASE: [401, 'Wrong keystore passphrase'],
  KEYSTORE_NO_KEY: [404, 'No such key in the keystore'],
  KEY_FILE_EXPOSED: [403, 'A secret key file is accessible to group or others (chmod 600 it)'],
  SNAPSHOT_INVALID: [400, 'The file is not an intact roamchain snapshot'],
  SNAPSHOT_TARGET_IN_USE: [409, 'The data directory already holds a store'],
  LIST_CURSOR_INVALID: [400, 'List cursor is malformed: pass the `next` of the previous page'],
  LIST_LIMIT_INVALID: [400, 'List page size is out of bounds'],
  LIST_INDEX_UNAVAILABLE: [503, 'This node keeps no list index'],
  INDEX_UNAVAILABLE: [503, 'The index is restarting or busy: retry shortly'],
  INTERNAL: [500, 'Internal error'],
} as const satisfies Record<string, readonly [number, string]>;

export type ErrorCode = keyof typeof ERRORS;

export function isErrorCode(c: unknown): c is ErrorCode {
  return typeof c === 'string' && Object.hasOwn(ERRORS, c);
}

export function httpStatusOf(code: ErrorCode): number {
  return ERRORS[code][0];
}

/** The one error type: a stable code, a message, optional details. */
export class RoamError extends Error {
  readonly code: ErrorCode;
  readonly details: Record<string, unknown> | undefined;
  constructor(code: ErrorCode, message?: string, details?: Record<string, unknown>) {
    super(message ?? ERRORS[code][1]);
    this.name = 'RoamError';
    this.code = code;
    this.details = details;
  }
  get status(): number {
    return httpStatusOf(this.code);
  }
  toJSON(): { code: ErrorCode; message: string; details: Record<string, unknown> } {
    return { code: this.code, message: this.message, details: this.details ?? {} };
  }
}

export function fail(code: ErrorCode, message?: string, details?: Record<string, unknown>): never {
  throw new RoamError(code, message, details);
}

export function check(
  cond: unknown,
  code: ErrorCode,
  message?: string,
  details?: Record<string, unknown>,
): asserts cond {
  if (!cond) throw new RoamError(code, message, details);
}
