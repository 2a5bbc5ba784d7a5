/**
 * Pending transactions. Fairness: each account (the transaction's first required signer) has a
 * FIFO queue, and a block takes transactions round-robin across accounts, so an operator that
 * publishes thousands of offers gets one slot per round like everyone else and cannot delay
 * another party's charge. Order within an account is kept (charge #2 after charge #1).
 */
import { RoamError, requiredSigners, type TxEnvelope } from '@roamchain/protocol';

export interface MempoolLimits {
  maxTotal: number;
  maxPerAccount: number;
}

interface Entry {
  env: TxEnvelope;
  account: string;
  seq: number;
}

export class Mempool {
  private readonly byId = new Map<string, Entry>();
  private readonly queues = new Map<string, Entry[]>();
  private seq = 0;
  constructor(readonly limits: MempoolLimits) {}

  get size(): number {
    return this.byId.size;
  }

  has(idHex: string): boolean {
    return this.byId.has(idHex);
  }

  static accountOf(env: TxEnvelope): string {
    const first = env.tx.ops[0];
    // The first operation's first signer is who the transaction "belongs" to for fairness.
    return first ? (requiredSigners([first])[0] ?? '') : '';
  }

  /** Throws MEMPOOL_FULL / MEMPOOL_ACCOUNT_LIMIT / TX_DUPLICATE; otherwise queues the transaction. */
  checkRoom(env: TxEnvelope): string {
    if (this.byId.has(env.idHex)) throw new RoamError('TX_DUPLICATE', 'transaction is already pending');
    if (this.byId.size >= this.limits.maxTotal) throw new RoamError('MEMPOOL_FULL');
    const account = Mempool.accountOf(env);
    const q = this.queues.get(account);
    if (q && q.length >= this.limits.maxPerAccount) {
      throw new RoamError('MEMPOOL_ACCOUNT_LIMIT', `${account} has ${q.length} pending transactions`);
    }
    return account;
  }

  add(env: TxEnvelope, account: string): void {
    const e: Entry = { env, account, seq: this.seq++ };
    this.byId.set(env.idHex, e);
    const q = this.queues.get(account) ?? [];
    this.queues.set(account, q);
    q.push(e);
  }

  remove(idHex: string): TxEnvelope | undefined {
    const e = this.byId.get(idHex);
    if (!e) return undefined;
    this.byId.delete(idHex);
    const q = this.queues.get(e.account);
    if (q) {
      const i = q.indexOf(e);
      if (i >= 0) q.splice(i, 1);
      if (q.length === 0) this.queues.delete(e.account);
    }
    return e.env;
  }

  /** Round-robin across accounts; within a round, accounts in order of their oldest pending transaction. */
  *fairOrder(): Generator<TxEnvelope> {
    const qs = [...this.queues.values()].filter((q) => q.length > 0).map((q) => [...q]);
    qs.sort((a, b) => a[0]!.seq - b[0]!.seq);
    for (let round = 0; ; round++) {
      let any = false;
      for (const q of qs) {
        const e = q[round];
        if (e) {
          any = true;
          yield e.env;
        }
      }
      if (!any) return;
    }
  }

  /** Drop transactions that expire at or before `time`; returns them. */
  evictExpired(time: bigint): TxEnvelope[] {
    const out: TxEnvelope[] = [];
    for (const e of [...this.byId.values()]) {
      if (e.env.tx.expiration <= time) {
        this.remove(e.env.idHex);
        out.push(e.env);
      }
    }
    return out;
  }
}
