/**
 * Block size limits: bytes and execution cost (a consensus rule: `processProposal` refuses a block
 * over either, `prepareProposal` never builds one).
 *
 * The execution cost of a transaction is a deterministic function of its bytes — never a clock — so
 * every validator judges a block the same way:
 *
 *   cost(tx) = TX_BASE_COST + SIGNATURE_COST × signatures + ⌈bytes / 64⌉ × BYTE_COST_PER_64
 *              + Σ OP_COST[op.type] (DEFAULT_OP_COST for an operation the table does not list)
 *
 * Units are roughly microseconds of one core on the reference machine (2-core CI box): the base is
 * decode, id hash, replay and TaPoS checks and the receipt; a signature is one Ed25519 verification
 * (a validator that did not see the transaction in admission verifies it while checking the block);
 * each operation's entry is its evaluator's reads and writes of state keys and their trie hashing.
 * The table is documented in docs/BLOCK-LIMITS.md; changing it is a consensus change (every
 * validator must run the same table).
 */
import type { OpName, SignedTx } from '@roamchain/protocol';

/** Most bytes of transactions in one block (the sum of their encodings). */
export const MAX_BLOCK_TX_BYTES = 4 * 1024 * 1024;
/** Most execution cost in one block (units of the table below: about 200 ms of one core). */
export const MAX_BLOCK_COST = 200_000;

export const TX_BASE_COST = 15;
export const SIGNATURE_COST = 35;
export const BYTE_COST_PER_64 = 1;
/** Cost of an operation the table does not list (a new operation until it is measured). */
export const DEFAULT_OP_COST = 60;

/** Per-operation execution cost (state reads and writes, trie paths). */
export const OP_COST: Readonly<Partial<Record<OpName, number>>> = {
  transfer: 10,
  account_create: 25,
  account_update_keys: 15,
  sdr_issue: 15,
  sdr_burn: 15,
  offer_publish: 30,
  offer_replace: 30,
  offer_withdraw: 15,
  request_open: 80,
  charge: 30,
  provision: 25,
  refund: 30,
  rate: 30,
  demand_post: 30,
  demand_cancel: 15,
  identity_attest: 20,
  identity_revoke: 15,
  validator_set: 40,
  evidence: 120,
  validator_bond: 25,
  validator_unbond: 25,
  proposal_create: 30,
  proposal_vote: 25,
  price_feed: 25,
};

/** The execution cost of one transaction (`bytes`: the length of its encoding). */
export function txCost(tx: SignedTx, bytes: number): number {
  let c = TX_BASE_COST + SIGNATURE_COST * tx.signatures.length + Math.ceil(bytes / 64) * BYTE_COST_PER_64;
  for (const op of tx.ops) c += OP_COST[op.type] ?? DEFAULT_OP_COST;
  return c;
}
