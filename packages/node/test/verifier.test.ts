import { generateSigningKey, type SignatureVerifier, sign, verify } from '@roamchain/protocol';
import { afterAll, describe, expect, it } from 'vitest';
import { packItems, verifyPacked } from '../src/crypto/packing.js';
import {
  CachingVerifier,
  measureVerifyBound,
  sampleSignedItems,
  sodiumKeyPair,
  sodiumSign,
  sodiumVerifier,
  VerifierPool,
} from '../src/crypto/verifier.js';

const seed = new Uint8Array(32).fill(9);
const noble = generateSigningKey(seed);
const msg = new Uint8Array(32).fill(1);
const sig = sign(noble.secretKey, msg);

function flipped(b: Uint8Array, i = 0): Uint8Array {
  const c = Uint8Array.from(b);
  c[i]! ^= 1;
  return c;
}

describe('sodiumVerifier', () => {
  const v = sodiumVerifier();

  it('accepts a valid signature made by the pure-JS signer', () => {
    expect(v.verify(noble.publicKey, msg, sig)).toBe(true);
  });

  it('signs like the pure-JS signer (same public key, same deterministic signature)', () => {
    const kp = sodiumKeyPair(seed);
    expect(kp.publicKey).toEqual(noble.publicKey);
    expect(sodiumSign(kp.secretKey, msg)).toEqual(sig);
  });

  it('rejects a changed message, signature or key', () => {
    expect(v.verify(noble.publicKey, flipped(msg), sig)).toBe(false);
    expect(v.verify(noble.publicKey, msg, flipped(sig, 5))).toBe(false);
    expect(v.verify(noble.publicKey, msg, flipped(sig, 40))).toBe(false);
    expect(v.verify(generateSigningKey(new Uint8Array(32).fill(8)).publicKey, msg, sig)).toBe(false);
  });

  it('returns false, without throwing, on wrong lengths', () => {
    expect(v.verify(noble.publicKey.subarray(0, 31), msg, sig)).toBe(false);
    expect(v.verify(new Uint8Array(33), msg, sig)).toBe(false);
    expect(v.verify(noble.publicKey, msg, sig.subarray(0, 63))).toBe(false);
    expect(v.verify(noble.publicKey, msg, new Uint8Array(65))).toBe(false);
    expect(v.verify(new Uint8Array(0), new Uint8Array(0), new Uint8Array(0))).toBe(false);
  });

  it('verifies messages of any length, like the pure-JS verifier', () => {
    for (const len of [0, 1, 31, 33, 200]) {
      const m = new Uint8Array(len).fill(len);
      const s = sign(noble.secretKey, m);
      expect(v.verify(noble.publicKey, m, s)).toBe(true);
      expect(verify(noble.publicKey, m, s)).toBe(true);
    }
  });
});

describe('CachingVerifier', () => {
  function counting(inner: SignatureVerifier) {
    const c = {
      calls: 0,
      verify(pk: Uint8Array, m: Uint8Array, s: Uint8Array) {
        c.calls++;
        return inner.verify(pk, m, s);
      },
    };
    return c;
  }

  it('does not call the inner verifier again for a verified triple', () => {
    const inner = counting(sodiumVerifier());
    const v = new CachingVerifier(inner);
    expect(v.verify(noble.publicKey, msg, sig)).toBe(true);
    expect(v.verify(noble.publicKey, msg, sig)).toBe(true);
    expect(v.verify(Uint8Array.from(noble.publicKey), Uint8Array.from(msg), Uint8Array.from(sig))).toBe(true);
    expect(inner.calls).toBe(1);
    expect([v.hits, v.misses]).toEqual([2, 1]);
  });

  it('keys on all three parts: a cached signature does not vouch for another message or key', () => {
    const inner = counting(sodiumVerifier());
    const v = new CachingVerifier(inner);
    expect(v.verify(noble.publicKey, msg, sig)).toBe(true);
    expect(v.verify(noble.publicKey, flipped(msg), sig)).toBe(false);
    expect(v.verify(flipped(noble.publicKey), msg, sig)).toBe(false);
    expect(v.verify(noble.publicKey, msg, flipped(sig, 7))).toBe(false);
    expect(inner.calls).toBe(4);
  });

  it('does not cache failures', () => {
    const inner = counting(sodiumVerifier());
    const v = new CachingVerifier(inner);
    const bad = flipped(sig, 3);
    expect(v.verify(noble.publicKey, msg, bad)).toBe(false);
    expect(v.verify(noble.publicKey, msg, bad)).toBe(false);
    expect(v.verify(noble.publicKey, msg, sig.subarray(0, 10))).toBe(false);
    expect(inner.calls).toBe(3);
    expect(v.size).toBe(0);
  });

  it('accepts verifications remembered from elsewhere (the pool) without calling the inner verifier', () => {
    const inner = counting(sodiumVerifier());
    const v = new CachingVerifier(inner);
    v.remember(noble.publicKey, msg, sig);
    expect(v.has(noble.publicKey, msg, sig)).toBe(true);
    expect(v.verify(noble.publicKey, msg, sig)).toBe(true);
    expect(inner.calls).toBe(0);
  });

  it('is bounded, evicting the least recently used entry', () => {
    const inner = counting(sodiumVerifier());
    const v = new CachingVerifier(inner, 3);
    const items = sampleSignedItems(4);
    const [a, b, c, d] = items as [
      (typeof items)[0],
      (typeof items)[0],
      (typeof items)[0],
      (typeof items)[0],
    ];
    for (const it of [a, b, c]) v.verify(it.publicKey, it.message, it.signature);
    v.verify(a.publicKey, a.message, a.signature); // hit: a becomes the most recent
    v.verify(d.publicKey, d.message, d.signature); // evicts b
    expect(v.size).toBe(3);
    expect(v.has(a.publicKey, a.message, a.signature)).toBe(true);
    expect(v.has(b.publicKey, b.message, b.signature)).toBe(false);
    expect(v.has(c.publicKey, c.message, c.signature)).toBe(true);
    expect(inner.calls).toBe(4);
  });
});

