/**
 * Consensus votes: their canonical encoding and their sign bytes. They live in the protocol because
 * both the consensus engine (which signs and checks votes) and the state machine (which checks the
 * `evidence` operation: two conflicting votes of one validator) need exactly the same bytes.
 *
 * Sign bytes are a domain tag followed by the chain id and the message fields without the signature,
 * so a consensus signature can never be replayed on another chain, as another message kind, or as a
 * transaction/block signature (those sign 32-byte hashes; these sign longer, tagged strings).
 */
import {
  bytes32,
  bytes64,
  type Codec,
  enumOf,
  struct,
  u8,
  u16,
  u32,
  u64,
  utf8,
  vec,
  Writer,
} from './codec.js';
import { RoamError } from './errors.js';
import { compareBytes } from './hex.js';

export type VoteType = 'prevote' | 'precommit';

export interface Vote {
  readonly type: VoteType;
  readonly height: bigint;
  readonly round: number;
  /** The block id, or null for nil. */
  readonly value: Uint8Array | null;
  /** Index of the voter in the validator set of `height`. */
  readonly validator: number;
  readonly signature: Uint8Array;
}
export type UnsignedVote = Omit<Vote, 'signature'>;

const NONE = 0xffffffff;

/** A round or -1 (none), as a u32 where 0xffffffff means -1. */
export const roundOrNone: Codec<number> = {
  kind: 'round?',
  enc(w, v) {
    if (!Number.isInteger(v) || v < -1 || v >= NONE) throw new RoamError('CODEC_BAD_VALUE', `bad round ${v}`);
    w.u32(v === -1 ? NONE : v);
  },
  dec(r) {
    const v = r.u32();
    return v === NONE ? -1 : v;
  },
  toJSON: (v) => v,
  fromJSON(j, path) {
    if (typeof j !== 'number' || !Number.isInteger(j) || j < -1 || j >= NONE) {
      throw new RoamError('CODEC_BAD_JSON', `${path || 'value'}: expected a round or -1`);
    }
    return j;
  },
};

/** A round of a message: u32 below 0xffffffff (which is reserved for "none"). */
export const consensusRound: Codec<number> = {
  ...u32,
  kind: 'round',
  enc(w, v) {
    if (v === NONE) throw new RoamError('CODEC_BAD_VALUE', 'round out of range');
    u32.enc(w, v);
  },
  dec(r) {
    const v = r.u32();
    if (v === NONE) throw new RoamError('CODEC_BAD_VALUE', 'round out of range');
    return v;
  },
};

/** Nullable: 0/1 tag then the value; null in TypeScript, null in JSON. */
export function nullable<T>(inner: Codec<T>): Codec<T | null> {
  return {
    kind: `nullable<${inner.kind}>`,
    enc(w, v) {
      if (v === null) w.u8(0);
      else {
        w.u8(1);
        inner.enc(w, v);
      }
    },
    dec(r) {
      const t = r.u8();
      if (t === 0) return null;
      if (t !== 1) throw new RoamError('CODEC_NONCANONICAL', `option tag ${t}`);
      return inner.dec(r);
    },
    toJSON: (v) => (v === null ? null : inner.toJSON(v)),
    fromJSON: (j, path) => (j === null ? null : inner.fromJSON(j, path)),
  };
}

export const voteTypeCodec = enumOf(['prevote', 'precommit'] as const);
/** A block id or nil. */
export const valueOrNil = nullable(bytes32);

export const voteCodec: Codec<Vote> = struct({
  type: voteTypeCodec,
  height: u64,
  round: consensusRound,
  value: valueOrNil,
  validator: u16,
  signature: bytes64,
});

/** Domain tag that starts every consensus sign-bytes string. */
export const CONSENSUS_DOMAIN = utf8('roamchain/consensus/v1');
/** Message kind byte after the domain tag (0 = proposal). */
export const CONSENSUS_KIND = { proposal: 0, prevote: 1, precommit: 2 } as const;

const voteSign = struct({
  kind: u8,
  chainId: bytes32,
  height: u64,
  round: consensusRound,
  value: valueOrNil,
  validator: u16,
});

/** The exact bytes a validator signs for a vote on chain `chainId`. */
export function voteSignBytes(chainId: Uint8Array, v: UnsignedVote): Uint8Array {
  const w = new Writer(128);
  w.raw(CONSENSUS_DOMAIN);
  voteSign.enc(w, {
    kind: CONSENSUS_KIND[v.type],
    chainId,
    height: v.height,
    round: v.round,
    value: v.value,
    validator: v.validator,
  });
  return w.finish();
}

/** Total order on vote values: nil first, then by bytes. */
export function compareVoteValues(a: Uint8Array | null, b: Uint8Array | null): number {
  if (a === null) return b === null ? 0 : -1;
  if (b === null) return 1;
  return compareBytes(a, b);
}

/**
 * Why two votes are not evidence of equivocation, or undefined if they are: one validator, one
 * height, round and type, two different values, in canonical order (nil first, then by bytes).
 * The `evidence` operation's stateless check and the consensus core's `verifyEvidence` both use it.
 */
export function equivocationProblem(a: UnsignedVote, b: UnsignedVote): string | undefined {
  if (a.validator !== b.validator) return 'votes of different validators';
  if (a.height !== b.height || a.round !== b.round) return 'votes for different heights or rounds';
  if (a.type !== b.type) return 'votes of different types';
  const order = compareVoteValues(a.value, b.value);
  if (order === 0) return 'votes for the same value';
  if (order > 0) return 'votes not in canonical order (nil first, then by bytes)';
  return undefined;
}

export interface CommitSig {
  readonly validator: number;
  readonly signature: Uint8Array;
}

/**
 * More than two thirds of the validators' precommits for one (height, round, value). A block
 * carries the commit of its parent, so finality is checkable from the blocks alone; the state
 * machine reads which validators signed it (the SLA of Super Nodes, docs/GOVERNANCE.md §5).
 */
export interface Commit {
  readonly height: bigint;
  readonly round: number;
  /** The committed block id. */
  readonly value: Uint8Array;
  /** Strictly increasing validator indices. */
  readonly signatures: readonly CommitSig[];
}

/** At most 2^16 - 1 validators (the index is a u16). */
export const MAX_COMMIT_SIGNATURES = 65_535;

export const commitCodec: Codec<Commit> = struct({
  height: u64,
  round: consensusRound,
  value: bytes32,
  signatures: vec(struct({ validator: u16, signature: bytes64 }), MAX_COMMIT_SIGNATURES, 1),
});
