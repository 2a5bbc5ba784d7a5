/**
 * Mini Nodes: operation builders, attestation signing and the JSON shapes of their routes
 * (docs/GOVERNANCE.md §8). The actions are RoamClient methods (`bondMini`, `unbondMini`,
 * `attachMini`, `submitMiniAttestations`, `submitMiniFraud`, `sendMiniAttestations`,
 * `miniNodes`, `miniNode`).
 */
import {
  bytesToHex,
  type MiniAttestation,
  miniAttestSignBytes,
  type OpOf,
  sign,
  validateOp,
} from '@roamchain/protocol';
import { type BytesLike, toBytes } from './build.js';

type U64 = string;
type Hex = string;

export interface BondMiniArgs {
  owner: string;
  superNode: string;
  /** The Mini Node's Ed25519 node key (public, 32 bytes). */
  nodeKey: BytesLike;
  amount: bigint;
}
export interface UnbondMiniArgs {
  owner: string;
  amount: bigint;
}
export interface AttachMiniArgs {
  owner: string;
  superNode: string;
}

function checked<T extends OpOf<'mini_bond' | 'mini_unbond' | 'mini_attach' | 'mini_attest' | 'mini_fraud'>>(
  op: T,
): T {
  validateOp(op);
  return op;
}

export const bondMiniOp = (a: BondMiniArgs): OpOf<'mini_bond'> =>
  checked({
    type: 'mini_bond',
    owner: a.owner,
    superNode: a.superNode,
    nodeKey: toBytes(a.nodeKey, 'nodeKey', 32),
    amount: a.amount,
  });
export const unbondMiniOp = (a: UnbondMiniArgs): OpOf<'mini_unbond'> =>
  checked({ type: 'mini_unbond', owner: a.owner, amount: a.amount });
export const attachMiniOp = (a: AttachMiniArgs): OpOf<'mini_attach'> =>
  checked({ type: 'mini_attach', owner: a.owner, superNode: a.superNode });
export const miniAttestOp = (attestations: MiniAttestation[]): OpOf<'mini_attest'> =>
  checked({ type: 'mini_attest', attestations });
export const miniFraudOp = (attestation: MiniAttestation): OpOf<'mini_fraud'> =>
  checked({ type: 'mini_fraud', attestation });

/** A Mini Node signs (height, state root) with its node key's secret. */
export function signMiniAttestation(
  chainId: BytesLike,
  a: { mini: string; height: bigint; stateRoot: BytesLike },
  nodeSecretKey: Uint8Array,
): MiniAttestation {
  const body = { mini: a.mini, height: a.height, stateRoot: toBytes(a.stateRoot, 'stateRoot', 32) };
  const signature = sign(nodeSecretKey, miniAttestSignBytes(toBytes(chainId, 'chainId', 32), body));
  return { ...body, signature };
}

/** An attestation as JSON (the body of POST /v1/mininodes/attestations). */
export const miniAttestationJson = (a: MiniAttestation) => ({
  mini: a.mini,
  height: a.height.toString(),
  stateRoot: bytesToHex(a.stateRoot),
  signature: bytesToHex(a.signature),
});

export interface MiniNodeJson {
  owner: string;
  superNode: string;
  nodeKey: Hex;
  bond: U64;
  unbonding: U64;
  status: 'active' | 'exited' | 'slashed';
  slashed: U64;
  lastAttested: U64;
  attestations: U64;
  importance: U64;
  importanceAt: U64;
  /** Whether it attested within the last `miniMaxMissedWindows` windows (it earns). */
  attesting: boolean;
  createdAt: U64;
  updatedAt: U64;
}
export interface MiniNodesJson {
  height: number;
  interval: number;
  items: MiniNodeJson[];
}
export interface MiniNodeDetailJson extends MiniNodeJson {
  /** SDR paid and transactions signed per day, newest first (the importance inputs). */
  activity: { day: number; sdr: U64[]; txs: number[] };
}
export interface MiniAttestResultJson {
  /** The `mini_attest` transaction of the matching attestations, if any. */
  attestTx?: Hex;
  /** `mini_fraud` transactions of attestations that contradict the committed root. */
  fraudTxs: Hex[];
}
