/**
 * The list index of the explorer: every transaction in chain order, each account's transactions,
 * the contracts in the order they were opened and each block's fee distribution, so that a page of
 * any of these lists reads exactly its rows (newest first) and never scans blocks or the state.
 *
 *   xl/t/<height u64 hex>/<chunk u32 hex>             -> the rows (UTF-8 JSON, TxRow) of the block's
 *                                                        transactions 16·chunk .. 16·chunk+15 (chunks.ts)
 *   xl/a/<account>/<height u64 hex>                   -> the indexes of the block's transactions the
 *                                                        account signed or that named it in one of their
 *                                                        events (u32 big-endian each, ascending)
 *   xl/c/<height u64 hex>/<event u32 hex>             -> contract row (ContractRow): a contract_opened event
 *   xl/f/<height u64 hex>                             -> the block's fees_paid event (JSON)
 *   xl/m                                              -> indexed up to height (JSON number)
 *
 * A row is written once whatever the number of its accounts, 16 rows share a key, and an account
 * costs one pointer key per block it appears in (pointers.ts), not one per transaction: an earlier
 * layout wrote `xl/t/<height>/<index>` per row and copied it under `xl/a/<account>/<height>/<index>`
 * for each account; the index worker's store carries a format version (format.ts) and an older
 * store is rebuilt from the blocks. An account's page walks its pointer keys, newest first, and
 * reads each row.
 *
 * Like the feed index (feed.ts) it runs in the index worker (worker.ts, its own store `<dataDir>/index`)
 * and follows applied, durable blocks only with the shared run loop
 * (follower.ts): its own batches after the block's (a block's keys and the marker in one atomic
 * batch, so what is indexed up to `height` is complete), catch-up from the stored blocks after a
 * restart (its own marker), and never a delay to consensus: being told of a block costs a map insert.
 */
import { requiredSigners } from '@roamchain/protocol';
import { type JsonObject, toJson } from '../api/json.js';
import { type KvBatchOp, type KvStore, u64Key } from '../store/index.js';
import { CHUNK, ChunkReader, chunkEntry, packChunk } from './chunks.js';
import { type IndexBlock, partiesOf } from './events.js';
import { BlockFollower, type FollowerOptions, type IndexSource } from './follower.js';
import { BlockPointers, positionsOf } from './pointers.js';

export interface TxRow {
  txId: string;
  height: number;
  index: number;
  /** Block time (unix ms, decimal string). */
  time: string;
  /** Operation types, in order. */
  types: string[];
  signers: string[];
  /** Fee paid (UMT base units, decimal string). */
  fee: string;
}

export interface ContractRow {
  contract: string;
  height: number;
  time: string;
  offer: string;
  issuer: string;
  assignee: string;
  subscriber: string;
  deposit: string;
}

export interface FeeRow {
  height: number;
  time: string;
  event: JsonObject;
}

/** Position of a row: (height, index within the block). Cursors are "height:index". */
export interface Pos {
  height: number;
  index: number;
}

export type ListIndexerOptions = FollowerOptions;

const enc = (v: unknown) => Buffer.from(JSON.stringify(v));
const dec = <T>(v: Uint8Array) => JSON.parse(Buffer.from(v).toString('utf8')) as T;
const hex8 = (i: number) => i.toString(16).padStart(8, '0');
const posKey = (p: Pos) => `${u64Key('', p.height)}/${hex8(p.index)}`;
const CONTRACT_RE = /^[0-9a-f]{64}$/;

/** The list index (key prefix `xl/` by default); the run loop is the shared `BlockFollower`. */
export class ListIndexer extends BlockFollower<IndexBlock> {
  constructor(node: IndexSource, store: KvStore, opts: ListIndexerOptions = {}) {
    super(node, store, 'list index', 'xl/', opts);
  }

  /** Transactions, newest first, strictly before `before`. */
  async transactions(limit: number, before?: Pos): Promise<TxRow[]> {
    const base = `${this.prefix}t/`;
    const out: TxRow[] = [];
    // Every chunk key holds at least one row, and only `before`'s chunk may hold none before it:
    // limit + 1 keys fill a page.
    let lt = before
      ? `${base}${u64Key('', before.height)}/${hex8(Math.floor(before.index / CHUNK) + 1)}`
      : undefined;
    while (out.length < limit) {
      let keys = 0;
      let last = '';
      for await (const [k, v] of this.store.range(base, {
        reverse: true,
        limit: limit + 1,
        ...(lt ? { lt } : {}),
      })) {
        keys++;
        last = k;
        const h = Number.parseInt(k.slice(base.length, base.length + 16), 16);
        const first = Number.parseInt(k.slice(base.length + 17), 16) * CHUNK;
        for (let slot = CHUNK - 1; slot >= 0 && out.length < limit; slot--) {
          if (before && h === before.height && first + slot >= before.index) continue;
          const row = chunkEntry(v, slot);
          if (row !== undefined) out.push(dec<TxRow>(row));
        }
        if (out.length >= limit) break;
      }
      if (keys < limit + 1) break;
      lt = last;
    }
    return out;
  }

