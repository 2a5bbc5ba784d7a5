/**
 * JSON conventions of the Web-API (docs/API.md): u64 values are decimal strings, byte strings are
 * lowercase hex. Ledger objects go through their codecs' `toJSON` so that the API, the SDK and the
 * CLI agree field by field; events and receipts (free-form records) go through `toJson`.
 */

import { decodeCommit } from '@roamchain/consensus';
import {
  blockHeader,
  bytesToHex,
  type ChainParams,
  chainParams,
  NAME_RE,
  RoamError,
  type SignedTx,
  signedTx,
  TOKENS,
  U64_MAX,
} from '@roamchain/protocol';
import {
  type Account,
  ApplyCtx,
  type Attestation,
  account,
  attestation,
  type Contract,
  contract,
  type Demand,
  demand,
  K,
  type LedgerState,
  type Offer,
  Overlay,
  offer,
  type RankedOffer,
  type TxReceipt,
} from '@roamchain/state';
import type { AppliedBlock, FeedEvent, TxStatus } from '../interfaces.js';

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
export type JsonObject = { [k: string]: Json };

/** Generic converter: bigint -> decimal string, Uint8Array -> lowercase hex, recursively; drops undefined fields. */
export function toJson(v: unknown): Json {
  if (v === null || v === undefined) return null;
  if (typeof v === 'bigint') return v.toString();
  if (v instanceof Uint8Array) return bytesToHex(v);
  if (Array.isArray(v)) return v.map(toJson);
  if (typeof v === 'object') {
    if (typeof (v as { toJSON?: unknown }).toJSON === 'function' && !(v instanceof Date)) {
      return toJson((v as { toJSON(): unknown }).toJSON());
    }
    if (v instanceof Date) return v.getTime();
    const out: JsonObject = {};
    for (const [k, x] of Object.entries(v)) if (x !== undefined) out[k] = toJson(x);
    return out;
  }
  if (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') return v;
  return String(v);
}

// ---------------------------------------------------------------- ledger objects

export const offerJson = (o: Offer): JsonObject => offer.toJSON(o) as JsonObject;
export const contractJson = (c: Contract): JsonObject => contract.toJSON(c) as JsonObject;
export const demandJson = (d: Demand): JsonObject => demand.toJSON(d) as JsonObject;
export const attestationJson = (a: Attestation): JsonObject => attestation.toJSON(a) as JsonObject;
export const txJson = (tx: SignedTx): JsonObject => signedTx.toJSON(tx) as JsonObject;
export const paramsJson = (p: ChainParams): JsonObject => chainParams.toJSON(p) as JsonObject;

export function receiptJson(r: TxReceipt): JsonObject {
  return { txId: r.txId, index: r.index, fee: r.fee.toString(), events: r.events.map(toJson) };
}

export function feedEventJson(e: FeedEvent): JsonObject {
  return { cursor: e.cursor, height: e.height, txId: e.txId, event: toJson(e.event) };
}

/** `GET /v1/accounts/:name`; `now` is the time at which vesting is evaluated (unix ms). */
export function accountJson(state: LedgerState, name: string, now: bigint): JsonObject | undefined {
  const a = state.get<Account>(K.account(name));
  if (!a) return undefined;
  const j = account.toJSON(a) as JsonObject;
  const meta = state.meta;
  const params = state.get<ChainParams>(K.params)!;
  const at = now > meta.time ? now : meta.time;
  const locked = new ApplyCtx(new Overlay(state), params, meta.height, at).locked(a);
  const balances: JsonObject = {};
  for (const t of TOKENS) balances[t] = (state.get<bigint>(K.balance(name, t)) ?? 0n).toString();
  return {
    name: a.name,
    roles: j.roles ?? [],
    homeOperator: a.homeOperator ?? null,
    signingKey: bytesToHex(a.signingKey),
    encryptionKey: bytesToHex(a.encryptionKey),
    createdAt: a.createdAt.toString(),
    balances,
    lockedUMT: locked.toString(),
  };
}

export function rankedJson(r: RankedOffer): JsonObject {
  return {
    offerId: r.offerId,
    offer: offerJson(r.offer),
    cost: r.cost.toString(),
    score: r.score,
    priceScore: r.priceScore,
    qualityScore: r.qualityScore,
    rating: toJson(r.rating),
    reasons: r.reasons,
  };
}

/** An encoded commit as JSON (null for none): who signed which block in which round. */
export function commitJson(bytes: Uint8Array | undefined): JsonObject | null {
  if (!bytes || bytes.length === 0) return null;
  const c = decodeCommit(bytes);
  return {
    height: Number(c.height),
    round: c.round,
    blockId: bytesToHex(c.value),
    signatures: c.signatures.map((x) => ({ validator: x.validator, signature: bytesToHex(x.signature) })),
  };
}

/**
 * A block. `lastCommit` is the parent's commit the block carries; `commit`, when the node has it,
 * is the commit that finalised this block (the next block carries one too, maybe other signatures).
 */
export function blockJson(b: AppliedBlock, commit?: Uint8Array): JsonObject {
  return {
    id: b.id,
    height: b.height,
    header: blockHeader.toJSON(b.block.header) as JsonObject,
    lastCommit: commitJson(b.block.lastCommit),
    commit: commitJson(commit),
    txs: b.envelopes.map((e) => ({ id: e.idHex, tx: txJson(e.tx) })),
    receipts: b.receipts.map(receiptJson),
    endEvents: b.endEvents.map(toJson),
  };
}

export function blockSummaryJson(b: AppliedBlock): JsonObject {
  return {
    id: b.id,
    height: b.height,
    time: Number(b.block.header.time),
    producer: b.block.header.producer,
    txCount: b.envelopes.length,
  };
}

export function txStatusJson(s: TxStatus): JsonObject {
  switch (s.status) {
    case 'included':
      return {
        txId: s.txId,
        status: s.status,
        height: s.height,
        index: s.index,
        blockId: s.blockId,
        receipt: receiptJson(s.receipt),
        tx: txJson(s.tx.tx),
      };
    case 'pending':
      return { txId: s.txId, status: s.status };
    case 'rejected':
      return { txId: s.txId, status: s.status, code: s.code, message: s.message };
  }
}

// ---------------------------------------------------------------- query parsing

const bad = (what: string, message: string, value: unknown): never => {
  throw new RoamError('BAD_REQUEST', `${what}: ${message}`, { param: what, value: toJson(value) });
};

/** Parsers for query and path values; each throws RoamError('BAD_REQUEST') naming the parameter. */
export const fromQuery = {
  /** A u64 in decimal (amounts in base units, byte volumes). */
  u64(v: unknown, what: string): bigint {
    const s = typeof v === 'number' && Number.isSafeInteger(v) ? String(v) : v;
    if (typeof s !== 'string' || !/^[0-9]{1,20}$/.test(s))
      return bad(what, 'must be a non-negative integer', v);
    const n = BigInt(s);
    if (n > U64_MAX) return bad(what, 'is out of range', v);
    return n;
  },
  /** An integer within [min, max]. */
  int(v: unknown, what: string, min: number, max: number): number {
    const n =
      typeof v === 'number' ? v : typeof v === 'string' && /^-?[0-9]{1,16}$/.test(v) ? Number(v) : Number.NaN;
    if (!Number.isSafeInteger(n)) return bad(what, 'must be an integer', v);
    if (n < min || n > max) return bad(what, `must be between ${min} and ${max}`, v);
    return n;
  },
  /** A 32-byte id as hex; returned lowercase. */
  id(v: unknown, what: string): string {
    if (typeof v !== 'string' || !/^[0-9a-fA-F]{64}$/.test(v)) return bad(what, 'must be 64 hex digits', v);
    return v.toLowerCase();
  },
  /** An event feed cursor `height:index`. */
  cursor(v: unknown, what: string): string {
    if (typeof v !== 'string' || !/^[0-9]{1,15}:[0-9]{1,9}$/.test(v))
      return bad(what, 'must look like "height:index"', v);
    return v;
  },
  /** An account name. */
  name(v: unknown, what: string): string {
    if (typeof v !== 'string' || !NAME_RE.test(v)) return bad(what, 'is not a valid account name', v);
    return v;
  },
  bool(v: unknown, what: string): boolean {
    if (v === true || v === 'true' || v === '1') return true;
    if (v === false || v === 'false' || v === '0' || v === undefined || v === '') return false;
    return bad(what, 'must be true or false', v);
  },
};

/** Orders feed cursors numerically (`height:index`). */
export function compareCursors(a: string, b: string): number {
  const [ah = 0, ai = 0] = a.split(':').map(Number);
  const [bh = 0, bi = 0] = b.split(':').map(Number);
  return ah !== bh ? ah - bh : ai - bi;
}
