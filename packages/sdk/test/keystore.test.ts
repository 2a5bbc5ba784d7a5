import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ed25519, x25519 } from '@noble/curves/ed25519.js';
import { randomBytes } from '@noble/hashes/utils.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Keystore, passphraseFromEnv } from '../src/keystore.js';

const FAST = { scrypt: { N: 2 ** 10 } };
const PASS = 'correct horse battery staple';

let dir: string;
let file: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'roam-ks-'));
  file = join(dir, 'keys.json');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const secrets = () => ({ signingSecret: randomBytes(32), encryptionSecret: randomBytes(32) });

describe('Keystore', () => {
  it('round trips accounts through the file', async () => {
    const ks = await Keystore.create(file, PASS, FAST);
    const alice = secrets();
    const bob = secrets();
    ks.add('alice', alice);
    ks.add('bob-operator', bob);
    ks.save();

    const again = await Keystore.open(file, PASS);
    expect(again.list()).toEqual(['alice', 'bob-operator']);
    const a = again.get('alice');
    expect(a.signingSecret).toEqual(alice.signingSecret);
    expect(a.encryptionSecret).toEqual(alice.encryptionSecret);
    expect(a.signingPublic).toEqual(ed25519.getPublicKey(alice.signingSecret));
    expect(a.encryptionPublic).toEqual(x25519.getPublicKey(alice.encryptionSecret));
    expect(again.get('bob-operator').signingSecret).toEqual(bob.signingSecret);
  });

  it('writes the documented JSON format with the scrypt parameters', async () => {
    const ks = await Keystore.create(file, PASS, FAST);
    ks.generate('alice');
    ks.save();
    const j = JSON.parse(readFileSync(file, 'utf8'));
    expect(j).toMatchObject({
      version: 1,
      kdf: { name: 'scrypt', N: 1024, r: 8, p: 1 },
      cipher: { name: 'aes-256-gcm' },
    });
    expect(Buffer.from(j.kdf.salt, 'base64').length).toBeGreaterThanOrEqual(16);
    expect(Buffer.from(j.cipher.nonce, 'base64').length).toBe(12);
    expect(typeof j.ciphertext).toBe('string');
  });

  it('file mode is 0600 and no temp files are left behind', async () => {
    const ks = await Keystore.create(file, PASS, FAST);
    ks.generate('alice');
    ks.save();
    if (process.platform !== 'win32') expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir)).toEqual(['keys.json']);
  });

  it('wrong passphrase throws KEYSTORE_BAD_PASSPHRASE', async () => {
    const ks = await Keystore.create(file, PASS, FAST);
    ks.generate('alice');
    ks.save();
    await expect(Keystore.open(file, 'wrong')).rejects.toMatchObject({ code: 'KEYSTORE_BAD_PASSPHRASE' });
  });

  it('a tampered file fails to open', async () => {
    const ks = await Keystore.create(file, PASS, FAST);
    ks.generate('alice');
    ks.save();
    const j = JSON.parse(readFileSync(file, 'utf8'));
    const ct = Buffer.from(j.ciphertext, 'base64');
    ct[0]! ^= 1;
    j.ciphertext = ct.toString('base64');
    writeFileSync(file, JSON.stringify(j));
    await expect(Keystore.open(file, PASS)).rejects.toMatchObject({ code: 'KEYSTORE_BAD_PASSPHRASE' });
    writeFileSync(file, '{"version":2}');
    await expect(Keystore.open(file, PASS)).rejects.toMatchObject({ code: 'CODEC_VERSION' });
    writeFileSync(file, 'nope');
    await expect(Keystore.open(file, PASS)).rejects.toMatchObject({ code: 'CODEC_BAD_JSON' });
  });

  it('refuses absurd scrypt parameters from the file', async () => {
    const ks = await Keystore.create(file, PASS, FAST);
    ks.save();
    const j = JSON.parse(readFileSync(file, 'utf8'));
    j.kdf.N = 2 ** 30;
    writeFileSync(file, JSON.stringify(j));
    await expect(Keystore.open(file, PASS)).rejects.toMatchObject({ code: 'CODEC_BAD_JSON' });
  });

  it('the file does not contain the secrets in hex or base64', async () => {
    const ks = await Keystore.create(file, PASS, FAST);
    const s = secrets();
    ks.add('alice', s);
    ks.save();
    const text = readFileSync(file, 'utf8');
    const raw = readFileSync(file);
    for (const secret of [s.signingSecret, s.encryptionSecret]) {
      const b = Buffer.from(secret);
      for (const enc of [b.toString('hex'), b.toString('base64'), b.toString('base64url')]) {
        expect(text.includes(enc)).toBe(false);
        // also no long fragment (base64 of a sub-slice aligned differently)
        expect(text.includes(enc.slice(4, 24))).toBe(false);
      }
      expect(text.toLowerCase().includes(b.toString('hex').slice(0, 16))).toBe(false);
      expect(raw.includes(b)).toBe(false);
    }
  });

  it('create refuses to overwrite; get of an unknown name throws KEYSTORE_NO_KEY; add rejects duplicates', async () => {
    const ks = await Keystore.create(file, PASS, FAST);
    await expect(Keystore.create(file, PASS, FAST)).rejects.toThrow(/exists/);
    expect(() => ks.get('nobody')).toThrow(expect.objectContaining({ code: 'KEYSTORE_NO_KEY' }));
    ks.add('alice', secrets());
    expect(() => ks.add('alice', secrets())).toThrow(/already/);
    expect(() =>
      ks.add('bad', { signingSecret: new Uint8Array(31), encryptionSecret: randomBytes(32) }),
    ).toThrow();
    expect(ks.remove('alice')).toBe(true);
    expect(ks.has('alice')).toBe(false);
  });

  it('get returns copies; close wipes and disables', async () => {
    const ks = await Keystore.create(file, PASS, FAST);
    const s = secrets();
    ks.add('alice', s);
    ks.get('alice').signingSecret.fill(0);
    expect(ks.get('alice').signingSecret).toEqual(s.signingSecret);
    expect(JSON.stringify(ks)).not.toContain(Buffer.from(s.signingSecret).toString('hex'));
    ks.close();
    expect(() => ks.get('alice')).toThrow(/closed/);
  });

  it('save replaces the file atomically and re-encrypts with a fresh nonce', async () => {
    const ks = await Keystore.create(file, PASS, FAST);
    const n1 = JSON.parse(readFileSync(file, 'utf8')).cipher.nonce;
    ks.generate('alice');
    ks.save();
    const n2 = JSON.parse(readFileSync(file, 'utf8')).cipher.nonce;
    expect(n1).not.toBe(n2);
    expect((await Keystore.open(file, PASS)).list()).toEqual(['alice']);
    expect(existsSync(file)).toBe(true);
  });

  it('default scrypt cost is N = 2^17, r = 8, p = 1 (OWASP 2023)', async () => {
    const ks = await Keystore.create(file, PASS);
    expect(JSON.parse(readFileSync(file, 'utf8')).kdf).toMatchObject({ N: 2 ** 17, r: 8, p: 1 });
    expect(ks.weakerThanDefault).toBe(false);
  });

  it('opens a keystore written with older parameters and re-derives on rekey (file params match the key)', async () => {
    const old = await Keystore.create(file, PASS, { scrypt: { N: 2 ** 15 } });
    const alice = old.generate('alice');
    old.save();
    old.close();
    const ks = await Keystore.open(file, PASS);
    expect(ks.weakerThanDefault).toBe(true);
    await ks.rekey(PASS);
    expect(JSON.parse(readFileSync(file, 'utf8')).kdf).toMatchObject({ N: 2 ** 17, r: 8, p: 1 });
    ks.generate('bob');
    ks.save(); // a later save keeps the new parameters with the new key
    ks.close();
    const again = await Keystore.open(file, PASS);
    expect(again.weakerThanDefault).toBe(false);
    expect(again.list()).toEqual(['alice', 'bob']);
    expect(again.get('alice').signingPublic).toEqual(alice.signingPublic);
    await expect(Keystore.open(file, 'not the passphrase')).rejects.toThrow(/passphrase/i);
  });
});

describe('passphraseFromEnv', () => {
  it('reads the variable, undefined when unset or empty', () => {
    const name = 'ROAMCHAIN_TEST_PASSPHRASE_X';
    delete process.env[name];
    expect(passphraseFromEnv(name)).toBeUndefined();
    process.env[name] = '';
    expect(passphraseFromEnv(name)).toBeUndefined();
    process.env[name] = 'hunter2';
    expect(passphraseFromEnv(name)).toBe('hunter2');
    delete process.env[name];
  });
});
