import { describe, expect, it } from 'vitest';
import {
  type Disclosure,
  disclosureDigest,
  encodeDisclosure,
  makeDisclosures,
  parseDisclosure,
  verifyDisclosures,
} from '../src/crypto/disclosure.js';
import { sha256 } from '../src/crypto.js';
import { compareBytes } from '../src/hex.js';

const claims = {
  given_name: 'Ada',
  family_name: 'Lovelace',
  birthdate: '1815-12-10',
  nationality: 'GB',
};

describe('makeDisclosures', () => {
  it('one disclosure per claim, salts of >= 16 bytes, digests sorted bytewise', () => {
    const { disclosures, digests } = makeDisclosures(claims);
    expect(disclosures.map((d) => d.name)).toEqual(Object.keys(claims));
    expect(digests).toHaveLength(4);
    for (const d of disclosures) {
      expect(d.salt).toMatch(/^[A-Za-z0-9_-]{22,}$/);
      expect(Buffer.from(d.salt, 'base64url').length).toBeGreaterThanOrEqual(16);
    }
    for (const dg of digests) expect(dg.length).toBe(32);
    for (let i = 1; i < digests.length; i++)
      expect(compareBytes(digests[i - 1]!, digests[i]!)).toBeLessThan(0);
    const expected = disclosures.map(disclosureDigest).sort(compareBytes);
    expect(digests).toEqual(expected);
  });

  it('fresh salts every time', () => {
    const a = makeDisclosures(claims);
    const b = makeDisclosures(claims);
    expect(a.disclosures[0]!.salt).not.toBe(b.disclosures[0]!.salt);
    expect(a.digests).not.toEqual(b.digests);
  });
});

describe('encoding and digest', () => {
  it('digest is SHA-256 of the UTF-8 JSON array', () => {
    const d: Disclosure = { salt: '_26bc4LT-ac6q2KI6cBW5es', name: 'family_name', value: 'Möbius' };
    const s = encodeDisclosure(d);
    expect(s).toBe('["_26bc4LT-ac6q2KI6cBW5es","family_name","Möbius"]');
    expect(disclosureDigest(d)).toEqual(sha256(new TextEncoder().encode(s)));
    expect(parseDisclosure(s)).toEqual(d);
  });

  it('parse rejects malformed or non-canonical input', () => {
    const good = '["_26bc4LT-ac6q2KI6cBW5es","n","v"]';
    expect(() => parseDisclosure(good)).not.toThrow();
    for (const bad of [
      'not json',
      '{}',
      '["_26bc4LT-ac6q2KI6cBW5es","n"]',
      '["_26bc4LT-ac6q2KI6cBW5es","n","v","x"]',
      '["_26bc4LT-ac6q2KI6cBW5es","n",1]',
      '["short","n","v"]',
      '["_26bc4LT+ac6q2KI6cBW5es","n","v"]',
      '["_26bc4LT-ac6q2KI6cBW5es","","v"]',
      '[ "_26bc4LT-ac6q2KI6cBW5es","n","v"]',
    ]) {
      expect(() => parseDisclosure(bad), bad).toThrow();
    }
  });
});

describe('verifyDisclosures', () => {
  it('a subset verifies and yields only the revealed claims', () => {
    const { disclosures, digests } = makeDisclosures(claims);
    const revealed = disclosures.filter((d) => d.name === 'nationality' || d.name === 'birthdate');
    expect(verifyDisclosures(digests, revealed)).toEqual({
      ok: true,
      claims: { birthdate: '1815-12-10', nationality: 'GB' },
    });
    expect(verifyDisclosures(digests, [])).toEqual({ ok: true, claims: {} });
    expect(verifyDisclosures(digests, disclosures)).toEqual({ ok: true, claims });
  });

  it('survives a round trip through the string form', () => {
    const { disclosures, digests } = makeDisclosures(claims);
    const wire = disclosures.map(encodeDisclosure);
    const res = verifyDisclosures(digests, wire.map(parseDisclosure));
    expect(res.ok).toBe(true);
  });

  it('an altered value, name or salt fails', () => {
    const { disclosures, digests } = makeDisclosures(claims);
    const d = disclosures[2]!;
    expect(verifyDisclosures(digests, [{ ...d, value: '1815-12-11' }])).toEqual({
      ok: false,
      reason: 'DIGEST_MISMATCH',
    });
    expect(verifyDisclosures(digests, [{ ...d, name: 'birthday' }])).toMatchObject({
      reason: 'DIGEST_MISMATCH',
    });
    const salt = `${d.salt.slice(0, -1)}${d.salt.endsWith('A') ? 'B' : 'A'}`;
    expect(verifyDisclosures(digests, [{ ...d, salt }])).toMatchObject({ reason: 'DIGEST_MISMATCH' });
  });

  it('a disclosure from another attestation fails', () => {
    const a = makeDisclosures(claims);
    const b = makeDisclosures(claims);
    expect(verifyDisclosures(a.digests, [b.disclosures[0]!])).toMatchObject({ reason: 'DIGEST_MISMATCH' });
  });

  it('extra on-chain digests (decoys, unrevealed claims) are irrelevant', () => {
    const { disclosures, digests } = makeDisclosures(claims);
    const decoy = sha256(new TextEncoder().encode('decoy'));
    const res = verifyDisclosures([decoy, ...digests, decoy], [disclosures[0]!]);
    expect(res).toEqual({ ok: true, claims: { given_name: 'Ada' } });
  });

  it('duplicate claims are rejected', () => {
    const { disclosures, digests } = makeDisclosures(claims);
    const d = disclosures[0]!;
    expect(verifyDisclosures(digests, [d, d])).toEqual({ ok: false, reason: 'DUPLICATE_CLAIM' });
    // two different disclosures for the same claim name, both committed on chain
    const other = makeDisclosures({ given_name: 'Eve' });
    const all = [...digests, ...other.digests];
    expect(verifyDisclosures(all, [d, other.disclosures[0]!])).toEqual({
      ok: false,
      reason: 'DUPLICATE_CLAIM',
    });
  });

  it('malformed input is reported', () => {
    const { disclosures, digests } = makeDisclosures(claims);
    const d = disclosures[0]!;
    expect(verifyDisclosures(digests, [{ ...d, salt: 'tooshort' }])).toEqual({
      ok: false,
      reason: 'MALFORMED',
    });
    expect(verifyDisclosures(digests, [{ ...d, value: 42 } as unknown as Disclosure])).toEqual({
      ok: false,
      reason: 'MALFORMED',
    });
    expect(verifyDisclosures([new Uint8Array(31)], [d])).toEqual({ ok: false, reason: 'MALFORMED' });
  });

  it('a claim named __proto__ stays an own property', () => {
    const { disclosures, digests } = makeDisclosures(Object.fromEntries([['__proto__', 'x']]));
    const res = verifyDisclosures(digests, disclosures);
    expect(res.ok).toBe(true);
    if (res.ok) {
      expect(Object.hasOwn(res.claims, '__proto__')).toBe(true);
      expect(Object.getPrototypeOf(res.claims)).toBe(Object.prototype);
    }
  });
});
