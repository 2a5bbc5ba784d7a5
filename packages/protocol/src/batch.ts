/**
 * A batch of signed transactions for the binary route `POST /v1/txs` (Content-Type
 * application/octet-stream): the canonical encoding of a vector of transaction byte strings,
 * `u16 count, then per transaction u32 length + bytes`. The SDK encodes it, the node decodes it with
 * the chain's `maxTxBytes` as the bound of each element, so both share one definition.
 */
import { bytes, type Codec, decode, encode, vec } from './codec.js';

/** Content type of the binary batch route. */
export const TX_BATCH_CONTENT_TYPE = 'application/octet-stream';
/** Most transactions in one batch. */
export const TX_BATCH_MAX_TXS = 4096;
/** Most bytes of one batch body (the node answers larger bodies with CODEC_TOO_LARGE, HTTP 413). */
export const TX_BATCH_MAX_BYTES = 8 * 1024 * 1024;
/** Per-transaction bound when the chain's `maxTxBytes` is not at hand (the default parameter). */
export const TX_BATCH_DEFAULT_TX_BYTES = 32_768;

/** The batch codec whose elements are at most `maxTxBytes` long. */
export function txBatchCodec(maxTxBytes: number = TX_BATCH_DEFAULT_TX_BYTES): Codec<Uint8Array[]> {
  return vec(bytes(maxTxBytes), TX_BATCH_MAX_TXS, 1);
}

/** Bytes one transaction of `n` bytes takes in a batch. */
export const txBatchItemBytes = (n: number): number => 4 + n;
/** Bytes of the batch header (the count). */
export const TX_BATCH_HEADER_BYTES = 2;

export function encodeTxBatch(txs: readonly Uint8Array[], maxTxBytes?: number): Uint8Array {
  const size = txs.reduce((s, t) => s + txBatchItemBytes(t.length), TX_BATCH_HEADER_BYTES);
  return encode(txBatchCodec(maxTxBytes), [...txs], size);
}

/** Decodes a batch body; throws a RoamError (CODEC_*) on anything but one canonical batch. */
export function decodeTxBatch(body: Uint8Array, maxTxBytes?: number): Uint8Array[] {
  return decode(txBatchCodec(maxTxBytes), body);
}
