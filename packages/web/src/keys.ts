/**
 * The wallet's keys, kept in the browser: passphrase-encrypted vault entries, one per key (WebCrypto
 * PBKDF2-SHA-256, 600,000 iterations → AES-256-GCM, the parameters stored with each ciphertext) in
 * localStorage, or the devnet's public demo keys (derived from
 * the public seed "roamchain-devnet", exactly like packages/devnet/src/devnet.ts: anyone can sign
 * with them, so they are for the local devnet only). Request ephemeral secrets (needed to open the
 * provisioning data) and the identity disclosures are kept in the same vault.
 */
import {
  bytesToHex,
  generateEncryptionKey,
  generateSigningKey,
  hexToBytes,
  randomBytes,
  sha256,
  utf8,
} from '@roamchain/protocol';

export const DEVNET_SEED = 'roamchain-devnet';
export const DEMO_SUBSCRIBERS = ['alice', 'bob', 'chen', 'deniz', 'emma'];
export const DEMO_OPERATORS = [
  'telco-de',
  'telco-fr',
  'telco-tr',
  'telco-th',
  'telco-us',
  'telco-de2',
  'telco-fr2',
];

export interface Keys {
  name: string;
  signingSecret: Uint8Array;
  encryptionSecret: Uint8Array;
  signingKey: string;
  encryptionKey: string;
  demo: boolean;
}

function keysOf(name: string, signingSecret: Uint8Array, encryptionSecret: Uint8Array, demo: boolean): Keys {
  return {
    name,
    signingSecret,
    encryptionSecret,
    signingKey: bytesToHex(generateSigningKey(signingSecret).publicKey),
    encryptionKey: bytesToHex(generateEncryptionKey(encryptionSecret).publicKey),
    demo,
  };
}

/** The devnet's public demo keys of an account. */
export function demoKeys(name: string): Keys {
  return keysOf(
    name,
    sha256(utf8(`${DEVNET_SEED}/sign/${name}`)),
    sha256(utf8(`${DEVNET_SEED}/enc/${name}`)),
    true,
  );
}

export function freshKeys(name: string): Keys {
  return keysOf(name, randomBytes(32), randomBytes(32), false);
}

export function importKeys(name: string, signingHex: string, encryptionHex: string): Keys {
  const s = hexToBytes(signingHex.trim());
  const e = hexToBytes(encryptionHex.trim());
  if (s.length !== 32 || e.length !== 32) throw new Error('secrets must be 32 bytes of hex each');
  return keysOf(name, s, e, false);
}

// ---------- vault ----------
//
// localStorage `roamchain.wallet.v2`: { version: 2, entries: VaultEntry[] }, one entry per key, each
// under its own passphrase. An entry carries the KDF parameters its key was derived with, next to
// the ciphertext; a save always writes the parameters of the key it holds. Unlocking an entry
// written with weaker parameters than KDF_ITERATIONS (e.g. the v1 vault's 310,000) re-derives with
// the current parameters and a fresh salt and rewrites it at once. The single-key v1 vault
// (`roamchain.wallet.v1`) is read as one entry and moved into v2 on unlock.

const VAULT_V1 = 'roamchain.wallet.v1';
const VAULT = 'roamchain.wallet.v2';
const DEMO = 'roamchain.wallet.demo';
/** PBKDF2-SHA-256 rounds: OWASP 2023 guidance (WebCrypto has no scrypt/Argon2id). */
export const KDF_ITERATIONS = 600_000;
/** Refuse crafted entries that would make unlocking run for minutes. */
const MAX_ITERATIONS = 10_000_000;
const MIN_ITERATIONS = 100_000;

/** One encrypted key, as stored and as exported (an encrypted backup). */
export interface VaultEntry {
  name: string;
  kdf: { name: 'PBKDF2-SHA256'; iterations: number; salt: string };
  cipher: { name: 'AES-256-GCM'; iv: string };
  ct: string;
}

interface VaultFileV1 {
  kdf: 'PBKDF2-SHA256';
  iterations: number;
  salt: string;
  iv: string;
  ct: string;
  name: string;
}

