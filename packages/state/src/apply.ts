/**
 * The state transition. One code path for producer, validator, replay and tests:
 * `BlockBuilder` applies transactions one by one into a block overlay (a failing transaction
 * leaves nothing), then runs block-end work (contract expiry, replay-window pruning, fee payout)
 * from time-bucketed indexes and commits. `applyBlock` is the validator's strict form: every
 * transaction must pass and the resulting root must equal the header's.
 */
import {
  type Block,
  blockId,
  bytesToHex,
  type ChainParams,
  equalBytes,
  merkleRoot,
  opFeePayer,
  opHash,
  RoamError,
  refPrefixOf,
  requiredSigners,
  type SignatureVerifier,
  type TxEnvelope,
  validateTxStateless,
} from '@roamchain/protocol';
import { ApplyCtx, type LedgerEvent } from './context.js';
import { bucketOf, EXPIRY_QUEUE, evaluate, settle, UNBOND_QUEUE } from './evaluators.js';
import { feedsEnd } from './feeds.js';
import { governanceEnd, protocolVersionAt, requireKnownProtocol } from './governance.js';
import { type LedgerState, Overlay, type Staged, type StateChange, type TxIndex } from './ledger.js';
import { miniUnbondEnd, rememberMiniRoot } from './mini.js';
import { miniImportanceEnd, noteMiniActivity } from './mini-importance.js';
import { type Account, type ChainMeta, type Contract, K, type Unbonding, type Validator } from './objects.js';
import { payFees } from './payouts.js';
import { serviceEnd } from './service.js';
import { type ParentVotes, parentVotes, slaEnd } from './sla.js';
import { epochBoundary } from './validators.js';

export interface BlockStart {
  height: bigint;
  time: bigint;
  /** Id of the parent block (the chain id for block 1). */
  prev: Uint8Array;
  producer: string;
  /**
   * The encoded commit of the parent block the block carries (`Block.lastCommit`; empty in block 1):
   * its signers count for the Super Nodes' SLA (sla.ts). Verifying its signatures is the
   * Application's work; the state machine reads who signed.
   */
  lastCommit: Uint8Array;
}

export interface TxReceipt {
  txId: string;
  index: number;
  fee: bigint;
  events: LedgerEvent[];
}

export interface ApplyOptions {
  /** Signature checker; `null` skips signatures (only for benchmarks of pre-verified input). */
  verifier: SignatureVerifier | null;
  /**
   * Transactions already included (replay protection, outside the Merkle state); default: the
   * state's own `recentTxs`, learnt from the blocks it adopted.
   */
  txIndex?: TxIndex;
  /** Stage the block (root computed, state not advanced) instead of adopting it: see `LedgerState.stage`. */
  stage?: boolean;
  /**
   * The highest protocol version this node implements (default `PROTOCOL_VERSION`; less makes it
   * behave as older software): a block where a higher one is in force is UPGRADE_REQUIRED.
   */
  protocolVersion?: number;
}

export interface BlockResult {
  stateRoot: Uint8Array;
  changes: StateChange[];
  receipts: TxReceipt[];
  /** Events of block-end work (expiry settlements, fee payout). */
  endEvents: LedgerEvent[];
  /** The block's writes; adopted already unless `ApplyOptions.stage`. */
  staged: Staged;
}

/** Stateful checks of a transaction envelope (chain, expiry, TaPoS, replay, signatures). */
function checkEnvelope(
  o: Overlay,
  meta: ChainMeta,
  ctx: ApplyCtx,
  env: TxEnvelope,
  opts: ApplyOptions,
  seen: TxIndex,
): Uint8Array[] {
  const { tx } = env;
  const p = ctx.params;
  validateTxStateless(tx);
  if (!equalBytes(tx.chainId, meta.chainId)) throw new RoamError('TX_WRONG_CHAIN');
  if (tx.expiration <= ctx.time) {
    throw new RoamError('TX_EXPIRED', `expired at ${tx.expiration}, block time ${ctx.time}`);
  }
  if (tx.expiration > ctx.time + BigInt(p.maxTxExpirationMs)) throw new RoamError('TX_EXPIRATION_TOO_FAR');
  // TaPoS: the referenced block must be recent and its id must start with the given prefix.
  const ref = BigInt(tx.refBlockNum);
  const window = BigInt(p.taposWindow);
  if (ref >= ctx.height || ctx.height - ref > window) {
    throw new RoamError('TX_TAPOS_INVALID', `block ${ref} is not within the last ${window} blocks`);
  }
  const known = o.get<Uint8Array>(K.blockId(Number(ref % window)));
  if (!known || refPrefixOf(known) !== tx.refBlockPrefix) {
    throw new RoamError('TX_TAPOS_INVALID', `block ${ref} id prefix does not match`);
  }
  if (seen.has(env.idHex, tx.refBlockNum))
    throw new RoamError('TX_DUPLICATE', `transaction ${env.idHex} already included`);
  const signers = requiredSigners(tx.ops);
  const keys: Uint8Array[] = signers.map((n) => {
    const a = o.get<Account>(K.account(n));
    if (!a) throw new RoamError('ACCOUNT_UNKNOWN', `signer ${n} does not exist`, { account: n });
    return a.signingKey;
  });
  if (opts.verifier) {
    for (let i = 0; i < keys.length; i++) {
      if (!opts.verifier.verify(keys[i]!, env.id, tx.signatures[i]!)) {
        throw new RoamError('SIG_INVALID', `signature of ${signers[i]} does not verify`, {
          signer: signers[i],
        });
      }
    }
  }
  return keys;
}

