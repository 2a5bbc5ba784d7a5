/**
 * The Application: the one boundary between consensus (and the node that hosts it) and the state
 * machine, in the spirit of ABCI++ —
 *
 *   checkTx          admission checks against the head without executing anything; returns the
 *                    signatures the host must verify (it does so in its worker pool)
 *   prepareProposal  the proposer executes pending transactions on an overlay of the head, drops what
 *                    fails, stages the result (root computed) and signs the block
 *   processProposal  a validator executes a proposed block on an overlay of the head and checks it
 *   finalizeBlock    the decided candidate becomes the head: its staged writes are adopted — no
 *                    rollback, no re-execution, no rehash
 *
 * Storage, the mempool, networking and signature speed belong to the host. The Application owns the
 * head (id, time, the commit the next block carries) and the candidates of the next height.
 */
import {
  type Block,
  type BlockHeader,
  blockId,
  bytesToHex,
  type ChainParams,
  envelope,
  equalBytes,
  type Genesis,
  lastCommitHashOf,
  merkleRoot,
  opFeePayer,
  RoamError,
  type SignatureVerifier,
  sign,
  type TxEnvelope,
  verify,
} from '@roamchain/protocol';
import {
  applyBlock,
  BlockBuilder,
  type BlockResult,
  checkTxEnvelope,
  headerVersion,
  K,
  type LedgerState,
  protocolVersionAt,
  type TxIndex,
  validatorOf,
} from '@roamchain/state';
import { activeSet, checkParentCommit } from './commits.js';
import { MAX_BLOCK_COST, MAX_BLOCK_TX_BYTES, txCost } from './cost.js';

/** A block for the next height, executed on an overlay of the head and staged (root known). */
export interface Candidate {
  block: Block;
  id: Uint8Array;
  idHex: string;
  envelopes: TxEnvelope[];
  result: BlockResult;
}

/** A decided block, now the head: what the host stores and tells its readers. */
export interface Decided {
  block: Block;
  id: string;
  height: number;
  envelopes: TxEnvelope[];
  result: BlockResult;
  /** The encoded commit that finalised it. */
  commit: Uint8Array;
}

/** A signature the host must verify before the transaction is admitted. */
export interface SignatureCheck {
  publicKey: Uint8Array;
  message: Uint8Array;
  signature: Uint8Array;
}

export interface ProposalLimits {
  maxTxs: number;
  /** Sum of the transactions' encoded sizes (never above the consensus limit `MAX_BLOCK_TX_BYTES`). */
  maxBytes: number;
  /** Sum of the transactions' execution costs (cost.ts; never above `MAX_BLOCK_COST`). */
  maxCost?: number;
  /**
   * The proposer's own time budget: asked every few transactions; true ends the block. The host
   * measures it (its own choice of what to include; validity never depends on it).
   */
  full?: () => boolean;
}

export interface ApplicationOptions {
  genesis: Genesis;
  /** Checks signatures inside blocks (a cache that admission fills makes these hits). */
  verifier: SignatureVerifier;
  /** Transactions already included (replay protection outside the Merkle state). */
  txIndex: TxIndex;
  /** The validator identity this node proposes with, if any. */
  producer: { account: string; secretKey: Uint8Array } | null;
  /** The highest protocol version this node implements (default PROTOCOL_VERSION: see @roamchain/protocol). */
  protocolVersion?: number;
}

/** Candidates of the next height kept (proposals of several rounds); refused ids remembered. */
const MAX_CANDIDATES = 64;
const MAX_REFUSED = 1_000;

export class Application {
  readonly chainId: Uint8Array;
  private headId: Uint8Array;
  private headTime: bigint;
  /** Encoded commit of the head block (empty at genesis): the next block's `lastCommit`. */
  private headCommit: Uint8Array;
  private readonly candidates = new Map<string, Candidate>();
  private readonly refused = new Map<string, RoamError>();

  constructor(
    readonly state: LedgerState,
    head: { id: Uint8Array; time: bigint; commit: Uint8Array },
    readonly opts: ApplicationOptions,
  ) {
    this.chainId = state.meta.chainId;
    this.headId = head.id;
    this.headTime = head.time;
    this.headCommit = head.commit;
    const p = opts.producer;
    if (p) {
      const v = validatorOf(state, p.account);
      if (!v) throw new RoamError('BLOCK_BAD_PRODUCER', `${p.account} is not a validator`);
      const probe = new Uint8Array(32);
      if (!verify(v.nodeKey, probe, sign(p.secretKey, probe))) {
        throw new RoamError('BLOCK_BAD_PRODUCER', 'the node key does not match the validator record');
      }
    }
  }

  get head(): { height: bigint; id: Uint8Array; time: bigint; commit: Uint8Array } {
    return { height: this.state.meta.height, id: this.headId, time: this.headTime, commit: this.headCommit };
  }

  get params(): ChainParams {
    return this.state.get<ChainParams>(K.params)!;
  }

  /** The active validator set that signs block `height`. */
  validatorSet(height: bigint) {
    return activeSet(this.state, height);
  }

