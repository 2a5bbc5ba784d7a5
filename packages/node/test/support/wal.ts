/**
 * Reads a stopped node's consensus WAL (`<chain dir>/consensus/wal.bin`): the heights decided above
 * the store's head whose storage batch was still pending when the process died (pipelined heights).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { blockId, bytesToHex, decodeBlock, envelope } from '@roamchain/protocol';
import { parseWal } from '../../src/wal.js';

export interface PendingDecision {
  height: number;
  id: string;
  txIds: string[];
}

/** The decided heights stored + 1, stored + 2, … (consecutive) found in the WAL, with their bodies. */
export function pendingDecisions(chainDir: string, storedHeight: number): PendingDecision[] {
  const path = join(chainDir, 'consensus', 'wal.bin');
  if (!existsSync(path)) return [];
  const { records } = parseWal(new Uint8Array(readFileSync(path)), path);
  const decided = new Map<number, string>();
  const bodies = new Map<string, string[]>();
  for (const r of records) {
    if (r.kind === 'decided') decided.set(Number(r.height), bytesToHex(r.id));
    if (r.kind === 'body') {
      const b = decodeBlock(r.block);
      bodies.set(
        bytesToHex(blockId(b.header)),
        b.txs.map((tx) => envelope(tx).idHex),
      );
    }
  }
  const out: PendingDecision[] = [];
  for (let h = storedHeight + 1; decided.has(h); h++) {
    const id = decided.get(h)!;
    const txIds = bodies.get(id);
    if (!txIds) break;
    out.push({ height: h, id, txIds });
  }
  return out;
}
