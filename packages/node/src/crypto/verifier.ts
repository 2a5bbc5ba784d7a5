/**
 * Fast Ed25519 verification for the node: libsodium in-thread (`sodiumVerifier`), a cache of
 * verifications already done (`CachingVerifier`, so a transaction checked at mempool admission is not
 * checked again when its block is applied), and a worker-thread pool for batches (`VerifierPool`).
 *
 * Consensus note: libsodium is stricter than `@noble/curves`' default (ZIP-215) rules on edge cases
 * (non-canonical encodings, small-order keys). Honest signatures verify under both; nodes of one
 * network must use the same rules for adversarial input.
 */
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { SignatureVerifier } from '@roamchain/protocol';
import { packItems, type SignedItem, type VerifyReply, type VerifyRequest } from './packing.js';
import {
  ED25519_PUBLIC_KEY_BYTES,
  ED25519_SIGNATURE_BYTES,
  sodium,
  sodiumKeyPair,
  sodiumSign,
  sodiumVerify,
} from './sodium.js';

export type { SignedItem } from './packing.js';
export { sodiumKeyPair, sodiumSign } from './sodium.js';

const lengthsOk = (it: SignedItem): boolean =>
  it.publicKey.length === ED25519_PUBLIC_KEY_BYTES && it.signature.length === ED25519_SIGNATURE_BYTES;

/** libsodium `crypto_sign_verify_detached`; false on a key or signature of the wrong length. */
export function sodiumVerifier(): SignatureVerifier {
  return { verify: sodiumVerify };
}

/**
 * Remembers successful verifications of (publicKey, message, signature), bounded LRU. The key is
 * BLAKE2b-256(publicKey || signature || message), kept as a 32-char string (~10 MB at 200k entries).
 * Failures are not cached: a bad signature costs a verification each time it is presented.
 */
export class CachingVerifier implements SignatureVerifier {
  hits = 0;
  misses = 0;
  private readonly seen = new Set<string>();
  private scratch = new Uint8Array(256);
  private readonly digest = Buffer.alloc(32);

  constructor(
    readonly inner: SignatureVerifier,
    readonly maxEntries = 200_000,
  ) {
    if (!(maxEntries >= 1)) throw new RangeError('maxEntries must be at least 1');
  }

  verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
    const key = this.keyOf(publicKey, message, signature);
    if (key !== undefined && this.seen.has(key)) {
      this.hits++;
      // Refresh: a Set iterates in insertion order, so the oldest entry is always first.
      this.seen.delete(key);
      this.seen.add(key);
      return true;
    }
    this.misses++;
    const ok = this.inner.verify(publicKey, message, signature);
    if (ok && key !== undefined) this.insert(key);
    return ok;
  }

  /** Record a verification done elsewhere (e.g. by a `VerifierPool` at mempool admission). Only pass valid ones. */
  remember(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): void {
    const key = this.keyOf(publicKey, message, signature);
    if (key !== undefined) this.insert(key);
  }

  has(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
    const key = this.keyOf(publicKey, message, signature);
    return key !== undefined && this.seen.has(key);
  }

  get size(): number {
    return this.seen.size;
  }

  clear(): void {
    this.seen.clear();
  }

  private insert(key: string): void {
    this.seen.delete(key);
    this.seen.add(key);
    if (this.seen.size > this.maxEntries) {
      const oldest = this.seen.values().next();
      if (!oldest.done) this.seen.delete(oldest.value);
    }
  }

  /** Undefined when the lengths are not Ed25519's: such input is never cached (and never valid). */
  private keyOf(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): string | undefined {
    if (publicKey.length !== ED25519_PUBLIC_KEY_BYTES || signature.length !== ED25519_SIGNATURE_BYTES)
      return undefined;
    const n = ED25519_PUBLIC_KEY_BYTES + ED25519_SIGNATURE_BYTES + message.length;
    if (this.scratch.length < n) this.scratch = new Uint8Array(Math.max(n, this.scratch.length * 2));
    const s = this.scratch;
    s.set(publicKey, 0);
    s.set(signature, ED25519_PUBLIC_KEY_BYTES);
    s.set(message, ED25519_PUBLIC_KEY_BYTES + ED25519_SIGNATURE_BYTES);
    sodium.crypto_generichash(this.digest, s.subarray(0, n));
    return this.digest.toString('latin1');
  }
}