/** Remember the parent's id for TaPoS (a block's own id depends on its root, so it comes next block). */
function rememberParent(o: Overlay, taposWindow: number, next: Pick<BlockStart, 'height' | 'prev'>): void {
  o.put(K.blockId(Number((next.height - 1n) % BigInt(taposWindow))), next.prev);
}

/**
 * The envelope checks of `BlockBuilder.apply` alone — chain, expiry, TaPoS, replay, signatures —
 * against the state as the next block (`next`) would see it; no operation is executed and nothing
 * is written. Returns the required signers' keys, in signature order. With `verifier` null the
 * signatures are left to the caller (a node verifies them in its worker pool).
 */
export function checkTxEnvelope(
  state: LedgerState,
  env: TxEnvelope,
  next: Pick<BlockStart, 'height' | 'time' | 'prev'>,
  verifier: SignatureVerifier | null,
  txIndex?: TxIndex,
): Uint8Array[] {
  const o = new Overlay(state);
  const params = state.get<ChainParams>(K.params)!;
  rememberParent(o, params.taposWindow, next);
  return checkEnvelope(
    o,
    state.meta,
    new ApplyCtx(o, params, next.height, next.time),
    env,
    { verifier },
    txIndex ?? state.recentTxs,
  );
}

export class BlockBuilder {
  private readonly block: Overlay;
  private readonly meta: ChainMeta;
  readonly receipts: TxReceipt[] = [];
  readonly envelopes: TxEnvelope[] = [];
  private fees = 0n;
  private finished = false;
  /** Who signed the parent commit this block carries (the SLA counts it at block end). */
  private readonly votes: ParentVotes | null;
  /** Ids included so far: the replay index, then this block's own. */
  private readonly seen: TxIndex & { add(id: string): void };

  constructor(
    readonly state: LedgerState,
    readonly start: BlockStart,
    readonly opts: ApplyOptions,
  ) {
    const meta = state.meta;
    requireKnownProtocol(state, start.height, opts.protocolVersion);
    if (start.height !== meta.height + 1n) {
      throw new RoamError('BLOCK_BAD_HEIGHT', `expected height ${meta.height + 1n}, got ${start.height}`);
    }
    if (start.time <= meta.time) throw new RoamError('BLOCK_BAD_TIME', `time ${start.time} <= ${meta.time}`);
    this.votes = parentVotes(state, start.height, start.prev, start.lastCommit);
    this.meta = meta;
    this.block = new Overlay(state);
    const index = opts.txIndex ?? state.recentTxs;
    const mine = new Set<string>();
    this.seen = { has: (id, ref) => mine.has(id) || index.has(id, ref), add: (id) => mine.add(id) };
    const params = this.params;
    const producer = this.block.get<Account>(K.account(start.producer));
    if (!producer) throw new RoamError('BLOCK_BAD_PRODUCER', `producer ${start.producer} unknown`);
    rememberParent(this.block, params.taposWindow, start);
    rememberMiniRoot(this.block, params, meta.height, () => state.root());
    this.block.put(K.meta, { ...meta, height: start.height, time: start.time });
  }

  get params() {
    return this.state.get<ChainParams>(K.params)!;
  }

  get txCount(): number {
    return this.envelopes.length;
  }

