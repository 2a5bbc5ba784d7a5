/**
 * What the consensus driver (consensus.ts) sees of its surroundings, and the node-level rules it
 * applies: the `ConsensusHost` (the node: Application, storage, mempool), the `ConsensusNetwork`
 * (@roamchain/p2p), the driver's options, proposer-based timestamps (PBTS), the verdict on relayed
 * transaction batches and the node's timeouts.
 */
import type { Candidate } from '@roamchain/chain';
import type { Commit, TimeoutConfig, ValidatorSet, Vote } from '@roamchain/consensus';
import type { Block, RoamError, SignatureVerifier } from '@roamchain/protocol';
import type { Verdict } from './gossip.js';
import type { AppliedBlock, ConsensusStatus, SubmitResult } from './interfaces.js';

/**
 * All the driver sees of the node that hosts it (the node assembles the Application, storage and
 * the mempool behind it; see node.ts).
 */
export interface ConsensusHost {
  readonly chainId: Uint8Array;
  /** The head in memory: decided and adopted (its storage batch may still be pending). */
  readonly head: { height: bigint; id: Uint8Array; time: bigint };
  /** The last height whose storage batch is durable. */
  readonly durableHeight: bigint;
  readonly signatureVerifier: SignatureVerifier;
  readonly mempoolSize: number;
  validatorSet(height: bigint): ValidatorSet;
  /** prepareProposal: this node's block for the next height. */
  buildCandidate(at?: bigint): Candidate;
  /** processProposal: valid(v); throws a RoamError when the block is not valid. */
  checkCandidate(block: Block): Candidate;
  candidate(idHex: string): Candidate | undefined;
  refusedCandidate(idHex: string): RoamError | undefined;
  /** The driver's own encoding of a candidate (for its WAL): the commit stores it, not a re-encoding. */
  noteEncoded(idHex: string, encoded: Uint8Array): void;
  /**
   * finalizeBlock + commit: the decided block becomes the head and its storage batch is queued
   * behind the pending ones. Resolves once the next height may start (adopted, and the write queue
   * within its bound); `onBlock` reports it when durable.
   */
  commitDecided(idHex: string, commit: Commit): Promise<AppliedBlock>;
  /** Block sync: a block of the next height with the commit that finalised it; resolves once durable. */
  importFinal(block: Block, commit: Uint8Array): Promise<AppliedBlock>;
  /** Each committed block once its storage batch is durable, in height order. */
  onBlock(listener: (b: AppliedBlock) => void): () => void;
  submitBatch(txs: Uint8Array[], origin: 'local' | 'peer'): Promise<SubmitResult[]>;
  submitEvidence(ev: { a: Vote; b: Vote }): Promise<unknown>;
  onTx(listener: (bytes: Uint8Array, origin: 'local' | 'peer') => void): () => void;
  blockBytes(height: number): Uint8Array | undefined;
  commitAt(height: number): Uint8Array | undefined;
}

/** What gossipsub thinks of a message: relay it, drop it, or drop it and lower the sender's score. */
export type { Verdict };

/** The network as consensus needs it; @roamchain/p2p's `P2P` implements it. */
export interface ConsensusNetwork {
  readonly peerId: string;
  publish(topic: string, data: Uint8Array): unknown;
  subscribe(topic: string, handler: (data: Uint8Array, from: string) => Verdict | Promise<Verdict>): unknown;
  handle(name: string, handler: (req: Uint8Array, from: string) => Promise<Uint8Array>): unknown;
  request(peer: string, name: string, req: Uint8Array, timeoutMs: number): Promise<Uint8Array>;
  peers(): { id: string }[];
  penalize(peer: string, reason: string): void;
}

export interface ConsensusOptions {
  dataDir: string;
  /** The validator identity (owner account, node key seed); null follows without signing. */
  identity: { account: string; secretKey: Uint8Array } | null;
  /** Time between blocks when there is nothing to include (ms). */
  idleBlockMs: number;
  /** Time between blocks when transactions are waiting (ms); lets a block collect a batch. */
  busyBlockMs: number;
  /** Produce only on `produceOne` (tests, tools); no timers. */
  manual: boolean;
  timeouts: Partial<TimeoutConfig>;
  /** How often a node that makes no progress asks peers for what it misses (ms). */
  catchUpMs: number;
  log: (level: 'info' | 'warn' | 'error', msg: string, data?: Record<string, unknown>) => void;
  /** Sync progress for the console and /metrics. */
  onSync?: (p: SyncProgress) => void;
}

export interface SyncProgress {
  height: number;
  target: number;
  done: boolean;
}

export type { ConsensusStatus };

/**
 * Proposer-based timestamps (PBTS, CometBFT's ADR-071): a block's time is its proposer's clock, and a
 * validator prevotes for a fresh proposal only if that time is within `PBTS_PRECISION_MS` ahead of its
 * own clock and at most precision + message delay behind it when the proposal arrived. The allowed
 * delay grows with the round so that a slow network still decides. See DEVIATIONS.md.
 */
export const PBTS_PRECISION_MS = 500;
export const PBTS_MSG_DELAY_MS = 15_000;
export function isTimely(blockTime: bigint, receivedAt: number, round: number): boolean {
  const t = Number(blockTime);
  const delay = PBTS_MSG_DELAY_MS * (1 + round);
  return t <= receivedAt + PBTS_PRECISION_MS && t >= receivedAt - PBTS_PRECISION_MS - delay;
}

/** What a relayed transaction batch deserves, from admission's results for it. */
export function txBatchVerdict(results: SubmitResult[]): Verdict {
  if (results.some((r) => !r.ok && PEER_FAULT.has(r.code))) return 'reject';
  return results.some((r) => r.ok) ? 'accept' : 'ignore';
}

/** Refusals of a relayed transaction that are the relaying peer's fault on any view of the chain. */
const PEER_FAULT = new Set([
  'CODEC_TRUNCATED',
  'CODEC_TRAILING',
  'CODEC_TOO_LARGE',
  'CODEC_NONCANONICAL',
  'CODEC_BAD_VALUE',
  'CODEC_UNKNOWN_OP',
  'CODEC_VERSION',
  'TX_TOO_LARGE',
  'TX_WRONG_CHAIN',
  'SIG_INVALID',
  'SIG_MISSING',
  'SIG_EXTRA',
]);

/**
 * Timeouts of the node (ms; timeout(r) = base + r * delta). They never delay a block on the happy
 * path (a block is final as soon as 2/3 of precommits arrive); timeoutPropose only bounds how long
 * validators wait for a proposer that may be down, and must cover building, sending and checking a
 * full proposal on a loaded machine — a shorter one turns slow proposers into extra rounds.
 */
export const NODE_TIMEOUTS: TimeoutConfig = {
  proposeBase: 1000,
  proposeDelta: 500,
  prevoteBase: 200,
  prevoteDelta: 200,
  precommitBase: 200,
  precommitDelta: 200,
};
