/**
 * The node's storage layout (see ARCHITECTURE.md) and what one decided block writes: ONE atomic,
 * durable batch with the state changes, the block and its commit, the transaction index, receipts,
 * the contract/party indexes and the head.
 */
import { deserialize, serialize } from 'node:v8';
import {
  blockId,
  bytesToHex,
  contractIdOf,
  decodeBlock,
  encodeBlock,
  envelope,
  hexToBytes,
  jsonSafe,
  utf8,
} from '@roamchain/protocol';
import type { StateChange, TxReceipt } from '@roamchain/state';
import type { AppliedBlock, ContractTxRef } from './interfaces.js';
import { type KvBatchOp, u64Key } from './store/index.js';

export const enc = (v: unknown) => utf8(JSON.stringify(jsonSafe(v)));
const utf8Decoder = new TextDecoder();
export const dec = <T>(b: Uint8Array): T => JSON.parse(utf8Decoder.decode(b)) as T;

/**
 * A contract's transaction reference (`SK.contractTx`), stored compact: format byte 0x01, then the
 * transaction id (32 bytes; none for the expiry entry), then the operation's type (UTF-8). The
 * height, index and operation index are in the key. It was JSON with the id in hex (~130 bytes
 * beside a ~110-byte key, JSON-encoded on the block path); old data directories hold JSON (first
 * byte `{`), still read.
 */
const REF_V1 = 0x01;
export function encodeContractTxRef(ref: ContractTxRef): Uint8Array {
  const type = utf8(ref.type);
  const id = ref.txId === '' ? null : hexToBytes(ref.txId);
  const out = new Uint8Array(2 + (id ? 32 : 0) + type.length);
  out[0] = REF_V1;
  out[1] = id ? 1 : 0;
  if (id) out.set(id, 2);
  out.set(type, id ? 34 : 2);
  return out;
}

/** The reference stored under `key` (an `SK.contractTx` key). */
export function decodeContractTxRef(key: string, v: Uint8Array): ContractTxRef {
  if (v[0] !== REF_V1) return dec<ContractTxRef>(v);
  const parts = key.split('/');
  const height = Number.parseInt(parts[3] ?? '', 16);
  const opIndex = Number(parts[5]);
  const hasId = v[1] === 1;
  return {
    txId: hasId ? bytesToHex(v.subarray(2, 34)) : '',
    height,
    index: hasId ? Number(parts[4]) : -1,
    opIndex,
    type: utf8Decoder.decode(v.subarray(hasId ? 34 : 2)),
  };
}

/** Storage layout (see ARCHITECTURE.md). */
export const SK = {
  head: 'm/head',
  chain: 'm/chain',
  state: (k: string) => `s/${k}`,
  block: (h: number | bigint) => u64Key('b/', h),
  /** The commit that finalised block h (the next block carries one too, maybe with other signatures). */
  commit: (h: number | bigint) => u64Key('c/', h),
  blockIdx: (idHex: string) => `bi/${idHex}`,
  tx: (idHex: string) => `t/${idHex}`,
  receipts: (h: number | bigint) => u64Key('r/', h),
  contractTx: (cid: string, h: number, idx: number, op: number) =>
    `ix/c/${cid}/${u64Key('', h)}/${idx.toString().padStart(6, '0')}/${op.toString().padStart(3, '0')}`,
  party: (name: string, h: number, cid: string) => `ix/p/${name}/${u64Key('', h)}/${cid}`,
};

export interface StoredReceipts {
  receipts: TxReceipt[];
  endEvents: Record<string, unknown>[];
}

/**
 * Receipts are stored in binary (V8's serializer: bigints and byte arrays kept as they are, no JSON
 * on the block path), tagged with a format byte. Not consensus data: only this node reads them. Old
 * data directories hold JSON (first byte `{`), still read.
 */
const RECEIPTS_V8 = 0x01;
export function encodeReceipts(r: StoredReceipts): Uint8Array {
  const body = serialize(r);
  const out = new Uint8Array(body.length + 1);
  out[0] = RECEIPTS_V8;
  out.set(body, 1);
  return out;
}
export function decodeReceipts(b: Uint8Array): StoredReceipts {
  if (b[0] === RECEIPTS_V8) {
    const r = deserialize(b.subarray(1)) as StoredReceipts;
    // Readers get events as the JSON route always gave them (bigints and bytes as strings).
    return {
      receipts: r.receipts.map((x) => ({ ...x, events: jsonSafe(x.events) as TxReceipt['events'] })),
      endEvents: jsonSafe(r.endEvents) as Record<string, unknown>[],
    };
  }
  const j = dec<{
    receipts: (Omit<TxReceipt, 'fee'> & { fee: string })[];
    endEvents: Record<string, unknown>[];
  }>(b);
  return { receipts: j.receipts.map((x) => ({ ...x, fee: BigInt(x.fee) })), endEvents: j.endEvents };
}

