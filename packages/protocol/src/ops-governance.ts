/**
 * Governance, price-feed and SDR operations (SPEC §5; docs/GOVERNANCE.md). Same contract as
 * ops.ts: data plus a stateless `validate`; the evaluators live in @roamchain/state governance.ts
 * and feeds.ts. Kept apart from ops.ts, which spreads `GOVERNANCE_OPS` into its registry.
 */
import { bool, bytes32, type Codec, enumOf, type Infer, opt, str, struct, u16, u64, vec } from './codec.js';
import { RoamError } from './errors.js';
import { country, name, network } from './primitives.js';

export const PROPOSAL_KINDS = [
  'admit',
  'remove',
  'validator_register',
  'validator_remove',
  'param',
  'upgrade',
] as const;
export type ProposalKind = (typeof PROPOSAL_KINDS)[number];
/** Roles that are admitted and removed by a vote of the operators. */
export const ADMITTED_ROLES = ['operator', 'provider', 'gateway'] as const;
export type AdmittedRole = (typeof ADMITTED_ROLES)[number];

/**
 * What a proposal does when it passes. One flat record; `validate` requires exactly the fields of
 * its kind and the neutral value (absent, '' , [] or 0) in every other field, so each action has
 * exactly one encoding.
 *
 * - admit: account, role, displayName, country, networks
 * - remove: account, role
 * - validator_register: account, nodeKey (a new Super Node record, status active; or re-admission)
 * - validator_remove: account
 * - param: param (a name of GOV_PARAMS, or `fees.<operation>`), value
 * - upgrade: version (> 1), value = activation height
 */
export const proposalAction = struct({
  kind: enumOf(PROPOSAL_KINDS),
  account: opt(name),
  role: opt(enumOf(ADMITTED_ROLES)),
  displayName: str(80),
  country: opt(country),
  networks: vec(network, 64),
  nodeKey: opt(bytes32),
  param: str(48, /^$|^[a-zA-Z][a-zA-Z0-9_.]{0,47}$/),
  value: u64,
  version: u16,
});
export type ProposalAction = Infer<typeof proposalAction>;

const UMT = 1_000_000n;
const DAY_MS = 86_400_000n;

/**
 * Chain parameters a proposal may change, with their bounds (inclusive). `epoch: true` ones are
 * written only by the last block of an epoch (a safe boundary: the validator set of the next epoch
 * is elected with the old value, the new one holds from the next epoch's first block).
 * Not changeable by vote: `epochLength` (epochs of past heights are computed from it),
 * `taposWindow` (the block-id ring is indexed by it), and the account-name parameters.
 * Every `fees.<operation>` may change, 0..1,000 UMT.
 */