  /** Apply one transaction. Throws a RoamError and changes nothing if it is invalid. */
  apply(env: TxEnvelope): TxReceipt {
    if (this.finished) throw new Error('block already finished');
    const o = new Overlay(this.block);
    const ctx = new ApplyCtx(o, this.params, this.start.height, this.start.time);
    checkEnvelope(o, this.meta, ctx, env, this.opts, this.seen);
    const { tx } = env;
    let fee = 0n;
    for (let i = 0; i < tx.ops.length; i++) {
      const op = tx.ops[i]!;
      const opFee = ctx.params.fees[op.type];
      const feesBefore = ctx.fees;
      evaluate(op, { ctx, opHash: opHash(env.id, i), fee: opFee, verifier: this.opts.verifier });
      const payer = opFeePayer(op);
      if ('account' in payer) {
        ctx.debit(payer.account, 'UMT', opFee);
        ctx.fees += opFee;
      }
      fee += ctx.fees - feesBefore;
    }
    // Transactions a Mini Node owner signs count for its importance (mini-importance.ts).
    for (const signer of requiredSigners(tx.ops)) noteMiniActivity(ctx, signer, 0n, 1); // distinct
    o.mergeInto(this.block);
    this.seen.add(env.idHex);
    this.fees += ctx.fees;
    const receipt: TxReceipt = { txId: env.idHex, index: this.envelopes.length, fee, events: ctx.events };
    this.envelopes.push(env);
    this.receipts.push(receipt);
    return receipt;
  }

  /**
   * Block-end work, then the block's writes are staged (root computed) and, unless `opts.stage`,
   * adopted as the new head.
   */
  finish(): BlockResult {
    if (this.finished) throw new Error('block already finished');
    this.finished = true;
    const ctx = new ApplyCtx(this.block, this.params, this.start.height, this.start.time);
    const now = this.start.time;
    // 1. Contracts at the end of their lifetime are settled exactly as a Refund would.
    const contractOf = (id: Uint8Array) => this.block.get<Contract>(K.contract(bytesToHex(id)));
    this.drainDue(
      ctx,
      EXPIRY_QUEUE,
      now,
      (id) => {
        const c = contractOf(id);
        return c && c.status === 'open' ? c.expiresAt : undefined;
      },
      (id) => {
        const c = contractOf(id)!;
        settle(ctx, c, '', false, 0, c.head);
      },
    );
    // 2. Unbonded UMT whose delay is over goes back to the owner's free balance.
    const unbondingOf = (id: Uint8Array) => this.block.get<Unbonding>(K.unbonding(bytesToHex(id)));
    this.drainDue(
      ctx,
      UNBOND_QUEUE,
      now,
      (id) => unbondingOf(id)?.releaseAt,
      (id) => {
        const u = unbondingOf(id)!;
        const vk = K.validator(u.account);
        const v = this.block.get<Validator>(vk)!;
        this.block.put(vk, { ...v, unbonding: v.unbonding - u.amount });
        this.block.del(K.unbonding(bytesToHex(id)));
        const pk = K.pendingUnbonding(u.account);
        const left = (this.block.get<Uint8Array[]>(pk) ?? []).filter((x) => !equalBytes(x, id));
        if (left.length > 0) this.block.put(pk, left);
        else this.block.del(pk);
        ctx.credit(u.account, 'UMT', u.amount);
        ctx.emit({
          type: 'validator_released',
          account: u.account,
          amount: u.amount,
          unbonding: bytesToHex(id),
        });
      },
    );
    // 2b. Requests past their step timeout without a Provision; the service window rolls (service.ts).
    serviceEnd(ctx, (q, dueAt, each) => this.drainDue(ctx, q, now, dueAt, each));
    // 3. Governance: passed proposals executed, deadlines closed, epoch-bound params (governance.ts).
    governanceEnd(ctx, (q, dueAt, each) => this.drainDue(ctx, q, now, dueAt, each));
    // 4. The block and its parent commit's precommits count for the SLA; a new day closes the last
    //    one and pays the NDF (sla.ts).
    slaEnd(ctx, this.start.producer, this.votes);
    // 5. The last block of an epoch fixes the next epoch's validator set.
    epochBoundary(ctx);
    // 5b. Mini Nodes: unbonded UMT released; at an epoch's end, the importance of the next set's Mini Nodes.
    miniUnbondEnd(ctx, (q, dueAt, each) => this.drainDue(ctx, q, now, dueAt, each));
    miniImportanceEnd(ctx);
    // 6. SDR fixing from the price feeds (feeds.ts); the fee split (payouts.ts).
    const hadFeed = this.receipts.some((r) => r.events.some((e) => e.type === 'price_feed'));
    feedsEnd(ctx, hadFeed);
    payFees(ctx, this.fees, this.start.producer);
    const txs = this.envelopes.map((e): [string, bigint] => [e.idHex, e.tx.expiration]);
    const staged = this.state.stage(this.block, txs, this.start.time);
    if (!this.opts.stage) this.state.adopt(staged);
    return {
      stateRoot: staged.root,
      changes: staged.changes,
      receipts: this.receipts,
      endEvents: ctx.events,
      staged,
    };
  }

