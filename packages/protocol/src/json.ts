import { bytesToHex } from './hex.js';

/** Converts a value for JSON: bigint -> decimal string, bytes -> lowercase hex, recursively. */
export function jsonSafe(v: unknown): unknown {
  if (typeof v === 'bigint') return v.toString();
  if (v instanceof Uint8Array) return bytesToHex(v);
  if (Array.isArray(v)) return v.map(jsonSafe);
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) if (x !== undefined) out[k] = jsonSafe(x);
    return out;
  }
  return v;
}

export function stringifySafe(v: unknown): string {
  return JSON.stringify(jsonSafe(v));
}