/**
 * Starts one verify worker. Compiled: `verify-worker.js` next to this file. From TypeScript sources
 * (tsx, vitest): on Node 20 a worker does not get the parent's ESM loader hooks, and
 * `execArgv: ['--import', 'tsx']` fails with ERR_UNKNOWN_FILE_EXTENSION (nodejs/node#47747), so a
 * tiny CommonJS bootstrap installs tsx's require hook and requires the .ts worker.
 */
function startWorker(): Worker {
  const here = import.meta.url;
  if (!here.endsWith('.ts')) return new Worker(new URL('./verify-worker.js', here));
  const tsxCjs = createRequire(here).resolve('tsx/cjs');
  const file = fileURLToPath(new URL('./verify-worker.ts', here));
  const code = `require(${JSON.stringify(tsxCjs)});require(${JSON.stringify(file)});`;
  return new Worker(code, { eval: true, execArgv: [] });
}

interface Pending {
  resolve: (ok: Uint8Array) => void;
  reject: (e: Error) => void;
  n: number;
}

interface Slot {
  worker: Worker;
  pending: Map<number, Pending>;
  /** Items sent and not answered yet. */
  load: number;
}

export interface VerifierPoolOptions {
  /** Worker count; default `os.availableParallelism()`. */
  size?: number;
  /** Smallest chunk worth a worker round trip (default 32 items). */
  minChunk?: number;
}

/**
 * Ed25519 verification on worker threads. Each batch is split into at most one chunk per worker;
 * each chunk travels as ONE packed, transferred buffer (32 + 32 + 64 bytes per item for 32-byte
 * messages). Results come back in input order. Idle workers do not keep the process alive.
 */
export class VerifierPool {
  readonly size: number;
  private readonly minChunk: number;
  private readonly slots: Slot[] = [];
  private nextId = 1;
  private closed = false;

  constructor(opts: VerifierPoolOptions = {}) {
    this.size = Math.max(1, opts.size ?? availableParallelism());
    this.minChunk = Math.max(1, opts.minChunk ?? 32);
    for (let i = 0; i < this.size; i++) this.slots.push(this.spawn());
  }

  /** One boolean per item, in order; a key or signature of the wrong length is false. */
  async verifyBatch(items: readonly SignedItem[]): Promise<boolean[]> {
    if (this.closed) throw new Error('VerifierPool is closed');
    const out = new Array<boolean>(items.length).fill(false);
    // Items of the right lengths, and where each is in `items` (identity when all are right, as
    // admission's always are: then nothing is copied). Chunks are ranges of them, packed in place.
    let good: readonly SignedItem[] = items;
    let at: number[] | null = null;
    if (!items.every(lengthsOk)) {
      at = [];
      for (let i = 0; i < items.length; i++) if (lengthsOk(items[i]!)) at.push(i);
      good = at.map((i) => items[i]!);
    }
    if (good.length === 0) return out;
    const chunks = Math.min(this.size, Math.ceil(good.length / this.minChunk));
    const per = Math.ceil(good.length / chunks);
    const jobs: Promise<void>[] = [];
    for (let from = 0; from < good.length; from += per) {
      const to = Math.min(good.length, from + per);
      jobs.push(
        this.send(good, from, to).then((ok) => {
          for (let j = 0; j < to - from; j++) out[at ? at[from + j]! : from + j] = ok[j] === 1;
        }),
      );
    }
    await Promise.all(jobs);
    return out;
  }

  /** Terminates the workers; pending batches are rejected. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const err = new Error('VerifierPool closed');
    await Promise.all(
      this.slots.map((s) => {
        this.failPending(s, err);
        return s.worker.terminate();
      }),
    );
  }

  /** Items `from` ≤ i < `to` to the least loaded worker, packed in one transferred buffer. */
  private send(items: readonly SignedItem[], from = 0, to = items.length): Promise<Uint8Array> {
    let slot = this.slots[0]!;
    for (const s of this.slots) if (s.load < slot.load) slot = s;
    const { buf, layout } = packItems(items, from, to);
    const id = this.nextId++;
    const n = to - from;
    const req: VerifyRequest = { id, buf, n, layout };
    return new Promise<Uint8Array>((resolve, reject) => {
      slot.pending.set(id, { resolve, reject, n });
      slot.load += n;
      if (slot.pending.size === 1) slot.worker.ref();
      slot.worker.postMessage(req, [buf]);
    });
  }

