/**
 * Canonical binary codec.
 *
 * Why hand-written: consensus needs ONE encoding per value (so that transaction ids and
 * signatures are stable) and a decoder that rejects every non-canonical byte string. General
 * purpose libraries (msgpack, CBOR) admit several encodings of the same value (int widths, map
 * key order), so they would need a canonicalisation layer as large as this file; see
 * ../shared/STACK.md for the measured speed (hand-written ~2.5x msgpackr).
 *
 * Rules: integers are fixed-width big-endian; booleans are 0/1; strings are u16 length + UTF-8
 * (valid, NFC not enforced) with a per-field maximum; byte strings are u32 length + bytes with a
 * per-field maximum; vectors are u16 count + items; optionals are a 0/1 tag + value; enums are u8.
 * Decoding must consume exactly all bytes. Every type also maps to and from JSON (bigint as
 * decimal string, bytes as lowercase hex) for the API and golden vectors.
 */
import { RoamError } from './errors.js';
import { bytesToHex, hexToBytes } from './hex.js';

export class Writer {
  private buf: Uint8Array;
  private view: DataView;
  length = 0;
  constructor(initial = 256) {
    this.buf = new Uint8Array(Math.max(16, initial));
    this.view = new DataView(this.buf.buffer);
  }
  private ensure(n: number): void {
    if (this.length + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.length + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }
  u8(v: number): void {
    this.ensure(1);
    this.buf[this.length++] = v;
  }
  u16(v: number): void {
    this.ensure(2);
    this.view.setUint16(this.length, v);
    this.length += 2;
  }
  u32(v: number): void {
    this.ensure(4);
    this.view.setUint32(this.length, v);
    this.length += 4;
  }
  u64(v: bigint): void {
    this.ensure(8);
    this.view.setBigUint64(this.length, v);
    this.length += 8;
  }
  raw(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
  }
  /**
   * A string as u16 length + UTF-8, written in place (no intermediate array): ASCII by a loop (the
   * state's names, keys and hex strings; TextEncoder's call costs more than the copy at these
   * lengths), anything else by `encodeInto`. Returns the byte length; the caller checks its bound.
   */
  utf8(s: string): number {
    const at = this.length;
    const n = s.length;
    this.ensure(2 + 3 * n);
    const buf = this.buf;
    let i = 0;
    for (; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) break;
      buf[at + 2 + i] = c;
    }
    let len = i;
    if (i < n) len = i + utf8Encoder.encodeInto(s.slice(i), buf.subarray(at + 2 + i)).written;
    if (len > 0xffff) throw badValue('', 'string longer than 65535 bytes');
    this.view.setUint16(at, len);
    this.length = at + 2 + len;
    return len;
  }
  finish(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
  get capacity(): number {
    return this.buf.length;
  }
}

const utf8Decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const utf8Encoder = new TextEncoder();

export class Reader {
  pos = 0;
  private readonly view: DataView;
  constructor(private readonly buf: Uint8Array) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }
  private need(n: number): void {
    if (this.pos + n > this.buf.length) {
      throw new RoamError(
        'CODEC_TRUNCATED',
        `needs ${n} byte(s) at offset ${this.pos}, only ${this.buf.length - this.pos} left`,
      );
    }
  }
  u8(): number {
    this.need(1);
    return this.buf[this.pos++]!;
  }
  u16(): number {
    this.need(2);
    const v = this.view.getUint16(this.pos);
    this.pos += 2;
    return v;
  }
  u32(): number {
    this.need(4);
    const v = this.view.getUint32(this.pos);
    this.pos += 4;
    return v;
  }
  u64(): bigint {
    this.need(8);
    const v = this.view.getBigUint64(this.pos);
    this.pos += 8;
    return v;
  }
  raw(n: number): Uint8Array {
    this.need(n);
    const out = this.buf.slice(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
  end(): void {
    if (this.pos !== this.buf.length) {
      throw new RoamError(
        'CODEC_TRAILING',
        `${this.buf.length - this.pos} trailing byte(s) at offset ${this.pos}`,
      );
    }
  }
}

/** A codec for one type: binary and JSON in both directions. */
export interface Codec<T> {
  readonly kind: string;
  enc(w: Writer, v: T): void;
  dec(r: Reader): T;
  toJSON(v: T): unknown;
  fromJSON(j: unknown, path: string): T;
}

export type Infer<C> = C extends Codec<infer T> ? T : never;

function badJson(path: string, what: string): RoamError {
  return new RoamError('CODEC_BAD_JSON', `${path || 'value'}: expected ${what}`);
}
function badValue(path: string, what: string): RoamError {
  return new RoamError('CODEC_BAD_VALUE', `${path || 'value'}: ${what}`);
}

function uint(bits: 8 | 16 | 32): Codec<number> {
  const max = 2 ** bits - 1;
  const check = (v: number, path: string) => {
    if (!Number.isInteger(v) || v < 0 || v > max) throw badValue(path, `must be an integer 0..${max}`);
  };
  return {
    kind: `u${bits}`,
    enc(w, v) {
      check(v, '');
      if (bits === 8) w.u8(v);
      else if (bits === 16) w.u16(v);
      else w.u32(v);
    },
    dec(r) {
      return bits === 8 ? r.u8() : bits === 16 ? r.u16() : r.u32();
    },
    toJSON: (v) => v,
    fromJSON(j, path) {
      if (typeof j !== 'number') throw badJson(path, `u${bits} number`);
      check(j, path);
      return j;
    },
  };
}

export const u8 = uint(8);
export const u16 = uint(16);
export const u32 = uint(32);

export const U64_MAX = (1n << 64n) - 1n;

export const u64: Codec<bigint> = {
  kind: 'u64',
  enc(w, v) {
    if (typeof v !== 'bigint' || v < 0n || v > U64_MAX) throw badValue('', 'u64 out of range');
    w.u64(v);
  },
  dec: (r) => r.u64(),
  toJSON: (v) => v.toString(),
  fromJSON(j, path) {
    if (typeof j !== 'string' || !/^(0|[1-9][0-9]{0,19})$/.test(j))
      throw badJson(path, 'u64 as a decimal string');
    const v = BigInt(j);
    if (v > U64_MAX) throw badValue(path, 'u64 out of range');
    return v;
  },
};

export const bool: Codec<boolean> = {
  kind: 'bool',
  enc: (w, v) => w.u8(v ? 1 : 0),
  dec(r) {
    const b = r.u8();
    if (b > 1) throw new RoamError('CODEC_NONCANONICAL', `boolean byte ${b}`);
    return b === 1;
  },
  toJSON: (v) => v,
  fromJSON(j, path) {
    if (typeof j !== 'boolean') throw badJson(path, 'boolean');
    return j;
  },
};

export function str(max: number, pattern?: RegExp): Codec<string> {
  const check = (v: string, path: string) => {
    if (pattern && !pattern.test(v)) throw badValue(path, `"${v.slice(0, 40)}" does not match ${pattern}`);
  };
  return {
    kind: 'str',
    enc(w, v) {
      if (!v.isWellFormed()) throw badValue('', 'string is not well-formed UTF-16');
      check(v, '');
      const at = w.length;
      if (w.utf8(v) > max) {
        w.length = at;
        throw badValue('', `string longer than ${max} bytes`);
      }
    },
    dec(r) {
      const n = r.u16();
      if (n > max) throw new RoamError('CODEC_TOO_LARGE', `string of ${n} bytes exceeds ${max}`);
      const raw = r.raw(n);
      let s: string;
      try {
        s = utf8Decoder.decode(raw);
      } catch {
        throw new RoamError('CODEC_NONCANONICAL', 'invalid UTF-8');
      }
      check(s, '');
      return s;
    },
    toJSON: (v) => v,
    fromJSON(j, path) {
      if (typeof j !== 'string') throw badJson(path, 'string');
      if (!j.isWellFormed()) throw badValue(path, 'string is not well-formed UTF-16');
      if (utf8Encoder.encode(j).length > max) throw badValue(path, `string longer than ${max} bytes`);
      check(j, path);
      return j;
    },
  };
}

export function bytes(max: number): Codec<Uint8Array> {
  return {
    kind: 'bytes',
    enc(w, v) {
      if (v.length > max) throw badValue('', `bytes longer than ${max}`);
      w.u32(v.length);
      w.raw(v);
    },
    dec(r) {
      const n = r.u32();
      if (n > max) throw new RoamError('CODEC_TOO_LARGE', `byte string of ${n} exceeds ${max}`);
      return r.raw(n);
    },
    toJSON: (v) => bytesToHex(v),
    fromJSON(j, path) {
      if (typeof j !== 'string' || !/^([0-9a-f]{2})*$/.test(j)) throw badJson(path, 'lowercase hex');
      if (j.length / 2 > max) throw badValue(path, `bytes longer than ${max}`);
      return hexToBytes(j);
    },
  };
}

export function fixed(n: number): Codec<Uint8Array> {
  return {
    kind: `bytes${n}`,
    enc(w, v) {
      if (v.length !== n) throw badValue('', `expected exactly ${n} bytes, got ${v.length}`);
      w.raw(v);
    },
    dec: (r) => r.raw(n),
    toJSON: (v) => bytesToHex(v),
    fromJSON(j, path) {
      if (typeof j !== 'string' || j.length !== n * 2 || !/^[0-9a-f]*$/.test(j)) {
        throw badJson(path, `${n} bytes as ${n * 2} lowercase hex characters`);
      }
      return hexToBytes(j);
    },
  };
}

export const bytes32 = fixed(32);
export const bytes64 = fixed(64);

export function opt<T>(inner: Codec<T>): Codec<T | undefined> {
  return {
    kind: `opt<${inner.kind}>`,
    enc(w, v) {
      if (v === undefined) w.u8(0);
      else {
        w.u8(1);
        inner.enc(w, v);
      }
    },
    dec(r) {
      const t = r.u8();
      if (t === 0) return undefined;
      if (t !== 1) throw new RoamError('CODEC_NONCANONICAL', `option tag ${t}`);
      return inner.dec(r);
    },
    toJSON: (v) => (v === undefined ? null : inner.toJSON(v)),
    fromJSON: (j, path) => (j === null || j === undefined ? undefined : inner.fromJSON(j, path)),
  };
}

export function vec<T>(inner: Codec<T>, max: number, min = 0): Codec<T[]> {
  return {
    kind: `vec<${inner.kind}>`,
    enc(w, v) {
      if (v.length > max || v.length < min) throw badValue('', `list must have ${min}..${max} items`);
      w.u16(v.length);
      for (const x of v) inner.enc(w, x);
    },
    dec(r) {
      const n = r.u16();
      if (n > max) throw new RoamError('CODEC_TOO_LARGE', `list of ${n} exceeds ${max}`);
      if (n < min) throw new RoamError('CODEC_BAD_VALUE', `list of ${n} below ${min}`);
      const out: T[] = [];
      for (let i = 0; i < n; i++) out.push(inner.dec(r));
      return out;
    },
    toJSON: (v) => v.map((x) => inner.toJSON(x)),
    fromJSON(j, path) {
      if (!Array.isArray(j)) throw badJson(path, 'array');
      if (j.length > max || j.length < min) throw badValue(path, `list must have ${min}..${max} items`);
      return j.map((x, i) => inner.fromJSON(x, `${path}[${i}]`));
    },
  };
}

/** An enum of string names encoded as u8 index; the order of `names` is part of the protocol. */
export function enumOf<const N extends readonly string[]>(names: N): Codec<N[number]> {
  const index = new Map<string, number>(names.map((n, i) => [n, i]));
  return {
    kind: `enum(${names.join('|')})`,
    enc(w, v) {
      const i = index.get(v);
      if (i === undefined) throw badValue('', `unknown value "${v}"`);
      w.u8(i);
    },
    dec(r) {
      const i = r.u8();
      const n = names[i];
      if (n === undefined) throw new RoamError('CODEC_BAD_VALUE', `enum index ${i} out of range`);
      return n;
    },
    toJSON: (v) => v,
    fromJSON(j, path) {
      if (typeof j !== 'string' || !index.has(j)) throw badJson(path, `one of ${names.join(', ')}`);
      return j as N[number];
    },
  };
}

type Fields = Record<string, Codec<any>>;
type StructOf<F extends Fields> = { [K in keyof F]: Infer<F[K]> };
// Optional codecs become optional properties so object literals may omit them.
type OptKeys<F extends Fields> = { [K in keyof F]: undefined extends Infer<F[K]> ? K : never }[keyof F];
export type StructValue<F extends Fields> = Omit<StructOf<F>, OptKeys<F>> & {
  [K in OptKeys<F>]?: Infer<F[K]>;
};

/** A record: fields in declaration order, which is part of the protocol. */
export function struct<F extends Fields>(fields: F): Codec<StructValue<F>> & { fields: F } {
  const entries = Object.entries(fields);
  return {
    kind: 'struct',
    fields,
    enc(w, v) {
      const o = v as Record<string, unknown>;
      for (const [k, c] of entries) {
        try {
          c.enc(w, o[k]);
        } catch (e) {
          if (e instanceof RoamError) throw new RoamError(e.code, `${k}: ${e.message}`);
          throw badValue(k, `cannot encode (${(e as Error).message})`);
        }
      }
    },
    dec(r) {
      const o: Record<string, unknown> = {};
      for (const [k, c] of entries) {
        const v = c.dec(r);
        if (v !== undefined) o[k] = v;
      }
      return o as StructValue<F>;
    },
    toJSON(v) {
      const o = v as Record<string, unknown>;
      const out: Record<string, unknown> = {};
      for (const [k, c] of entries) out[k] = c.toJSON(o[k]);
      return out;
    },
    fromJSON(j, path) {
      if (typeof j !== 'object' || j === null || Array.isArray(j)) throw badJson(path, 'object');
      const src = j as Record<string, unknown>;
      for (const k of Object.keys(src)) {
        if (!Object.hasOwn(fields, k)) throw badJson(path ? `${path}.${k}` : k, 'no such field');
      }
      const o: Record<string, unknown> = {};
      for (const [k, c] of entries) {
        const v = c.fromJSON(src[k], path ? `${path}.${k}` : k);
        if (v !== undefined) o[k] = v;
      }
      return o as StructValue<F>;
    },
  };
}

/**
 * Writers reused by `encode` (a stack, so an encoder that encodes something else inside gets its own):
 * a fresh 256-byte buffer and its DataView per encoded value were a measurable share of the node's
 * garbage. The result is always a copy (`finish`), never a view of a pooled buffer.
 */
const writers: Writer[] = [];
const POOLED_MAX_BYTES = 1 << 20;
export function encode<T>(c: Codec<T>, v: T, sizeHint = 256): Uint8Array {
  const w = writers.pop() ?? new Writer(Math.max(sizeHint, 1024));
  w.length = 0;
  try {
    c.enc(w, v);
    return w.finish();
  } finally {
    if (w.capacity <= POOLED_MAX_BYTES && writers.length < 8) writers.push(w);
  }
}

export function decode<T>(c: Codec<T>, b: Uint8Array): T {
  const r = new Reader(b);
  let v: T;
  try {
    v = c.dec(r);
  } catch (e) {
    if (e instanceof RoamError) throw e;
    throw new RoamError('CODEC_BAD_VALUE', (e as Error).message);
  }
  r.end();
  return v;
}

export const utf8 = (s: string): Uint8Array => utf8Encoder.encode(s);
