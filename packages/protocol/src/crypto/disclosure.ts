/**
 * Selective disclosure for identity attestations (in the style of SD-JWT).
 *
 * A disclosure is the JSON array `[salt, claimName, value]`; salt = base64url (no padding) of at
 * least 16 random bytes. Its string form is that array serialised with JSON.stringify, and its
 * digest is SHA-256 of the UTF-8 bytes of that string. Only the digests go on chain, sorted
 * bytewise so their order says nothing about the claim names; the holder later reveals a subset of
 * the disclosures and a verifier checks each one against the on-chain digests.
 *
 * Browser-safe: no `node:` imports.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { randomBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import { bytesToHex, compareBytes } from '../hex.js';

export interface Disclosure {
  salt: string;
  name: string;
  value: string;
}

export type VerifyDisclosuresResult =
  | { ok: true; claims: Record<string, string> }
  | { ok: false; reason: 'DIGEST_MISMATCH' | 'DUPLICATE_CLAIM' | 'MALFORMED' };

export const DISCLOSURE_SALT_BYTES = 16;
export const DISCLOSURE_DIGEST_LENGTH = 32;

/** base64url without padding; at least 22 characters (16 bytes); never a length that is 1 mod 4. */
const SALT_RE = /^[A-Za-z0-9_-]{22,}$/;

function base64url(bytes: Uint8Array): string {
  let bin = '';
  for (let i = 0; i < bytes.length; i++) bin += String.fromCharCode(bytes[i]!);
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function isValidSalt(salt: unknown): salt is string {
  return typeof salt === 'string' && SALT_RE.test(salt) && salt.length % 4 !== 1;
}

/** True when `d` is a well-formed disclosure (salt of >= 16 bytes, non-empty name, string value). */
export function isDisclosure(d: unknown): d is Disclosure {
  if (typeof d !== 'object' || d === null) return false;
  const { salt, name, value } = d as Record<string, unknown>;
  return isValidSalt(salt) && typeof name === 'string' && name.length > 0 && typeof value === 'string';
}

function assertDisclosure(d: unknown): asserts d is Disclosure {
  if (!isDisclosure(d)) throw new TypeError('malformed disclosure');
}

/** The canonical string form: JSON.stringify([salt, name, value]). */
export function encodeDisclosure(d: Disclosure): string {
  assertDisclosure(d);
  return JSON.stringify([d.salt, d.name, d.value]);
}

/**
 * Parses the string form. Throws a TypeError unless the input is exactly the canonical encoding of a
 * well-formed disclosure (so a string and its digest always agree).
 */
export function parseDisclosure(s: string): Disclosure {
  if (typeof s !== 'string') throw new TypeError('disclosure must be a string');
  let parsed: unknown;
  try {
    parsed = JSON.parse(s);
  } catch {
    throw new TypeError('disclosure is not valid JSON');
  }
  if (!Array.isArray(parsed) || parsed.length !== 3)
    throw new TypeError('disclosure must be a 3-element array');
  const [salt, name, value] = parsed as unknown[];
  const d = { salt, name, value };
  assertDisclosure(d);
  if (JSON.stringify([d.salt, d.name, d.value]) !== s)
    throw new TypeError('disclosure is not canonical JSON');
  return d;
}

/** SHA-256 of the UTF-8 of the canonical string form; 32 bytes. */
export function disclosureDigest(d: Disclosure): Uint8Array {
  return sha256(utf8ToBytes(encodeDisclosure(d)));
}

/**
 * One disclosure per claim, each with a fresh random salt. `disclosures` follow the input order (the
 * holder keeps them private); `digests` are sorted bytewise and are what goes on chain.
 */
export function makeDisclosures(claims: Record<string, string>): {
  disclosures: Disclosure[];
  digests: Uint8Array[];
} {
  const disclosures: Disclosure[] = [];
  for (const [name, value] of Object.entries(claims)) {
    if (name.length === 0) throw new TypeError('claim name must not be empty');
    if (typeof value !== 'string') throw new TypeError(`claim ${JSON.stringify(name)} must be a string`);
    disclosures.push({ salt: base64url(randomBytes(DISCLOSURE_SALT_BYTES)), name, value });
  }
  const digests = disclosures.map(disclosureDigest).sort(compareBytes);
  return { disclosures, digests };
}

/**
 * Checks revealed disclosures against the on-chain digests. Every revealed disclosure must be
 * well-formed, name a distinct claim and hash to one of the digests; digests that are not revealed
 * are ignored. On success returns the revealed claims by name.
 */
export function verifyDisclosures(
  onChainDigests: Uint8Array[],
  revealed: Disclosure[],
): VerifyDisclosuresResult {
  if (!Array.isArray(onChainDigests) || !Array.isArray(revealed)) return { ok: false, reason: 'MALFORMED' };
  const known = new Set<string>();
  for (const digest of onChainDigests) {
    if (!(digest instanceof Uint8Array) || digest.length !== DISCLOSURE_DIGEST_LENGTH) {
      return { ok: false, reason: 'MALFORMED' };
    }
    known.add(bytesToHex(digest));
  }
  for (const d of revealed) if (!isDisclosure(d)) return { ok: false, reason: 'MALFORMED' };
  const entries: [string, string][] = [];
  const names = new Set<string>();
  for (const d of revealed) {
    if (names.has(d.name)) return { ok: false, reason: 'DUPLICATE_CLAIM' };
    names.add(d.name);
    if (!known.has(bytesToHex(disclosureDigest(d)))) return { ok: false, reason: 'DIGEST_MISMATCH' };
    entries.push([d.name, d.value]);
  }
  // fromEntries defines own properties, so a claim named '__proto__' cannot touch the prototype.
  return { ok: true, claims: Object.fromEntries(entries) };
}
