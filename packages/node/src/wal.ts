/**
 * The consensus write-ahead log (after CometBFT's consensus/wal.go): what a crash must not take
 * away between "the sign state locked on a block" and "the block's storage batch is durable".
 *
 * Records (appended to `<dataDir>/consensus/wal.bin`):
 *   [u32 length of payload, big-endian][u32 CRC-32 of payload][payload]
 *   payload = [u8 kind][u64 height][data]
 *   kind 1 body     data = the block's encoding (a proposal's body, own or received, that the node
 *                   found valid: it may prevote, precommit and lock on it)
 *   kind 2 decided  data = [32-byte block id][commit encoding]: the decision, before the batch
 *   kind 3 end      no data: the height's storage batch is durable (#ENDHEIGHT)
 *   kind 4 sign     data = the consensus sign state (@roamchain/consensus `encodeSignState`): what
 *                   the node last signed and its lock. Appended and fsynced before every signature
 *                   leaves (one fdatasync, covering the bodies appended before it); the last one in
 *                   the log is the node's double-sign protection at start.
 *
 * Ordering (the driver's duty): a body is appended when the node first finds it valid, and the sign
 * state of every signature is appended and fsynced before the signature leaves (`signState` from
 * the core's `persist`); the body of every value the node ever voted or locked on was appended
 * before, so it is durable with the vote. A decision is appended and fsynced before the storage
 * batch starts.
 *
 * Fsync cost: appends only write into the OS; one fdatasync covers everything appended since the
 * last one, and happens only when a signature (or a storage batch) depends on it — so the bodies of
 * a round cost one fsync at the prevote, not one each, and a step with nothing new costs none.
 * End markers are never fsynced: losing one changes nothing (the store's head is the authority;
 * replay ignores records of heights the store already has).
 *
 * Recovery (`open`): every record is read and checked. A bad record at the end of the file (a write
 * torn by the crash: short, or a checksum mismatch with nothing valid after it, or zero fill) is
 * truncated away. A bad record followed by more data is corruption in the middle: start-up stops
 * with `WAL_CORRUPT` (an operator must look; deleting the file is safe only if the node is not
 * locked on a block, see the README).
 *
 * Pipelined heights: the storage batches of several decided heights may be pending at once (the
 * node's write queue); their records stay needed until each batch lands (`end`). The log keeps the
 * records of every height above the last end marker in memory (`carry`, bounded by the write queue's
 * bound) and writes them again at the head of a rotated file, so a rotation never drops a decision
 * whose batch is not durable.
 *
 * Bounded: at the start of each height (`beginHeight`) when the file has grown past `maxBytes` it
 * is rotated (renamed to wal.bin.1, replacing the previous one, kept for diagnosis) and a new file
 * begins with the carried records. Records of heights the store holds are never needed, so the live
 * file holds at most `maxBytes` plus the records of the pending heights and the current one; within
 * a height, bodies are at most one per distinct valid value (`has`), and the driver writes only those.
 */
