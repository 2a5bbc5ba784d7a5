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
}