export const GOV_PARAMS: Record<string, { min: bigint; max: bigint; epoch?: true }> = {
  blockIntervalMs: { min: 100n, max: 60_000n },
  maxTxExpirationMs: { min: 60_000n, max: 86_400_000n },
  maxTxBytes: { min: 4_096n, max: 1_048_576n },
  maxBlockTxs: { min: 100n, max: 100_000n },
  minStepTimeoutSec: { min: 10n, max: 86_400n },
  maxStepTimeoutSec: { min: 3_600n, max: 365n * 86_400n },
  minLifetimeSec: { min: 60n, max: 86_400n },
  maxLifetimeSec: { min: 86_400n, max: 3n * 365n * 86_400n },
  communityFeeBps: { min: 0n, max: 10_000n },
  miniNodeFeeBps: { min: 0n, max: 10_000n },
  minValidatorBond: { min: 1_000n * UMT, max: 100_000_000n * UMT, epoch: true },
  maxValidators: { min: 1n, max: 1_000n, epoch: true },
  unbondingDelayMs: { min: DAY_MS, max: 90n * DAY_MS },
  slashBps: { min: 0n, max: 10_000n },
  evidenceMaxAgeEpochs: { min: 1n, max: 100n, epoch: true },
  govMinVotingMs: { min: 1_000n, max: 30n * DAY_MS },
  govMaxVotingMs: { min: 60_000n, max: 90n * DAY_MS },
  govMaxOpenProposals: { min: 1n, max: 100n },
  govMaxSkips: { min: 1n, max: 1_000n },
  feedMaxAgeMs: { min: 60_000n, max: 7n * DAY_MS },
  feedMinCount: { min: 1n, max: 1_000n },
  ndfDailyPayout: { min: 0n, max: 10_000_000n * UMT },
  slaVoteBps: { min: 0n, max: 10_000n },
  minMiniBond: { min: 1_000n * UMT, max: 1_000_000n * UMT },
  maxMiniPerSuper: { min: 1n, max: 1_000n },
  miniAttestInterval: { min: 10n, max: 100_000n, epoch: true },
  miniRootsKept: { min: 4n, max: 1_000n, epoch: true },
  miniMaxMissedWindows: { min: 1n, max: 1_000n },
};
export const FEE_PARAM_PREFIX = 'fees.';
/**
 * The highest protocol version whose rules this software implements. A vote schedules a higher
 * version at a height; from that height on a node that does not implement it stops building and
 * applying blocks (UPGRADE_REQUIRED) instead of applying rules it does not know, and an upgraded
 * node applies each block with the rules of the version in force at its height (docs/GOVERNANCE.md):
 *
 *   1  the genesis rules;
 *   2  a block's header `version` is the protocol version in force at its height (2), where
 *      version 1 requires 1: blocks say by which rules they were made.
 *
 * A node can be told to implement less (`maxProtocolVersion`, `--max-protocol-version`): it then
 * behaves as the older software (an operator who wants to stop at an upgrade rather than follow it).
 */
export const PROTOCOL_VERSION = 2;
export const MAX_FEE = 1_000n * UMT;

/** Currencies of a price feed besides the US dollar (the unit of account of the SDR valuation). */
export const FEED_CURRENCIES = ['EUR', 'CNY', 'JPY', 'GBP'] as const;
export type FeedCurrency = (typeof FEED_CURRENCIES)[number];
/** Rates are fixed-point integers with this many decimals. */
export const RATE_DECIMALS = 9;
export const RATE_SCALE = 10n ** BigInt(RATE_DECIMALS);
/**
 * Rates in the market (and IMF) quotation: EUR and GBP as US dollars per currency unit, CNY and
 * JPY as currency units per US dollar; each x 10^9.
 */
export const feedRates = struct({ EUR: u64, CNY: u64, JPY: u64, GBP: u64 });
export type FeedRates = Infer<typeof feedRates>;
/** Largest accepted rate: 10^6 units per USD (or USD per unit). */
export const MAX_RATE = 1_000_000n * RATE_SCALE;

function bad(code: 'GOV_INVALID' | 'FEED_INVALID', msg: string): never {
  throw new RoamError(code, msg);
}

/** Stateless checks of a proposal action (`opNames` = the operation names, for `fees.<op>`). */
export function validateProposalAction(a: ProposalAction, opNames: readonly string[]): void {
  const want = {
    account: a.kind !== 'param' && a.kind !== 'upgrade',
    role: a.kind === 'admit' || a.kind === 'remove',
    profile: a.kind === 'admit',
    nodeKey: a.kind === 'validator_register',
    param: a.kind === 'param',
    value: a.kind === 'param' || a.kind === 'upgrade',
    version: a.kind === 'upgrade',
  };
  const has = (v: unknown) => v !== undefined;
  if (has(a.account) !== want.account)
    bad('GOV_INVALID', `${a.kind}: account ${want.account ? 'required' : 'not allowed'}`);
  if (has(a.role) !== want.role)
    bad('GOV_INVALID', `${a.kind}: role ${want.role ? 'required' : 'not allowed'}`);
  if (has(a.country) !== want.profile)
    bad('GOV_INVALID', `${a.kind}: country ${want.profile ? 'required' : 'not allowed'}`);
  if (a.displayName.trim().length > 0 !== want.profile)
    bad('GOV_INVALID', `${a.kind}: display name ${want.profile ? 'required' : 'not allowed'}`);
  if (!want.profile && a.networks.length > 0) bad('GOV_INVALID', `${a.kind}: networks not allowed`);
  if (new Set(a.networks).size !== a.networks.length) bad('GOV_INVALID', 'duplicate network');
  if (has(a.nodeKey) !== want.nodeKey)
    bad('GOV_INVALID', `${a.kind}: node key ${want.nodeKey ? 'required' : 'not allowed'}`);
  if (a.nodeKey?.every((b) => b === 0)) bad('GOV_INVALID', 'node key is all zeros');
  if (a.param.length > 0 !== want.param)
    bad('GOV_INVALID', `${a.kind}: param ${want.param ? 'required' : 'not allowed'}`);
  if (!want.value && a.value !== 0n) bad('GOV_INVALID', `${a.kind}: value must be 0`);
  if ((a.version !== 0) !== want.version)
    bad('GOV_INVALID', `${a.kind}: version ${want.version ? 'required' : 'not allowed'}`);
  if (a.kind === 'param') checkParamValue(a.param, a.value, opNames);
  if (a.kind === 'upgrade') {
    if (a.version < 2) bad('GOV_INVALID', 'an upgrade names a protocol version above 1');
    if (a.value === 0n) bad('GOV_INVALID', 'an upgrade needs an activation height');
  }
}

