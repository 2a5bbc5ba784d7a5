/**
 * Admission: how a transaction gets into the mempool, for this node's clients and for peers alike.
 * Nothing is executed: bytes → size → decode → stateless validate, chain, expiry, TaPoS, replay,
 * signers known, fee payers can pay (`Application.checkTx`, against the head) → signatures verified
 * in the worker pool, in packed batches shared by every concurrent submission → remembered as
 * verified (the block that includes the transaction does not verify it again) → mempool.
 * Transactions nobody signs (evidence) are executed on a throw-away overlay instead: executing is
 * what stops a flood of them.
 */
import { availableParallelism } from 'node:os';
import type { Application, SignatureCheck } from '@roamchain/chain';
import { decodeTx, RoamError, type TxEnvelope } from '@roamchain/protocol';
import type { CachingVerifier } from './crypto/verifier.js';
import { VerifierPool } from './crypto/verifier.js';
import type { Mempool } from './mempool.js';

/** Most signatures sent to the pool in one go; more wait for the next flush. */
const MAX_FLUSH = 4096;

let shared: VerifierPool | null = null;
/** One worker pool per process (a test may run many nodes in one process). */
export function sharedVerifierPool(): VerifierPool {
  shared ??= new VerifierPool({ size: Math.max(1, availableParallelism()), minChunk: 64 });
  return shared;
}

/**
 * Collects the signature checks of concurrent submissions and sends them to the pool together (one
 * packed message per worker per flush instead of one per transaction).
 */
export class BatchVerifier {
  private queue: {
    items: SignatureCheck[];
    resolve: (ok: boolean[]) => void;
    reject: (e: unknown) => void;
  }[] = [];
  private queued = 0;
  private scheduled = false;
  constructor(private readonly pool: VerifierPool) {}

  verify(items: SignatureCheck[]): Promise<boolean[]> {
    if (items.length === 0) return Promise.resolve([]);
    return new Promise((resolve, reject) => {
      this.queue.push({ items, resolve, reject });
      this.queued += items.length;
      if (this.queued >= MAX_FLUSH) this.flush();
      else if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    const jobs = this.queue;
    if (jobs.length === 0) return;
    this.queue = [];
    this.queued = 0;
    const all = jobs.flatMap((j) => j.items);
    this.pool.verifyBatch(all).then(
      (ok) => {
        let at = 0;
        for (const j of jobs) {
          j.resolve(ok.slice(at, at + j.items.length));
          at += j.items.length;
        }
      },
      (e) => {
        for (const j of jobs) j.reject(e);
      },
    );
  }
}

export interface AdmissionHost {
  readonly app: Application;
  readonly mempool: Mempool;
  readonly cache: CachingVerifier;
  readonly batch: BatchVerifier;
  /** Whether the transaction is already in a block (durable or being written). */
  /** Included in a block already (`refBlockNum`: the transaction's TaPoS reference, see `TxIndex`). */
  isIncluded(idHex: string, refBlockNum?: number): boolean;
}

/** One admitted transaction (with its mempool account), or why not. */
export type Admitted = { env: TxEnvelope; account: string } | RoamError;

const asRoam = (e: unknown): RoamError =>
  e instanceof RoamError ? e : new RoamError('INTERNAL', (e as Error).message);

/**
 * Check many transactions; the ones that pass are added to the mempool. One result per input, in
 * order. Deterministic failures (codec, signature) are `RoamError`s with those codes.
 */
export async function admit(host: AdmissionHost, list: Uint8Array[], now: bigint): Promise<Admitted[]> {
  const out: Admitted[] = new Array(list.length);
  const checks: SignatureCheck[] = [];
  const owner: number[] = [];
  const seen = new Set<string>();
  const maxTx = host.app.params.maxTxBytes;
  for (let i = 0; i < list.length; i++) {
    const bytes = list[i]!;
    try {
      if (bytes.length > maxTx) throw new RoamError('TX_TOO_LARGE', `${bytes.length} bytes > ${maxTx}`);
      const env = decodeTx(bytes);
      if (host.isIncluded(env.idHex, env.tx.refBlockNum))
        throw new RoamError('TX_DUPLICATE', `transaction ${env.idHex} already included`);
      if (host.mempool.has(env.idHex) || seen.has(env.idHex))
        throw new RoamError('TX_DUPLICATE', `transaction ${env.idHex} is pending`);
      const account = host.mempool.checkRoom(env);
      if (env.tx.signatures.length === 0) host.app.dryRun(env, now);
      else {
        for (const c of host.app.checkTx(env, now)) {
          checks.push(c);
          owner.push(i);
        }
      }
      seen.add(env.idHex);
      out[i] = { env, account };
    } catch (e) {
      out[i] = asRoam(e);
    }
  }
  if (checks.length > 0) {
    const ok = await host.batch.verify(checks);
    for (let j = 0; j < checks.length; j++) {
      const i = owner[j]!;
      if (!ok[j] && !(out[i] instanceof RoamError))
        out[i] = new RoamError('SIG_INVALID', 'a signature does not verify');
    }
    for (let j = 0; j < checks.length; j++) {
      const c = checks[j]!;
      if (!(out[owner[j]!] instanceof RoamError)) host.cache.remember(c.publicKey, c.message, c.signature);
    }
  }
  // The mempool may have changed while the signatures were checked.
  for (let i = 0; i < out.length; i++) {
    const r = out[i]!;
    if (r instanceof RoamError) continue;
    try {
      if (host.isIncluded(r.env.idHex, r.env.tx.refBlockNum) || host.mempool.has(r.env.idHex))
        throw new RoamError('TX_DUPLICATE', `transaction ${r.env.idHex} is pending`);
      host.mempool.checkRoom(r.env);
      host.mempool.add(r.env, r.account);
    } catch (e) {
      out[i] = asRoam(e);
    }
  }
  return out;
}
