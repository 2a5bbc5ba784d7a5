/**
 * The wallet's keys, kept in the browser: a passphrase-encrypted vault (WebCrypto PBKDF2-SHA-256,
 * 310,000 iterations → AES-256-GCM) in localStorage, or the devnet's public demo keys (derived from
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

const VAULT = 'roamchain.wallet.v1';
const DEMO = 'roamchain.wallet.demo';
const ITERATIONS = 310_000;

interface VaultFile {
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

const buf = (b: Uint8Array): ArrayBuffer => b.slice().buffer as ArrayBuffer;

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
}

export function storedVault(): { name: string } | undefined {
  const raw = localStorage.getItem(VAULT);
  if (!raw) return undefined;
  try {
    return { name: (JSON.parse(raw) as VaultFile).name };
  } catch {
    return undefined;
  }
}

async function writeVault(key: CryptoKey, salt: Uint8Array, w: Wallet): Promise<void> {
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
  const file: VaultFile = {
    kdf: 'PBKDF2-SHA256',
    iterations: ITERATIONS,
    salt: bytesToHex(salt),
    iv: bytesToHex(iv),
    ct: bytesToHex(ct),
    name: w.keys.name,
  };
  localStorage.setItem(VAULT, JSON.stringify(file));
}

/** Encrypts `keys` under `passphrase` and stores them (replacing any stored wallet). */
export async function createVault(keys: Keys, passphrase: string): Promise<Wallet> {
  if (passphrase.length < 8) throw new Error('the passphrase needs at least 8 characters');
  const salt = randomBytes(16);
  const key = await deriveKey(passphrase, salt, ITERATIONS);
  const w = new Wallet(keys, { ephemeral: {} }, (x) => writeVault(key, salt, x));
  await writeVault(key, salt, w);
  return w;
}

export async function unlockVault(passphrase: string): Promise<Wallet> {
  const raw = localStorage.getItem(VAULT);
  if (!raw) throw new Error('no wallet stored in this browser');
  const f = JSON.parse(raw) as VaultFile;
  const salt = hexToBytes(f.salt);
  const key = await deriveKey(passphrase, salt, f.iterations);
  let plain: ArrayBuffer;
  try {
    plain = await crypto.subtle.decrypt(
      { name: 'AES-GCM', iv: buf(hexToBytes(f.iv)) },
      key,
      buf(hexToBytes(f.ct)),
    );
  } catch {
    throw new Error('wrong passphrase');
  }
  const d = JSON.parse(new TextDecoder().decode(plain)) as VaultData;
  const keys = keysOf(d.name, hexToBytes(d.signingSecret), hexToBytes(d.encryptionSecret), false);
  return new Wallet(
    keys,
    { ephemeral: d.ephemeral ?? {}, ...(d.identity ? { identity: d.identity } : {}) },
    (x) => writeVault(key, salt, x),
  );
}

export function forgetVault(): void {
  localStorage.removeItem(VAULT);
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