describe('packed batches', () => {
  it('round-trips the fixed (32-byte message) and variable layouts', () => {
    const items = sampleSignedItems(5);
    const fixed = packItems(items);
    expect(fixed.layout).toBe('fixed');
    expect(fixed.buf.byteLength).toBe(5 * 128);
    expect([...verifyPacked(new Uint8Array(fixed.buf), 5, 'fixed')]).toEqual([1, 1, 1, 1, 1]);
    const long = new Uint8Array(100).fill(3);
    const kp = sodiumKeyPair(seed);
    const mixed = [
      ...items,
      { publicKey: kp.publicKey, message: long, signature: sodiumSign(kp.secretKey, long) },
    ];
    mixed[1] = { ...mixed[1]!, message: flipped(mixed[1]!.message) };
    const variable = packItems(mixed);
    expect(variable.layout).toBe('variable');
    expect([...verifyPacked(new Uint8Array(variable.buf), 6, 'variable')]).toEqual([1, 0, 1, 1, 1, 1]);
    // A range packs as the slice would (the pool packs its chunks in place).
    for (const [from, to] of [
      [0, 6],
      [2, 5],
      [5, 6],
      [3, 3],
    ] as const) {
      const part = packItems(mixed, from, to);
      const want = packItems(mixed.slice(from, to));
      expect(part.layout).toBe(want.layout);
      expect(new Uint8Array(part.buf)).toEqual(new Uint8Array(want.buf));
    }
  });
});

describe('VerifierPool', () => {
  const pool = new VerifierPool({ size: 2, minChunk: 4 });
  afterAll(() => pool.close());

  it('returns results in input order, including invalid and malformed items', async () => {
    const items = sampleSignedItems(40);
    const expected = items.map(() => true);
    const batch = [...items];
    for (const i of [0, 7, 21, 39]) {
      batch[i] = { ...batch[i]!, signature: flipped(batch[i]!.signature, i) };
      expected[i] = false;
    }
    batch[12] = { ...batch[12]!, message: flipped(batch[12]!.message) };
    expected[12] = false;
    batch[30] = { ...batch[30]!, signature: batch[30]!.signature.subarray(0, 63) };
    expected[30] = false;
    batch[31] = { ...batch[31]!, publicKey: new Uint8Array(31) };
    expected[31] = false;
    const long = new Uint8Array(77).fill(4);
    const kp = sodiumKeyPair(seed);
    batch.push({ publicKey: kp.publicKey, message: long, signature: sodiumSign(kp.secretKey, long) });
    expected.push(true);
    expect(await pool.verifyBatch(batch)).toEqual(expected);
  });

  it('agrees with the single-thread verifier on many concurrent batches', async () => {
    const items = sampleSignedItems(300);
    const batches = [0, 1, 2, 3].map((k) =>
      items.map((it, i) => (i % (k + 3) === 0 ? { ...it, signature: flipped(it.signature, 10) } : it)),
    );
    const v = sodiumVerifier();
    const results = await Promise.all(batches.map((b) => pool.verifyBatch(b)));
    results.forEach((r, k) => {
      expect(r).toEqual(batches[k]!.map((it) => v.verify(it.publicKey, it.message, it.signature)));
    });
  });

  it('handles empty and all-malformed batches without a worker round trip', async () => {
    expect(await pool.verifyBatch([])).toEqual([]);
    expect(await pool.verifyBatch([{ publicKey: new Uint8Array(1), message: msg, signature: sig }])).toEqual([
      false,
    ]);
  });

  it('rejects after close', async () => {
    const p = new VerifierPool({ size: 1 });
    await p.close();
    await expect(p.verifyBatch(sampleSignedItems(1))).rejects.toThrow(/closed/);
  });
});

describe('measureVerifyBound', () => {
  it('reports positive single-thread and pool rates', async () => {
    const b = await measureVerifyBound({ seconds: 0.2 });
    expect(b.single).toBeGreaterThan(0);
    expect(b.pool).toBeGreaterThan(0);
    expect(b.poolSize).toBeGreaterThanOrEqual(1);
  });
});
