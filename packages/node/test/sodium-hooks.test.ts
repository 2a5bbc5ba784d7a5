/**
 * The node plugs libsodium into @roamchain/protocol (`useSha256` with its allocation-free `into`
 * form, `useSign`). Blocks and state roots must come out byte-for-byte as with the pure-JS
 * functions, or nodes with and without the plug would disagree: checked on many inputs here, and a
 * function that is not the same is refused when plugged.
 */

import { ed25519 } from '@noble/curves/ed25519.js';
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import { sha256Into, sign, useSha256, useSign } from '@roamchain/protocol';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { StateTrie, trieRootOf } from '../../state/src/trie.js';
import { sodiumSha256, sodiumSha256Into, sodiumSignWithSeed } from '../src/crypto/sodium.js';

describe('libsodium plugged into the protocol', () => {
  it('signs with a seed exactly as the pure-JS signer, whatever the seed order', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ minLength: 32, maxLength: 32 }), { minLength: 1, maxLength: 4 }),
        fc.uint8Array({ maxLength: 300 }),
        (seeds, msg) => {
          for (const seed of [...seeds, ...seeds.reverse()])
            expect(sodiumSignWithSeed(seed, msg)).toEqual(ed25519.sign(msg, seed));
        },
      ),
      { numRuns: 40 },
    );
  });

  it('a seed changed in place after signing is not mistaken for the remembered one', () => {
    const seed = new Uint8Array(32).fill(1);
    const msg = new Uint8Array([9]);
    sodiumSignWithSeed(seed, msg);
    seed[31] = 2;
    expect(sodiumSignWithSeed(seed, msg)).toEqual(ed25519.sign(msg, seed));
  });

  it('hashes into a given array as SHA-256 does; the trie root is the reference root', () => {
    useSha256(sodiumSha256, sodiumSha256Into);
    useSign(sodiumSignWithSeed);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (data) => {
        const out = new Uint8Array(32);
        sha256Into(data, out);
        expect(out).toEqual(nobleSha256(data));
      }),
      { numRuns: 200 },
    );
    const entries: [Uint8Array, Uint8Array][] = [];
    const t = new StateTrie();
    for (let i = 0; i < 500; i++) {
      const k = nobleSha256(new Uint8Array([i & 0xff, i >> 8]));
      const v = nobleSha256(new Uint8Array([i, 1]));
      entries.push([k, v]);
      t.set(k, v);
    }
    expect(t.root()).toEqual(trieRootOf(entries));
    const seed = new Uint8Array(32).fill(3);
    expect(sign(seed, new Uint8Array([4]))).toEqual(ed25519.sign(new Uint8Array([4]), seed));
  });

  it('refuses to plug functions that are not SHA-256 or Ed25519', () => {
    expect(() => useSha256(sodiumSha256, (_d, out) => out.fill(0))).toThrow(/not SHA-256/);
    expect(() => useSign((s, m) => sodiumSignWithSeed(s, new Uint8Array([...m, 0])))).toThrow(/not Ed25519/);
  });
});