  private spawn(): Slot {
    const worker = startWorker();
    const slot: Slot = { worker, pending: new Map(), load: 0 };
    worker.unref();
    worker.on('message', (r: VerifyReply) => {
      const p = slot.pending.get(r.id);
      if (!p) return;
      slot.pending.delete(r.id);
      slot.load -= p.n;
      if (slot.pending.size === 0) worker.unref();
      if ('ok' in r) p.resolve(r.ok);
      else p.reject(new Error(`verify worker: ${r.error}`));
    });
    worker.on('error', (e) => this.failPending(slot, e));
    worker.on('exit', (code) => {
      if (this.closed) return;
      this.failPending(slot, new Error(`verify worker exited with code ${code}`));
      const i = this.slots.indexOf(slot);
      if (i >= 0) this.slots[i] = this.spawn();
    });
    return slot;
  }

  private failPending(slot: Slot, e: Error): void {
    for (const p of slot.pending.values()) p.reject(e);
    slot.pending.clear();
    slot.load = 0;
  }
}

/** `n` valid, distinct (publicKey, 32-byte message, signature) triples from deterministic keys. */
export function sampleSignedItems(n: number, keys = 64): SignedItem[] {
  const pairs = Array.from({ length: Math.min(keys, n) }, (_, k) =>
    sodiumKeyPair(new Uint8Array(32).fill(k + 1)),
  );
  return Array.from({ length: n }, (_, i) => {
    const kp = pairs[i % pairs.length]!;
    const message = new Uint8Array(32);
    new DataView(message.buffer).setUint32(0, i);
    message[31] = 0x5a;
    return { publicKey: kp.publicKey, message, signature: sodiumSign(kp.secretKey, message) };
  });
}

/** libsodium verifications per second on this thread, over pre-generated valid signatures. */
export function measureVerifySingle(
  seconds = 1,
  items: readonly SignedItem[] = sampleSignedItems(1024),
): number {
  let done = 0;
  const t0 = performance.now();
  const until = t0 + seconds * 1000;
  let now = t0;
  while (now < until) {
    for (const it of items) {
      if (!sodiumVerify(it.publicKey, it.message, it.signature))
        throw new Error('sample signature does not verify');
    }
    done += items.length;
    now = performance.now();
  }
  return Math.round((done * 1000) / (now - t0));
}

/** Verifications per second through a pool (all its workers busy), over pre-generated valid signatures. */
export async function measureVerifyPool(
  pool: VerifierPool,
  seconds = 1,
  items: readonly SignedItem[] = sampleSignedItems(1024),
): Promise<number> {
  const check = (r: boolean[]) => {
    if (!r.every(Boolean)) throw new Error('sample signature does not verify');
  };
  check(await pool.verifyBatch(items)); // warm-up: workers started and JIT-compiled
  let done = 0;
  const t0 = performance.now();
  const until = t0 + seconds * 1000;
  const lane = async () => {
    while (performance.now() < until) {
      check(await pool.verifyBatch(items));
      done += items.length;
    }
  };
  // Two batches in flight per worker keep every worker busy while the main thread packs the next one.
  await Promise.all(Array.from({ length: 2 }, lane));
  return Math.round((done * 1000) / (performance.now() - t0));
}

export interface VerifyBound {
  /** libsodium, one thread, verifications/s. */
  single: number;
  /** libsodium through a `VerifierPool`, verifications/s (when measured). */
  pool?: number;
  poolSize?: number;
}

/**
 * Raw Ed25519 verification rate of this machine (the bound on verified transactions per second,
 * divided by signatures per transaction). Async because the pool's workers answer asynchronously;
 * pass `pool: false` to measure only the single thread, or an existing pool to reuse it.
 */
export async function measureVerifyBound(
  opts: { seconds?: number; pool?: boolean | VerifierPool } = {},
): Promise<VerifyBound> {
  const seconds = opts.seconds ?? 1;
  const items = sampleSignedItems(1024);
  const single = measureVerifySingle(seconds, items);
  if (opts.pool === false) return { single };
  const pool = opts.pool instanceof VerifierPool ? opts.pool : new VerifierPool();
  try {
    return { single, pool: await measureVerifyPool(pool, seconds, items), poolSize: pool.size };
  } finally {
    if (pool !== opts.pool) await pool.close();
  }
}
