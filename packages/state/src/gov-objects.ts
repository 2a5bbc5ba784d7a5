/**
 * Ledger objects of governance, price feeds and payouts (docs/GOVERNANCE.md), their keys and
 * codecs. objects.ts registers `GOV_CODECS`; this module imports only the protocol.
 */
import {
  ADMITTED_ROLES,
  bool,
  bytes32,
  type Codec,
  enumOf,
  feedRates,
  type Infer,
  name,
  opt,
  proposalAction,
  str,
  struct,
  u16,
  u32,
  u64,
  vec,
} from '@roamchain/protocol';

export const PROPOSAL_STATUSES = ['open', 'passed', 'executed', 'failed', 'rejected'] as const;
export type ProposalStatus = (typeof PROPOSAL_STATUSES)[number];

export const proposal = struct({
  id: bytes32,
  /** 1, 2, 3… in order of creation. */
  seq: u64,
  proposer: name,
  action: proposalAction,
  note: str(200),
  createdAt: u64,
  createdHeight: u64,
  deadline: u64,
  /** Operators admitted when it was made: the denominator of the 2/3 rule. */
  electorate: u32,
  yes: u32,
  no: u32,
  status: enumOf(PROPOSAL_STATUSES),
  /** Block time it reached more than 2/3 (0 = not passed). */
  passedAt: u64,
  /** Block time of execution, failure or rejection (0 = open). */
  closedAt: u64,
  /** Error code of a failed execution ('' otherwise). */
  result: str(200),
  /** The deadline passed and participation was counted. */
  tallied: bool,
});
export type Proposal = Infer<typeof proposal>;

export const govVote = struct({ approve: bool, at: u64 });
export type GovVote = Infer<typeof govVote>;

/** An admitted operator's standing in governance. */
export const govOperator = struct({
  account: name,
  /** Proposals created before it was admitted (it votes on those with a higher `seq`). */
  admittedSeq: u64,
  admittedAt: u64,
  /** Consecutive proposals (by deadline) it did not vote on. */
  skipped: u32,
  /** `skipped` reached `govMaxSkips`: rating halved, its Super Node out of the next sets. */
  idle: bool,
  lastVoteAt: u64,
});
export type GovOperator = Infer<typeof govOperator>;

export const paramChange = struct({ param: str(48), value: u64 });
export type ParamChange = Infer<typeof paramChange>;

export const govMeta = struct({
  /** Proposals created so far. */
  seq: u64,
  /** Changes of epoch-bound parameters waiting for the last block of the epoch. */
  pending: vec(paramChange, 256),
  /** The protocol version in force before `upgrade.height` (1 at genesis). */
  version: u16,
  /** The protocol upgrade scheduled by a vote, if any (in force from its height on). */
  upgrade: opt(struct({ version: u16, height: u64, proposal: bytes32 })),
});
export type GovMeta = Infer<typeof govMeta>;

/** The profile an admission vote gave a role holder. */
export const roleProfile = struct({
  account: name,
  role: enumOf(ADMITTED_ROLES),
  displayName: str(80),
  country: str(2),
  networks: vec(str(7), 64),
  admittedAt: u64,
  proposal: bytes32,
});
export type RoleProfile = Infer<typeof roleProfile>;

/** A Super Node's latest price feed. */
export const priceFeed = struct({ validator: name, time: u64, height: u64, rates: feedRates });
export type PriceFeed = Infer<typeof priceFeed>;

const perSdr = struct({ USD: u64, EUR: u64, CNY: u64, JPY: u64, GBP: u64 });
/** An SDR fixing: the medians of the fresh feeds and the IMF valuation (values x 10^12). */
export const sdrFixing = struct({
  day: u64,
  height: u64,
  time: u64,
  feeders: vec(name, 65_535),
  rates: feedRates,
  sdrPerUsd: u64,
  usdPerSdr: u64,
  perSdr,
});
export type SdrFixing = Infer<typeof sdrFixing>;