  /** An account's transactions, newest first, strictly before `before`. */
  async accountTransactions(account: string, limit: number, before?: Pos): Promise<TxRow[]> {
    const base = `${this.prefix}a/${account}/`;
    const out: TxRow[] = [];
    // Every block key lists at least one transaction, and only `before`'s block may list none
    // before it: limit + 1 keys fill a page.
    let lt = before ? base + u64Key('', before.height + 1) : undefined;
    const rows = new ChunkReader((k) => this.store.get(k));
    while (out.length < limit) {
      let keys = 0;
      let h = 0;
      for await (const [k, v] of this.store.range(base, {
        reverse: true,
        limit: limit + 1,
        ...(lt ? { lt } : {}),
      })) {
        keys++;
        const hk = k.slice(base.length);
        h = Number.parseInt(hk, 16);
        const positions = positionsOf(v);
        for (let j = positions.length - 1; j >= 0 && out.length < limit; j--) {
          const i = positions[j] as number;
          if (before && h === before.height && i >= before.index) continue;
          const row = rows.entry(`${this.prefix}t/${hk}/`, i);
          // Written in the pointer's batch: absent only if the store lost part of a batch.
          if (row === undefined)
            throw new Error(`list index: transaction ${h}:${i} has a pointer but no row`);
          out.push(dec<TxRow>(row));
        }
        if (out.length >= limit) break;
      }
      if (keys < limit + 1) break;
      lt = base + u64Key('', h);
    }
    return out;
  }

  /** Contracts in the order they were opened, newest first, strictly before `before`. */
  async contracts(limit: number, before?: Pos): Promise<(ContractRow & { index: number })[]> {
    const base = `${this.prefix}c/`;
    const out: (ContractRow & { index: number })[] = [];
    for await (const [k, v] of this.store.range(base, {
      reverse: true,
      limit,
      ...(before ? { lt: base + posKey(before) } : {}),
    }))
      out.push({ ...dec<ContractRow>(v), index: Number.parseInt(k.slice(base.length + 17), 16) });
    return out;
  }

  /** Fee distributions per block, newest first, below height `before`. */
  async fees(limit: number, before?: number): Promise<FeeRow[]> {
    const base = `${this.prefix}f/`;
    const out: FeeRow[] = [];
    for await (const [, v] of this.store.range(base, {
      reverse: true,
      limit,
      ...(before !== undefined ? { lt: u64Key(base, before) } : {}),
    }))
      out.push(dec<FeeRow>(v));
    return out;
  }

  protected prepare(b: IndexBlock): IndexBlock {
    return b;
  }

  protected opsOf(_height: number, b: IndexBlock, ops: KvBatchOp[]): void {
    opsOfBlock(this.prefix, b, ops);
  }
}

/** The index entries of one block. */
export function opsOfBlock(prefix: string, b: IndexBlock, ops: KvBatchOp[]): void {
  const hk = u64Key('', b.height);
  const time = b.block.header.time.toString();
  let ev = 0;
  const accounts = new BlockPointers();
  const rows: Uint8Array[] = [];
  b.envelopes.forEach((env, i) => {
    const receipt = b.receipts[i];
    const signers = requiredSigners(env.tx.ops);
    const row: TxRow = {
      txId: env.idHex,
      height: b.height,
      index: i,
      time,
      types: env.tx.ops.map((o) => o.type),
      signers,
      fee: (receipt?.fee ?? 0n).toString(),
    };
    rows.push(enc(row));
    if (rows.length === CHUNK) {
      ops.push({
        type: 'put',
        key: `${prefix}t/${hk}/${hex8(Math.floor(i / CHUNK))}`,
        value: packChunk(rows),
      });
      rows.length = 0;
    }
    for (const a of signers) accounts.add(a, i);
    for (const e of receipt?.events ?? []) {
      // Party fields are names (strings) before and after `toJson`: only a contract row needs it.
      for (const p of partiesOf(e)) accounts.add(p, i);
      const json = e.type === 'contract_opened' ? (toJson(e) as JsonObject) : undefined;
      if (json && typeof json.contract === 'string' && CONTRACT_RE.test(json.contract)) {
        const c: ContractRow = {
          contract: json.contract,
          height: b.height,
          time,
          offer: String(json.offer ?? ''),
          issuer: String(json.issuer ?? ''),
          assignee: String(json.assignee ?? ''),
          subscriber: String(json.subscriber ?? ''),
          deposit: String(json.deposit ?? '0'),
        };
        ops.push({ type: 'put', key: `${prefix}c/${hk}/${hex8(ev)}`, value: enc(c) });
      }
      ev++;
    }
  });
  if (rows.length > 0)
    ops.push({
      type: 'put',
      key: `${prefix}t/${hk}/${hex8(Math.floor(b.envelopes.length / CHUNK))}`,
      value: packChunk(rows),
    });
  accounts.flush(ops, `${prefix}a/`, hk);
  for (const e of b.endEvents) {
    if (e.type === 'fees_paid') {
      const json = toJson(e) as JsonObject;
      const row: FeeRow = { height: b.height, time, event: json };
      ops.push({ type: 'put', key: u64Key(`${prefix}f/`, b.height), value: enc(row) });
    }
  }
}
