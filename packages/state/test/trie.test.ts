import { sha256 } from '@noble/hashes/sha2.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EMPTY_ROOT, StateTrie, trieRootOf } from '../src/trie.js';

const enc = new TextEncoder();
const h = (s: string): Uint8Array => sha256(enc.encode(s));
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

function leafHash(key: Uint8Array, valueHash: Uint8Array): Uint8Array {
  const buf = new Uint8Array(65);
  buf[0] = 0x00;
  buf.set(key, 1);
  buf.set(valueHash, 33);
  return sha256(buf);
}

function nodeHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  const buf = new Uint8Array(65);
  buf[0] = 0x01;
  buf.set(left, 1);
  buf.set(right, 33);
  return sha256(buf);
}

/** Deterministic Fisher-Yates shuffle (xorshift32), so tests never depend on Math.random. */
function shuffled<T>(items: readonly T[], seed: number): T[] {
  const out = [...items];
  let s = seed >>> 0 || 1;
  for (let i = out.length - 1; i > 0; i--) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

function entriesOf(n: number, prefix = ''): [Uint8Array, Uint8Array][] {
  const out: [Uint8Array, Uint8Array][] = [];
  for (let i = 0; i < n; i++) out.push([h(`${prefix}k${i}`), h(`${prefix}v${i}`)]);
  return out;
}

/** Keys sharing long prefixes (differing only in byte 0's MSB and the last byte) to exercise deep chains. */
function craftedKey(hi: number, lo: number): Uint8Array {
  const k = new Uint8Array(32);
  k[0] = hi ? 0x80 : 0x00;
  k[31] = lo;
  return k;
}

describe('StateTrie', () => {
  it('empty trie has the all-zero root', () => {
    expect(EMPTY_ROOT).toEqual(new Uint8Array(32));
    expect(new StateTrie().root()).toEqual(EMPTY_ROOT);
    expect(trieRootOf([])).toEqual(EMPTY_ROOT);
    expect(new StateTrie().size).toBe(0);
  });

  it('single leaf root is sha256(0x00 || key || valueHash)', () => {
    const key = h('alice');
    const value = h('100');
    const t = new StateTrie();
    t.set(key, value);
    expect(hex(t.root())).toBe(hex(leafHash(key, value)));
    expect(hex(trieRootOf([[key, value]]))).toBe(hex(leafHash(key, value)));
    expect(t.get(key)).toEqual(value);
    expect(t.size).toBe(1);
  });

  it('two leaves split on the first differing bit, with EMPTY siblings along the shared prefix', () => {
    // keys share bit 0 (=0) and differ at bit 1
    const a = new Uint8Array(32);
    const b = new Uint8Array(32);
    b[0] = 0x40;
    const va = h('a');
    const vb = h('b');
    const expected = nodeHash(nodeHash(leafHash(a, va), leafHash(b, vb)), EMPTY_ROOT);
    const t = new StateTrie();
    t.set(b, vb);
    t.set(a, va);
    expect(hex(t.root())).toBe(hex(expected));
    const pairs: [Uint8Array, Uint8Array][] = [[a, va]];
    pairs.push([b, vb]);
    expect(hex(trieRootOf(pairs))).toBe(hex(expected));
  });

  it('matches the golden root for sha256(k<i>) -> sha256(v<i>), i = 0..99', () => {
    const GOLDEN = '2e947dfbc17dc1c35f8ebbd96eb5dcd08555b280243a6c1a879ff471f234307c';
    const entries = entriesOf(100);
    expect(hex(trieRootOf(entries))).toBe(GOLDEN);
    const t = new StateTrie();
    for (const [k, v] of entries) t.set(k, v);
    expect(hex(t.root())).toBe(GOLDEN);
  });

  it('is independent of insertion order (and of interleaved deletes)', () => {
    const entries = entriesOf(500);
    const extra = entriesOf(200, 'x');
    const a = new StateTrie();
    for (const [k, v] of entries) a.set(k, v);
    const rootA = hex(a.root());
    for (let seed = 1; seed <= 5; seed++) {
      const b = new StateTrie();
      const ops = shuffled([...entries, ...extra], seed);
      for (const [i, [k, v]] of ops.entries()) {
        b.set(k, v);
        if (i % 97 === 0) b.root(); // interleave partial commits
      }
      for (const [k] of shuffled(extra, seed + 100)) b.delete(k);
      expect(hex(b.root())).toBe(rootA);
      expect(b.size).toBe(entries.length);
    }
    expect(hex(trieRootOf(shuffled(entries, 7)))).toBe(rootA);
  });

  it('setting an identical value does not change the root or rehash anything', () => {
    const t = new StateTrie();
    const entries = entriesOf(50);
    for (const [k, v] of entries) t.set(k, v);
    const r = hex(t.root());
    for (const [k, v] of entries) t.set(k, v.slice());
    expect(hex(t.root())).toBe(r);
    expect(t.hashCount).toBe(0);
    t.delete(h('absent'));
    expect(hex(t.root())).toBe(r);
    expect(t.hashCount).toBe(0);
    expect(t.size).toBe(50);
  });

  it('deleting everything returns EMPTY_ROOT', () => {
    const t = new StateTrie();
    const entries = entriesOf(300);
    for (const [k, v] of entries) t.set(k, v);
    expect(t.root()).not.toEqual(EMPTY_ROOT);
    for (const [i, [k]] of shuffled(entries, 3).entries()) {
      t.delete(k);
      if (i % 50 === 0) t.root();
    }
    expect(t.size).toBe(0);
    expect(t.root()).toEqual(EMPTY_ROOT);
    // trie is reusable after being emptied
    const [k0, v0] = entries[0]!;
    t.set(k0, v0);
    expect(t.root()).toEqual(leafHash(k0, v0));
  });

  it('copies inputs and outputs (caller mutation cannot corrupt state)', () => {
    const t = new StateTrie();
    const key = h('k');
    const value = h('v');
    t.set(key, value);
    const r = hex(t.root());
    key.fill(1);
    value.fill(2);
    const got = t.get(h('k'))!;
    got.fill(3);
    t.root().fill(4);
    expect(hex(t.root())).toBe(r);
    expect(t.get(h('k'))).toEqual(h('v'));
  });

  it('rejects keys and values that are not 32 bytes', () => {
    const t = new StateTrie();
    expect(() => t.set(new Uint8Array(31), h('v'))).toThrow(TypeError);
    expect(() => t.set(h('k'), new Uint8Array(33))).toThrow(TypeError);
    expect(() => t.get(new Uint8Array(0))).toThrow(TypeError);
    expect(() => t.delete(new Uint8Array(64))).toThrow(TypeError);
    expect(() => trieRootOf([[new Uint8Array(1), h('v')]])).toThrow(TypeError);
  });

  it('incremental root equals the reference after random inserts/updates/deletes', () => {
    const keyArb = fc.oneof(
      fc.nat(40).map((i) => h(`key${i}`)),
      fc.tuple(fc.nat(1), fc.nat(7)).map(([hi, lo]) => craftedKey(hi, lo)),
    );
    const opArb = fc.oneof(
      fc.record({ op: fc.constant('set' as const), key: keyArb, value: fc.nat(3) }),
      fc.record({ op: fc.constant('delete' as const), key: keyArb }),
      fc.record({ op: fc.constant('root' as const) }),
    );
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 120 }), (ops) => {
        const t = new StateTrie(16);
        const model = new Map<string, [Uint8Array, Uint8Array]>();
        for (const op of ops) {
          if (op.op === 'set') {
            const value = h(`val${op.value}`);
            t.set(op.key, value);
            model.set(hex(op.key), [op.key, value]);
          } else if (op.op === 'delete') {
            t.delete(op.key);
            model.delete(hex(op.key));
          } else {
            expect(hex(t.root())).toBe(hex(trieRootOf(model.values())));
          }
        }
        expect(hex(t.root())).toBe(hex(trieRootOf(model.values())));
        expect(t.size).toBe(model.size);
        for (const [k, v] of model.values()) expect(t.get(k)).toEqual(v);
        expect(t.get(h('never-inserted'))).toBeUndefined();
      }),
      { seed: 0x5eed, numRuns: 300 },
    );
  });

  it('root() after updating 10 of 20,000 keys rehashes only O(10 * depth) nodes', () => {
    const entries = entriesOf(20_000);
    const t = new StateTrie();
    for (const [k, v] of entries) t.set(k, v);
    t.root();
    expect(t.hashCount).toBeGreaterThan(20_000);
    const model = new Map(entries.map(([k, v]) => [hex(k), [k, v] as [Uint8Array, Uint8Array]]));
    for (let i = 0; i < 10; i++) {
      const [k] = entries[i * 1999]!;
      const v = h(`updated${i}`);
      t.set(k, v);
      model.set(hex(k), [k, v]);
    }
    const r = t.root();
    expect(t.hashCount).toBeGreaterThan(0);
    expect(t.hashCount).toBeLessThan(10 * 64);
    expect(hex(r)).toBe(hex(trieRootOf(model.values())));
    // a delete + insert also only touches their paths
    const [k0] = entries[5]!;
    t.delete(k0);
    t.set(h('brand-new'), h('value'));
    t.root();
    expect(t.hashCount).toBeLessThan(2 * 64);
  });
});