interface VaultData extends WalletState {
  name: string;
  signingSecret: string;
  encryptionSecret: string;
}

/** A key of that name is already stored: replacing it needs an explicit `replace`. */
export class VaultExistsError extends Error {
  constructor(readonly accountName: string) {
    super(`a key named “${accountName}” is already stored in this browser`);
  }
}

const buf = (b: Uint8Array): ArrayBuffer => b.slice().buffer as ArrayBuffer;
const isHex = (s: unknown): s is string => typeof s === 'string' && /^([0-9a-f]{2})+$/.test(s);

async function deriveKey(passphrase: string, salt: Uint8Array, iterations: number): Promise<CryptoKey> {
  const base = await crypto.subtle.importKey('raw', buf(utf8(passphrase)), 'PBKDF2', false, ['deriveKey']);
  return crypto.subtle.deriveKey(
    { name: 'PBKDF2', hash: 'SHA-256', salt: buf(salt), iterations },
    base,
    { name: 'AES-GCM', length: 256 },
    false,
    ['encrypt', 'decrypt'],
  );
}

/** Checks the shape of an entry from storage or from a backup file (hostile until checked). */
export function parseEntry(j: unknown): VaultEntry {
  const e = j as Partial<VaultEntry> | null;
  const bad = (why: string): never => {
    throw new Error(`not a roamchain wallet backup: ${why}`);
  };
  if (typeof e !== 'object' || e === null) return bad('not an object');
  if (typeof e.name !== 'string' || !/^[a-z][a-z0-9-]{1,30}[a-z0-9]$/.test(e.name)) return bad('name');
  const k = e.kdf;
  if (k?.name !== 'PBKDF2-SHA256' || !isHex(k.salt) || k.salt.length < 32) return bad('kdf');
  if (!Number.isSafeInteger(k.iterations) || k.iterations < MIN_ITERATIONS || k.iterations > MAX_ITERATIONS)
    return bad('kdf iterations');
  if (e.cipher?.name !== 'AES-256-GCM' || !isHex(e.cipher.iv) || e.cipher.iv.length !== 24)
    return bad('cipher');
  if (!isHex(e.ct) || e.ct.length < 34) return bad('ciphertext');
  return {
    name: e.name,
    kdf: { name: 'PBKDF2-SHA256', iterations: k.iterations, salt: k.salt },
    cipher: { name: 'AES-256-GCM', iv: e.cipher.iv },
    ct: e.ct,
  };
}

function fromV1(f: VaultFileV1): VaultEntry {
  return parseEntry({
    name: f.name,
    kdf: { name: 'PBKDF2-SHA256', iterations: f.iterations, salt: f.salt },
    cipher: { name: 'AES-256-GCM', iv: f.iv },
    ct: f.ct,
  });
}

/** All stored entries (v2 plus a not yet migrated v1 vault); unreadable entries are skipped. */
function readEntries(): VaultEntry[] {
  const out: VaultEntry[] = [];
  try {
    const j = JSON.parse(localStorage.getItem(VAULT) ?? 'null') as { entries?: unknown[] } | null;
    for (const e of j?.entries ?? []) {
      try {
        out.push(parseEntry(e));
      } catch {
        // skip a damaged entry rather than hide the others
      }
    }
  } catch {
    // no v2 vault
  }
  try {
    const v1 = localStorage.getItem(VAULT_V1);
    if (v1) {
      const e = fromV1(JSON.parse(v1) as VaultFileV1);
      if (!out.some((x) => x.name === e.name)) out.push(e);
    }
  } catch {
    // damaged v1 vault
  }
  return out;
}

function writeEntry(entry: VaultEntry): void {
  const rest = readEntries().filter((e) => e.name !== entry.name);
  localStorage.setItem(VAULT, JSON.stringify({ version: 2, entries: [...rest, entry] }));
  // A migrated v1 vault now lives in v2.
  try {
    const v1 = localStorage.getItem(VAULT_V1);
    if (v1 && (JSON.parse(v1) as VaultFileV1).name === entry.name) localStorage.removeItem(VAULT_V1);
  } catch {
    localStorage.removeItem(VAULT_V1);
  }
}

