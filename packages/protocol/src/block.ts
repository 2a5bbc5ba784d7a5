import { bytes, bytes32, bytes64, decode, encode, type Infer, struct, u8, u32, u64, vec } from './codec.js';
import { sha256 } from './crypto.js';
import { bytesToHex, concatBytes } from './hex.js';
import { name } from './ops.js';
import { signedTx } from './tx.js';

export const BLOCK_VERSION = 1;

/** Room for the commit of a set of up to 1,024 validators (66 bytes per precommit signature). */
export const MAX_COMMIT_BYTES = 128 + 66 * 1024;

/** The header's `lastCommitHash` for a given encoded parent commit. */
export function lastCommitHashOf(lastCommit: Uint8Array): Uint8Array {
  return lastCommit.length === 0 ? new Uint8Array(32) : sha256(lastCommit);
}

export const blockHeader = struct({
  version: u8,
  chainId: bytes32,
  height: u64,
  prev: bytes32,
  /** Block time, unix ms; the only clock the state transition sees. */
  time: u64,
  producer: name,
  txRoot: bytes32,
  /** Root of the state after applying this block. */
  stateRoot: bytes32,
  txCount: u32,
  /** SHA-256 of `Block.lastCommit` (all zero for block 1, which has no parent commit). */
  lastCommitHash: bytes32,
});
export type BlockHeader = Infer<typeof blockHeader>;

export const block = struct({
  header: blockHeader,
  txs: vec(signedTx, 65_535),
  /** Producer's Ed25519 signature of the block id. */
  signature: bytes64,
  /**
   * The commit of the parent block: more than 2/3 of its validators' precommit signatures, encoded
   * by @roamchain/consensus (`encodeCommit`). Empty in block 1. With it, anyone can check from the
   * blocks alone that every block but the newest is final.
   */
  lastCommit: bytes(MAX_COMMIT_BYTES),
});
export type Block = Infer<typeof block>;

export function blockId(h: BlockHeader): Uint8Array {
  return sha256(encode(blockHeader, h, 160));
}

export function encodeBlock(b: Block): Uint8Array {
  return encode(block, b, 1024 + b.lastCommit.length + b.txs.length * 300);
}
export function decodeBlock(bytes: Uint8Array): Block {
  return decode(block, bytes);
}

const LEAF = new Uint8Array([0]);
const NODE = new Uint8Array([1]);

/** Binary Merkle root of transaction ids (leaf = H(0||id), node = H(1||l||r), odd node promoted). */
export function merkleRoot(ids: readonly Uint8Array[]): Uint8Array {
  if (ids.length === 0) return new Uint8Array(32);
  let level = ids.map((id) => sha256(concatBytes(LEAF, id)));
  while (level.length > 1) {
    const next: Uint8Array[] = [];
    for (let i = 0; i < level.length; i += 2) {
      const l = level[i]!;
      const r = level[i + 1];
      next.push(r ? sha256(concatBytes(NODE, l, r)) : l);
    }
    level = next;
  }
  return level[0]!;
}

export const blockIdHex = (h: BlockHeader): string => bytesToHex(blockId(h));
