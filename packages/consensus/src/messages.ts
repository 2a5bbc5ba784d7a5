/**
 * Consensus messages, their canonical encodings and signatures, commits and evidence.
 *
 * Every encoding uses the protocol codec (one byte string per value, strict decoder). Sign bytes
 * are a domain tag followed by the chain id and the message fields without the signature, so a
 * consensus signature can never be replayed on another chain, as another message kind, or as a
 * transaction/block signature (those sign 32-byte hashes; these sign longer, tagged strings).
 */
import {
  bytes32,
  bytes64,
  CONSENSUS_DOMAIN,
  CONSENSUS_KIND,
  type Codec,
  type Commit,
  type CommitSig,
  commitCodec,
  compareVoteValues,
  consensusRound,
  decode,
  encode,
  enumOf,
  equalBytes,
  equivocationProblem,
  nullable,
  RoamError,
  roundOrNone,
  type SignatureVerifier,
  struct,
  type UnsignedVote,
  u8,
  u16,
  u64,
  type Vote,
  valueOrNil,
  voteCodec,
  voteSignBytes,
  Writer,
} from '@roamchain/protocol';
import { quorum, type Signer, type Step, type ValidatorSet, type Value } from './types.js';

export interface Proposal {
  readonly height: bigint;
  readonly round: number;
  /** The proposed block id. */
  readonly value: Value;
  /** -1 when the proposer has no valid value from an earlier round (line 19 of Algorithm 1). */
  readonly validRound: number;
  /** Index of the proposer in the validator set. */
  readonly proposer: number;
  readonly signature: Uint8Array;
}

/** Votes, their codec and sign bytes are defined in @roamchain/protocol (the state machine checks evidence). */
/** Commits (and their codec) are defined in @roamchain/protocol: the state machine reads their signers. */
export type { Commit, CommitSig, UnsignedVote, Vote };
export { commitCodec, nullable, roundOrNone, voteCodec, voteSignBytes };

/** Two votes by one validator for the same height, round and type, with different values. */
export interface Evidence {
  readonly a: Vote;
  readonly b: Vote;
}

export type ConsensusMessage =
  | { readonly kind: 'proposal'; readonly proposal: Proposal }
  | { readonly kind: 'vote'; readonly vote: Vote }
  | { readonly kind: 'commit'; readonly commit: Commit };

export type Verdict = { ok: true } | { ok: false; reason: string };
const OK: Verdict = { ok: true };
const no = (reason: string): Verdict => ({ ok: false, reason });

// ---------------------------------------------------------------------------------------------
// Small codecs

/** A round of a message: u32 below 0xffffffff (which is reserved for "none"). */
const round = consensusRound;

const step = enumOf(['propose', 'prevote', 'precommit'] as const);

// ---------------------------------------------------------------------------------------------
// Wire codecs

export const proposalCodec: Codec<Proposal> = struct({
  height: u64,
  round,
  value: bytes32,
  validRound: roundOrNone,
  proposer: u16,
  signature: bytes64,
});

/** At most 2^16 - 1 validators (the index is a u16). */
export const MAX_VALIDATORS = 65_535;

export const evidenceCodec: Codec<Evidence> = struct({ a: voteCodec, b: voteCodec });

const KINDS = ['proposal', 'vote', 'commit'] as const;
export const messageCodec: Codec<ConsensusMessage> = {
  kind: 'consensus-message',
  enc(w, m) {
    w.u8(KINDS.indexOf(m.kind));
    if (m.kind === 'proposal') proposalCodec.enc(w, m.proposal);
    else if (m.kind === 'vote') voteCodec.enc(w, m.vote);
    else commitCodec.enc(w, m.commit);
  },
  dec(r) {
    const t = r.u8();
    if (t === 0) return { kind: 'proposal', proposal: proposalCodec.dec(r) };
    if (t === 1) return { kind: 'vote', vote: voteCodec.dec(r) };
    if (t === 2) return { kind: 'commit', commit: commitCodec.dec(r) };
    throw new RoamError('CODEC_BAD_VALUE', `consensus message kind ${t}`);
  },
  toJSON(m) {
    if (m.kind === 'proposal') return { kind: m.kind, proposal: proposalCodec.toJSON(m.proposal) };
    if (m.kind === 'vote') return { kind: m.kind, vote: voteCodec.toJSON(m.vote) };
    return { kind: m.kind, commit: commitCodec.toJSON(m.commit) };
  },
  fromJSON(j, path) {
    const o = j as Record<string, unknown> | null;
    const kind = o?.kind;
    if (kind === 'proposal')
      return { kind, proposal: proposalCodec.fromJSON(o?.proposal, `${path}.proposal`) };
    if (kind === 'vote') return { kind, vote: voteCodec.fromJSON(o?.vote, `${path}.vote`) };
    if (kind === 'commit') return { kind, commit: commitCodec.fromJSON(o?.commit, `${path}.commit`) };
    throw new RoamError('CODEC_BAD_JSON', `${path || 'value'}: expected a consensus message`);
  },
};

