/**
 * The read side over committed storage: blocks, transactions, receipts, contract and party indexes,
 * the event feed. Reads only what is durable; never enters consensus.
 */
import { blockId, bytesToHex, decodeBlock, envelope, RoamError } from '@roamchain/protocol';
import type { AppliedBlock, ContractTxRef, FeedEvent, TxStatus } from './interfaces.js';
import { dec, decodeContractTxRef, decodeReceipts, SK, storedBlock } from './storage.js';
import type { KvStore } from './store/index.js';

export class ChainReader {
  constructor(private readonly store: KvStore) {}

  /** An included transaction's status, or undefined when the store does not have it. */
  included(txId: string): (TxStatus & { status: 'included' }) | undefined {
    const loc = this.store.get(SK.tx(txId));
    if (!loc) return undefined;
    // One transaction: decode its block but envelope (re-encode and hash) only that one.
    const [height, index] = dec<[number, number]>(loc);
    const raw = this.store.get(SK.block(height));
    const b = raw ? decodeBlock(raw) : undefined;
    const tx = b?.txs[index];
    if (!b || !tx) return undefined;
    const receipt = decodeReceipts(this.store.get(SK.receipts(height))!).receipts[index]!;
    return {
      status: 'included',
      txId,
      height,
      index,
      blockId: bytesToHex(blockId(b.header)),
      receipt,
      tx: envelope(tx),
    };
  }

  blockByHeight(height: number): AppliedBlock | undefined {
    if (!Number.isSafeInteger(height) || height < 1) return undefined;
    const raw = this.store.get(SK.block(height));
    if (!raw) return undefined;
    return storedBlock(height, raw, this.store.get(SK.receipts(height))!);
  }

  blockById(idHex: string): AppliedBlock | undefined {
    const h = this.store.get(SK.blockIdx(idHex.toLowerCase()));
    return h ? this.blockByHeight(dec<number>(h)) : undefined;
  }

  async contractTxs(cid: string): Promise<ContractTxRef[]> {
    const out: ContractTxRef[] = [];
    for await (const [k, v] of this.store.range(`ix/c/${cid}/`)) out.push(decodeContractTxRef(k, v));
    return out;
  }

  async contractsOf(account: string, limit: number, before?: string): Promise<string[]> {
    const out: string[] = [];
    let skipping = before !== undefined;
    for await (const [k] of this.store.range(`ix/p/${account}/`, { reverse: true })) {
      const cid = k.slice(k.lastIndexOf('/') + 1);
      if (skipping) {
        if (cid === before) skipping = false;
        continue;
      }
      if (!out.includes(cid)) out.push(cid);
      if (out.length >= limit) break;
    }
    return out;
  }

  async eventsSince(cursor: string | null, limit: number): Promise<FeedEvent[]> {
    let fromH = 1;
    let afterI = -1;
    if (cursor) {
      const m = /^(\d+):(\d+)$/.exec(cursor);
      if (!m) throw new RoamError('BAD_REQUEST', 'cursor must look like "height:index"');
      fromH = Number(m[1]);
      afterI = Number(m[2]);
    }
    const out: FeedEvent[] = [];
    for await (const [k, v] of this.store.range('r/', { gte: SK.receipts(fromH) })) {
      const h = Number.parseInt(k.slice(2), 16);
      for (const ev of feedOf(h, decodeReceipts(v))) {
        if (h === fromH && Number(ev.cursor.split(':')[1]) <= afterI) continue;
        out.push(ev);
        if (out.length >= limit) return out;
      }
    }
    return out;
  }
}

/** The events of a block as a feed: all transactions' events in order, then block-end events. */
export function feedOf(
  height: number,
  r: { receipts: { txId: string; events: unknown[] }[]; endEvents: unknown[] },
): FeedEvent[] {
  const out: FeedEvent[] = [];
  let i = 0;
  for (const rc of r.receipts) {
    for (const e of rc.events)
      out.push({ cursor: `${height}:${i++}`, height, txId: rc.txId, event: e as FeedEvent['event'] });
  }
  for (const e of r.endEvents)
    out.push({ cursor: `${height}:${i++}`, height, txId: null, event: e as FeedEvent['event'] });
  return out;
}
