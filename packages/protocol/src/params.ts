import { type Codec, type Infer, struct, u16, u32, u64 } from './codec.js';
import { name, OP_NAMES, type OpName } from './ops.js';

const feeFields = Object.fromEntries(OP_NAMES.map((n) => [n, u64])) as Record<OpName, Codec<bigint>>;

/** Chain parameters: part of genesis, later changed by governance. */
export const chainParams = struct({
  /** Target block interval (ms); informational for producers. */
  blockIntervalMs: u32,
  /** Max distance of a transaction's expiration from the block time (ms). */
  maxTxExpirationMs: u32,
  /** How many recent blocks a TaPoS reference may name. */
  taposWindow: u32,
  maxTxBytes: u32,
  maxBlockTxs: u32,
  minStepTimeoutSec: u32,
  maxStepTimeoutSec: u32,
  minLifetimeSec: u32,
  maxLifetimeSec: u32,
  /** UMT fee per operation, in base units. */
  fees: struct(feeFields),
  /** Share of each block's fees for the community development fund (bps); the rest goes to the producer. */
  communityFeeBps: u16,
  communityFund: name,
  /** Founders' vesting: released share per month (bps) and month length (ms). */
  vestingBpsPerMonth: u16,
  vestingMonthMs: u64,
  /** Account that administers the Super Node set (`validator_set`) until on-chain votes replace it. */
  governance: name,
  /** Bond a Super Node needs to be in the active set (UMT base units; SPEC §5: 1,000,000 UMT). */
  minValidatorBond: u64,
  /** Size cap of the active set: the most important win (SLA days of the last 100, then bond, then name; docs/GOVERNANCE.md). */
  maxValidators: u16,
  /** Blocks per epoch; the active set changes only between epochs (height h is in epoch (h - 1) / epochLength). */
  epochLength: u32,
  /** Time from `validator_unbond` until the UMT is free again (block time, ms). */
  unbondingDelayMs: u64,
  /** Share of the bond slashed for a proven double signature (bps). */
  slashBps: u16,
  /** How many epochs back evidence is accepted (and validator sets are kept). */
  evidenceMaxAgeEpochs: u16,
  /** Longest a demand may stay open (from its posting to its endAt, seconds). */
  maxDemandLifetimeSec: u32,
  /** Most open demands a subscriber may have at once. */
  maxOpenDemandsPerSubscriber: u16,
  // ---- governance, fee split, NDF payouts, price feeds (docs/GOVERNANCE.md)
  /** Share of each block's fees for the Mini Nodes of the producing Super Node (bps); the Super Node share is the rest after this and `communityFeeBps`. */
  miniNodeFeeBps: u16,
  /** The network development fund: pays `ndfDailyPayout` UMT a day to the Super Nodes by SLA score. */
  ndfFund: name,
  ndfDailyPayout: u64,
  /** Shortest and longest voting period of a proposal (block time, ms). */
  govMinVotingMs: u64,
  govMaxVotingMs: u64,
  /** Open proposals an operator may have at once. */
  govMaxOpenProposals: u16,
  /** Consecutive proposals an operator may skip before it is idle (rating down, Super Nodes out of the set). */
  govMaxSkips: u16,
  /** A feed older than this (block time, ms) is stale; the SDR rate needs `feedMinCount` fresh feeds. */
  feedMaxAgeMs: u64,
  feedMinCount: u16,
});
export type ChainParams = Infer<typeof chainParams>;

export const UMT_DECIMALS = 6;
export const SDR_DECIMALS = 6;
export const UNIT = 1_000_000n;
/** Fixed UMT supply: 1,000,000,000 UMT. */
export const UMT_SUPPLY = 1_000_000_000n * UNIT;

/** UMT genesis buckets and their shares in basis points (SPEC §2). */
export const UMT_ALLOCATION_BPS = {
  crowdsale: 5000n,
  bounty: 20n,
  tcdf: 780n,
  ndf: 2200n,
  founders: 2000n,
} as const;
export type AllocationBucket = keyof typeof UMT_ALLOCATION_BPS;

export function defaultParams(): ChainParams {
  const fee = (umtMilli: bigint) => umtMilli * 1000n; // milli-UMT -> base units
  return {
    blockIntervalMs: 500,
    maxTxExpirationMs: 3_600_000,
    taposWindow: 65_536,
    maxTxBytes: 32_768,
    maxBlockTxs: 20_000,
    minStepTimeoutSec: 60,
    maxStepTimeoutSec: 30 * 86_400,
    minLifetimeSec: 300,
    maxLifetimeSec: 365 * 86_400,
    fees: {
      transfer: fee(1n),
      account_create: fee(50n),
      account_update_keys: fee(5n),
      sdr_issue: fee(1n),
      sdr_burn: fee(1n),
      offer_publish: fee(10n),
      offer_replace: fee(10n),
      offer_withdraw: fee(1n),
      request_open: fee(5n),
      charge: fee(1n),
      provision: fee(1n),
      refund: fee(1n),
      rate: 0n,
      demand_post: fee(5n),
      demand_cancel: fee(1n),
      identity_attest: fee(2n),
      identity_revoke: fee(1n),
      validator_set: fee(1n),
      evidence: 0n,
      validator_bond: fee(1n),
      validator_unbond: fee(1n),
      proposal_create: fee(10n),
      proposal_vote: fee(1n),
      price_feed: fee(1n),
      contract_topup: fee(1n),
      offer_pause: fee(1n),
    },
    communityFeeBps: 2500,
    communityFund: 'tcdf',
    vestingBpsPerMonth: 700,
    vestingMonthMs: 30n * 86_400_000n,
    governance: 'ndf',
    minValidatorBond: 1_000_000n * UNIT,
    maxValidators: 100,
    epochLength: 100,
    unbondingDelayMs: 7n * 86_400_000n,
    slashBps: 500,
    evidenceMaxAgeEpochs: 2,
    maxDemandLifetimeSec: 30 * 86_400,
    maxOpenDemandsPerSubscriber: 5,
    miniNodeFeeBps: 3000,
    ndfFund: 'ndf',
    ndfDailyPayout: 50_000n * UNIT,
    govMinVotingMs: 60_000n,
    govMaxVotingMs: 30n * 86_400_000n,
    govMaxOpenProposals: 4,
    govMaxSkips: 3,
    feedMaxAgeMs: 3_600_000n,
    feedMinCount: 1,
  };
}

/** Formats base units as a decimal string, e.g. 12500000n -> "12.5". Exact, no floats. */
export function formatAmount(v: bigint, decimals = 6): string {
  const neg = v < 0n;
  const a = neg ? -v : v;
  const base = 10n ** BigInt(decimals);
  const whole = a / base;
  const frac = (a % base).toString().padStart(decimals, '0').replace(/0+$/, '');
  return `${neg ? '-' : ''}${whole}${frac ? `.${frac}` : ''}`;
}

/** Parses "12.5" into base units (12500000n); rejects more decimals than the token has. */
export function parseAmount(s: string, decimals = 6): bigint {
  const m = /^(\d{1,15})(?:\.(\d+))?$/.exec(s.trim());
  if (!m) throw new RangeError(`"${s}" is not a decimal amount`);
  const frac = m[2] ?? '';
  if (frac.length > decimals) throw new RangeError(`"${s}" has more than ${decimals} decimals`);
  return BigInt(m[1]!) * 10n ** BigInt(decimals) + BigInt(frac.padEnd(decimals, '0') || '0');
}