export const encodeMessage = (m: ConsensusMessage): Uint8Array => encode(messageCodec, m, 160);
export const decodeMessage = (b: Uint8Array): ConsensusMessage => decode(messageCodec, b);
export const encodeCommit = (c: Commit): Uint8Array => encode(commitCodec, c, 64 + 66 * c.signatures.length);
export const decodeCommit = (b: Uint8Array): Commit => decode(commitCodec, b);
export const encodeEvidence = (e: Evidence): Uint8Array => encode(evidenceCodec, e, 256);
export const decodeEvidence = (b: Uint8Array): Evidence => decode(evidenceCodec, b);

// ---------------------------------------------------------------------------------------------
// Sign state (what a validator persists before it signs)

/**
 * What a validator must have on disk before a signature leaves the process: the last signed
 * (height, round, step), the lock and valid value of that height, and the messages it signed in
 * that round (re-sent verbatim after a restart instead of signing anything new there).
 */
export interface SignState {
  readonly height: bigint;
  readonly round: number;
  readonly step: Step;
  readonly lockedValue: Value | null;
  readonly lockedRound: number;
  readonly validValue: Value | null;
  readonly validRound: number;
  readonly proposal: Proposal | null;
  readonly prevote: Vote | null;
  readonly precommit: Vote | null;
}

export const signStateCodec: Codec<SignState> = struct({
  height: u64,
  round,
  step,
  lockedValue: valueOrNil,
  lockedRound: roundOrNone,
  validValue: valueOrNil,
  validRound: roundOrNone,
  proposal: nullable(proposalCodec),
  prevote: nullable(voteCodec),
  precommit: nullable(voteCodec),
});

export const encodeSignState = (s: SignState): Uint8Array => encode(signStateCodec, s, 512);
export const decodeSignState = (b: Uint8Array): SignState => decode(signStateCodec, b);

// ---------------------------------------------------------------------------------------------
// Sign bytes

const DOMAIN = CONSENSUS_DOMAIN;
const KIND_PROPOSAL = CONSENSUS_KIND.proposal;

const proposalSign = struct({
  kind: u8,
  chainId: bytes32,
  height: u64,
  round,
  value: bytes32,
  validRound: roundOrNone,
  proposer: u16,
});
export type UnsignedProposal = Omit<Proposal, 'signature'>;

export function proposalSignBytes(chainId: Uint8Array, p: UnsignedProposal): Uint8Array {
  const w = new Writer(128);
  w.raw(DOMAIN);
  proposalSign.enc(w, {
    kind: KIND_PROPOSAL,
    chainId,
    height: p.height,
    round: p.round,
    value: p.value,
    validRound: p.validRound,
    proposer: p.proposer,
  });
  return w.finish();
}

export function signProposal(chainId: Uint8Array, signer: Signer, p: UnsignedProposal): Proposal {
  return { ...p, signature: signer.sign(proposalSignBytes(chainId, p)) };
}

export function signVote(chainId: Uint8Array, signer: Signer, v: UnsignedVote): Vote {
  return { ...v, signature: signer.sign(voteSignBytes(chainId, v)) };
}

// Sign bytes are a pure function of (chain id, message); a message object is immutable, so the bytes
// are cached per object (a node verifies the same object once, the simulator hands one object to
// many simulated nodes).
const signBytesCache = new WeakMap<object, { chainId: Uint8Array; bytes: Uint8Array }>();

function cachedSignBytes<M extends object>(
  chainId: Uint8Array,
  m: M,
  f: (c: Uint8Array, m: M) => Uint8Array,
) {
  const hit = signBytesCache.get(m);
  if (hit && (hit.chainId === chainId || equalBytes(hit.chainId, chainId))) return hit.bytes;
  const bytes = f(chainId, m);
  signBytesCache.set(m, { chainId, bytes });
  return bytes;
}

export function verifyProposalSignature(
  p: Proposal,
  set: ValidatorSet,
  verifier: SignatureVerifier,
  chainId: Uint8Array,
): boolean {
  const val = set.validators[p.proposer];
  if (!val || p.signature.length !== 64) return false;
  return verifier.verify(val.publicKey, cachedSignBytes(chainId, p, proposalSignBytes), p.signature);
}

