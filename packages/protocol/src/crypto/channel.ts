/**
 * Encrypted channel between the parties of a service smart contract (SSC).
 *
 * SPEC: X25519 between the Request's ephemeral key and the Assignee's key, HKDF-SHA-256 bound to the
 * contract id, AES-256-GCM, unique nonces.
 *
 * - Key agreement: X25519. Low-order public keys (all-zero shared secret) are rejected.
 * - Key derivation: HKDF-SHA-256(ikm = shared secret, salt = contract id, info = 'roamchain/ssc/v1/' + info).
 * - Encryption: AES-256-GCM with a fresh 12-byte random nonce per message; box = nonce || ciphertext || tag.
 *
 * Browser-safe: no `node:` imports; randomness comes from crypto.getRandomValues (via noble).
 */
import { gcm } from '@noble/ciphers/aes.js';
import { x25519 } from '@noble/curves/ed25519.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { concatBytes, randomBytes, utf8ToBytes } from '@noble/hashes/utils.js';

export const X25519_KEY_LENGTH = 32;
export const CONTRACT_ID_LENGTH = 32;
export const CHANNEL_KEY_LENGTH = 32;
export const NONCE_LENGTH = 12;
export const TAG_LENGTH = 16;
/** Smallest valid box: nonce and tag around an empty plaintext. */
export const BOX_OVERHEAD = NONCE_LENGTH + TAG_LENGTH;
/** Extra bytes sealToKey adds: the ephemeral public key plus the box overhead. */
export const SEALED_OVERHEAD = X25519_KEY_LENGTH + BOX_OVERHEAD;

const SSC_INFO_PREFIX = 'roamchain/ssc/v1/';
const SSC_AAD_PREFIX = 'roamchain/v1/';
const ANON_INFO = 'roamchain/box/v1';
const ANON_AAD = 'roamchain/box/v1';

/** Purposes used by the protocol. Any short lowercase tag is accepted (see PURPOSE_RE). */
export type ContractPurpose = 'request' | 'provision' | 'memo';
/** Lowercase letters, digits, '-' and '_'; 1 to 32 characters; no '/' so HKDF info stays unambiguous. */
const PURPOSE_RE = /^[a-z0-9][a-z0-9_-]{0,31}$/;

export interface X25519KeyPair {
  secretKey: Uint8Array;
  publicKey: Uint8Array;
}

function assertBytes(value: unknown, length: number, what: string): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array)) throw new TypeError(`${what} must be a Uint8Array`);
  if (value.length !== length) throw new TypeError(`${what} must be ${length} bytes, got ${value.length}`);
}

function assertPurpose(purpose: string): void {
  if (typeof purpose !== 'string' || !PURPOSE_RE.test(purpose)) {
    throw new TypeError(`invalid purpose ${JSON.stringify(purpose)}: expected ${PURPOSE_RE}`);
  }
}

/** A new random X25519 key pair. */
export function generateX25519(): X25519KeyPair {
  const secretKey = randomBytes(X25519_KEY_LENGTH);
  return { secretKey, publicKey: x25519.getPublicKey(secretKey) };
}

/** The X25519 public key of a 32-byte secret. */
export function x25519PublicKey(secret: Uint8Array): Uint8Array {
  assertBytes(secret, X25519_KEY_LENGTH, 'X25519 secret key');
  return x25519.getPublicKey(secret);
}

/** Raw X25519 shared secret; throws on a low-order public key (all-zero result). */
function sharedSecret(ourSecret: Uint8Array, theirPublic: Uint8Array): Uint8Array {
  assertBytes(ourSecret, X25519_KEY_LENGTH, 'X25519 secret key');
  assertBytes(theirPublic, X25519_KEY_LENGTH, 'X25519 public key');
  let shared: Uint8Array;
  try {
    // noble rejects the known low-order points before running the ladder.
    shared = x25519.getSharedSecret(ourSecret, theirPublic);
  } catch {
    throw new Error('X25519: public key is of low order (all-zero shared secret)');
  }
  // Defense in depth (RFC 7748 §6.1): constant-time all-zero check.
  let acc = 0;
  for (let i = 0; i < shared.length; i++) acc |= shared[i]!;
  if (acc === 0) throw new Error('X25519: public key is of low order (all-zero shared secret)');
  return shared;
}

/**
 * 32-byte AES key for a contract: HKDF-SHA-256(ikm = X25519(ourSecret, theirPublic), salt = contractId,
 * info = 'roamchain/ssc/v1/' + info). Both parties derive the same key.
 */
export function deriveChannelKey(
  ourSecret: Uint8Array,
  theirPublic: Uint8Array,
  contractId: Uint8Array,
  info: string,
): Uint8Array {
  assertBytes(contractId, CONTRACT_ID_LENGTH, 'contract id');
  if (typeof info !== 'string' || info.length === 0) throw new TypeError('info must be a non-empty string');
  const shared = sharedSecret(ourSecret, theirPublic);
  try {
    return hkdf(sha256, shared, contractId, utf8ToBytes(SSC_INFO_PREFIX + info), CHANNEL_KEY_LENGTH);
  } finally {
    shared.fill(0);
  }
}

