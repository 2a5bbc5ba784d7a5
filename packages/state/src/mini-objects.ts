/**
 * Ledger objects of Mini Nodes (docs/GOVERNANCE.md §8), their keys and codecs. objects.ts registers
 * `MINI_CODECS`; this module imports only the protocol.
 */
import { bytes32, type Codec, enumOf, type Infer, name, struct, u32, u64, vec } from '@roamchain/protocol';

export const MINI_STATUSES = ['active', 'exited', 'slashed'] as const;
export type MiniStatus = (typeof MINI_STATUSES)[number];

/** A Mini Node; its id is its owner account (one Mini Node per account). */
export const miniNode = struct({
  owner: name,
  /** The Super Node (validator account) it is attached to. */
  superNode: name,
  nodeKey: bytes32,
  bond: u64,
  /** UMT of its pending unbonding entries. */
  unbonding: u64,
  /** active: bonded; exited: fully unbonded; slashed: removed by a fraud proof (for good). */
  status: enumOf(MINI_STATUSES),
  slashed: u64,
  /** Height of its newest included attestation (0: none yet). */
  lastAttested: u64,
  attestations: u64,
  /** Proof of Importance points (computed at epoch boundaries; bond points at registration). */
  importance: u64,
  /** Block time the importance was computed at. */
  importanceAt: u64,
  createdAt: u64,
  updatedAt: u64,
});
export type MiniNode = Infer<typeof miniNode>;

/** The state root of an attested height (a ring of `miniRootsKept` slots). */
export const miniRoot = struct({ height: u64, root: bytes32 });
export type MiniRoot = Infer<typeof miniRoot>;

/** Days of activity kept per Mini Node owner. */
export const ACTIVITY_DAYS = 30;
/**
 * A Mini Node owner's activity per UTC day, newest first: index i is day `day - i`. `sdr`: SDR base
 * units it paid under settled contracts; `txs`: transactions it signed.
 */
export const miniActivity = struct({
  day: u64,
  sdr: vec(u64, ACTIVITY_DAYS),
  txs: vec(u32, ACTIVITY_DAYS),
});
export type MiniActivity = Infer<typeof miniActivity>;

export const miniUnbonding = struct({ id: bytes32, owner: name, amount: u64, releaseAt: u64 });
export type MiniUnbonding = Infer<typeof miniUnbonding>;

/** Pending unbonding entries per Mini Node. */
export const MAX_MINI_UNBONDING = 8;

export const MK = {
  node: (owner: string) => `mini/n/${owner}`,
  /** Node key (hex) -> owner: a key serves one Mini Node, for good. */
  key: (keyHex: string) => `mini/k/${keyHex}`,
  /** Sorted owners of the active Mini Nodes attached to a Super Node. */
  ofSuper: (superNode: string) => `mini/s/${superNode}`,
  root: (slot: bigint) => `mini/r/${slot}`,
  activity: (owner: string) => `mini/a/${owner}`,
  unbonding: (idHex: string) => `mini/u/${idHex}`,
  pending: (owner: string) => `mini/p/${owner}`,
} as const;

export const MINI_CODECS: [string, Codec<any>][] = [
  ['mini/n/', miniNode],
  ['mini/k/', name],
  ['mini/s/', vec(name, 65_535)],
  ['mini/r/', miniRoot],
  ['mini/a/', miniActivity],
  ['mini/u/', miniUnbonding],
  ['mini/p/', vec(bytes32, MAX_MINI_UNBONDING)],
];
