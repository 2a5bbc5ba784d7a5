/**
 * Signing on the client: private keys never leave the caller. A `Signer` is an account name and its
 * Ed25519 secret (32-byte seed); multi-party transactions are signed by each party separately
 * (`signUnsigned`) and put together with `assembleTx`.
 */
import {
  assembleTx,
  bytesToHex,
  generateSigningKey,
  RoamError,
  requiredSigners,
  type SignedTx,
  sign,
  txId,
  type UnsignedTx,
} from '@roamchain/protocol';
import type { Keystore } from './keystore.js';

export interface Signer {
  /** Account name on chain. */
  name: string;
  /** Ed25519 secret key (32-byte seed). */
  secretKey: Uint8Array;
}

/** A signer for `name` from an open keystore (the secret is copied out of it). */
export function signerFromKeystore(ks: Pick<Keystore, 'get'>, name: string): Signer {
  return { name, secretKey: ks.get(name).signingSecret };
}

export function signerFromSecret(name: string, secretKey: Uint8Array): Signer {
  if (!(secretKey instanceof Uint8Array) || secretKey.length !== 32) {
    throw new RoamError('BAD_REQUEST', 'signing secret must be 32 bytes');
  }
  return { name, secretKey };
}

/** The Ed25519 public key of a signer. */
export function signerPublicKey(s: Signer): Uint8Array {
  return generateSigningKey(s.secretKey).publicKey;
}

/** One party's signature of an unsigned transaction (over its id). */
export function signUnsigned(u: UnsignedTx, secretKey: Uint8Array): Uint8Array {
  return sign(secretKey, txId(u));
}

/** Id (hex) of an unsigned or signed transaction. */
export function txIdHex(u: UnsignedTx): string {
  return bytesToHex(txId(u));
}

/** Signs with every required signer found among `signers`; throws SIG_MISSING naming whoever is missing. */
export function signWith(u: UnsignedTx, signers: readonly Signer[]): SignedTx {
  const byName = new Map(signers.map((s) => [s.name, s.secretKey]));
  const sigs: Record<string, Uint8Array> = {};
  const missing: string[] = [];
  for (const n of requiredSigners(u.ops)) {
    const k = byName.get(n);
    if (k) sigs[n] = signUnsigned(u, k);
    else missing.push(n);
  }
  if (missing.length > 0) {
    throw new RoamError('SIG_MISSING', `no key for required signer(s) ${missing.join(', ')}`, { missing });
  }
  return assembleTx(u, sigs);
}

export { assembleTx };