  /** The time the next block would have if it were made at `now` (after the head's, always). */
  nextTime(now: bigint): bigint {
    return now > this.headTime ? now : this.headTime + 1n;
  }

  // ---------------------------------------------------------------- checkTx

  /**
   * Admission checks against the head, nothing executed: stateless validation, chain, expiry,
   * TaPoS, replay (the transaction index), that every signer exists, and that each fee payer holds
   * the fees of its operations. Returns the signatures to verify. Throws a RoamError.
   */
  checkTx(env: TxEnvelope, now: bigint): SignatureCheck[] {
    const next = { height: this.state.meta.height + 1n, time: this.nextTime(now), prev: this.headId };
    const keys = checkTxEnvelope(this.state, env, next, null, this.opts.txIndex);
    const fees = this.params.fees;
    const owed = new Map<string, bigint>();
    for (const op of env.tx.ops) {
      const payer = opFeePayer(op);
      if ('account' in payer) owed.set(payer.account, (owed.get(payer.account) ?? 0n) + fees[op.type]);
    }
    for (const [account, fee] of owed) {
      const bal = this.state.get<bigint>(K.balance(account, 'UMT')) ?? 0n;
      if (bal < fee) {
        throw new RoamError('BALANCE_LOW', `${account} has ${bal} UMT base units, fees need ${fee}`, {
          account,
          token: 'UMT',
          balance: bal.toString(),
          needed: fee.toString(),
        });
      }
    }
    return keys.map((publicKey, i) => ({ publicKey, message: env.id, signature: env.tx.signatures[i]! }));
  }

  /**
   * Execute a transaction on a throw-away overlay of the head (nothing staged, nothing kept). For
   * transactions nobody signs (evidence): executing is what stops a flood of them.
   */
  dryRun(env: TxEnvelope, now: bigint): void {
    const b = new BlockBuilder(
      this.state,
      {
        height: this.state.meta.height + 1n,
        time: this.nextTime(now),
        prev: this.headId,
        producer: this.anyProducer(),
        lastCommit: this.headCommit,
      },
      { verifier: this.opts.verifier, txIndex: this.opts.txIndex, stage: true, ...this.versionOpt() },
    );
    b.apply(env);
  }

  private versionOpt(): { protocolVersion?: number } {
    const v = this.opts.protocolVersion;
    return v === undefined ? {} : { protocolVersion: v };
  }

  private anyProducer(): string {
    return this.opts.producer?.account ?? this.opts.genesis.validators[0]!.account;
  }

  // ---------------------------------------------------------------- proposals

  /**
   * The proposer's block: pending transactions (in the host's fair order) executed on an overlay of
   * the head up to `limits`; a transaction that fails is reported to `drop` and left out. The result
   * is staged and kept as a candidate, so deciding it later executes nothing again.
   */
  prepareProposal(
    pending: Iterable<TxEnvelope>,
    limits: ProposalLimits,
    now: bigint,
    drop: (env: TxEnvelope, e: unknown) => void,
  ): Candidate {
    const producer = this.opts.producer;
    if (!producer) throw new RoamError('BLOCK_BAD_PRODUCER', 'this node has no producer key');
    const height = this.state.meta.height + 1n;
    const time = this.nextTime(now);
    const b = new BlockBuilder(
      this.state,
      { height, time, prev: this.headId, producer: producer.account, lastCommit: this.headCommit },
      { verifier: this.opts.verifier, txIndex: this.opts.txIndex, stage: true, ...this.versionOpt() },
    );
    let bytes = 0;
    let cost = 0;
    const maxTxs = Math.min(limits.maxTxs, this.params.maxBlockTxs);
    const maxBytes = Math.min(limits.maxBytes, MAX_BLOCK_TX_BYTES);
    const maxCost = Math.min(limits.maxCost ?? MAX_BLOCK_COST, MAX_BLOCK_COST);
    for (const env of pending) {
      const c = txCost(env.tx, env.bytes.length);
      if (b.txCount >= maxTxs || bytes + env.bytes.length > maxBytes || cost + c > maxCost) break;
      if (limits.full && (b.txCount & 63) === 63 && limits.full()) break;
      if (env.tx.expiration <= time) {
        drop(env, new RoamError('TX_EXPIRED', `expired at ${env.tx.expiration}, block time ${time}`));
        continue;
      }
      try {
        b.apply(env);
        bytes += env.bytes.length;
        cost += c;
      } catch (e) {
        drop(env, e);
      }
    }
    const result = b.finish();
    const header: BlockHeader = {
      version: headerVersion(protocolVersionAt(this.state, height)),
      chainId: this.chainId,
      height,
      prev: this.headId,
      time,
      producer: producer.account,
      txRoot: merkleRoot(b.envelopes.map((e) => e.id)),
      stateRoot: result.stateRoot,
      txCount: b.envelopes.length,
      lastCommitHash: lastCommitHashOf(this.headCommit),
    };
    const id = blockId(header);
    const block: Block = {
      header,
      txs: b.envelopes.map((e) => e.tx),
      signature: sign(producer.secretKey, id),
      lastCommit: this.headCommit,
    };
    return this.keep({ block, id, idHex: bytesToHex(id), envelopes: b.envelopes, result });
  }

