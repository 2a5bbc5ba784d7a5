/**
 * The index worker's indexes as the main thread reads them (client.ts): the progress each reported
 * (synchronous), waits on it, and reads whose bounds are checked here, before anything is posted
 * (BAD_REQUEST), then asked of the worker by request id.
 */
import { NAME_RE, RoamError } from '@roamchain/protocol';
import type { IndexedEvent, IndexFilter } from './feed.js';
import { ProgressWaits } from './follower.js';
import type { ContractRow, FeeRow, Pos, TxRow } from './lists.js';
import type { FeedIndexReader, FeedPage, IndexProgress, IndexQuery, ListIndexReader } from './messages.js';

/** What a view needs of its worker client. */
export interface IndexOwner {
  readonly closed: boolean;
  request(q: IndexQuery): Promise<unknown>;
}

/** Most rows or events one read may ask for. */
export const MAX_INDEX_PAGE = 1000;
const CURSOR_RE = /^[0-9]{1,15}:[0-9]{1,10}$/;
const CONTRACT_RE = /^[0-9a-f]{64}$/;
const bad = (message: string, details: Record<string, unknown> = {}) =>
  new RoamError('BAD_REQUEST', message, details);

function checkLimit(limit: number): void {
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_INDEX_PAGE)
    throw bad(`limit must be an integer from 1 to ${MAX_INDEX_PAGE}`, { limit: String(limit) });
}
function checkPos(p: Pos | undefined): void {
  if (p === undefined) return;
  const ok = Number.isSafeInteger(p.height) && p.height >= 0 && Number.isInteger(p.index) && p.index >= 0;
  if (!ok || p.index > 0xffff_ffff)
    throw bad('a position is a height and an index', { before: `${p.height}:${p.index}` });
}

/** The progress of one index in the worker, as last reported (synchronous on this thread). */
export class IndexView {
  height = 0;
  knownHeight = 0;
  failures = 0;
  private readonly waits = new ProgressWaits(
    () => this.height,
    () => this.owner.closed,
  );

  constructor(protected readonly owner: IndexOwner) {}

  note(p: IndexProgress | undefined): void {
    if (p) {
      this.height = p.height;
      this.knownHeight = Math.max(this.knownHeight, p.known);
      this.failures = p.failures;
    }
    this.wake();
  }

  wake(): void {
    this.waits.wake();
  }

  progressed(timeoutMs: number): Promise<void> {
    return this.waits.progressed(timeoutMs);
  }

  reach(height: number, timeoutMs: number): Promise<boolean> {
    return this.waits.reach(height, timeoutMs);
  }
}

export class FeedView extends IndexView implements FeedIndexReader {
  async read(
    filter: IndexFilter,
    cursor: string,
    limit: number,
  ): Promise<{ events: IndexedEvent[]; through: number }> {
    checkLimit(limit);
    if (typeof cursor !== 'string' || !CURSOR_RE.test(cursor))
      throw bad('cursor must look like "height:index"', { cursor: String(cursor) });
    const { account, contract } = filter;
    if (account === undefined && contract === undefined)
      throw bad('a feed read needs an account or a contract');
    if (account !== undefined && !NAME_RE.test(account))
      throw bad('account is not a valid name', { account });
    if (contract !== undefined && !CONTRACT_RE.test(contract))
      throw bad('contract is not a contract id', { contract });
    const f: IndexFilter = {
      ...(account !== undefined ? { account } : {}),
      ...(contract !== undefined ? { contract } : {}),
    };
    const page = (await this.owner.request({ op: 'feed.read', filter: f, cursor, limit })) as FeedPage;
    const events = page.events.map((e) => ({
      cursor: e.cursor,
      height: e.height,
      wire: page.buf.subarray(e.off, e.off + e.len),
    }));
    return { events, through: page.through };
  }
}

export class ListView extends IndexView implements ListIndexReader {
  private async ask<T>(
    q: Extract<IndexQuery, { op: 'list.transactions' | 'list.account' | 'list.contracts' }>,
    before?: Pos,
  ): Promise<T> {
    checkLimit(q.limit);
    checkPos(before);
    const b = before ? { before: { height: before.height, index: before.index } } : {};
    return (await this.owner.request({ ...q, ...b })) as T;
  }
  transactions(limit: number, before?: Pos): Promise<TxRow[]> {
    return this.ask({ op: 'list.transactions', limit }, before);
  }
  async accountTransactions(account: string, limit: number, before?: Pos): Promise<TxRow[]> {
    if (typeof account !== 'string' || !NAME_RE.test(account))
      throw bad('account is not a valid name', { account: String(account) });
    return this.ask({ op: 'list.account', account, limit }, before);
  }
  contracts(limit: number, before?: Pos): Promise<(ContractRow & { index: number })[]> {
    return this.ask({ op: 'list.contracts', limit }, before);
  }
  async fees(limit: number, before?: number): Promise<FeeRow[]> {
    checkLimit(limit);
    if (before !== undefined && !(Number.isSafeInteger(before) && before >= 0))
      throw bad('before must be a block height', { before: String(before) });
    const b = before !== undefined ? { before } : {};
    return (await this.owner.request({ op: 'list.fees', limit, ...b })) as FeeRow[];
  }
}
