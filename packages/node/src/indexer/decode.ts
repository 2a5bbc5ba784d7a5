/**
 * A stored block as the index worker reads it (worker.ts): the block and its receipts decoded from
 * the node's stored bytes, and nothing the indexers do not read. `storedBlock` (storage.ts) also
 * re-encodes and hashes every transaction for its id; the receipts carry that id already (the
 * receipt of transaction i is the i-th, its `txId` the transaction's id), so that work is skipped.
 * The events come out of `decodeReceipts` as JSON (bigints and bytes as strings): `jsonEvents`.
 */
import { decodeBlock, envelope } from '@roamchain/protocol';
import { decodeReceipts } from '../storage.js';
import type { IndexBlock } from './events.js';

export function indexBlockOf(height: number, blockBytes: Uint8Array, receiptsBytes: Uint8Array): IndexBlock {
  const block = decodeBlock(blockBytes);
  const r = decodeReceipts(receiptsBytes);
  const receipts = r.receipts;
  const sameLength = receipts.length === block.txs.length;
  return {
    block,
    height,
    // A receipt per transaction, in order (apply.ts); otherwise the ids are computed.
    envelopes: block.txs.map((tx, i) => {
      const id = sameLength ? receipts[i]?.txId : undefined;
      return typeof id === 'string' ? { tx, idHex: id } : envelope(tx);
    }),
    receipts,
    endEvents: r.endEvents as IndexBlock['endEvents'],
    jsonEvents: true,
  };
}