/** The current UTC day and the Super Nodes with a day record on it (producers and voters). */
export const slaDay = struct({ day: u64, accounts: vec(name, 65_535) });
export type SlaDay = Infer<typeof slaDay>;

/**
 * A Super Node's record of one UTC day (`sla/d/<day>/<account>`), accumulated block by block:
 * blocks it produced, precommits due from it (it was in the set of a height whose commit a block of
 * the day carried) and those of them the commit contains. Kept for 100 recorded days.
 */
export const slaDayRecord = struct({
  blocks: u32,
  votesDue: u32,
  votesSigned: u32,
  /** Set when the day is closed: it met the SLA. */
  met: bool,
});
export type SlaDayRecord = Infer<typeof slaDayRecord>;

/** A Super Node's SLA record: the days (UTC day numbers) of the last 100 on which it met the SLA. */
export const slaRecord = struct({ account: name, days: vec(u64, 100) });
export type SlaRecord = Infer<typeof slaRecord>;
/** The window of Proof of Importance for Super Nodes, in days. */
export const SLA_WINDOW_DAYS = 100n;

/** Days of SDR history kept (a ring of this many slots). */
export const SDR_HISTORY_DAYS = 366n;
export const DAY_MS = 86_400_000n;

export const GK = {
  meta: 'gov/meta',
  /** Sorted accounts of the admitted operators. */
  operators: 'gov/ops',
  proposal: (idHex: string) => `gov/p/${idHex}`,
  vote: (idHex: string, voter: string) => `gov/v/${idHex}/${voter}`,
  operator: (n: string) => `gov/o/${n}`,
  /** Open proposals (before their deadline) of a proposer. */
  open: (n: string) => `gov/n/${n}`,
  profile: (n: string, role: string) => `gov/r/${n}/${role}`,
  feed: (validator: string) => `feed/${validator}`,
  sdr: 'sdr/now',
  sdrDay: (day: bigint) => `sdr/d/${day % SDR_HISTORY_DAYS}`,
  slaDay: 'sla/day',
  /** One record per Super Node per day (`dayRecord`), 100 recorded days kept. */
  slaDayRecord: (day: bigint, account: string) => `sla/d/${day}/${account}`,
  /** Accounts with a record on a closed day (the pruning index). */
  slaDayIndex: (day: bigint) => `sla/i/${day}`,
  /** Closed days that still have records, oldest first (at most 100). */
  slaClosed: 'sla/closed',
  slaRecord: (account: string) => `sla/r/${account}`,
} as const;

export const GOV_CODECS: [string, Codec<any>][] = [
  ['gov/meta', govMeta],
  ['gov/ops', vec(name, 65_535)],
  ['gov/p/', proposal],
  ['gov/v/', govVote],
  ['gov/o/', govOperator],
  ['gov/n/', u32],
  ['gov/r/', roleProfile],
  ['feed/', priceFeed],
  ['sdr/now', sdrFixing],
  ['sdr/d/', sdrFixing],
  ['sla/day', slaDay],
  ['sla/d/', slaDayRecord],
  ['sla/i/', vec(name, 65_535)],
  ['sla/closed', vec(u64, 101)],
  ['sla/r/', slaRecord],
];

/** Super Node importance: the days of the last 100 (before `today`) on which it met the SLA. */
export function slaDaysOf(s: { get<T>(key: string): T | undefined }, account: string, today: bigint): number {
  const rec = s.get<SlaRecord>(GK.slaRecord(account));
  return rec ? rec.days.filter((d) => d < today && d + SLA_WINDOW_DAYS >= today).length : 0;
}

/** Whether an account is an operator that skipped too many proposals (read by elections and rating). */
export function isIdleOperator(s: { get<T>(key: string): T | undefined }, account: string): boolean {
  return s.get<GovOperator>(GK.operator(account))?.idle === true;
}
