/**
 * The indexes' pointer values: under an account (or a contract) one key per block,
 * `<list>/<height u64 hex>`, whose value lists the positions in that block (event or transaction
 * indexes) as big-endian u32, ascending. A block of 1,000 transfers among a few accounts then
 * writes a few pointer keys instead of a thousand: the store's cost is per key (the native batch
 * converts every operation, LevelDB logs, sorts and compacts every key).
 */
import type { KvBatchOp } from '../store/index.js';

/** The positions a pointer value lists. */
export function positionsOf(v: Uint8Array): number[] {
  if (v.byteLength % 4 !== 0) throw new Error(`an index pointer of ${v.byteLength} bytes`);
  const d = new DataView(v.buffer, v.byteOffset, v.byteLength);
  const out: number[] = new Array(v.byteLength / 4);
  for (let i = 0; i < out.length; i++) out[i] = d.getUint32(i * 4);
  return out;
}

/** One block's pointers: positions collected per name (in ascending order), then one put per name. */
export class BlockPointers {
  private readonly lists = new Map<string, number[]>();

  /** `position` under `name` (positions come in ascending order; a repeat of the last is ignored). */
  add(name: string, position: number): void {
    const l = this.lists.get(name);
    if (l === undefined) this.lists.set(name, [position]);
    else if (l[l.length - 1] !== position) l.push(position);
  }

  /** One put per name into `ops`, under `<prefix><name>/<suffix>`. */
  flush(ops: KvBatchOp[], prefix: string, suffix: string): void {
    for (const [name, l] of this.lists) {
      const v = new Uint8Array(l.length * 4);
      for (let i = 0; i < l.length; i++) {
        const p = l[i] as number;
        const o = i * 4;
        v[o] = p >>> 24;
        v[o + 1] = (p >>> 16) & 0xff;
        v[o + 2] = (p >>> 8) & 0xff;
        v[o + 3] = p & 0xff;
      }
      ops.push({ type: 'put', key: `${prefix}${name}/${suffix}`, value: v });
    }
    this.lists.clear();
  }
}