/** What the subscriber may reveal to a visited operator (from the home operator's attestation). */
export interface Identity {
  /** Canonical disclosure strings `[salt, claim, value]`. */
  disclosures: string[];
  /** The device's eUICC id sent with each Request. */
  eid: string;
}

/** What a wallet stores besides its keys. */
export interface WalletState {
  /** Contract id → Request ephemeral secret (hex). */
  ephemeral: Record<string, string>;
  identity?: Identity;
}

/** A fresh 32-digit EID for this wallet's device. */
export function randomEid(): string {
  return `89049032${Array.from(randomBytes(24), (b) => String(b % 10)).join('')}`;
}

/** An open wallet: its keys, the Request ephemeral secrets and identity disclosures, saved back on change. */
export class Wallet {
  readonly keys: Keys;
  #state: WalletState;
  readonly #save: (w: Wallet) => Promise<void>;

  constructor(keys: Keys, state: WalletState, save: (w: Wallet) => Promise<void>) {
    this.keys = keys;
    this.#state = {
      ephemeral: { ...state.ephemeral },
      ...(state.identity ? { identity: state.identity } : {}),
    };
    this.#save = save;
  }

  ephemeralSecret(contractId: string): Uint8Array | undefined {
    const h = this.#state.ephemeral[contractId];
    return h ? hexToBytes(h) : undefined;
  }

  async keepEphemeral(contractId: string, secret: Uint8Array): Promise<void> {
    this.#state.ephemeral[contractId] = bytesToHex(secret);
    await this.#save(this);
  }

  get identity(): Identity | undefined {
    return this.#state.identity;
  }

  async setIdentity(identity: Identity | undefined): Promise<void> {
    const { identity: _old, ...rest } = this.#state;
    this.#state = identity ? { ...rest, identity } : rest;
    await this.#save(this);
  }

  state(): WalletState {
    return this.#state;
  }

  /** Writes the wallet back (the vault re-encrypts with a fresh IV). */
  save(): Promise<void> {
    return this.#save(this);
  }
}

/** The keys stored in this browser (names only; each is encrypted under its own passphrase). */
export function storedVaults(): { name: string; iterations: number }[] {
  return readEntries().map((e) => ({ name: e.name, iterations: e.kdf.iterations }));
}

/** A key derived with `iterations` and `salt`, and the saver that writes exactly those parameters. */
function saverFor(key: CryptoKey, salt: Uint8Array, iterations: number) {
  return async (w: Wallet): Promise<void> => {
    const data: VaultData = {
      name: w.keys.name,
      signingSecret: bytesToHex(w.keys.signingSecret),
      encryptionSecret: bytesToHex(w.keys.encryptionSecret),
      ...w.state(),
    };
    const iv = randomBytes(12);
    const ct = new Uint8Array(
      await crypto.subtle.encrypt({ name: 'AES-GCM', iv: buf(iv) }, key, buf(utf8(JSON.stringify(data)))),
    );
    writeEntry({
      name: w.keys.name,
      kdf: { name: 'PBKDF2-SHA256', iterations, salt: bytesToHex(salt) },
      cipher: { name: 'AES-256-GCM', iv: bytesToHex(iv) },
      ct: bytesToHex(ct),
    });
  };
}

async function sealNew(keys: Keys, state: WalletState, passphrase: string): Promise<Wallet> {
  const salt = randomBytes(16);
  const key = await deriveKey(passphrase, salt, KDF_ITERATIONS);
  const w = new Wallet(keys, state, saverFor(key, salt, KDF_ITERATIONS));
  await w.save();
  return w;
}

/**
 * Encrypts `keys` under `passphrase` and stores them beside the other keys. A key of the same name
 * is replaced only with `replace: true` (else VaultExistsError).
 */
