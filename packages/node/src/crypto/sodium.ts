/**
 * The few libsodium (sodium-native) functions the node uses, typed for Uint8Array. sodium-native 5
 * accepts any ArrayBuffer view; `@types/sodium-native` (written for v2/v3) says Buffer, so the module
 * is re-typed here once instead of wrapping every argument in a Buffer.
 */
import sodiumNative from 'sodium-native';

export interface Sodium {
  crypto_sign_verify_detached(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean;
  crypto_sign_detached(signature: Uint8Array, message: Uint8Array, secretKey: Uint8Array): void;
  crypto_sign_seed_keypair(publicKey: Uint8Array, secretKey: Uint8Array, seed: Uint8Array): void;
  crypto_generichash(output: Uint8Array, input: Uint8Array, key?: Uint8Array): void;
  crypto_hash_sha256(output: Uint8Array, input: Uint8Array): void;
}

export const sodium = sodiumNative as unknown as Sodium;

export const ED25519_PUBLIC_KEY_BYTES = 32;
export const ED25519_SIGNATURE_BYTES = 64;
export const ED25519_SECRET_KEY_BYTES = 64;

/** libsodium key pair from a 32-byte seed: the same public key as `generateSigningKey(seed)`; secret key = seed || public key (64 bytes). */
export function sodiumKeyPair(seed: Uint8Array): { publicKey: Uint8Array; secretKey: Uint8Array } {
  if (seed.length !== 32) throw new RangeError('Ed25519 seed must be 32 bytes');
  const publicKey = new Uint8Array(ED25519_PUBLIC_KEY_BYTES);
  const secretKey = new Uint8Array(ED25519_SECRET_KEY_BYTES);
  sodium.crypto_sign_seed_keypair(publicKey, secretKey, seed);
  return { publicKey, secretKey };
}

/** Ed25519 signature with a 64-byte libsodium secret key (~50x faster than the pure-JS signer). */
export function sodiumSign(secretKey: Uint8Array, message: Uint8Array): Uint8Array {
  const sig = new Uint8Array(ED25519_SIGNATURE_BYTES);
  sodium.crypto_sign_detached(sig, message, secretKey);
  return sig;
}

/** Ed25519 verification; false (never a throw) on a public key or signature of the wrong length. */
export function sodiumVerify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (publicKey.length !== ED25519_PUBLIC_KEY_BYTES || signature.length !== ED25519_SIGNATURE_BYTES)
    return false;
  return sodium.crypto_sign_verify_detached(signature, message, publicKey);
}

/** libsodium SHA-256 (about 4x the pure-JS one on the state's short inputs). */
export function sodiumSha256(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(32);
  sodium.crypto_hash_sha256(out, data);
  return out;
}

/** libsodium SHA-256 into a 32-byte array (no allocation). */
export function sodiumSha256Into(data: Uint8Array, out: Uint8Array): void {
  sodium.crypto_hash_sha256(out, data);
}

/** The last seed's libsodium key pair: a node signs with one key (its producer key) again and again. */
let lastSeed: Uint8Array | null = null;
let lastSecret: Uint8Array | null = null;

/**
 * Ed25519 signature with a 32-byte seed, as `@roamchain/protocol`'s `sign` (the same deterministic
 * signature): the key pair is derived once per seed, not at every call.
 */
export function sodiumSignWithSeed(seed: Uint8Array, message: Uint8Array): Uint8Array {
  if (lastSeed === null || lastSecret === null || !equalSeed(lastSeed, seed)) {
    lastSecret = sodiumKeyPair(seed).secretKey;
    lastSeed = seed.slice();
  }
  return sodiumSign(lastSecret, message);
}

function equalSeed(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i]! ^ b[i]!;
  return d === 0;
}