/** Bounds of a changeable parameter; throws GOV_PARAM_INVALID for an unknown name or a value out of bounds. */
export function checkParamValue(param: string, value: bigint, opNames: readonly string[]): void {
  if (param.startsWith(FEE_PARAM_PREFIX)) {
    const op = param.slice(FEE_PARAM_PREFIX.length);
    if (!opNames.includes(op)) throw new RoamError('GOV_PARAM_INVALID', `no operation ${op}`);
    if (value > MAX_FEE) throw new RoamError('GOV_PARAM_INVALID', `fee above ${MAX_FEE} base units`);
    return;
  }
  const b = Object.hasOwn(GOV_PARAMS, param) ? GOV_PARAMS[param] : undefined;
  if (!b) throw new RoamError('GOV_PARAM_INVALID', `parameter ${param} cannot be changed by a vote`);
  if (value < b.min || value > b.max)
    throw new RoamError('GOV_PARAM_INVALID', `${param} must be ${b.min}..${b.max}`, {
      min: b.min.toString(),
      max: b.max.toString(),
    });
}

export function validateFeedRates(r: FeedRates): void {
  for (const c of FEED_CURRENCIES) {
    if (r[c] === 0n || r[c] > MAX_RATE) bad('FEED_INVALID', `${c} rate must be 1..${MAX_RATE}`);
  }
}

export interface GovOpDef<C extends Codec<any>> {
  tag: number;
  codec: C;
  signers(op: Infer<C>): string[];
  feePayer(op: Infer<C>): { account: string };
  validate(op: Infer<C>): void;
}
const def = <C extends Codec<any>>(d: GovOpDef<C>): GovOpDef<C> => d;

/** Operation names known to the registry; filled by ops.ts (this module may not import it). */
export const KNOWN_OP_NAMES: string[] = [];

export const GOVERNANCE_OPS = {
  /**
   * An admitted operator proposes an action; the operators vote until `deadline` (block time, ms).
   * The id of the proposal is the hash of this operation.
   */
  proposal_create: def({
    tag: 60,
    codec: struct({ proposer: name, action: proposalAction, deadline: u64, note: str(200) }),
    signers: (o) => [o.proposer],
    feePayer: (o) => ({ account: o.proposer }),
    validate(o) {
      validateProposalAction(o.action, KNOWN_OP_NAMES);
    },
  }),
  /** One admitted operator, one vote; a vote can be cast once, until the deadline. */
  proposal_vote: def({
    tag: 61,
    codec: struct({ voter: name, proposal: bytes32, approve: bool }),
    signers: (o) => [o.voter],
    feePayer: (o) => ({ account: o.voter }),
    validate() {},
  }),
  /** A Super Node of the current active set publishes its exchange rates (see `feedRates`). */
  price_feed: def({
    tag: 62,
    codec: struct({ validator: name, rates: feedRates }),
    signers: (o) => [o.validator],
    feePayer: (o) => ({ account: o.validator }),
    validate(o) {
      validateFeedRates(o.rates);
    },
  }),
} as const;
