import { bytes32, decode, encode, enumOf, type Infer, opt, str, struct, u64, vec } from './codec.js';
import { sha256 } from './crypto.js';
import { name, ROLES } from './ops.js';
import { chainParams, UMT_ALLOCATION_BPS } from './params.js';

export const genesisAccount = struct({
  name,
  signingKey: bytes32,
  encryptionKey: bytes32,
  roles: vec(enumOf(ROLES), 5),
  homeOperator: opt(name),
});

export const genesisCodec = struct({
  chainName: str(64, /^[a-z0-9-]{1,64}$/),
  genesisTime: u64,
  params: chainParams,
  accounts: vec(genesisAccount, 10_000, 1),
  /** UMT created at genesis, per SPEC §2 bucket; each bucket must add up to its exact share. */
  allocations: vec(
    struct({
      bucket: enumOf(Object.keys(UMT_ALLOCATION_BPS) as (keyof typeof UMT_ALLOCATION_BPS)[]),
      account: name,
      amount: u64,
    }),
    10_000,
    1,
  ),
  /**
   * The Super Nodes of epoch 0: owner account, the node's own Ed25519 consensus key, and the bond
   * (UMT base units, at least `params.minValidatorBond`) taken from the owner's free allocation.
   */
  validators: vec(struct({ account: name, nodeKey: bytes32, bond: u64 }), 256, 1),
});
export type Genesis = Infer<typeof genesisCodec>;
export type GenesisAccount = Infer<typeof genesisAccount>;

/** Chain id: SHA-256 of the canonical binary encoding of the genesis. */
export function chainIdOf(g: Genesis): Uint8Array {
  return sha256(encode(genesisCodec, g, 4096));
}

export function genesisFromJSON(j: unknown): Genesis {
  // Round-trip through the binary form so that the JSON is held to the same canonical rules.
  return decode(genesisCodec, encode(genesisCodec, genesisCodec.fromJSON(j, 'genesis'), 4096));
}

export function genesisToJSON(g: Genesis): unknown {
  return genesisCodec.toJSON(g);
}
