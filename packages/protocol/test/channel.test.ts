import { describe, expect, it } from 'vitest';
import {
  BOX_OVERHEAD,
  deriveChannelKey,
  generateX25519,
  openBox,
  openForContract,
  openWithKey,
  SEALED_OVERHEAD,
  sealBox,
  sealForContract,
  sealToKey,
  x25519PublicKey,
} from '../src/crypto/channel.js';
import { bytesToHex, equalBytes, hexToBytes } from '../src/hex.js';

const utf8 = (s: string) => new TextEncoder().encode(s);
const contractId = new Uint8Array(32).fill(7);
const otherContractId = new Uint8Array(32).fill(8);

function parties() {
  const requester = generateX25519(); // the Request's ephemeral key
  const assignee = generateX25519(); // the visited operator's on-chain encryption key
  const eve = generateX25519();
  return { requester, assignee, eve };
}

function flip(b: Uint8Array, i: number): Uint8Array {
  const c = b.slice();
  c[i]! ^= 0x01;
  return c;
}

describe('X25519 keys', () => {
  it('public key matches the secret', () => {
    const kp = generateX25519();
    expect(kp.secretKey.length).toBe(32);
    expect(equalBytes(x25519PublicKey(kp.secretKey), kp.publicKey)).toBe(true);
  });

  it('RFC 7748 test vector', () => {
    const alice = hexToBytes('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a');
    expect(x25519PublicKey(alice)).toEqual(
      hexToBytes('8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a'),
    );
  });
});

describe('deriveChannelKey', () => {
  it('both sides derive the same 32-byte key, bound to contract and info', () => {
    const { requester, assignee } = parties();
    const k1 = deriveChannelKey(requester.secretKey, assignee.publicKey, contractId, 'request');
    const k2 = deriveChannelKey(assignee.secretKey, requester.publicKey, contractId, 'request');
    expect(k1.length).toBe(32);
    expect(k1).toEqual(k2);
    expect(deriveChannelKey(requester.secretKey, assignee.publicKey, otherContractId, 'request')).not.toEqual(
      k1,
    );
    expect(deriveChannelKey(requester.secretKey, assignee.publicKey, contractId, 'memo')).not.toEqual(k1);
  });

  it('rejects low-order public keys (all-zero shared secret)', () => {
    const { requester } = parties();
    const lowOrder = [
      new Uint8Array(32),
      hexToBytes('0100000000000000000000000000000000000000000000000000000000000000'),
      hexToBytes('e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800'),
      hexToBytes('ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f'),
    ];
    for (const pub of lowOrder) {
      expect(() => deriveChannelKey(requester.secretKey, pub, contractId, 'request')).toThrow(/low order/);
    }
  });

  it('rejects wrong lengths', () => {
    const { requester, assignee } = parties();
    expect(() =>
      deriveChannelKey(requester.secretKey, assignee.publicKey, new Uint8Array(31), 'x'),
    ).toThrow();
    expect(() =>
      deriveChannelKey(requester.secretKey.subarray(1), assignee.publicKey, contractId, 'x'),
    ).toThrow();
  });
});

describe('sealBox / openBox', () => {
  const key = new Uint8Array(32).fill(1);
  const aad = utf8('aad');

  it('round trips, with nonce || ct || tag layout', () => {
    const pt = utf8('hello');
    const box = sealBox(key, pt, aad);
    expect(box.length).toBe(pt.length + BOX_OVERHEAD);
    expect(openBox(key, box, aad)).toEqual(pt);
    expect(openBox(key, sealBox(key, new Uint8Array(0), aad), aad)).toEqual(new Uint8Array(0));
  });

  it('fails on tampering, wrong aad, wrong key, truncation', () => {
    const box = sealBox(key, utf8('hello'), aad);
    for (let i = 0; i < box.length; i++) expect(() => openBox(key, flip(box, i), aad)).toThrow();
    expect(() => openBox(key, box, utf8('aae'))).toThrow();
    expect(() => openBox(new Uint8Array(32).fill(2), box, aad)).toThrow();
    expect(() => openBox(key, box.subarray(0, BOX_OVERHEAD - 1), aad)).toThrow(/too short/);
  });

  it('rejects keys that are not 32 bytes', () => {
    expect(() => sealBox(new Uint8Array(16), utf8('x'), aad)).toThrow();
  });
});

