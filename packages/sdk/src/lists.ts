/**
 * The explorer's paginated lists (GET /v1/lists/*, /v1/accounts/:name/transactions): one function
 * per route, each taking a client, and `allPages` to walk a list. Pages are newest first (by name
 * for accounts and validators); pass a page's `next` as the cursor of the following one (null on the
 * last page). Errors are typed: LIST_CURSOR_INVALID, LIST_LIMIT_INVALID (400),
 * LIST_INDEX_UNAVAILABLE (503), ACCOUNT_UNKNOWN (404).
 *
 *   const p1 = await listTransactions(client, { limit: 50 });
 *   const p2 = await listTransactions(client, { limit: 50, before: p1.next! });
 */
import type { RequestOptions, RoamClient } from './client.js';
import type { ProposalJson } from './governance.js';
import type { AccountJson, ContractJson } from './types.js';

type U64 = string;
type Hex = string;

/** Most rows a page holds. */
export const LIST_MAX_LIMIT = 100;

export interface ListPage<T> {
  items: T[];
  /** Cursor of the next page, null on the last page. */
  next: string | null;
}

export interface TxRowJson {
  txId: Hex;
  height: number;
  index: number;
  /** Block time, unix ms. */
  time: U64;
  types: string[];
  signers: string[];
  /** Fee, UMT base units. */
  fee: U64;
}

export interface ContractRowJson extends ContractJson {
  /** Height of the block that opened it. */
  height: number;
  openedTime: U64;
}

export interface FeeRowJson {
  height: number;
  time: U64;
  /** The block's fees_paid event: how its fees were split (UMT base units). */
  event: {
    type: 'fees_paid';
    total: U64;
    community: U64;
    producer: string;
    superNodes: U64;
    miniNodes: U64;
    [k: string]: unknown;
  };
}

export interface ValidatorRowJson {
  account: string;
  status: string;
  bond: U64;
  nodeKey: Hex;
  inSet: boolean;
  /** Days of the last 100 on which it met the SLA (its Proof of Importance). */
  slaDays: number;
  [k: string]: unknown;
}

/** Newest-first lists: `before` is the previous page's `next` ("height:index"). */
export interface PosQuery {
  limit?: number;
  before?: string;
}
/** Lists by name: `after` is the previous page's `next` (an account name). */
export interface NameQuery {
  limit?: number;
  after?: string;
}

export function listTransactions(
  client: RoamClient,
  q: PosQuery = {},
  opts?: RequestOptions,
): Promise<ListPage<TxRowJson>> {
  return client.get('/v1/lists/transactions', { limit: q.limit, before: q.before }, opts);
}

/** Transactions an account signed or that named it in one of their events. */
export function accountTransactions(
  client: RoamClient,
  account: string,
  q: PosQuery = {},
  opts?: RequestOptions,
): Promise<ListPage<TxRowJson>> {
  return client.get(
    `/v1/accounts/${encodeURIComponent(account)}/transactions`,
    { limit: q.limit, before: q.before },
    opts,
  );
}

export function listContracts(
  client: RoamClient,
  q: PosQuery = {},
  opts?: RequestOptions,
): Promise<ListPage<ContractRowJson>> {
  return client.get('/v1/lists/contracts', { limit: q.limit, before: q.before }, opts);
}

export function listAccounts(
  client: RoamClient,
  q: NameQuery = {},
  opts?: RequestOptions,
): Promise<ListPage<AccountJson>> {
  return client.get('/v1/lists/accounts', { limit: q.limit, after: q.after }, opts);
}

export function listValidators(
  client: RoamClient,
  q: NameQuery = {},
  opts?: RequestOptions,
): Promise<ListPage<ValidatorRowJson>> {
  return client.get('/v1/lists/validators', { limit: q.limit, after: q.after }, opts);
}

/** Fee distribution per block; `before` is a height (the previous page's `next`). */
export function listFees(
  client: RoamClient,
  q: PosQuery = {},
  opts?: RequestOptions,
): Promise<ListPage<FeeRowJson>> {
  return client.get('/v1/lists/fees', { limit: q.limit, before: q.before }, opts);
}

/** Proposals, newest first; `before` is the previous page's `next` (a proposal seq). */
export function listProposals(
  client: RoamClient,
  q: { status?: ProposalJson['status']; limit?: number; before?: string } = {},
  opts?: RequestOptions,
): Promise<ListPage<ProposalJson>> {
  return client.get('/v1/governance/proposals', { status: q.status, limit: q.limit, before: q.before }, opts);
}

/**
 * Walks a list page by page (at most `maxPages`, default 1,000): `allPages((c) => listTransactions(client, { before: c }))`.
 */
export async function* allPages<T>(
  page: (cursor: string | undefined) => Promise<ListPage<T>>,
  maxPages = 1000,
): AsyncGenerator<T> {
  let cursor: string | undefined;
  for (let i = 0; i < maxPages; i++) {
    const p = await page(cursor);
    yield* p.items;
    if (!p.next) return;
    cursor = p.next;
  }
}
