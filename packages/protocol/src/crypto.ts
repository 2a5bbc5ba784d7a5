import { ed25519, x25519 } from '@noble/curves/ed25519.js';
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import { randomBytes } from '@noble/hashes/utils.js';

let sha256Impl = (data: Uint8Array): Uint8Array => nobleSha256(data);

/** SHA-256 (pure JS by default; a node plugs in libsodium with `useSha256`, same results). */
export const sha256 = (data: Uint8Array): Uint8Array => sha256Impl(data);

let sha256IntoImpl: ((data: Uint8Array, out: Uint8Array) => void) | null = null;

/**
 * SHA-256 of `data` written into `out` (32 bytes), without allocating the result: the state trie
 * hashes tens of nodes per transaction, and a fresh 32-byte array per hash was 5 % of everything a
 * node allocates under load.
 */
export function sha256Into(data: Uint8Array, out: Uint8Array): void {
  if (sha256IntoImpl) sha256IntoImpl(data, out);
  else out.set(sha256Impl(data));
}

/**
 * Replace the SHA-256 implementation (must compute standard SHA-256: checked here on a vector);
 * `into`, if given, is the same function writing into a 32-byte array (checked the same way).
 */
export function useSha256(
  fn: (data: Uint8Array) => Uint8Array,
  into?: (data: Uint8Array, out: Uint8Array) => void,
): void {
  const probe = new Uint8Array([0x61, 0x62, 0x63]);
  const want = nobleSha256(probe);
  const got = fn(probe);
  if (got.length !== 32 || got.some((b, i) => b !== want[i])) throw new Error('useSha256: not SHA-256');
  if (into) {
    const out = new Uint8Array(32);
    into(probe, out);
    if (out.some((b, i) => b !== want[i])) throw new Error('useSha256: `into` is not SHA-256');
  }
  sha256Impl = fn;
  sha256IntoImpl = into ?? null;
  sha256Native = true;
}

let sha256Native = false;
/** True once `useSha256` plugged in another (native) implementation. */
export function sha256IsReplaced(): boolean {
  return sha256Native;
}

export interface KeyPair {
  secretKey: Uint8Array;
  publicKey: Uint8Array;
}

/** Ed25519 key pair (signing). Secret = 32-byte seed. */
export function generateSigningKey(seed?: Uint8Array): KeyPair {
  const secretKey = seed ?? randomBytes(32);
  return { secretKey, publicKey: ed25519.getPublicKey(secretKey) };
}

/** X25519 key pair (encryption). */
export function generateEncryptionKey(seed?: Uint8Array): KeyPair {
  const secretKey = seed ?? randomBytes(32);
  return { secretKey, publicKey: x25519.getPublicKey(secretKey) };
}

let signImpl = (secretKey: Uint8Array, message: Uint8Array): Uint8Array => ed25519.sign(message, secretKey);

/** Ed25519 signature with a 32-byte seed (pure JS by default; a node plugs in libsodium with `useSign`). */
export function sign(secretKey: Uint8Array, message: Uint8Array): Uint8Array {
  return signImpl(secretKey, message);
}

/**
 * Replace the Ed25519 signer (the proposer signs every block; the pure-JS signer recomputes the
 * public key at each call, over a millisecond). Ed25519 signatures are deterministic, so the
 * replacement must give byte-for-byte the pure-JS signature: checked here on a probe.
 */
export function useSign(fn: (secretKey: Uint8Array, message: Uint8Array) => Uint8Array): void {
  const seed = new Uint8Array(32).fill(7);
  const msg = new Uint8Array([1, 2, 3]);
  const want = ed25519.sign(msg, seed);
  const got = fn(seed, msg);
  if (got.length !== 64 || got.some((b, i) => b !== want[i])) throw new Error('useSign: not Ed25519');
  signImpl = fn;
}

/** Pure-JS verification (browser, tests). Nodes inject a faster verifier (see SignatureVerifier). */
export function verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  try {
    // Strict RFC 8032 checks (not ZIP-215), matching libsodium, so every node accepts the same signatures.
    return ed25519.verify(signature, message, publicKey, { zip215: false });
  } catch {
    return false;
  }
}

/**
 * How the state machine checks signatures. The protocol package stays free of `node:` imports;
 * nodes plug in libsodium or node:crypto, browsers use the pure-JS one.
 */
export interface SignatureVerifier {
  verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean;
}

export const nobleVerifier: SignatureVerifier = { verify };

export { randomBytes };
