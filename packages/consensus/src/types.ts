/**
 * Types shared by the consensus core, its messages and the simulator.
 *
 * Values are block ids (32 bytes). The consensus instance agrees on the id; the block body travels
 * separately (the node gossips blocks) and the host's `validValue` answers for the id.
 */
import { sign } from '@roamchain/protocol';

/** A block id: the value consensus agrees on. */
export type Value = Uint8Array;

export type VoteType = 'prevote' | 'precommit';
export type Step = 'propose' | 'prevote' | 'precommit';
export type TimeoutKind = 'propose' | 'prevote' | 'precommit';

/** Order of the steps inside one round; signing is only allowed forward in (height, round, step). */
export const STEP_RANK: Readonly<Record<Step, number>> = { propose: 0, prevote: 1, precommit: 2 };

export interface Validator {
  /** Ed25519 public key (32 bytes). */
  readonly publicKey: Uint8Array;
  /** Informational (e.g. the Super Node's account name); not part of any signature. */
  readonly name?: string;
}

/**
 * The active set for one height, in protocol order (the state decides the order). Every validator
 * has the same voting power; messages name a validator by its index in this list.
 */
export interface ValidatorSet {
  readonly validators: readonly Validator[];
}

/** Largest f with n >= 3f + 1. */
export function maxFaulty(n: number): number {
  return Math.floor((n - 1) / 3);
}

/**
 * The "2f + 1" of the paper for any n: more than two thirds of n. For n = 3f + 1 it is exactly
 * 2f + 1; for other n it is larger than 2f + 1 (n = 5 needs 4), which keeps any two quorums
 * intersecting in more than f validators, i.e. in at least one correct one.
 */
export function quorum(n: number): number {
  return Math.floor((2 * n) / 3) + 1;
}

/** The "f + 1" of the paper: a set this large contains at least one correct validator. */
export function skipThreshold(n: number): number {
  return maxFaulty(n) + 1;
}

/** proposer(h, r) = validators[(h + r) mod n] (equal voting power, round robin). */
export function proposerIndex(height: bigint, round: number, n: number): number {
  return Number((height + BigInt(round)) % BigInt(n));
}

/** Produces signatures with the validator's key. Nodes may put an HSM or a remote signer behind it. */
export interface Signer {
  sign(message: Uint8Array): Uint8Array;
}

export function ed25519Signer(secretKey: Uint8Array): Signer {
  return { sign: (m) => sign(secretKey, m) };
}

/** Timeouts in milliseconds: timeout(r) = base + r * delta, so they grow with the round. */
export interface TimeoutConfig {
  proposeBase: number;
  proposeDelta: number;
  prevoteBase: number;
  prevoteDelta: number;
  precommitBase: number;
  precommitDelta: number;
}

export const DEFAULT_TIMEOUTS: Readonly<TimeoutConfig> = {
  proposeBase: 300,
  proposeDelta: 150,
  prevoteBase: 100,
  prevoteDelta: 100,
  precommitBase: 100,
  precommitDelta: 100,
};

export function timeoutFor(cfg: TimeoutConfig, kind: TimeoutKind, round: number): number {
  switch (kind) {
    case 'propose':
      return cfg.proposeBase + round * cfg.proposeDelta;
    case 'prevote':
      return cfg.prevoteBase + round * cfg.prevoteDelta;
    case 'precommit':
      return cfg.precommitBase + round * cfg.precommitDelta;
  }
}