import {
  closeSync,
  existsSync,
  fdatasync,
  fdatasyncSync,
  fsyncSync,
  ftruncateSync,
  linkSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { RoamError } from '@roamchain/protocol';

export type WalRecord =
  | { kind: 'body'; height: bigint; block: Uint8Array }
  | { kind: 'decided'; height: bigint; id: Uint8Array; commit: Uint8Array }
  | { kind: 'end'; height: bigint }
  | { kind: 'sign'; height: bigint; state: Uint8Array };

const KIND = { body: 1, decided: 2, end: 3, sign: 4 } as const;
const HEADER = 8;
/** Largest payload accepted (a block is at most 16 MiB on the wire; a commit far less). */
export const MAX_WAL_RECORD = 32 * 1024 * 1024;
/** Default size after which the log is rotated at the next height. */
export const WAL_ROTATE_BYTES = 8 * 1024 * 1024;

export interface WalReplay {
  records: WalRecord[];
  /** Bytes cut off the end (a torn last record). */
  truncated: number;
}

export class Wal {
  private fd: number;
  private size: number;
  private dirty = false;
  private closed = false;
  /** Block ids (hex) with a body record at `bodiesHeight` (no body is written twice). */
  private bodies = new Set<string>();
  private bodiesHeight = -1n;
  private lastEnd = -1n;
  /** Encoded records of the heights above `lastEnd` (still needed: rewritten by a rotation). */
  private carry = new Map<bigint, Uint8Array[]>();
  /** The last sign state record (rewritten first by a rotation). */
  private lastSign: Uint8Array | null = null;
  /** Sign records appended so far, and how many of them are known durable (see `signStateDeferred`). */
  private appended = 0;
  private durable = 0;
  /** The fdatasync running in libuv's thread pool, if any (one at a time). */
  private syncing = false;
  /** Waiters for durability, in the order they asked (each for the records appended before it). */
  private waiters: { upTo: number; resolve: () => void; reject: (e: unknown) => void }[] = [];
  /** A failed background fdatasync: nothing may be signed on this log any more. */
  private failed: unknown = null;

  private constructor(
    private readonly dir: string,
    private readonly maxBytes: number,
    fd: number,
    size: number,
  ) {
    this.fd = fd;
    this.size = size;
  }

  get path(): string {
    return join(this.dir, 'wal.bin');
  }

  /** Bytes in the live file. */
  get bytes(): number {
    return this.size;
  }

  /**
   * Opens (creating) the log in `dir`, checks every record, truncates a torn tail, and returns the
   * records. Throws `WAL_CORRUPT` on a damaged record in the middle.
   */
  static open(dir: string, maxBytes = WAL_ROTATE_BYTES): { wal: Wal; replay: WalReplay } {
    mkdirSync(dir, { recursive: true });
    const path = join(dir, 'wal.bin');
    const data = existsSync(path) ? new Uint8Array(readFileSync(path)) : new Uint8Array(0);
    const { records, end } = parseWal(data, path);
    const fd = openSync(path, 'a+', 0o600);
    if (end < data.length) {
      ftruncateSync(fd, end);
      fsyncSync(fd);
    }
    const wal = new Wal(dir, maxBytes, fd, end);
    for (const r of records) {
      if (r.kind === 'end' && r.height > wal.lastEnd) wal.lastEnd = r.height;
    }
    for (const { kind, height, rec } of rawRecords(data.subarray(0, end))) {
      if (kind === KIND.sign) wal.lastSign = rec;
      else if (kind !== KIND.end && height > wal.lastEnd) wal.carryRecord(height, rec);
    }
    return { wal, replay: { records, truncated: data.length - end } };
  }

  /** A body record for this block id at this height is already in the log. */
  has(height: bigint, idHex: string): boolean {
    return height === this.bodiesHeight && this.bodies.has(idHex);
  }

  /** Notes that the log already holds this body (bodies found by `open`): it is not written again. */
  remember(height: bigint, idHex: string): void {
    if (height !== this.bodiesHeight) {
      this.bodies = new Set();
      this.bodiesHeight = height;
    }
    this.bodies.add(idHex);
  }

  /** Appends a proposal body (not yet durable: see `sync`). Once per id and height. */
  body(height: bigint, idHex: string, block: Uint8Array): void {
    if (this.has(height, idHex)) return;
    this.append(KIND.body, height, block);
    this.remember(height, idHex);
  }

  /** Appends the decision of `height` (block id and its commit) and makes the log durable. */
  decided(height: bigint, id: Uint8Array, commit: Uint8Array): void {
    const data = new Uint8Array(32 + commit.length);
    data.set(id, 0);
    data.set(commit, 32);
    this.append(KIND.decided, height, data);
    this.sync();
  }

  /**
   * A new height begins (the store holds everything below it): the end marker of the height before
   * if it is missing, and a rotation when the file has grown past the bound.
   */
  beginHeight(_height: bigint): void {
    // Not while a background fdatasync runs on the live file's descriptor: the next height rotates.
    if (this.size > this.maxBytes && !this.syncing) this.rotate();
  }

  /**
   * The store holds every height up to `height` (start-up: the store's head): their records are no
   * longer carried over a rotation. Writes nothing.
   */
  settled(height: bigint): void {
    for (const h of this.carry.keys()) if (h <= height) this.carry.delete(h);
  }

  /** The storage batch of `height` is durable (no fsync: see the file comment). */
  end(height: bigint): void {
    if (height <= this.lastEnd) return;
    this.append(KIND.end, height, new Uint8Array(0));
    this.lastEnd = height;
    this.settled(height);
  }

  /** Heights whose records are carried (pending batches and the current height), in order. */
  carriedHeights(): bigint[] {
    return [...this.carry.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }

  private carryRecord(height: bigint, rec: Uint8Array): void {
    const list = this.carry.get(height);
    if (list) list.push(rec);
    else this.carry.set(height, [rec]);
  }

  /**
   * Appends the sign state of a signature about to leave and makes the log durable (one fdatasync
   * for it and the bodies before it). Throws once the log is closed: nothing may be signed then.
   */
  signState(height: bigint, state: Uint8Array): void {
    this.appendSign(height, state);
    this.sync();
  }

  private appendSign(height: bigint, state: Uint8Array): void {
    if (this.closed) throw new RoamError('INTERNAL', 'the consensus WAL is closed');
    if (this.failed)
      throw new RoamError('INTERNAL', `the consensus WAL cannot be synced: ${String(this.failed)}`);
    this.lastSign = this.append(KIND.sign, height, state);
  }

  /**
   * Appends the sign state of a signature and starts making it durable in the background (an
   * fdatasync in libuv's thread pool, not on the main thread). The signature must not leave the
   * process before `whenDurable()` resolves: the driver holds its outgoing consensus messages (and
   * what it serves to catching-up peers) until then (`ConsensusDriver.sendConsensus`). A process
   * that dies before keeps nothing of that signature outside itself, so its older sign state on
   * disk still protects it. Throws once the log is closed or a background fdatasync failed.
   */
  signStateDeferred(height: bigint, state: Uint8Array): void {
    this.appendSign(height, state);
    this.kickSync();
  }

  /** Some appended record is not known durable yet (a signature depending on it must wait). */
  get pending(): boolean {
    return this.durable < this.appended;
  }

  /** Resolves once every record appended before this call is durable (rejects if the sync fails). */
  whenDurable(): Promise<void> {
    if (this.failed) return Promise.reject(this.failed);
    if (!this.pending) return Promise.resolve();
    const upTo = this.appended;
    return new Promise((resolve, reject) => {
      this.waiters.push({ upTo, resolve, reject });
      this.kickSync();
    });
  }

  private kickSync(): void {
    if (this.syncing || this.closed || !this.pending) return;
    this.syncing = true;
    const upTo = this.appended;
    fdatasync(this.fd, (err) => {
      this.syncing = false;
      if (err && !this.closed) {
        this.failed = err;
        const ws = this.waiters;
        this.waiters = [];
        for (const w of ws) w.reject(err);
        return;
      }
      this.markDurable(upTo);
      this.kickSync();
    });
  }

  private markDurable(upTo: number): void {
    if (upTo > this.durable) this.durable = upTo;
    if (this.durable >= this.appended) this.dirty = false;
    while (this.waiters.length > 0 && this.waiters[0]!.upTo <= this.durable) this.waiters.shift()!.resolve();
  }

  /** Makes everything appended so far durable (one fdatasync; none if nothing is new). */
  sync(): void {
    // Closed (the driver stopped): no signature may rely on a log that is no longer written.
    if (this.closed) throw new RoamError('INTERNAL', 'the consensus WAL is closed');
    if (this.failed)
      throw new RoamError('INTERNAL', `the consensus WAL cannot be synced: ${String(this.failed)}`);
    if (!this.dirty) return;
    fdatasyncSync(this.fd);
    this.dirty = false;
    this.markDurable(this.appended);
  }

  close(): void {
    if (this.closed) return;
    try {
      this.sync();
    } finally {
      this.closed = true;
      closeSync(this.fd);
    }
  }

  private append(kind: number, height: bigint, data: Uint8Array): Uint8Array | null {
    if (this.closed) return null; // late messages after stop: nothing is signed on them (sync throws)
    const payload = new Uint8Array(9 + data.length);
    const dv = new DataView(payload.buffer);
    payload[0] = kind;
    dv.setBigUint64(1, height);
    payload.set(data, 9);
    if (payload.length > MAX_WAL_RECORD) throw new RoamError('INTERNAL', 'WAL record too large');
    const rec = new Uint8Array(HEADER + payload.length);
    const hv = new DataView(rec.buffer);
    hv.setUint32(0, payload.length);
    hv.setUint32(4, crc32(payload));
    rec.set(payload, HEADER);
    this.writeAll(rec);
    // Only sign records are counted: a signature's fdatasync covers the bodies appended before it.
    if (kind === KIND.sign) this.appended++;
    if (kind !== KIND.end && kind !== KIND.sign && height > this.lastEnd) this.carryRecord(height, rec);
    return rec;
  }

  private writeAll(rec: Uint8Array): void {
    let off = 0;
    while (off < rec.length) off += writeSync(this.fd, rec, off, rec.length - off);
    this.size += rec.length;
    this.dirty = true;
  }

  /**
   * The new file is written aside first (the sign state, then the pending heights' decisions and
   * bodies), fsynced, and only then put in place by a rename over the live file: a crash at any
   * moment leaves either the old log or the new one, never a log without the sign state.
   */
  private rotate(): void {
    if (this.closed) return;
    this.sync();
    const next = join(this.dir, 'wal.bin.new');
    const fd = openSync(next, 'w', 0o600);
    let size = 0;
    try {
      const recs = [
        ...(this.lastSign ? [this.lastSign] : []),
        ...this.carriedHeights().flatMap((h) => this.carry.get(h)!),
      ];
      for (const rec of recs) {
        let off = 0;
        while (off < rec.length) off += writeSync(fd, rec, off, rec.length - off);
        size += rec.length;
      }
      fdatasyncSync(fd);
    } catch (e) {
      closeSync(fd);
      throw e;
    }
    const old = join(this.dir, 'wal.bin.1');
    rmSync(old, { force: true });
    linkSync(this.path, old); // kept for diagnosis
    renameSync(next, this.path);
    const d = openSync(this.dir, 'r');
    try {
      fsyncSync(d); // the rename survives a crash
    } finally {
      closeSync(d);
    }
    closeSync(this.fd);
    this.fd = fd;
    this.size = size;
    this.dirty = false;
  }
}

/**
 * Reads records until the end or the first bad one; `end` is the offset after the last good record.
 * A bad record is a torn tail when nothing but it (or zero fill) follows; else the log is corrupt.
 */
export function parseWal(data: Uint8Array, name = 'wal'): { records: WalRecord[]; end: number } {
  const records: WalRecord[] = [];
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  let off = 0;
  while (off < data.length) {
    const bad = (why: string): { records: WalRecord[]; end: number } => {
      if (tornTail(data, off)) return { records, end: off };
      throw new RoamError(
        'WAL_CORRUPT',
        `${name}: ${why} at byte ${off} of ${data.length}, with more records after it; the consensus log is damaged (see README "Consensus write-ahead log")`,
      );
    };
    if (data.length - off < HEADER) return bad('short record header');
    const len = dv.getUint32(off);
    const sum = dv.getUint32(off + 4);
    if (len < 9 || len > MAX_WAL_RECORD) return bad(`record length ${len} out of range`);
    if (off + HEADER + len > data.length) return { records, end: off }; // cut short by the crash
    const payload = data.subarray(off + HEADER, off + HEADER + len);
    if (crc32(payload) !== sum) return bad('checksum mismatch');
    const r = decodeRecord(payload);
    if (!r) return bad('unknown record');
    records.push(r);
    off += HEADER + len;
  }
  return { records, end: off };
}

/** The encoded records of a log already checked by `parseWal` (each with its height). */
function* rawRecords(data: Uint8Array): Generator<{ kind: number; height: bigint; rec: Uint8Array }> {
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  let off = 0;
  while (off + HEADER <= data.length) {
    const len = dv.getUint32(off);
    const rec = data.slice(off, off + HEADER + len);
    yield { kind: data[off + HEADER]!, height: dv.getBigUint64(off + HEADER + 1), rec };
    off += HEADER + len;
  }
}

/** Nothing valid can follow `off`: the rest is one (torn) record or zero fill from the crash. */
function tornTail(data: Uint8Array, off: number): boolean {
  const rest = data.subarray(off);
  if (rest.every((b) => b === 0)) return true;
  if (rest.length < HEADER) return true;
  const len = new DataView(rest.buffer, rest.byteOffset, rest.byteLength).getUint32(0);
  // The damaged record claims exactly the rest of the file (or more): it was the last write.
  return len >= 9 && len <= MAX_WAL_RECORD && HEADER + len >= rest.length;
}

function decodeRecord(p: Uint8Array): WalRecord | null {
  const dv = new DataView(p.buffer, p.byteOffset, p.byteLength);
  const height = dv.getBigUint64(1);
  const data = p.subarray(9);
  switch (p[0]) {
    case KIND.body:
      return { kind: 'body', height, block: data.slice() };
    case KIND.decided:
      if (data.length < 32) return null;
      return { kind: 'decided', height, id: data.slice(0, 32), commit: data.slice(32) };
    case KIND.end:
      return data.length === 0 ? { kind: 'end', height } : null;
    case KIND.sign:
      return data.length > 0 ? { kind: 'sign', height, state: data.slice() } : null;
    default:
      return null;
  }
}
