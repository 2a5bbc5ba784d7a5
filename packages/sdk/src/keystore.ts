/**
 * Encrypted keystore file for the Ed25519 signing keys and X25519 encryption keys of named accounts.
 *
 * File (JSON, mode 0600, written atomically via temp file + rename):
 *   { version: 1,
 *     kdf: { name: 'scrypt', N, r, p, salt },     // salt: base64
 *     cipher: { name: 'aes-256-gcm', nonce },     // nonce: base64, fresh on every save
 *     ciphertext }                                // base64, AES-256-GCM ciphertext || tag
 * The key is scrypt(passphrase, salt, N, r, p, dkLen = 32); the passphrase (a string) is NFKC-normalised
 * and UTF-8 encoded first. The plaintext is a small binary record list, so secrets never pass through
 * JS strings and the buffers can be wiped. The derived key (not the passphrase) stays in memory until
 * close().
 */
import {
  chmodSync,
  closeSync,
  existsSync,
  fchmodSync,
  fsyncSync,
  openSync,
  readFileSync,
  renameSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { gcm } from '@noble/ciphers/aes.js';
import { ed25519, x25519 } from '@noble/curves/ed25519.js';
import { scryptAsync } from '@noble/hashes/scrypt.js';
import { bytesToHex, randomBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import { RoamError } from '@roamchain/protocol';

export const KEYSTORE_VERSION = 1;
/** OWASP 2023 guidance for scrypt: N = 2^17, r = 8, p = 1 (128 MiB). Files keep their own parameters. */
export const DEFAULT_SCRYPT = { N: 2 ** 17, r: 8, p: 1 } as const;
export const DEFAULT_PASSPHRASE_ENV = 'ROAMCHAIN_KEYSTORE_PASSPHRASE';

const KEY_LENGTH = 32;
const SALT_LENGTH = 32;
const NONCE_LENGTH = 12;
const SECRET_LENGTH = 32;
const MAX_NAME_BYTES = 255;
const AAD = utf8ToBytes('roamchain/keystore/v1');
const PLAINTEXT_MAGIC = 0x01;
/** Refuse parameters (e.g. from a crafted file) that would need more than 1 GiB or run for ages. */
const MAX_SCRYPT_MEMORY = 2 ** 30;
const MAX_SCRYPT_P = 16;

export interface ScryptParams {
  N: number;
  r: number;
  p: number;
}

export interface KeystoreOptions {
  /** scrypt cost; defaults to N = 2^17, r = 8, p = 1. Lower N only for tests. */
  scrypt?: Partial<ScryptParams>;
}

export interface AccountSecrets {
  /** Ed25519 32-byte seed. */
  signingSecret: Uint8Array;
  /** X25519 32-byte secret. */
  encryptionSecret: Uint8Array;
}

export interface AccountKeys extends AccountSecrets {
  signingPublic: Uint8Array;
  encryptionPublic: Uint8Array;
}

interface KeystoreFile {
  version: 1;
  kdf: { name: 'scrypt'; N: number; r: number; p: number; salt: string };
  cipher: { name: 'aes-256-gcm'; nonce: string };
  ciphertext: string;
}

/**
 * The passphrase from an environment variable (default ROAMCHAIN_KEYSTORE_PASSPHRASE), or undefined
 * when it is unset or empty.
 */
export function passphraseFromEnv(varName: string = DEFAULT_PASSPHRASE_ENV): string | undefined {
  const v = process.env[varName];
  return v === undefined || v === '' ? undefined : v;
}

function passphraseBytes(passphrase: string | Uint8Array): Uint8Array {
  if (typeof passphrase === 'string') {
    if (passphrase.length === 0) throw new RoamError('BAD_REQUEST', 'keystore passphrase must not be empty');
    return utf8ToBytes(passphrase.normalize('NFKC'));
  }
  if (!(passphrase instanceof Uint8Array) || passphrase.length === 0) {
    throw new RoamError('BAD_REQUEST', 'keystore passphrase must not be empty');
  }
  return passphrase.slice();
}

function isPowerOfTwo(n: number): boolean {
  return Number.isSafeInteger(n) && n > 1 && (n & (n - 1)) === 0;
}

function checkScrypt(p: ScryptParams): string | undefined {
  if (!isPowerOfTwo(p.N) || p.N > 2 ** 24) return 'N must be a power of two between 2 and 2^24';
  if (!Number.isSafeInteger(p.r) || p.r < 1) return 'r must be a positive integer';
  if (!Number.isSafeInteger(p.p) || p.p < 1 || p.p > MAX_SCRYPT_P) return `p must be 1 to ${MAX_SCRYPT_P}`;
  if (128 * p.N * p.r > MAX_SCRYPT_MEMORY) return 'N * r needs more than 1 GiB';
  return undefined;
}

async function deriveKey(passphrase: string | Uint8Array, salt: Uint8Array, params: ScryptParams) {
  const pw = passphraseBytes(passphrase);
  try {
    return await scryptAsync(pw, salt, {
      ...params,
      dkLen: KEY_LENGTH,
      maxmem: 128 * params.r * (params.N + params.p + 1),
    });
  } finally {
    pw.fill(0);
  }
}

const b64 = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64');

function unb64(s: unknown, what: string): Uint8Array {
  if (typeof s !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(s) || s.length % 4 !== 0) {
    throw new RoamError('CODEC_BAD_JSON', `keystore: ${what} is not base64`);
  }
  return new Uint8Array(Buffer.from(s, 'base64'));
}

function checkName(name: string): Uint8Array {
  if (typeof name !== 'string' || name.length === 0)
    throw new RoamError('BAD_REQUEST', 'account name is empty');
  const bytes = utf8ToBytes(name);
  if (bytes.length > MAX_NAME_BYTES) throw new RoamError('BAD_REQUEST', 'account name is too long');
  return bytes;
}

function checkSecret(s: unknown, what: string): Uint8Array {
  if (!(s instanceof Uint8Array) || s.length !== SECRET_LENGTH) {
    throw new RoamError('BAD_REQUEST', `${what} must be a ${SECRET_LENGTH}-byte Uint8Array`);
  }
  return s;
}

/** Plaintext: magic(1) || count(u32 BE) || per account: nameLen(u8) || name || signing(32) || encryption(32). */
function encodeAccounts(accounts: Map<string, AccountSecrets>): Uint8Array {
  const names = [...accounts.keys()].sort();
  const nameBytes = names.map((n) => utf8ToBytes(n));
  let size = 5;
  for (const nb of nameBytes) size += 1 + nb.length + 2 * SECRET_LENGTH;
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  out[0] = PLAINTEXT_MAGIC;
  view.setUint32(1, names.length);
  let o = 5;
  names.forEach((name, i) => {
    const nb = nameBytes[i]!;
    const acct = accounts.get(name)!;
    out[o++] = nb.length;
    out.set(nb, o);
    o += nb.length;
    out.set(acct.signingSecret, o);
    o += SECRET_LENGTH;
    out.set(acct.encryptionSecret, o);
    o += SECRET_LENGTH;
  });
  return out;
}

function decodeAccounts(pt: Uint8Array): Map<string, AccountSecrets> {
  const bad = (): never => {
    throw new RoamError('CODEC_BAD_JSON', 'keystore: decrypted content is malformed');
  };
  if (pt.length < 5 || pt[0] !== PLAINTEXT_MAGIC) bad();
  const count = new DataView(pt.buffer, pt.byteOffset, pt.byteLength).getUint32(1);
  const dec = new TextDecoder('utf-8', { fatal: true });
  const accounts = new Map<string, AccountSecrets>();
  let o = 5;
  for (let i = 0; i < count; i++) {
    const len = pt[o++];
    if (len === undefined || len === 0 || o + len + 2 * SECRET_LENGTH > pt.length) bad();
    let name = '';
    try {
      name = dec.decode(pt.subarray(o, o + len!));
    } catch {
      bad();
    }
    o += len!;
    if (accounts.has(name)) bad();
    const signingSecret = pt.slice(o, o + SECRET_LENGTH);
    o += SECRET_LENGTH;
    const encryptionSecret = pt.slice(o, o + SECRET_LENGTH);
    o += SECRET_LENGTH;
    accounts.set(name, { signingSecret, encryptionSecret });
  }
  if (o !== pt.length) bad();
  return accounts;
}

function parseFile(text: string): {
  params: ScryptParams;
  salt: Uint8Array;
  nonce: Uint8Array;
  ct: Uint8Array;
} {
  let j: unknown;
  try {
    j = JSON.parse(text);
  } catch {
    throw new RoamError('CODEC_BAD_JSON', 'keystore: file is not JSON');
  }
  const f = j as Partial<KeystoreFile> | null;
  if (typeof f !== 'object' || f === null) throw new RoamError('CODEC_BAD_JSON', 'keystore: not an object');
  if (f.version !== KEYSTORE_VERSION) {
    throw new RoamError('CODEC_VERSION', `keystore: unsupported version ${String(f.version)}`);
  }
  const { kdf, cipher } = f;
  if (typeof kdf !== 'object' || kdf === null || kdf.name !== 'scrypt') {
    throw new RoamError('CODEC_VERSION', 'keystore: unsupported kdf');
  }
  if (typeof cipher !== 'object' || cipher === null || cipher.name !== 'aes-256-gcm') {
    throw new RoamError('CODEC_VERSION', 'keystore: unsupported cipher');
  }
  const params: ScryptParams = { N: kdf.N, r: kdf.r, p: kdf.p };
  const problem = checkScrypt(params);
  if (problem) throw new RoamError('CODEC_BAD_JSON', `keystore: bad scrypt parameters: ${problem}`);
  const salt = unb64(kdf.salt, 'kdf.salt');
  const nonce = unb64(cipher.nonce, 'cipher.nonce');
  const ct = unb64(f.ciphertext, 'ciphertext');
  if (salt.length < 16) throw new RoamError('CODEC_BAD_JSON', 'keystore: salt is too short');
  if (nonce.length !== NONCE_LENGTH)
    throw new RoamError('CODEC_BAD_JSON', 'keystore: nonce must be 12 bytes');
  if (ct.length < 16) throw new RoamError('CODEC_BAD_JSON', 'keystore: ciphertext is too short');
  return { params, salt, nonce, ct };
}

/** Write `data` to `path` atomically (same-directory temp file, fsync, rename), mode 0600. */
function writeFileAtomic(path: string, data: string): void {
  const tmp = join(dirname(path), `.${basename(path)}.${bytesToHex(randomBytes(6))}.tmp`);
  let fd: number | undefined;
  try {
    fd = openSync(tmp, 'wx', 0o600);
    fchmodSync(fd, 0o600); // the umask may have narrowed it; make it exact
    writeFileSync(fd, data);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    chmodSync(tmp, 0o600);
    renameSync(tmp, path);
  } catch (err) {
    if (fd !== undefined) closeSync(fd);
    try {
      unlinkSync(tmp);
    } catch {
      // already gone
    }
    throw err;
  }
  try {
    const dfd = openSync(dirname(path), 'r');
    try {
      fsyncSync(dfd);
    } finally {
      closeSync(dfd);
    }
  } catch {
    // directory fsync is best effort (not supported everywhere)
  }
}

export class Keystore {
  readonly path: string;
  #key: Uint8Array;
  #salt: Uint8Array;
  #params: ScryptParams;
  readonly #accounts: Map<string, AccountSecrets>;
  #closed = false;

  private constructor(
    path: string,
    key: Uint8Array,
    salt: Uint8Array,
    params: ScryptParams,
    accounts: Map<string, AccountSecrets>,
  ) {
    this.path = path;
    this.#key = key;
    this.#salt = salt;
    this.#params = params;
    this.#accounts = accounts;
  }

  /** Creates a new, empty keystore and writes it to `path`. Refuses to overwrite an existing file. */
  static async create(
    path: string,
    passphrase: string | Uint8Array,
    opts: KeystoreOptions = {},
  ): Promise<Keystore> {
    const params: ScryptParams = { ...DEFAULT_SCRYPT, ...opts.scrypt };
    const problem = checkScrypt(params);
    if (problem) throw new RoamError('BAD_REQUEST', `keystore: bad scrypt parameters: ${problem}`);
    if (existsSync(path)) throw new RoamError('BAD_REQUEST', `keystore: ${path} already exists`);
    const salt = randomBytes(SALT_LENGTH);
    const key = await deriveKey(passphrase, salt, params);
    const ks = new Keystore(path, key, salt, params, new Map());
    ks.save();
    return ks;
  }

  /** Opens and decrypts an existing keystore. Wrong passphrase: RoamError KEYSTORE_BAD_PASSPHRASE. */
  static async open(path: string, passphrase: string | Uint8Array): Promise<Keystore> {
    const { params, salt, nonce, ct } = parseFile(readFileSync(path, 'utf8'));
    const key = await deriveKey(passphrase, salt, params);
    let pt: Uint8Array;
    try {
      pt = gcm(key, nonce, AAD).decrypt(ct);
    } catch {
      key.fill(0);
      throw new RoamError('KEYSTORE_BAD_PASSPHRASE', 'Wrong keystore passphrase (or the file was altered)');
    }
    try {
      return new Keystore(path, key, salt, params, decodeAccounts(pt));
    } finally {
      pt.fill(0);
    }
  }

  /** The scrypt parameters the file is (or will be) written with. */
  get scrypt(): ScryptParams {
    return { ...this.#params };
  }

  /** Is the file's scrypt cost below the current default (e.g. a file written with N = 2^15)? */
  get weakerThanDefault(): boolean {
    return (
      this.#params.N * this.#params.r * this.#params.p <
      DEFAULT_SCRYPT.N * DEFAULT_SCRYPT.r * DEFAULT_SCRYPT.p
    );
  }

  /**
   * Re-derives the key with `params` (default: DEFAULT_SCRYPT) under a fresh salt and saves at
   * once, so the file's stored parameters always match the key that encrypted it.
   */
  async rekey(passphrase: string | Uint8Array, params: Partial<ScryptParams> = {}): Promise<void> {
    this.#live();
    const next: ScryptParams = { ...DEFAULT_SCRYPT, ...params };
    const problem = checkScrypt(next);
    if (problem) throw new RoamError('BAD_REQUEST', `keystore: bad scrypt parameters: ${problem}`);
    const salt = randomBytes(SALT_LENGTH);
    const key = await deriveKey(passphrase, salt, next);
    this.#key.fill(0);
    this.#key = key;
    this.#salt = salt;
    this.#params = next;
    this.save();
  }

  #live(): void {
    if (this.#closed) throw new RoamError('BAD_REQUEST', 'keystore is closed');
  }

  /** Adds an account (kept in memory until save()). Throws if the name is taken; the secrets are copied. */
  add(name: string, secrets: AccountSecrets): void {
    this.#live();
    checkName(name);
    const signingSecret = checkSecret(secrets.signingSecret, 'signingSecret').slice();
    const encryptionSecret = checkSecret(secrets.encryptionSecret, 'encryptionSecret').slice();
    if (this.#accounts.has(name)) throw new RoamError('BAD_REQUEST', `keystore already has ${name}`);
    this.#accounts.set(name, { signingSecret, encryptionSecret });
  }

  /** Adds an account with fresh random keys (kept in memory until save()) and returns its keys. */
  generate(name: string): AccountKeys {
    this.add(name, {
      signingSecret: randomBytes(SECRET_LENGTH),
      encryptionSecret: randomBytes(SECRET_LENGTH),
    });
    return this.get(name);
  }

  /** Copies of the account's secrets plus its public keys. Unknown name: RoamError KEYSTORE_NO_KEY. */
  get(name: string): AccountKeys {
    this.#live();
    const acct = this.#accounts.get(name);
    if (!acct) throw new RoamError('KEYSTORE_NO_KEY', `No key named ${name} in the keystore`);
    return {
      signingSecret: acct.signingSecret.slice(),
      encryptionSecret: acct.encryptionSecret.slice(),
      signingPublic: ed25519.getPublicKey(acct.signingSecret),
      encryptionPublic: x25519.getPublicKey(acct.encryptionSecret),
    };
  }

  has(name: string): boolean {
    this.#live();
    return this.#accounts.has(name);
  }

  /** Removes an account (in memory until save()); returns whether it existed. */
  remove(name: string): boolean {
    this.#live();
    const acct = this.#accounts.get(name);
    if (!acct) return false;
    acct.signingSecret.fill(0);
    acct.encryptionSecret.fill(0);
    return this.#accounts.delete(name);
  }

  /** Account names, sorted. */
  list(): string[] {
    this.#live();
    return [...this.#accounts.keys()].sort();
  }

  /** Encrypts with a fresh nonce and writes the file atomically with mode 0600. */
  save(): void {
    this.#live();
    const pt = encodeAccounts(this.#accounts);
    const nonce = randomBytes(NONCE_LENGTH);
    let ct: Uint8Array;
    try {
      ct = gcm(this.#key, nonce, AAD).encrypt(pt);
    } finally {
      pt.fill(0);
    }
    const file: KeystoreFile = {
      version: KEYSTORE_VERSION,
      kdf: { name: 'scrypt', ...this.#params, salt: b64(this.#salt) },
      cipher: { name: 'aes-256-gcm', nonce: b64(nonce) },
      ciphertext: b64(ct),
    };
    writeFileAtomic(this.path, `${JSON.stringify(file, null, 2)}\n`);
  }

  /** Wipes the derived key and all secrets from memory; the instance is unusable afterwards. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#key.fill(0);
    for (const a of this.#accounts.values()) {
      a.signingSecret.fill(0);
      a.encryptionSecret.fill(0);
    }
    this.#accounts.clear();
  }

  /** Never serialise secrets by accident. */
  toJSON(): { path: string; accounts: string[] } {
    return { path: this.path, accounts: this.#closed ? [] : this.list() };
  }
}
