/**
 * Wire format between the verifier pool and its workers: one flat buffer per batch (Lodestar's
 * lesson: a single transferred ArrayBuffer costs a fraction of an object graph of small Buffers).
 *
 * - `fixed` layout (every message is 32 bytes, e.g. transaction ids): item i at i x 128 bytes =
 *   publicKey (32) || message (32) || signature (64).
 * - `variable` layout (any message length): per item u32 big-endian message length || publicKey (32)
 *   || signature (64) || message.
 */
import { ED25519_PUBLIC_KEY_BYTES as PK, ED25519_SIGNATURE_BYTES as SIG, sodium } from './sodium.js';

export interface SignedItem {
  publicKey: Uint8Array;
  message: Uint8Array;
  signature: Uint8Array;
}

export type PackLayout = 'fixed' | 'variable';

export const FIXED_MESSAGE_BYTES = 32;
export const FIXED_STRIDE = PK + FIXED_MESSAGE_BYTES + SIG;

/** Request to a worker; `buf` is transferred. */
export interface VerifyRequest {
  id: number;
  buf: ArrayBuffer;
  n: number;
  layout: PackLayout;
}

/** Reply from a worker: one byte per item (1 = valid), transferred back. */
export type VerifyReply = { id: number; ok: Uint8Array } | { id: number; error: string };

/**
 * Packs items `from` ≤ i < `to` (keys and signatures must already have the right lengths) into one
 * buffer.
 */
export function packItems(
  items: readonly SignedItem[],
  from = 0,
  to = items.length,
): { buf: ArrayBuffer; layout: PackLayout } {
  let fixed = true;
  let size = 0;
  for (let i = from; i < to; i++) {
    const it = items[i]!;
    if (it.message.length !== FIXED_MESSAGE_BYTES) fixed = false;
    size += 4 + PK + SIG + it.message.length;
  }
  if (fixed) {
    const out = new Uint8Array((to - from) * FIXED_STRIDE);
    for (let i = from, o = 0; i < to; i++, o += FIXED_STRIDE) {
      const it = items[i]!;
      out.set(it.publicKey, o);
      out.set(it.message, o + PK);
      out.set(it.signature, o + PK + FIXED_MESSAGE_BYTES);
    }
    return { buf: out.buffer, layout: 'fixed' };
  }
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  let o = 0;
  for (let i = from; i < to; i++) {
    const it = items[i]!;
    view.setUint32(o, it.message.length);
    out.set(it.publicKey, o + 4);
    out.set(it.signature, o + 4 + PK);
    out.set(it.message, o + 4 + PK + SIG);
    o += 4 + PK + SIG + it.message.length;
  }
  return { buf: out.buffer, layout: 'variable' };
}

/** Verifies every item of a packed buffer with libsodium; returns one byte per item (1 = valid). */
export function verifyPacked(bytes: Uint8Array, n: number, layout: PackLayout): Uint8Array {
  const ok = new Uint8Array(n);
  if (layout === 'fixed') {
    if (bytes.length !== n * FIXED_STRIDE) throw new RangeError('packed batch has the wrong size');
    for (let i = 0, o = 0; i < n; i++, o += FIXED_STRIDE) {
      const pk = bytes.subarray(o, o + PK);
      const msg = bytes.subarray(o + PK, o + PK + FIXED_MESSAGE_BYTES);
      const sig = bytes.subarray(o + PK + FIXED_MESSAGE_BYTES, o + FIXED_STRIDE);
      ok[i] = sodium.crypto_sign_verify_detached(sig, msg, pk) ? 1 : 0;
    }
    return ok;
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let o = 0;
  for (let i = 0; i < n; i++) {
    const len = view.getUint32(o);
    const start = o + 4;
    const end = start + PK + SIG + len;
    if (end > bytes.length) throw new RangeError('packed batch is truncated');
    const pk = bytes.subarray(start, start + PK);
    const sig = bytes.subarray(start + PK, start + PK + SIG);
    const msg = bytes.subarray(start + PK + SIG, end);
    ok[i] = sodium.crypto_sign_verify_detached(sig, msg, pk) ? 1 : 0;
    o = end;
  }
  if (o !== bytes.length) throw new RangeError('packed batch has trailing bytes');
  return ok;
}