/** The block stored at `height`, rebuilt from its stored bytes (block and receipts). */
export function storedBlock(height: number, blockBytes: Uint8Array, receiptsBytes: Uint8Array): AppliedBlock {
  const block = decodeBlock(blockBytes);
  const r = decodeReceipts(receiptsBytes);
  return {
    block,
    id: bytesToHex(blockId(block.header)),
    height,
    envelopes: block.txs.map((tx) => envelope(tx)),
    receipts: r.receipts,
    endEvents: r.endEvents as AppliedBlock['endEvents'],
  };
}

export interface HeadRecord {
  height: number;
  id: string;
  time: string | bigint;
}

/** The stored bytes of a block and its receipts, as its batch wrote them. */
export interface StoredBlockBytes {
  block: Uint8Array;
  receipts: Uint8Array;
}

const storedBytes = new WeakMap<AppliedBlock, StoredBlockBytes>();

/**
 * The bytes `blockBatch` encoded for this block, when it built the batch (the index worker is
 * given them, worker.ts: no second encoding on the main thread); else undefined (read the store).
 */
export function storedBytesOf(a: AppliedBlock): StoredBlockBytes | undefined {
  return storedBytes.get(a);
}

/** The batch of one decided block (`encoded`: the block's encoding, when the host already made it). */
export function blockBatch(
  a: AppliedBlock,
  changes: StateChange[],
  commit: Uint8Array,
  encoded?: Uint8Array,
): KvBatchOp[] {
  const ops: KvBatchOp[] = [];
  for (const c of changes) {
    if (c.value) ops.push({ type: 'put', key: SK.state(c.key), value: c.value });
    else ops.push({ type: 'del', key: SK.state(c.key) });
  }
  const bytes: StoredBlockBytes = {
    block: encoded ?? encodeBlock(a.block),
    receipts: encodeReceipts({ receipts: a.receipts, endEvents: a.endEvents }),
  };
  storedBytes.set(a, bytes);
  ops.push({ type: 'put', key: SK.block(a.height), value: bytes.block });
  ops.push({ type: 'put', key: SK.commit(a.height), value: commit });
  ops.push({ type: 'put', key: SK.blockIdx(a.id), value: enc(a.height) });
  a.envelopes.forEach((e, i) => {
    ops.push({ type: 'put', key: SK.tx(e.idHex), value: enc([a.height, i]) });
  });
  ops.push({ type: 'put', key: SK.receipts(a.height), value: bytes.receipts });
  ops.push(...indexOps(a));
  ops.push({
    type: 'put',
    key: SK.head,
    value: enc({ height: a.height, id: a.id, time: a.block.header.time }),
  });
  return ops;
}

/** Indexer: contract → its transactions, party → its contracts. Outside consensus; same atomic batch. */
function indexOps(a: AppliedBlock): KvBatchOp[] {
  const ops: KvBatchOp[] = [];
  const empty = new Uint8Array();
  a.envelopes.forEach((env, idx) => {
    env.tx.ops.forEach((op, opIndex) => {
      let cid: string | undefined;
      if (op.type === 'request_open') {
        cid = bytesToHex(contractIdOf(env.tx.chainId, op.ephemeralKey));
        const opened = a.receipts[idx]?.events.find(
          (e) => e.type === 'contract_opened' && e.contract === cid,
        );
        const parties = new Set([op.issuer, op.payer, op.subscriber, String(opened?.assignee ?? '')]);
        for (const p of parties)
          if (p) ops.push({ type: 'put', key: SK.party(p, a.height, cid), value: empty });
      } else if (
        op.type === 'charge' ||
        op.type === 'provision' ||
        op.type === 'refund' ||
        op.type === 'rate' ||
        op.type === 'contract_topup'
      ) {
        cid = bytesToHex(op.contract);
      }
      if (cid) {
        const ref: ContractTxRef = { txId: env.idHex, height: a.height, index: idx, opIndex, type: op.type };
        ops.push({
          type: 'put',
          key: SK.contractTx(cid, a.height, idx, opIndex),
          value: encodeContractTxRef(ref),
        });
      }
    });
  });
  for (const e of a.endEvents) {
    if (e.type === 'contract_settled') {
      const cid = String(e.contract);
      const ref: ContractTxRef = { txId: '', height: a.height, index: -1, opIndex: 0, type: 'expiry' };
      ops.push({
        type: 'put',
        key: SK.contractTx(cid, a.height, 999_999, 0),
        value: encodeContractTxRef(ref),
      });
    }
  }
  return ops;
}