  /**
   * Take every due entry of a queue: whole buckets before the current second, then the due part of
   * the current second's bucket (the rest is put back), so settlement happens in the first block
   * at or after the due time. `dueAt` gives an entry's due time, or undefined if it is gone.
   */
  private drainDue(
    ctx: ApplyCtx,
    queue: string,
    now: bigint,
    dueAt: (id: Uint8Array) => bigint | undefined,
    each: (id: Uint8Array) => void,
  ): void {
    const current = bucketOf(now);
    const cursor = this.block.get<{ next: bigint }>(K.queueCursor(queue)) ?? { next: current };
    let b = cursor.next;
    while (b < current) {
      // Skip a whole hour of empty buckets with one lookup (long gaps between blocks stay cheap).
      if (ctx.queuedInHour(queue, b / 3600n) === 0) {
        const next = (b / 3600n + 1n) * 3600n;
        b = next < current ? next : current;
        continue;
      }
      for (const id of ctx.drainBucket(queue, b)) if (dueAt(id) !== undefined) each(id);
      b++;
    }
    if (ctx.queuedInHour(queue, current / 3600n) > 0) {
      const later: Uint8Array[] = [];
      for (const id of ctx.drainBucket(queue, current)) {
        const d = dueAt(id);
        if (d === undefined) continue;
        if (d <= now) each(id);
        else later.push(id);
      }
      for (const id of later) ctx.enqueue(queue, current, id);
    }
    if (current !== cursor.next) this.block.put(K.queueCursor(queue), { next: current });
  }
}

/**
 * The header `version` a block made under protocol version `v` carries: 1 under version 1, the
 * protocol version from version 2 on (the rule version 2 changes; PROTOCOL_VERSION).
 */
export function headerVersion(v: number): number {
  return v >= 2 ? v : 1;
}

/**
 * Validate and apply a block produced elsewhere. Either the whole block applies and the state
 * root matches the header, or the state is left exactly as it was and a RoamError is thrown.
 */
export function applyBlock(
  state: LedgerState,
  block: Block,
  envelopes: TxEnvelope[],
  headId: Uint8Array,
  opts: ApplyOptions,
): BlockResult {
  const h = block.header;
  const meta = state.meta;
  if (!equalBytes(h.chainId, meta.chainId))
    throw new RoamError('BLOCK_INVALID', 'block is for another chain');
  if (!equalBytes(h.prev, headId)) throw new RoamError('BLOCK_BAD_PREV');
  if (h.txCount !== envelopes.length) throw new RoamError('BLOCK_INVALID', 'txCount mismatch');
  requireKnownProtocol(state, h.height, opts.protocolVersion);
  const version = protocolVersionAt(state, h.height);
  if (h.version !== headerVersion(version)) {
    throw new RoamError(
      'BLOCK_INVALID',
      `block version ${h.version}: protocol version ${version} needs ${headerVersion(version)}`,
    );
  }
  if (!equalBytes(merkleRoot(envelopes.map((e) => e.id)), h.txRoot)) throw new RoamError('BLOCK_BAD_TX_ROOT');
  const b = new BlockBuilder(
    state,
    { height: h.height, time: h.time, prev: h.prev, producer: h.producer, lastCommit: block.lastCommit },
    { ...opts, stage: true },
  );
  envelopes.forEach((env, i) => {
    try {
      b.apply(env);
    } catch (e) {
      if (e instanceof RoamError) {
        throw new RoamError(
          'BLOCK_INVALID',
          `transaction ${i} (${env.idHex}) is invalid: ${e.code} ${e.message}`,
          {
            txIndex: i,
            txId: env.idHex,
            txCode: e.code,
          },
        );
      }
      throw e;
    }
  });
  const result = b.finish();
  if (!equalBytes(result.stateRoot, h.stateRoot)) {
    state.unstage(result.staged);
    throw new RoamError('BLOCK_BAD_STATE_ROOT', `computed ${bytesToHex(result.stateRoot)}`);
  }
  if (!opts.stage) state.adopt(result.staged);
  return result;
}

export { blockId };
