/**
 * Full replay of a node's store (audits, `roamchain replay`): every stored block re-applied to a fresh
 * genesis state, each root checked, and finality checked from the blocks alone — each block's
 * `lastCommit` a valid commit of its parent by that height's active set, the newest block's stored
 * commit one of it.
 */
import { activeSet, checkParentCommit, verifyBlockCommit } from '@roamchain/chain';
import {
  blockId,
  bytesToHex,
  decodeBlock,
  envelope,
  type Genesis,
  nobleVerifier,
  RoamError,
  type SignatureVerifier,
} from '@roamchain/protocol';
import { applyBlock, genesisState } from '@roamchain/state';
import { SK } from './storage.js';
import type { KvStore } from './store/index.js';

export { activeSet, checkParentCommit, verifyBlockCommit };

export async function replayStore(
  store: KvStore,
  genesis: Genesis,
  verifier: SignatureVerifier = nobleVerifier,
): Promise<{ height: number; root: string; commits: number }> {
  const { state, chainId } = genesisState(genesis);
  let headId = chainId;
  let height = 0;
  let commits = 0;
  for await (const [, raw] of store.range('b/')) {
    const block = decodeBlock(raw);
    const h = block.header.height;
    if (checkParentCommit(state, chainId, verifier, block)) commits++;
    const envs = block.txs.map((tx) => envelope(tx));
    applyBlock(state, block, envs, headId, { verifier });
    headId = blockId(block.header);
    height = Number(h);
  }
  if (height > 0) {
    const last = store.get(SK.commit(height));
    if (!last) throw new RoamError('BLOCK_BAD_COMMIT', `no commit stored for block ${height}`);
    verifyBlockCommit(state, chainId, verifier, last, BigInt(height), headId); // recent sets are kept in the state
    commits++;
  }
  return { height, root: bytesToHex(state.root()), commits };
}
