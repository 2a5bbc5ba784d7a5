/**
 * Values stored in chunks: the consecutive entries of a block (its events, its transaction rows) go
 * into one key per CHUNK of them, `<list>/<height u64 hex>/<chunk u32 hex>`, chunk = position / CHUNK.
 * A block of 1,000 transactions writes 63 keys instead of 1,000 (the store's cost is per key: the
 * native batch converts every operation; LevelDB logs, sorts and compacts every key), and a read of
 * one entry reads about what LevelDB reads anyway (a data block is 4 KiB; 16 rows are ~3 KiB).
 *
 * A chunk: n (u32 BE), then the end offset of each of its n entries (u32 BE, from the first entry's
 * first byte), then the entries' bytes.
 */
export const CHUNK = 16;

/** The value holding `parts` (at most CHUNK of them), in order. */
export function packChunk(parts: readonly Uint8Array[]): Uint8Array {
  let size = 0;
  for (const p of parts) size += p.byteLength;
  const head = 4 + 4 * parts.length;
  const out = new Uint8Array(head + size);
  const d = new DataView(out.buffer, out.byteOffset, head);
  d.setUint32(0, parts.length);
  let off = 0;
  for (let j = 0; j < parts.length; j++) {
    const p = parts[j] as Uint8Array;
    out.set(p, head + off);
    off += p.byteLength;
    d.setUint32(4 + 4 * j, off);
  }
  return out;
}

/** Entry `slot` of a chunk (a view into it), undefined when the chunk holds no such entry. */
export function chunkEntry(chunk: Uint8Array, slot: number): Uint8Array | undefined {
  if (chunk.byteLength < 4) return undefined;
  const d = new DataView(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  const n = d.getUint32(0);
  const head = 4 + 4 * n;
  if (slot < 0 || slot >= n || head > chunk.byteLength) return undefined;
  const start = slot === 0 ? 0 : d.getUint32(4 + 4 * (slot - 1));
  const end = d.getUint32(4 + 4 * slot);
  if (start > end || head + end > chunk.byteLength) return undefined;
  return chunk.subarray(head + start, head + end);
}

/** Reads entries of chunked values, remembering the last chunk read (consecutive entries share it). */
export class ChunkReader {
  private key = '';
  private value: Uint8Array | undefined;

  constructor(private readonly get: (key: string) => Uint8Array | undefined) {}

  /** Entry `position` of the chunked list under `base` (`<list>/<height u64 hex>/`). */
  entry(base: string, position: number): Uint8Array | undefined {
    const key = base + ((position / CHUNK) >>> 0).toString(16).padStart(8, '0');
    if (key !== this.key) {
      this.key = key;
      this.value = this.get(key);
    }
    return this.value === undefined ? undefined : chunkEntry(this.value, position % CHUNK);
  }
}
