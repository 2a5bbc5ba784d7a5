/**
 * `GET /v1/status`: the node's status as it serves it (one type for the node that produces it and
 * the SDK that reads it). JSON as it is: times are unix milliseconds, ids lowercase hex.
 */

/** The consensus driver's view of itself. */
export interface ConsensusStatus {
  validator: boolean;
  height: number;
  round: number;
  step: string;
  validators: number;
  peers: number;
  syncing: boolean;
  syncHeight: number;
  syncTarget: number;
  decisions: number;
  maxRound: number;
  refusedSignatures: number;
  evidence: number;
}

export interface NodeStatus {
  /** Hex. */
  chainId: string;
  chainName: string;
  height: number;
  finalizedHeight: number;
  /** Hex. */
  headId: string;
  headTime: number;
  /** Node wall-clock time (ms), for clients estimating expirations. */
  time: number;
  mempool: number;
  producer: string | null;
  /** BFT consensus as this node sees it (null before the node takes part). */
  consensus: ConsensusStatus | null;
  /** The highest protocol version this node implements (PROTOCOL_VERSION, or less if configured). */
  protocolVersion?: number;
  /** Why this node stopped taking part in the chain (it still serves reads), or null. */
  halted?: NodeHalt | null;
}

/**
 * A node halts before the first block at which a voted protocol version it does not implement is
 * in force (docs/OPERATIONS.md "Protocol upgrades"): no more proposals, votes or blocks applied;
 * it serves reads and refuses submissions with UPGRADE_REQUIRED.
 */
export interface NodeHalt {
  reason: 'UPGRADE_REQUIRED';
  /** The protocol version in force from `height`. */
  version: number;
  /** The first height it does not apply (its head is height - 1). */
  height: number;
  /** The proposal that scheduled the upgrade (hex). */
  proposal: string;
  /** What this node implements. */
  implemented: number;
  message: string;
}