export async function createVault(
  keys: Keys,
  passphrase: string,
  opts: { replace?: boolean } = {},
): Promise<Wallet> {
  if (passphrase.length < 8) throw new Error('the passphrase needs at least 8 characters');
  if (!opts.replace && readEntries().some((e) => e.name === keys.name)) throw new VaultExistsError(keys.name);
  return sealNew(keys, { ephemeral: {} }, passphrase);
}

async function openEntry(f: VaultEntry, passphrase: string): Promise<Wallet> {
  const salt = hexToBytes(f.kdf.salt);
  const key = await deriveKey(passphrase, salt, f.kdf.iterations);
  let plain: ArrayBuffer;
  try {
    plain = await crypto.subtle.decrypt(
      { name: 'AES-GCM', iv: buf(hexToBytes(f.cipher.iv)) },
      key,
      buf(hexToBytes(f.ct)),
    );
  } catch {
    throw new Error('wrong passphrase');
  }
  const d = JSON.parse(new TextDecoder().decode(plain)) as VaultData;
  if (d.name !== f.name) throw new Error('the vault entry does not match its name');
  const keys = keysOf(d.name, hexToBytes(d.signingSecret), hexToBytes(d.encryptionSecret), false);
  const state: WalletState = {
    ephemeral: d.ephemeral ?? {},
    ...(d.identity ? { identity: d.identity } : {}),
  };
  // Weaker (older) parameters: re-derive with the current ones under a fresh salt and rewrite now.
  if (f.kdf.iterations < KDF_ITERATIONS) return sealNew(keys, state, passphrase);
  return new Wallet(keys, state, saverFor(key, salt, f.kdf.iterations));
}

/** Opens the stored key `name` (default: the only or first stored key). */
export async function unlockVault(passphrase: string, name?: string): Promise<Wallet> {
  const entries = readEntries();
  const f = name === undefined ? entries[0] : entries.find((e) => e.name === name);
  if (!f)
    throw new Error(name ? `no key named “${name}” in this browser` : 'no wallet stored in this browser');
  return openEntry(f, passphrase);
}

export function forgetVault(name: string): void {
  const rest = readEntries().filter((e) => e.name !== name);
  localStorage.setItem(VAULT, JSON.stringify({ version: 2, entries: rest }));
  try {
    const v1 = localStorage.getItem(VAULT_V1);
    if (v1 && (JSON.parse(v1) as VaultFileV1).name === name) localStorage.removeItem(VAULT_V1);
  } catch {
    localStorage.removeItem(VAULT_V1);
  }
}

/** The encrypted backup of a stored key (the entry as stored: useless without its passphrase). */
export function exportVault(name: string): string {
  const e = readEntries().find((x) => x.name === name);
  if (!e) throw new Error(`no key named “${name}” in this browser`);
  return `${JSON.stringify({ roamchainWalletBackup: 1, ...e }, null, 2)}\n`;
}

/**
 * Restores an encrypted backup: checks the passphrase opens it before storing it, and replaces a
 * stored key of the same name only with `replace: true`.
 */
export async function importBackup(
  text: string,
  passphrase: string,
  opts: { replace?: boolean } = {},
): Promise<Wallet> {
  let j: unknown;
  try {
    j = JSON.parse(text);
  } catch {
    throw new Error('not a roamchain wallet backup: not JSON');
  }
  const entry = parseEntry(j);
  if (!opts.replace && readEntries().some((e) => e.name === entry.name))
    throw new VaultExistsError(entry.name);
  const w = await openEntry(entry, passphrase);
  await w.save();
  return w;
}

/** A demo wallet: public keys, so its ephemeral secrets and disclosures are stored unencrypted too. */
export function demoWallet(name: string): Wallet {
  const k = `${DEMO}.${name}`;
  let state: WalletState = { ephemeral: {} };
  try {
    const j = JSON.parse(localStorage.getItem(k) ?? '{}') as Partial<WalletState>;
    state = { ephemeral: j.ephemeral ?? {}, ...(j.identity ? { identity: j.identity } : {}) };
  } catch {
    state = { ephemeral: {} };
  }
  return new Wallet(demoKeys(name), state, async (w) => {
    localStorage.setItem(k, JSON.stringify(w.state()));
  });
}