describe('sealForContract / openForContract', () => {
  const plaintext = utf8('IMSI 001010123456789, Ki redacted');

  it('round trips between the parties', () => {
    const { requester, assignee } = parties();
    const box = sealForContract({
      senderSecret: requester.secretKey,
      recipientPublic: assignee.publicKey,
      contractId,
      purpose: 'request',
      plaintext,
    });
    const opened = openForContract({
      recipientSecret: assignee.secretKey,
      senderPublic: requester.publicKey,
      contractId,
      purpose: 'request',
      box,
    });
    expect(opened).toEqual(plaintext);
  });

  it('a third party cannot open it', () => {
    const { requester, assignee, eve } = parties();
    const box = sealForContract({
      senderSecret: requester.secretKey,
      recipientPublic: assignee.publicKey,
      contractId,
      purpose: 'request',
      plaintext,
    });
    expect(() =>
      openForContract({
        recipientSecret: eve.secretKey,
        senderPublic: requester.publicKey,
        contractId,
        purpose: 'request',
        box,
      }),
    ).toThrow();
    // nor by claiming to be the sender
    expect(() =>
      openForContract({
        recipientSecret: assignee.secretKey,
        senderPublic: eve.publicKey,
        contractId,
        purpose: 'request',
        box,
      }),
    ).toThrow();
  });

  it('fails on tampered ciphertext, wrong contract id, wrong purpose', () => {
    const { requester, assignee } = parties();
    const box = sealForContract({
      senderSecret: requester.secretKey,
      recipientPublic: assignee.publicKey,
      contractId,
      purpose: 'provision',
      plaintext,
    });
    const open = (over: { box?: Uint8Array; contractId?: Uint8Array; purpose?: string }) =>
      openForContract({
        recipientSecret: assignee.secretKey,
        senderPublic: requester.publicKey,
        contractId: over.contractId ?? contractId,
        purpose: over.purpose ?? 'provision',
        box: over.box ?? box,
      });
    expect(open({})).toEqual(plaintext);
    expect(() => open({ box: flip(box, box.length - 1) })).toThrow();
    expect(() => open({ box: flip(box, 20) })).toThrow();
    expect(() => open({ box: flip(box, 0) })).toThrow(); // nonce
    expect(() => open({ contractId: otherContractId })).toThrow();
    expect(() => open({ purpose: 'memo' })).toThrow();
    expect(() => open({ purpose: 'request' })).toThrow();
  });

  it('two seals of the same plaintext differ', () => {
    const { requester, assignee } = parties();
    const args = {
      senderSecret: requester.secretKey,
      recipientPublic: assignee.publicKey,
      contractId,
      purpose: 'memo',
      plaintext,
    };
    const a = sealForContract(args);
    const b = sealForContract(args);
    expect(equalBytes(a, b)).toBe(false);
    expect(equalBytes(a.subarray(0, 12), b.subarray(0, 12))).toBe(false);
    const nonces = new Set<string>();
    for (let i = 0; i < 200; i++) nonces.add(bytesToHex(sealForContract(args).subarray(0, 12)));
    expect(nonces.size).toBe(200);
  });

  it('rejects malformed purposes', () => {
    const { requester, assignee } = parties();
    for (const purpose of ['', 'a/b', 'Request', 'x'.repeat(33)]) {
      expect(() =>
        sealForContract({
          senderSecret: requester.secretKey,
          recipientPublic: assignee.publicKey,
          contractId,
          purpose,
          plaintext,
        }),
      ).toThrow(/purpose/);
    }
  });
});

describe('sealToKey / openWithKey', () => {
  const context = utf8('memo:alice->bob');

  it('round trips; output is ephPub || nonce || ct', () => {
    const bob = generateX25519();
    const pt = utf8('private memo');
    const sealed = sealToKey(bob.publicKey, pt, context);
    expect(sealed.length).toBe(pt.length + SEALED_OVERHEAD);
    expect(openWithKey(bob.secretKey, sealed, context)).toEqual(pt);
  });

  it('uses a fresh ephemeral key each time', () => {
    const bob = generateX25519();
    const a = sealToKey(bob.publicKey, utf8('x'), context);
    const b = sealToKey(bob.publicKey, utf8('x'), context);
    expect(equalBytes(a.subarray(0, 32), b.subarray(0, 32))).toBe(false);
  });

  it('wrong key, wrong context or tampering fails', () => {
    const bob = generateX25519();
    const eve = generateX25519();
    const sealed = sealToKey(bob.publicKey, utf8('private memo'), context);
    expect(() => openWithKey(eve.secretKey, sealed, context)).toThrow();
    expect(() => openWithKey(bob.secretKey, sealed, utf8('memo:alice->eve'))).toThrow();
    for (const i of [0, 31, 32, 44, sealed.length - 1]) {
      expect(() => openWithKey(bob.secretKey, flip(sealed, i), context)).toThrow();
    }
    expect(() => openWithKey(bob.secretKey, sealed.subarray(0, SEALED_OVERHEAD - 1), context)).toThrow();
  });

  it('refuses a low-order recipient key', () => {
    expect(() => sealToKey(new Uint8Array(32), utf8('x'), context)).toThrow(/low order/);
  });
});
