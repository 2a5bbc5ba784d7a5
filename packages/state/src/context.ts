/** What an evaluator sees: the overlay it writes to, the block time, and helpers on balances. */
import { BPS, type ChainParams, RoamError, type Token, U64_MAX } from '@roamchain/protocol';
import type { Overlay } from './ledger.js';
import { type Account, K } from './objects.js';

/** An event emitted by a transaction or by block-end processing (indexers and the API read them). */
export interface LedgerEvent {
  type: string;
  [field: string]: unknown;
}

export class ApplyCtx {
  readonly events: LedgerEvent[] = [];
  /** UMT fees collected by this context (moved to the block's fee pot on success). */
  fees = 0n;
  constructor(
    readonly o: Overlay,
    readonly params: ChainParams,
    readonly height: bigint,
    readonly time: bigint,
  ) {}

  emit(e: LedgerEvent): void {
    this.events.push(e);
  }

  account(name: string): Account {
    const a = this.o.get<Account>(K.account(name));
    if (!a) throw new RoamError('ACCOUNT_UNKNOWN', `account ${name} does not exist`, { account: name });
    return a;
  }

  hasRole(a: Account, role: Account['roles'][number]): boolean {
    return a.roles.includes(role);
  }

  requireRole(name: string, ...roles: Account['roles'][number][]): Account {
    const a = this.account(name);
    if (!roles.some((r) => a.roles.includes(r))) {
      throw new RoamError('ROLE_REQUIRED', `${name} needs role ${roles.join(' or ')}`, {
        account: name,
        roles,
      });
    }
    return a;
  }

  balance(name: string, token: Token): bigint {
    return this.o.get<bigint>(K.balance(name, token)) ?? 0n;
  }

  /** UMT still locked by vesting at this block's time. */
  locked(a: Account): bigint {
    if (a.vestingTotal === 0n) return 0n;
    const months =
      this.time > a.vestingStart ? (this.time - a.vestingStart) / this.params.vestingMonthMs : 0n;
    let releasedBps = months * BigInt(this.params.vestingBpsPerMonth);
    if (releasedBps > BPS) releasedBps = BPS;
    return a.vestingTotal - (a.vestingTotal * releasedBps) / BPS;
  }

  spendable(name: string, token: Token): bigint {
    const bal = this.balance(name, token);
    if (token !== 'UMT') return bal;
    const a = this.o.get<Account>(K.account(name));
    const free = a ? bal - this.locked(a) : bal;
    return free > 0n ? free : 0n;
  }

  debit(name: string, token: Token, amount: bigint): void {
    if (amount === 0n) return;
    const bal = this.balance(name, token);
    if (bal < amount) {
      throw new RoamError('BALANCE_LOW', `${name} has ${bal} ${token} base units, needs ${amount}`, {
        account: name,
        token,
        balance: bal.toString(),
        needed: amount.toString(),
      });
    }
    if (token === 'UMT' && this.spendable(name, token) < amount) {
      throw new RoamError('VESTING_LOCKED', `${name}: ${amount} UMT base units exceed the vested amount`, {
        account: name,
      });
    }
    const left = bal - amount;
    if (left === 0n) this.o.del(K.balance(name, token));
    else this.o.put(K.balance(name, token), left);
  }

  credit(name: string, token: Token, amount: bigint): void {
    if (amount === 0n) return;
    const next = this.balance(name, token) + amount;
    if (next > U64_MAX) throw new RoamError('AMOUNT_INVALID', `${name}'s ${token} balance would overflow`);
    this.o.put(K.balance(name, token), next);
  }

  /** Append an id to a time-bucketed queue (chunks of 64 keep each write small). */
  enqueue(queue: string, bucket: bigint, id: Uint8Array): void {
    const n = this.o.get<number>(K.queueCount(queue, bucket)) ?? 0;
    const chunkNo = Math.floor(n / 64);
    const chunkKey = K.queueChunk(queue, bucket, chunkNo);
    const chunk = this.o.get<Uint8Array[]>(chunkKey) ?? [];
    this.o.put(chunkKey, [...chunk, id]);
    this.o.put(K.queueCount(queue, bucket), n + 1);
    const hk = K.queueHour(queue, bucket / HOUR);
    this.o.put(hk, (this.o.get<number>(hk) ?? 0) + 1);
  }

  /** Entries queued in the hour of buckets [hour x 3600, (hour+1) x 3600). */
  queuedInHour(queue: string, hour: bigint): number {
    return this.o.get<number>(K.queueHour(queue, hour)) ?? 0;
  }

  /** Remove and return all ids of a bucket. */
  drainBucket(queue: string, bucket: bigint): Uint8Array[] {
    const n = this.o.get<number>(K.queueCount(queue, bucket)) ?? 0;
    if (n === 0) return [];
    const out: Uint8Array[] = [];
    for (let c = 0; c * 64 < n; c++) {
      const key = K.queueChunk(queue, bucket, c);
      out.push(...(this.o.get<Uint8Array[]>(key) ?? []));
      this.o.del(key);
    }
    this.o.del(K.queueCount(queue, bucket));
    const hk = K.queueHour(queue, bucket / HOUR);
    const left = (this.o.get<number>(hk) ?? 0) - n;
    if (left > 0) this.o.put(hk, left);
    else this.o.del(hk);
    return out;
  }
}

const HOUR = 3600n;

/** Issuer's fee on an amount charged: floor(amount x bps / 10,000). */
export function issuerFee(amount: bigint, bps: number): bigint {
  return (amount * BigInt(bps)) / BPS;
}
