/**
 * Mini Node operations (SPEC §5, docs/GOVERNANCE.md §8; tags 70-74). Same contract as ops.ts: data
 * plus a stateless `validate`; the evaluators live in @roamchain/state mini.ts. ops.ts spreads
 * `MINI_OPS` into its registry.
 *
 * An attestation is a Mini Node's signature, with its node key, over (chain, owner, height, state
 * root): the bytes of `miniAttestSignBytes`. `mini_attest` and `mini_fraud` are self-authenticating
 * (the signature inside is the proof), so nobody signs the transaction and nobody pays a fee, like
 * `evidence`.
 */
import { bytes32, bytes64, type Codec, type Infer, struct, u64, utf8, vec, Writer } from './codec.js';
import { RoamError } from './errors.js';
import { name } from './primitives.js';

/** Domain tag of an attestation's signed bytes (never a valid transaction id or vote). */
export const MINI_ATTEST_DOMAIN = utf8('roamchain/mini-attest/v1');
/** Attestations one `mini_attest` operation may carry. */
export const MAX_ATTESTATIONS_PER_OP = 64;

export const miniAttestation = struct({
  /** The Mini Node's owner account (its id). */
  mini: name,
  height: u64,
  stateRoot: bytes32,
  /** Ed25519 signature of `miniAttestSignBytes` with the Mini Node's node key. */
  signature: bytes64,
});
export type MiniAttestation = Infer<typeof miniAttestation>;

const attestSign = struct({ chainId: bytes32, mini: name, height: u64, stateRoot: bytes32 });

/** The bytes a Mini Node signs for an attestation of `stateRoot` at `height`. */
export function miniAttestSignBytes(
  chainId: Uint8Array,
  a: Pick<MiniAttestation, 'mini' | 'height' | 'stateRoot'>,
): Uint8Array {
  const w = new Writer(128);
  w.raw(MINI_ATTEST_DOMAIN);
  attestSign.enc(w, { chainId, mini: a.mini, height: a.height, stateRoot: a.stateRoot });
  return w.finish();
}

function bad(msg: string): never {
  throw new RoamError('MINI_INVALID', msg);
}

function checkAttestation(a: MiniAttestation): void {
  if (a.height === 0n) bad('height 0 has no state root to attest');
}

export interface MiniOpDef<C extends Codec<any>> {
  tag: number;
  codec: C;
  signers(op: Infer<C>): string[];
  feePayer(op: Infer<C>): { account: string } | { none: true };
  validate(op: Infer<C>): void;
}
const def = <C extends Codec<any>>(d: MiniOpDef<C>): MiniOpDef<C> => d;

export const MINI_OPS = {
  /**
   * The owner bonds UMT for its Mini Node: a new registration (node key and Super Node required,
   * amount at least `minMiniBond`) or a top-up of the same Mini Node (same node key and Super Node).
   */
  mini_bond: def({
    tag: 70,
    codec: struct({ owner: name, superNode: name, nodeKey: bytes32, amount: u64 }),
    signers: (o) => [o.owner],
    feePayer: (o) => ({ account: o.owner }),
    validate(o) {
      if (o.amount === 0n) bad('amount must be positive');
      if (o.nodeKey.every((b) => b === 0)) bad('node key is all zeros');
    },
  }),
  /** Part of the bond (what stays must be at least the minimum) or all of it (an exit); released after `unbondingDelayMs`. */
  mini_unbond: def({
    tag: 71,
    codec: struct({ owner: name, amount: u64 }),
    signers: (o) => [o.owner],
    feePayer: (o) => ({ account: o.owner }),
    validate(o) {
      if (o.amount === 0n) bad('amount must be positive');
    },
  }),
  /** The owner attaches its Mini Node to another Super Node. */
  mini_attach: def({
    tag: 72,
    codec: struct({ owner: name, superNode: name }),
    signers: (o) => [o.owner],
    feePayer: (o) => ({ account: o.owner }),
    validate() {},
  }),
  /** Attestations of Mini Nodes, relayed by their Super Node: fee-free, signed by nobody. */
  mini_attest: def({
    tag: 73,
    codec: struct({ attestations: vec(miniAttestation, MAX_ATTESTATIONS_PER_OP) }),
    signers: () => [],
    feePayer: () => ({ none: true }),
    validate(o) {
      if (o.attestations.length === 0) bad('no attestation');
      const seen = new Set<string>();
      for (const a of o.attestations) {
        checkAttestation(a);
        const k = `${a.mini}/${a.height}`;
        if (seen.has(k)) bad(`two attestations of ${a.mini} at height ${a.height}`);
        seen.add(k);
      }
    },
  }),
  /** Proof that a Mini Node signed a state root the chain did not commit: anyone submits it, nobody pays. */
  mini_fraud: def({
    tag: 74,
    codec: struct({ attestation: miniAttestation }),
    signers: () => [],
    feePayer: () => ({ none: true }),
    validate(o) {
      checkAttestation(o.attestation);
    },
  }),
} as const;
