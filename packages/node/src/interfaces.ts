/**
 * The narrow interfaces between the node's parts. The Web-API, metrics, WebSocket feeds and the
 * CLI's embedded devnet talk to the chain only through `NodeApi`; storage is behind `KvStore`;
 * consensus (later: BFT) only calls `Chain.commitBlock`.
 */
import type { Block, ConsensusStatus, Genesis, NodeStatus, TxEnvelope } from '@roamchain/protocol';
import type { LedgerEvent, LedgerState, TxReceipt } from '@roamchain/state';

/** `GET /v1/status` (the wire type, shared with the SDK). */
export type { ConsensusStatus, NodeStatus };

/** A block as applied and committed, with what it did. */
export interface AppliedBlock {
  block: Block;
  id: string;
  height: number;
  envelopes: TxEnvelope[];
  receipts: TxReceipt[];
  /** Events of block-end work (expiry settlements, fee payout). */
  endEvents: LedgerEvent[];
}

/** One event in the feed, addressed by a resumable cursor `${height}:${index}`. */
export interface FeedEvent {
  cursor: string;
  height: number;
  /** Transaction that emitted it, or null for block-end events. */
  txId: string | null;
  event: LedgerEvent;
}

export type TxStatus =
  | {
      status: 'included';
      txId: string;
      height: number;
      index: number;
      blockId: string;
      receipt: TxReceipt;
      tx: TxEnvelope;
    }
  | { status: 'pending'; txId: string }
  | { status: 'rejected'; txId: string; code: string; message: string };

export interface ContractTxRef {
  txId: string;
  height: number;
  index: number;
  opIndex: number;
  type: string;
}

/** What admission says of one transaction of a batch. */
export type SubmitResult = { ok: true; txId: string } | { ok: false; code: string; message: string };

export interface NodeApi {
  readonly genesis: Genesis;
  readonly chainId: Uint8Array;
  /** Read-only use: the committed ledger state. */
  readonly state: LedgerState;
  status(): NodeStatus;
  /** Admission: stateless checks, signatures, checks against the head. Rejects with a RoamError. */
  submit(bytes: Uint8Array): Promise<TxEnvelope>;
  /**
   * Admission of many transactions at once (the binary batch route): one result per transaction, in
   * order; a bad one does not stop the others.
   */
  submitBatch(txs: Uint8Array[]): Promise<SubmitResult[]>;
  /** Resolves when the transaction is in a committed block; rejects with RoamError (WAIT_TIMEOUT, or its rejection code). */
  waitFor(txId: string, timeoutMs: number): Promise<TxStatus & { status: 'included' }>;
  txStatus(txId: string): Promise<TxStatus | undefined>;
  blockByHeight(height: number): Promise<AppliedBlock | undefined>;
  /** The encoded commit that finalised block `height` (more than 2/3 of its validators' precommits). */
  commitAt(height: number): Uint8Array | undefined;
  blockById(idHex: string): Promise<AppliedBlock | undefined>;
  /** Transactions of a contract in chain order (Request, Charges, Refund). */
  contractTxs(contractIdHex: string): Promise<ContractTxRef[]>;
  /** Contract ids where the account is issuer, assignee, payer or subscriber, newest first. */
  contractsOf(account: string, limit: number, before?: string): Promise<string[]>;
  /** Events from a cursor (exclusive) onwards, in order, up to limit. */
  eventsSince(cursor: string | null, limit: number): Promise<FeedEvent[]>;
  /** Subscribe to committed blocks; returns an unsubscribe function. */
  onBlock(listener: (b: AppliedBlock) => void): () => void;
}
