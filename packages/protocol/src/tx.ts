import { bytes32, bytes64, decode, encode, type Infer, Reader, struct, u8, u32, u64, vec } from './codec.js';
import { sha256 } from './crypto.js';
import { RoamError } from './errors.js';
import { bytesToHex, concatBytes } from './hex.js';
import { type Operation, operation, opSigners, validateOp } from './ops.js';

export const TX_VERSION = 1;
export const MAX_OPS_PER_TX = 16;

const unsignedFields = {
  version: u8,
  chainId: bytes32,
  /** TaPoS: height of a recent block … */
  refBlockNum: u32,
  /** … and the first 4 bytes of its id, as a big-endian u32. */
  refBlockPrefix: u32,
  /** Unix time in ms after which the transaction is void. */
  expiration: u64,
  ops: vec(operation, MAX_OPS_PER_TX, 1),
};
export const unsignedTx = struct(unsignedFields);
/** A signed transaction: the unsigned encoding followed by the signatures, one per required signer in sorted order. */
export const signedTx = struct({ ...unsignedFields, signatures: vec(bytes64, MAX_OPS_PER_TX * 2) });

export type UnsignedTx = Infer<typeof unsignedTx>;
export type SignedTx = Infer<typeof signedTx>;

/** A decoded transaction with its id and canonical bytes, computed once. */
export interface TxEnvelope {
  tx: SignedTx;
  id: Uint8Array;
  idHex: string;
  bytes: Uint8Array;
}

export function txId(tx: UnsignedTx): Uint8Array {
  return sha256(encode(unsignedTx, tx));
}

/** Sorted, unique accounts that must sign. Signatures appear in this order. */
export function requiredSigners(ops: readonly Operation[]): string[] {
  // One operation with one or two signers (most transactions; asked 3-4 times per transaction by
  // admission and the block check): the same answer without a Set, a spread and a sort (about 60 →
  // 15 ns per call for a transfer).
  if (ops.length === 1) {
    const s = opSigners(ops[0]!);
    if (s.length === 1) return [s[0]!];
    if (s.length === 2) {
      const [a, b] = s as [string, string];
      return a === b ? [a] : a < b ? [a, b] : [b, a];
    }
  }
  const s = new Set<string>();
  for (const op of ops) for (const n of opSigners(op)) s.add(n);
  return [...s].sort();
}

export function encodeTx(tx: SignedTx): Uint8Array {
  return encode(signedTx, tx, 512);
}

/** Decode bytes into an envelope; any non-canonical input is a typed error. */
export function decodeTx(bytes: Uint8Array): TxEnvelope {
  const tx = decode(signedTx, bytes);
  return envelopeOf(tx, bytes);
}

export function envelope(tx: SignedTx): TxEnvelope {
  return envelopeOf(tx, encodeTx(tx));
}

function envelopeOf(tx: SignedTx, bytes: Uint8Array): TxEnvelope {
  // The unsigned part is a prefix of the signed encoding: hash it without re-encoding.
  const sigLen = 2 + 64 * tx.signatures.length;
  const id = sha256(bytes.subarray(0, bytes.length - sigLen));
  return { tx, id, idHex: bytesToHex(id), bytes };
}

/** Parse a signed transaction from bytes inside a larger buffer (used by the block codec). */
export function readTx(r: Reader): SignedTx {
  return signedTx.dec(r);
}

/** Stateless checks of a transaction: version, each operation, signature count. */
export function validateTxStateless(tx: SignedTx): void {
  if (tx.version !== TX_VERSION) throw new RoamError('CODEC_VERSION', `transaction version ${tx.version}`);
  for (const op of tx.ops) validateOp(op);
  const need = requiredSigners(tx.ops).length;
  if (tx.signatures.length < need) {
    throw new RoamError('SIG_MISSING', `${need} signature(s) required, ${tx.signatures.length} given`);
  }
  if (tx.signatures.length > need) {
    throw new RoamError('SIG_EXTRA', `${need} signature(s) required, ${tx.signatures.length} given`);
  }
}

/** Id of the object created by, or head set by, operation `opIndex` of transaction `id`. */
export function opHash(id: Uint8Array, opIndex: number): Uint8Array {
  return sha256(concatBytes(id, new Uint8Array([opIndex >> 8, opIndex & 0xff])));
}

/**
 * Id of a service smart contract: fixed by the Request's fresh ephemeral key before anything is
 * signed, so the Request's own encrypted payload can already be bound to the contract id.
 */
export function contractIdOf(chainId: Uint8Array, ephemeralKey: Uint8Array): Uint8Array {
  return sha256(concatBytes(new TextEncoder().encode('roamchain/ssc/v1'), chainId, ephemeralKey));
}

export function refPrefixOf(blockId: Uint8Array): number {
  return new DataView(blockId.buffer, blockId.byteOffset, 4).getUint32(0);
}

export { Reader };