/** AES-256-GCM with a fresh random 12-byte nonce. Returns nonce || ciphertext || tag. */
export function sealBox(key: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Uint8Array {
  assertBytes(key, CHANNEL_KEY_LENGTH, 'key');
  if (!(plaintext instanceof Uint8Array)) throw new TypeError('plaintext must be a Uint8Array');
  if (!(aad instanceof Uint8Array)) throw new TypeError('aad must be a Uint8Array');
  const nonce = randomBytes(NONCE_LENGTH);
  const ct = gcm(key, nonce, aad).encrypt(plaintext);
  return concatBytes(nonce, ct);
}

/** Opens a sealBox output. Throws if the key, aad or any byte of the box is wrong. */
export function openBox(key: Uint8Array, box: Uint8Array, aad: Uint8Array): Uint8Array {
  assertBytes(key, CHANNEL_KEY_LENGTH, 'key');
  if (!(box instanceof Uint8Array)) throw new TypeError('box must be a Uint8Array');
  if (!(aad instanceof Uint8Array)) throw new TypeError('aad must be a Uint8Array');
  if (box.length < BOX_OVERHEAD) throw new Error('openBox: box is too short');
  const nonce = box.subarray(0, NONCE_LENGTH);
  const ct = box.subarray(NONCE_LENGTH);
  try {
    return gcm(key, nonce, aad).decrypt(ct);
  } catch {
    throw new Error('openBox: authentication failed');
  }
}

/** aad = utf8('roamchain/v1/' + purpose) || contractId. */
export function contractAad(contractId: Uint8Array, purpose: string): Uint8Array {
  assertBytes(contractId, CONTRACT_ID_LENGTH, 'contract id');
  assertPurpose(purpose);
  return concatBytes(utf8ToBytes(SSC_AAD_PREFIX + purpose), contractId);
}

export interface SealForContractArgs {
  /** The sender's X25519 secret (typically the Request's ephemeral key). */
  senderSecret: Uint8Array;
  /** The recipient's X25519 public key (typically the Assignee's on-chain encryption key). */
  recipientPublic: Uint8Array;
  contractId: Uint8Array;
  purpose: ContractPurpose | (string & {});
  plaintext: Uint8Array;
}

export interface OpenForContractArgs {
  recipientSecret: Uint8Array;
  senderPublic: Uint8Array;
  contractId: Uint8Array;
  purpose: ContractPurpose | (string & {});
  box: Uint8Array;
}

/**
 * Encrypts private data for the other party of a contract. The key is bound to the contract id and
 * the purpose; the aad binds both again. Note: both directions derive the same key for a given
 * purpose, so use distinct purposes per direction (e.g. 'request' one way, 'provision' back).
 */
export function sealForContract(args: SealForContractArgs): Uint8Array {
  const { senderSecret, recipientPublic, contractId, purpose, plaintext } = args;
  const aad = contractAad(contractId, purpose);
  const key = deriveChannelKey(senderSecret, recipientPublic, contractId, purpose);
  try {
    return sealBox(key, plaintext, aad);
  } finally {
    key.fill(0);
  }
}

/** Opens a sealForContract box. Throws unless key, contract id, purpose and box all match. */
export function openForContract(args: OpenForContractArgs): Uint8Array {
  const { recipientSecret, senderPublic, contractId, purpose, box } = args;
  const aad = contractAad(contractId, purpose);
  const key = deriveChannelKey(recipientSecret, senderPublic, contractId, purpose);
  try {
    return openBox(key, box, aad);
  } finally {
    key.fill(0);
  }
}

/** Key for the anonymous box: binds both public keys (like ECIES / HPKE base mode). */
function anonKey(shared: Uint8Array, ephPublic: Uint8Array, recipientPublic: Uint8Array): Uint8Array {
  const info = concatBytes(utf8ToBytes(ANON_INFO), ephPublic, recipientPublic);
  return hkdf(sha256, shared, new Uint8Array(0), info, CHANNEL_KEY_LENGTH);
}

function anonAad(context: Uint8Array): Uint8Array {
  if (!(context instanceof Uint8Array)) throw new TypeError('context must be a Uint8Array');
  return concatBytes(utf8ToBytes(ANON_AAD), context);
}

/**
 * Anonymous box to an account's encryption key (no contract), e.g. memos. A fresh ephemeral key per
 * message; output = ephemeralPublic(32) || nonce(12) || ciphertext || tag(16). `context` is
 * authenticated (not encrypted) and must be given again to open.
 */
export function sealToKey(
  recipientPublic: Uint8Array,
  plaintext: Uint8Array,
  context: Uint8Array,
): Uint8Array {
  const aad = anonAad(context);
  const eph = generateX25519();
  const shared = sharedSecret(eph.secretKey, recipientPublic);
  const key = anonKey(shared, eph.publicKey, recipientPublic);
  shared.fill(0);
  eph.secretKey.fill(0);
  try {
    return concatBytes(eph.publicKey, sealBox(key, plaintext, aad));
  } finally {
    key.fill(0);
  }
}

/** Opens a sealToKey output. Throws on a wrong key, wrong context or any altered byte. */
export function openWithKey(
  recipientSecret: Uint8Array,
  sealed: Uint8Array,
  context: Uint8Array,
): Uint8Array {
  const aad = anonAad(context);
  if (!(sealed instanceof Uint8Array)) throw new TypeError('sealed must be a Uint8Array');
  if (sealed.length < SEALED_OVERHEAD) throw new Error('openWithKey: sealed box is too short');
  const ephPublic = sealed.subarray(0, X25519_KEY_LENGTH);
  const shared = sharedSecret(recipientSecret, ephPublic);
  const key = anonKey(shared, ephPublic, x25519.getPublicKey(recipientSecret));
  shared.fill(0);
  try {
    return openBox(key, sealed.subarray(X25519_KEY_LENGTH), aad);
  } finally {
    key.fill(0);
  }
}
