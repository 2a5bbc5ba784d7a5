/**
 * The messages between the node's main thread (client.ts) and the index worker (worker.ts), and
 * the narrow read interfaces the Web-API uses (the worker's client implements them; the indexer
 * classes do too, so a test can hand one in directly).
 */
import type { StoreKind } from '../store/index.js';
import type { IndexedEvent, IndexFilter } from './feed.js';
import type { ContractRow, FeeRow, Pos, TxRow } from './lists.js';

/** The feed index as the WebSocket replay reads it. */
export interface FeedIndexReader {
  /** Indexed up to this height. */
  readonly height: number;
  read(
    filter: IndexFilter,
    cursor: string,
    limit: number,
  ): Promise<{ events: IndexedEvent[]; through: number }>;
  /** Resolves at the index's next progress (or after `timeoutMs`). */
  progressed(timeoutMs: number): Promise<void>;
}

/** The list index as the list routes read it. */
export interface ListIndexReader {
  readonly height: number;
  /** Resolves true once indexed up to `height`, false after `timeoutMs`. */
  reach(height: number, timeoutMs: number): Promise<boolean>;
  transactions(limit: number, before?: Pos): Promise<TxRow[]>;
  accountTransactions(account: string, limit: number, before?: Pos): Promise<TxRow[]>;
  contracts(limit: number, before?: Pos): Promise<(ContractRow & { index: number })[]>;
  fees(limit: number, before?: number): Promise<FeeRow[]>;
}

/** What the worker is started with (`workerData`). */
export interface WorkerInit {
  /** The index store's directory (`<dataDir>/index`) and engine. */
  dir: string;
  kind: StoreKind;
  feed: boolean;
  list: boolean;
  /** The node's durable height when the worker starts. */
  height: number;
  maxQueued?: number;
}

/** A read of an index, answered by a `res` message with the same id. */
export type IndexQuery =
  | { op: 'feed.read'; filter: IndexFilter; cursor: string; limit: number }
  | { op: 'list.transactions'; limit: number; before?: Pos }
  | { op: 'list.account'; account: string; limit: number; before?: Pos }
  | { op: 'list.contracts'; limit: number; before?: Pos }
  | { op: 'list.fees'; limit: number; before?: number };

/** Main thread to worker. */
export type ToWorker =
  /** A durable block: the bytes the node stored for it. */
  | { t: 'block'; height: number; block: Uint8Array; receipts: Uint8Array }
  /** The node is durable up to `height`; the worker reads the blocks it lacks back. */
  | { t: 'tip'; height: number }
  /** The answer to a `read`: the stored bytes of that height, or null when absent. */
  | { t: 'raw'; id: number; block: Uint8Array | null; receipts: Uint8Array | null }
  | { t: 'req'; id: number; q: IndexQuery }
  | { t: 'close' };

export interface IndexProgress {
  height: number;
  known: number;
  failures: number;
}

/** A feed page: every event's wire bytes in one transferred buffer. */
export interface FeedPage {
  events: { cursor: string; height: number; off: number; len: number }[];
  through: number;
  buf: Uint8Array;
}

/** Worker to main thread. */
export type FromWorker =
  | { t: 'ready'; feed?: IndexProgress; list?: IndexProgress }
  | { t: 'progress'; feed?: IndexProgress; list?: IndexProgress }
  /** The stored bytes of block `height`, please (catch-up). */
  | { t: 'read'; id: number; height: number }
  | { t: 'res'; id: number; ok?: unknown; err?: { code?: string; message: string } }
  | { t: 'log'; level: 'warn' | 'error'; msg: string; data?: Record<string, unknown> }
  | { t: 'closed' };