  candidate(idHex: string): Candidate | undefined {
    return this.candidates.get(idHex);
  }

  /** Why a block for the next height was refused, if it was. */
  refusedCandidate(idHex: string): RoamError | undefined {
    return this.refused.get(idHex);
  }

  /**
   * valid(v) of consensus: header, producer in the active set and its signature, the parent commit,
   * every transaction, the state root. Executed on an overlay of the head and staged; cached by id.
   * Deterministic: the block time is judged against clocks by consensus (PBTS `timely`), not here.
   */
  processProposal(block: Block): Candidate {
    const id = blockId(block.header);
    const idHex = bytesToHex(id);
    const known = this.candidates.get(idHex);
    if (known) return known;
    const bad = this.refused.get(idHex);
    if (bad) throw bad;
    try {
      return this.keep(this.execute(block, id, idHex));
    } catch (e) {
      const err = e instanceof RoamError ? e : new RoamError('BLOCK_INVALID', (e as Error).message);
      if (this.refused.size >= MAX_REFUSED) this.refused.delete(this.refused.keys().next().value!);
      this.refused.set(idHex, err);
      throw err;
    }
  }

  private keep(c: Candidate): Candidate {
    if (this.candidates.size >= MAX_CANDIDATES) this.candidates.delete(this.candidates.keys().next().value!);
    this.candidates.set(c.idHex, c);
    return c;
  }

  private execute(block: Block, id: Uint8Array, idHex: string): Candidate {
    const h = block.header;
    const height = this.state.meta.height + 1n;
    if (h.height !== height) throw new RoamError('BLOCK_BAD_HEIGHT', `expected ${height}, got ${h.height}`);
    if (!equalBytes(h.prev, this.headId)) throw new RoamError('BLOCK_BAD_PREV');
    const verifier = this.opts.verifier;
    checkParentCommit(this.state, this.chainId, verifier, block);
    const producer = this.validatorSet(height).validators.find((v) => v.name === h.producer);
    if (!producer) throw new RoamError('BLOCK_BAD_PRODUCER', `${h.producer} is not an active validator`);
    if (!verifier.verify(producer.publicKey, id, block.signature)) throw new RoamError('BLOCK_BAD_SIGNATURE');
    const envelopes = block.txs.map((tx) => envelope(tx));
    // applyBlock checks the header version against the protocol version in force at the height.
    checkBlockLimits(envelopes, this.params.maxBlockTxs);
    const result = applyBlock(this.state, block, envelopes, this.headId, {
      verifier,
      txIndex: this.opts.txIndex,
      stage: true,
      ...this.versionOpt(),
    });
    return { block, id, idHex, envelopes, result };
  }

  // ---------------------------------------------------------------- decision

  /** The decided candidate becomes the head (its staged writes adopted). */
  finalizeBlock(idHex: string, commit: Uint8Array): Decided {
    const c = this.candidates.get(idHex);
    if (!c) throw new RoamError('BLOCK_INVALID', `decided block ${idHex} was never checked`);
    if (c.block.header.height !== this.state.meta.height + 1n) throw new RoamError('BLOCK_BAD_HEIGHT');
    this.state.adopt(c.result.staged);
    this.candidates.clear();
    this.refused.clear();
    this.headId = c.id;
    this.headTime = c.block.header.time;
    this.headCommit = commit;
    return {
      block: c.block,
      id: c.idHex,
      height: Number(c.block.header.height),
      envelopes: c.envelopes,
      result: c.result,
      commit,
    };
  }
}

/**
 * The size limits of a block (a consensus rule, checked before anything is executed): at most the
 * chain's `maxBlockTxs` transactions, `MAX_BLOCK_TX_BYTES` bytes of them and `MAX_BLOCK_COST` of
 * execution cost (cost.ts). Throws `BLOCK_TOO_LARGE`.
 */
export function checkBlockLimits(envelopes: readonly TxEnvelope[], maxBlockTxs: number): void {
  if (envelopes.length > maxBlockTxs)
    throw new RoamError(
      'BLOCK_TOO_LARGE',
      `${envelopes.length} transactions, the chain allows ${maxBlockTxs}`,
    );
  let bytes = 0;
  let cost = 0;
  for (const e of envelopes) {
    bytes += e.bytes.length;
    cost += txCost(e.tx, e.bytes.length);
  }
  if (bytes > MAX_BLOCK_TX_BYTES)
    throw new RoamError('BLOCK_TOO_LARGE', `${bytes} bytes of transactions, at most ${MAX_BLOCK_TX_BYTES}`);
  if (cost > MAX_BLOCK_COST)
    throw new RoamError('BLOCK_TOO_LARGE', `execution cost ${cost}, at most ${MAX_BLOCK_COST}`);
}