export function verifyVoteSignature(
  v: Vote,
  set: ValidatorSet,
  verifier: SignatureVerifier,
  chainId: Uint8Array,
): boolean {
  const val = set.validators[v.validator];
  if (!val || v.signature.length !== 64) return false;
  return verifier.verify(val.publicKey, cachedSignBytes(chainId, v, voteSignBytes), v.signature);
}

// ---------------------------------------------------------------------------------------------
// Values

/**
 * A map key for a value, or 'nil'. A 32-byte value becomes a 16-character string (two bytes per
 * UTF-16 code unit): lossless, so distinct values never share a key, and cheap to build.
 */
export function valueKey(v: Value | null): string {
  if (v === null) return 'nil';
  let k = '';
  for (let i = 0; i < v.length; i += 2) k += String.fromCharCode((v[i]! << 8) | (v[i + 1] ?? 0));
  return v.length % 2 === 0 ? k : `${k}|`;
}

export function sameValue(a: Value | null, b: Value | null): boolean {
  if (a === null || b === null) return a === b;
  return a === b || equalBytes(a, b);
}

// ---------------------------------------------------------------------------------------------
// Commits

// Commits built by makeCommit remember the vote objects they came from (same content), so verifying
// one again reuses their cached sign bytes.
const commitSources = new WeakMap<Commit, readonly Vote[]>();

/** The precommits a commit consists of, as votes. */
export function commitVotes(c: Commit): readonly Vote[] {
  const known = commitSources.get(c);
  if (known) return known;
  const votes: Vote[] = c.signatures.map((s) => ({
    type: 'precommit',
    height: c.height,
    round: c.round,
    value: c.value,
    validator: s.validator,
    signature: s.signature,
  }));
  commitSources.set(c, votes);
  return votes;
}

/** Builds a commit from precommits for one (height, round, value); signatures sorted by validator. */
export function makeCommit(height: bigint, round: number, value: Value, precommits: Iterable<Vote>): Commit {
  const sigs: CommitSig[] = [];
  const votes = [...precommits].sort((x, y) => x.validator - y.validator);
  for (const v of votes) {
    if (v.type !== 'precommit' || v.height !== height || v.round !== round || !sameValue(v.value, value)) {
      throw new RoamError('CODEC_BAD_VALUE', 'precommit does not match the commit');
    }
    sigs.push({ validator: v.validator, signature: v.signature });
  }
  const commit: Commit = { height, round, value, signatures: sigs };
  commitSources.set(commit, votes);
  return commit;
}

/**
 * A commit is valid when more than two thirds of the set (distinct validators, strictly increasing
 * indices) signed PRECOMMIT(height, round, value) on this chain.
 */
export function verifyCommit(
  commit: Commit,
  set: ValidatorSet,
  verifier: SignatureVerifier,
  chainId: Uint8Array,
): Verdict {
  const n = set.validators.length;
  if (n === 0) return no('empty validator set');
  if (commit.value.length !== 32) return no('value is not 32 bytes');
  if (commit.signatures.length < quorum(n)) {
    return no(`${commit.signatures.length} signature(s), need ${quorum(n)} of ${n}`);
  }
  let prev = -1;
  for (const s of commit.signatures) {
    if (!Number.isInteger(s.validator) || s.validator <= prev)
      return no('validators not strictly increasing');
    if (s.validator >= n) return no(`validator ${s.validator} not in the set`);
    prev = s.validator;
  }
  for (const v of commitVotes(commit)) {
    if (!verifyVoteSignature(v, set, verifier, chainId))
      return no(`bad signature of validator ${v.validator}`);
  }
  return OK;
}

// ---------------------------------------------------------------------------------------------
// Evidence

/** Total order on values: nil first, then by bytes. */
export function compareValues(a: Value | null, b: Value | null): number {
  return compareVoteValues(a, b);
}

/** Evidence from two votes, in canonical order (nil first, then by value bytes); null if they do not conflict. */
export function makeEvidence(x: Vote, y: Vote): Evidence | null {
  const [a, b] = compareValues(x.value, y.value) < 0 ? [x, y] : [y, x];
  return equivocationProblem(a, b) === undefined ? { a, b } : null;
}

/** Two validly signed votes of one validator for the same height, round and type with different values. */
export function verifyEvidence(
  ev: Evidence,
  set: ValidatorSet,
  verifier: SignatureVerifier,
  chainId: Uint8Array,
): Verdict {
  const { a, b } = ev;
  const problem = equivocationProblem(a, b);
  if (problem) return no(problem);
  if (!set.validators[a.validator]) return no(`validator ${a.validator} not in the set`);
  if (!verifyVoteSignature(a, set, verifier, chainId)) return no('first vote has a bad signature');
  if (!verifyVoteSignature(b, set, verifier, chainId)) return no('second vote has a bad signature');
  return OK;
}
