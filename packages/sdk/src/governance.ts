/**
 * Governance, price feeds and the SDR: operation builders and the JSON shapes of their routes
 * (docs/GOVERNANCE.md). The actions are RoamClient methods (`propose`, `vote`, `publishPriceFeed`,
 * `proposals`, `proposal`, `governance`, `prices`, `priceHistory`).
 */
import {
  type AdmittedRole,
  FEED_CURRENCIES,
  type FeedRates,
  type OpOf,
  type ProposalAction,
  RATE_DECIMALS,
  RoamError,
  validateOp,
} from '@roamchain/protocol';
import { type BytesLike, toBytes } from './build.js';

type U64 = string;
type Hex = string;

/** What a proposal does (one of). */
export type ProposalInput =
  | {
      kind: 'admit';
      account: string;
      role: AdmittedRole;
      displayName: string;
      country: string;
      networks?: string[];
    }
  | { kind: 'remove'; account: string; role: AdmittedRole }
  | { kind: 'validator_register'; account: string; nodeKey: BytesLike }
  | { kind: 'validator_remove'; account: string }
  /** `param` is a chain parameter name (GOV_PARAMS) or `fees.<operation>`; `value` in its unit (base units, ms, bps…). */
  | { kind: 'param'; param: string; value: bigint }
  | { kind: 'upgrade'; version: number; height: bigint };

export interface ProposeArgs {
  /** An admitted operator; signs, pays, and counts as the first yes vote. */
  proposer: string;
  action: ProposalInput;
  /** End of the vote (block time, unix ms). */
  deadline: bigint;
  note?: string;
}

export function proposalAction(a: ProposalInput): ProposalAction {
  const base: ProposalAction = {
    kind: a.kind,
    displayName: '',
    networks: [],
    param: '',
    value: 0n,
    version: 0,
  };
  switch (a.kind) {
    case 'admit':
      return {
        ...base,
        account: a.account,
        role: a.role,
        displayName: a.displayName,
        country: a.country,
        networks: a.networks ?? [],
      };
    case 'remove':
      return { ...base, account: a.account, role: a.role };
    case 'validator_register':
      return { ...base, account: a.account, nodeKey: toBytes(a.nodeKey, 'nodeKey', 32) };
    case 'validator_remove':
      return { ...base, account: a.account };
    case 'param':
      return { ...base, param: a.param, value: a.value };
    case 'upgrade':
      return { ...base, version: a.version, value: a.height };
  }
}

export function proposeOp(a: ProposeArgs): OpOf<'proposal_create'> {
  const op: OpOf<'proposal_create'> = {
    type: 'proposal_create',
    proposer: a.proposer,
    action: proposalAction(a.action),
    deadline: a.deadline,
    note: a.note ?? '',
  };
  validateOp(op);
  return op;
}

export interface VoteArgs {
  voter: string;
  proposal: BytesLike;
  approve: boolean;
}

export function voteOp(a: VoteArgs): OpOf<'proposal_vote'> {
  return {
    type: 'proposal_vote',
    voter: a.voter,
    proposal: toBytes(a.proposal, 'proposal', 32),
    approve: a.approve,
  };
}

/**
 * A rate as a decimal string ("1.0850") or base units (x 10^9). EUR and GBP in US dollars per
 * unit, CNY and JPY in units per US dollar (the market and IMF quotation).
 */
export type RateInput = string | bigint;
export interface PriceFeedArgs {
  /** A Super Node of the active set (its owner account). */
  validator: string;
  rates: Record<(typeof FEED_CURRENCIES)[number], RateInput>;
}

export function parseRate(v: RateInput, what: string): bigint {
  if (typeof v === 'bigint') return v;
  const m = /^(\d{1,10})(?:\.(\d{1,9}))?$/.exec(v.trim());
  if (!m) throw new RoamError('FEED_INVALID', `${what}: "${v}" is not a decimal rate (at most 9 decimals)`);
  return BigInt(m[1]!) * 10n ** BigInt(RATE_DECIMALS) + BigInt((m[2] ?? '').padEnd(RATE_DECIMALS, '0'));
}

export function priceFeedOp(a: PriceFeedArgs): OpOf<'price_feed'> {
  const rates = {} as FeedRates;
  for (const c of FEED_CURRENCIES) rates[c] = parseRate(a.rates[c], c);
  const op: OpOf<'price_feed'> = { type: 'price_feed', validator: a.validator, rates };
  validateOp(op);
  return op;
}

// ---------- JSON of the routes ----------

export interface ProposalActionJson {
  kind: ProposalAction['kind'];
  account?: string;
  role?: AdmittedRole;
  displayName: string;
  country?: string;
  networks: string[];
  nodeKey?: Hex;
  param: string;
  value: U64;
  version: number;
}

/** GET /v1/governance/proposals(/:id). */
export interface ProposalJson {
  id: Hex;
  seq: U64;
  proposer: string;
  action: ProposalActionJson;
  note: string;
  createdAt: U64;
  createdHeight: U64;
  deadline: U64;
  electorate: number;
  yes: number;
  no: number;
  status: 'open' | 'passed' | 'executed' | 'failed' | 'rejected';
  passedAt: U64;
  closedAt: U64;
  result: string;
  tallied: boolean;
  /** Yes votes needed: floor(electorate x 2 / 3) + 1. */
  needed: number;
  votes?: { voter: string; approve: boolean; at: U64 }[];
}

export interface GovernanceJson {
  operators: {
    account: string;
    admittedSeq: U64;
    admittedAt: U64;
    skipped: number;
    idle: boolean;
    lastVoteAt: U64;
  }[];
  proposals: U64;
  pending: { param: string; value: U64 }[];
  /** `supported` = this node implements `version`; if not, it stops before `height` (UPGRADE_REQUIRED). */
  upgrade: {
    version: number;
    height: U64;
    proposal: Hex;
    implemented: number;
    supported: boolean;
    blocksLeft: number;
  } | null;
  params: Record<string, U64 | number>;
}

/** GET /v1/supernodes: importance = SLA days of the last 100 (docs/GOVERNANCE.md §5). */
export interface SuperNodesJson {
  day: number;
  items: {
    account: string;
    status: string;
    bond: U64;
    slaDays: number;
    /** Today's SLA record so far (blocks produced, precommits due and signed). */
    today: { blocks: number; votesDue: number; votesSigned: number };
    idle: boolean;
    inSet: boolean;
  }[];
}

export type SdrCurrency = 'USD' | 'EUR' | 'CNY' | 'JPY' | 'GBP';
/** GET /v1/prices: `sdr.X` is the value of 1 SDR in currency X (decimal string). */
export interface PricesJson {
  fresh: boolean;
  height: number;
  time: number;
  usdPerSdr: string;
  sdrPerUsd?: string;
  sdr: Partial<Record<SdrCurrency, string>>;
  feeds: { validator: string; time: number; rates: Record<SdrCurrency, string>; fresh: boolean }[];
}

export interface PriceHistoryJson {
  items: {
    day: number;
    date: string;
    height: number;
    time: number;
    usdPerSdr: string;
    sdr: Record<SdrCurrency, string>;
    feeders: string[];
  }[];
}
