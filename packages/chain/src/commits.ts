/**
 * Finality from the blocks alone: a block carries the commit of its parent (`lastCommit`), checked
 * against that height's active set from the state. Used by the Application (processProposal), block
 * sync and replay alike.
 */
import { type Commit, decodeCommit, type ValidatorSet, verifyCommit } from '@roamchain/consensus';
import {
  type Block,
  equalBytes,
  lastCommitHashOf,
  RoamError,
  type SignatureVerifier,
} from '@roamchain/protocol';
import { type StateReader, validatorSetFor } from '@roamchain/state';

/** The active set that signs block `height`, as consensus takes it (from the state after `height` - 1). */
export function activeSet(state: StateReader, height: bigint): ValidatorSet {
  return {
    validators: validatorSetFor(state, height).map((v) => ({ publicKey: v.nodeKey, name: v.account })),
  };
}

/** Verify an encoded commit of block `height` with id `value` against that height's active set. */
export function verifyBlockCommit(
  state: StateReader,
  chainId: Uint8Array,
  verifier: SignatureVerifier,
  bytes: Uint8Array,
  height: bigint,
  value: Uint8Array,
): Commit {
  let c: Commit;
  try {
    c = decodeCommit(bytes);
  } catch (e) {
    throw new RoamError('BLOCK_BAD_COMMIT', `commit does not decode: ${(e as Error).message}`);
  }
  if (c.height !== height) throw new RoamError('BLOCK_BAD_COMMIT', `commit is for height ${c.height}`);
  if (!equalBytes(c.value, value))
    throw new RoamError('BLOCK_BAD_COMMIT', `commit of block ${height} names another block`);
  const v = verifyCommit(c, activeSet(state, height), verifier, chainId);
  if (!v.ok) throw new RoamError('BLOCK_BAD_COMMIT', `block ${height}: ${v.reason}`);
  return c;
}

/**
 * The parent commit a block carries (`lastCommit`, hashed into the header): none in block 1, else a
 * valid commit of the parent by its active set. `state` is the state after the parent. Returns
 * whether there was a commit to check.
 */
export function checkParentCommit(
  state: StateReader,
  chainId: Uint8Array,
  verifier: SignatureVerifier,
  block: Block,
): boolean {
  const h = block.header;
  if (!equalBytes(lastCommitHashOf(block.lastCommit), h.lastCommitHash)) {
    throw new RoamError('BLOCK_INVALID', `block ${h.height}: lastCommitHash does not match lastCommit`);
  }
  if (h.height === 1n) {
    if (block.lastCommit.length !== 0) throw new RoamError('BLOCK_INVALID', 'block 1 has no parent commit');
    return false;
  }
  verifyBlockCommit(state, chainId, verifier, block.lastCommit, h.height - 1n, h.prev);
  return true;
}
