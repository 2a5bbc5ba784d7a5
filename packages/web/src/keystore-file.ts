/**
 * Opens an operator's keystore file (packages/sdk/src/keystore.ts, version 1: scrypt → AES-256-GCM,
 * AAD "roamchain/keystore/v1") in the browser, so the console signs with the operator's own key.
 * The file's own scrypt parameters are used (bounded, as a crafted file could ask for gigabytes).
 */
import { gcm } from '@noble/ciphers/aes.js';
import { scryptAsync } from '@noble/hashes/scrypt.js';
import { utf8 } from '@roamchain/protocol';

const AAD = utf8('roamchain/keystore/v1');
const MAX_MEMORY = 2 ** 30;

export interface KeystoreAccount {
  name: string;
  signingSecret: Uint8Array;
  encryptionSecret: Uint8Array;
}

function unb64(s: unknown, what: string): Uint8Array {
  if (typeof s !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(s) || s.length % 4 !== 0)
    throw new Error(`not a roamchain keystore: ${what}`);
  const bin = atob(s);
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

/** Decrypts a keystore file; every account in it, or an Error (wrong passphrase, bad file). */
export async function openKeystoreFile(text: string, passphrase: string): Promise<KeystoreAccount[]> {
  let f: {
    version?: unknown;
    kdf?: { name?: unknown; N?: unknown; r?: unknown; p?: unknown; salt?: unknown };
    cipher?: { name?: unknown; nonce?: unknown };
    ciphertext?: unknown;
  };
  try {
    f = JSON.parse(text);
  } catch {
    throw new Error('not a roamchain keystore: not JSON');
  }
  if (f?.version !== 1 || f.kdf?.name !== 'scrypt' || f.cipher?.name !== 'aes-256-gcm')
    throw new Error('not a roamchain keystore (version 1, scrypt, aes-256-gcm)');
  const { N, r, p } = f.kdf as { N: number; r: number; p: number };
  const ok =
    Number.isSafeInteger(N) &&
    N > 1 &&
    (N & (N - 1)) === 0 &&
    N <= 2 ** 24 &&
    Number.isSafeInteger(r) &&
    r >= 1 &&
    Number.isSafeInteger(p) &&
    p >= 1 &&
    p <= 16 &&
    128 * N * r <= MAX_MEMORY;
  if (!ok) throw new Error('not a roamchain keystore: bad scrypt parameters');
  const salt = unb64(f.kdf?.salt, 'salt');
  const nonce = unb64(f.cipher?.nonce, 'nonce');
  const ct = unb64(f.ciphertext, 'ciphertext');
  if (salt.length < 16 || nonce.length !== 12 || ct.length < 16) throw new Error('not a roamchain keystore');
  const key = await scryptAsync(utf8(passphrase.normalize('NFKC')), salt, {
    N,
    r,
    p,
    dkLen: 32,
    maxmem: 128 * r * (N + p + 1),
  });
  let pt: Uint8Array;
  try {
    pt = gcm(key, nonce, AAD).decrypt(ct);
  } catch {
    throw new Error('wrong keystore passphrase (or the file was altered)');
  } finally {
    key.fill(0);
  }
  // magic(1) || count(u32 BE) || per account: nameLen(u8) || name || signing(32) || encryption(32)
  const bad = () => new Error('not a roamchain keystore: malformed content');
  if (pt.length < 5 || pt[0] !== 1) throw bad();
  const count = new DataView(pt.buffer, pt.byteOffset, pt.byteLength).getUint32(1);
  const out: KeystoreAccount[] = [];
  let o = 5;
  for (let i = 0; i < count; i++) {
    const len = pt[o++] ?? 0;
    if (len === 0 || o + len + 64 > pt.length) throw bad();
    const name = new TextDecoder('utf-8', { fatal: true }).decode(pt.subarray(o, o + len));
    o += len;
    out.push({ name, signingSecret: pt.slice(o, o + 32), encryptionSecret: pt.slice(o + 32, o + 64) });
    o += 64;
  }
  if (o !== pt.length) throw bad();
  return out;
}
