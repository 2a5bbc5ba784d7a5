/**
 * The home operator's countersign endpoint: checks a subscriber's Request against the policy,
 * verifies the subscriber's signature, adds the issuer's and submits it.
 *
 * Every field that costs the operator is checked: the issuer fee, the deposit (per subscriber, all
 * open contracts), the UMT fee deposit the operator locks, the lifetime and step timeout, the open
 * contracts per subscriber and a per-subscriber rate. Requests are checked concurrently (a flood
 * of bad signatures costs one verification each and waits behind nothing); only the final
 * limit check and submission are serialised, per subscriber.
 */

import { createPublicKey, verify as edVerify } from 'node:crypto';
import {
  assembleTx,
  bytesToHex,
  contractIdOf,
  decode,
  type ErrorCode,
  hexToBytes,
  type OpOf,
  RoamError,
  sign,
  txId,
  type UnsignedTx,
  unsignedTx,
} from '@roamchain/protocol';
import type { AccountJson, RoamClient, Signer } from '@roamchain/sdk';
import { WindowCounter } from './auth.js';
import type { AgentConfig } from './config.js';

export interface CountersignResult {
  txId: string;
  contractId: string;
  status: string;
  height?: number;
}

const refuse = (code: ErrorCode, message: string): never => {
  throw new RoamError(code, message);
};

/** Small TTL cache with a bound on its size (chain id, subscribers' keys); concurrent loads coalesce. */
class TtlCache<V> {
  readonly #m = new Map<string, { v: Promise<V>; until: number }>();
  constructor(
    readonly ttlMs: number,
    readonly max: number,
  ) {}
  get(key: string, load: () => Promise<V>): Promise<V> {
    const e = this.#m.get(key);
    if (e && e.until > Date.now()) return e.v;
    const v = load();
    if (this.#m.size >= this.max) this.#m.delete(this.#m.keys().next().value as string);
    this.#m.set(key, { v, until: Date.now() + this.ttlMs });
    // A failed load is not kept.
    v.catch(() => {
      if (this.#m.get(key)?.v === v) this.#m.delete(key);
    });
    return v;
  }
}

const SPKI_ED25519 = Buffer.from('302a300506032b6570032100', 'hex');

/** Ed25519 (RFC 8032) verification by OpenSSL: a flood of bad signatures costs microseconds each. */
export function verifyEd25519(publicKeyHex: string, msg: Uint8Array, sig: Uint8Array): boolean {
  if (sig.length !== 64 || !/^[0-9a-f]{64}$/i.test(publicKeyHex)) return false;
  const key = createPublicKey({
    key: Buffer.concat([SPKI_ED25519, Buffer.from(publicKeyHex, 'hex')]),
    format: 'der',
    type: 'spki',
  });
  return edVerify(null, msg, key, sig);
}

export class Countersigner {
  readonly #rate: WindowCounter;
  readonly #locks = new Map<string, Promise<unknown>>();
  readonly #chain = new TtlCache<string>(60_000, 1);
  readonly #accounts = new TtlCache<AccountJson>(10_000, 10_000);

  constructor(
    readonly cfg: AgentConfig,
    readonly client: RoamClient,
    readonly signer: Signer,
  ) {
    this.#rate = new WindowCounter(cfg.policy.maxRequestsPerSubscriberPerHour, 3_600_000);
  }

  async countersign(body: {
    tx?: unknown;
    subscriber?: unknown;
    signature?: unknown;
  }): Promise<CountersignResult> {
    if (
      typeof body.tx !== 'string' ||
      typeof body.subscriber !== 'string' ||
      typeof body.signature !== 'string' ||
      body.tx.length > 65_536 ||
      body.signature.length !== 128
    )
      refuse('BAD_REQUEST', 'body needs tx (hex), subscriber and signature (64 bytes hex)');
    const b = body as { tx: string; subscriber: string; signature: string };
    let u: ReturnType<typeof unsignedTx.dec>;
    try {
      u = decode(unsignedTx, hexToBytes(b.tx));
    } catch (e) {
      throw new RoamError('CODEC_BAD_VALUE', `tx is not an unsigned transaction: ${(e as Error).message}`);
    }
    const op = u.ops[0];
    if (u.ops.length === 1 && op?.type === 'contract_topup') return this.#topup(u, op, b);
    if (u.ops.length !== 1 || !op || op.type !== 'request_open')
      return refuse('POLICY_TX', 'the transaction must be a single request_open or contract_topup');
    const pol = this.cfg.policy;
    const me = this.cfg.operator;
    if (op.issuer !== me) refuse('POLICY_ISSUER', `the issuer must be ${me}`);
    if (op.subscriber !== b.subscriber || op.payer !== op.subscriber)
      refuse('POLICY_PAYER', 'the subscriber must be the payer of its own Request');
    const chainId = await this.#chain.get('chain', async () => (await this.client.status()).chainId);
    if (bytesToHex(u.chainId) !== chainId) refuse('TX_WRONG_CHAIN', 'another chain');
    const acct = await this.#accounts.get(op.subscriber, () => this.client.account(op.subscriber));
    if (acct.homeOperator !== me || !acct.roles.includes('subscriber'))
      refuse('POLICY_SUBSCRIBER', `${op.subscriber} is not a subscriber of ${me}`);
    const id = txId(u);
    let sigOk = false;
    try {
      sigOk = verifyEd25519(acct.signingKey, id, hexToBytes(b.signature));
    } catch {
      sigOk = false;
    }
    if (!sigOk) refuse('SIG_INVALID', "the subscriber's signature does not verify");
    // From here on the subscriber signed: its own quota is what it spends.
    if (op.issuerFeeBps !== pol.feeBps) refuse('POLICY_FEE', `the issuer fee must be ${pol.feeBps} bps`);
    if (op.feeDeposit > pol.maxFeeDeposit)
      refuse('POLICY_FEE_DEPOSIT', `the fee deposit may be at most ${pol.maxFeeDeposit} UMT base units`);
    if (op.lifetimeSec > pol.maxLifetimeSec)
      refuse('POLICY_LIFETIME', `the lifetime may be at most ${pol.maxLifetimeSec} s`);
    if (op.stepTimeoutSec > pol.maxStepTimeoutSec)
      refuse('POLICY_STEP_TIMEOUT', `the step timeout may be at most ${pol.maxStepTimeoutSec} s`);
    if (op.deposit > pol.maxDepositPerSubscriber)
      refuse('POLICY_DEPOSIT_LIMIT', `the deposit may be at most ${pol.maxDepositPerSubscriber}`);
    if (!this.#rate.allows(op.subscriber))
      refuse('POLICY_SUBSCRIBER_RATE', `at most ${pol.maxRequestsPerSubscriberPerHour} Requests an hour`);
    const offer = await this.client.offer(bytesToHex(op.offer));
    if (
      pol.allowedCountries.length > 0 &&
      !offer.terms.countries.some((c) => pol.allowedCountries.includes(c))
    )
      refuse('POLICY_COUNTRY', `offers in ${offer.terms.countries.join(', ')} are not allowed`);
    // The limits over the subscriber's open contracts: one Request of a subscriber at a time.
    return this.#serial(op.subscriber, async () => {
      if (!this.#rate.allows(op.subscriber))
        refuse('POLICY_SUBSCRIBER_RATE', `at most ${pol.maxRequestsPerSubscriberPerHour} Requests an hour`);
      const open = (await this.client.contracts({ party: op.subscriber, limit: 200 })).items.filter(
        (c) => c.status === 'open' && c.issuer === me,
      );
      if (open.length >= pol.maxOpenPerSubscriber)
        refuse('POLICY_OPEN_LIMIT', `at most ${pol.maxOpenPerSubscriber} open contracts`);
      const frozen = open.reduce((s, c) => s + BigInt(c.deposit), 0n);
      if (frozen + op.deposit > pol.maxDepositPerSubscriber)
        refuse(
          'POLICY_DEPOSIT_LIMIT',
          `deposits would reach ${frozen + op.deposit}, the limit is ${pol.maxDepositPerSubscriber}`,
        );
      this.#rate.hit(op.subscriber);
      const signed = assembleTx(u, {
        [me]: sign(this.signer.secretKey, id),
        [op.subscriber]: hexToBytes(b.signature),
      });
      const res = await this.client.submitTx(signed, { wait: true, timeoutMs: 10_000 });
      return {
        txId: res.txId,
        contractId: bytesToHex(contractIdOf(u.chainId, op.ephemeralKey)),
        status: res.status,
        ...(res.status === 'included' ? { height: res.height } : {}),
      };
    });
  }

  /** Checks the chain id, the subscriber account and its signature of `u`; returns the tx id. */
  async #verifySubscriber(u: UnsignedTx, subscriber: string, signature: string): Promise<Uint8Array> {
    const me = this.cfg.operator;
    const chainId = await this.#chain.get('chain', async () => (await this.client.status()).chainId);
    if (bytesToHex(u.chainId) !== chainId) refuse('TX_WRONG_CHAIN', 'another chain');
    const acct = await this.#accounts.get(subscriber, () => this.client.account(subscriber));
    if (acct.homeOperator !== me || !acct.roles.includes('subscriber'))
      refuse('POLICY_SUBSCRIBER', `${subscriber} is not a subscriber of ${me}`);
    const id = txId(u);
    let sigOk = false;
    try {
      sigOk = verifyEd25519(acct.signingKey, id, hexToBytes(signature));
    } catch {
      sigOk = false;
    }
    if (!sigOk) refuse('SIG_INVALID', "the subscriber's signature does not verify");
    return id;
  }

  /**
   * A subscriber's top-up of one of its open contracts issued by this operator: the payer is the
   * subscriber, the UMT the operator adds is bounded by the fee-deposit policy, and the subscriber's
   * frozen deposits after the top-up stay within `maxDepositPerSubscriber`.
   */
  async #topup(
    u: UnsignedTx,
    op: OpOf<'contract_topup'>,
    b: { tx: string; subscriber: string; signature: string },
  ): Promise<CountersignResult> {
    const pol = this.cfg.policy;
    const me = this.cfg.operator;
    if (op.issuer !== me) refuse('POLICY_ISSUER', `the issuer must be ${me}`);
    if (op.payer !== b.subscriber) refuse('POLICY_PAYER', 'the subscriber must pay its own top-up');
    const id = await this.#verifySubscriber(u, b.subscriber, b.signature);
    if (op.feeDeposit > pol.maxFeeDeposit)
      refuse('POLICY_FEE_DEPOSIT', `the fee deposit may be at most ${pol.maxFeeDeposit} UMT base units`);
    if (op.amount > pol.maxDepositPerSubscriber)
      refuse('POLICY_DEPOSIT_LIMIT', `a top-up may be at most ${pol.maxDepositPerSubscriber}`);
    if (!this.#rate.allows(b.subscriber))
      refuse('POLICY_SUBSCRIBER_RATE', `at most ${pol.maxRequestsPerSubscriberPerHour} Requests an hour`);
    const cid = bytesToHex(op.contract);
    return this.#serial(b.subscriber, async () => {
      const open = (await this.client.contracts({ party: b.subscriber, limit: 200 })).items.filter(
        (c) => c.status === 'open' && c.issuer === me,
      );
      const c = open.find((x) => x.id === cid);
      if (!c || c.subscriber !== b.subscriber || c.payer !== b.subscriber)
        refuse('POLICY_TOPUP_LIMIT', `${cid} is not an open contract of ${b.subscriber} issued by ${me}`);
      // The contract's fee deposit stays within the policy: one subscriber still locks at most
      // maxOpenPerSubscriber x maxFeeDeposit of the operator's UMT.
      if (BigInt(c!.feeDeposit) + op.feeDeposit > pol.maxFeeDeposit)
        refuse('POLICY_FEE_DEPOSIT', `the contract's fee deposit may be at most ${pol.maxFeeDeposit}`);
      const frozen = open.reduce((s, x) => s + BigInt(x.deposit), 0n);
      if (frozen + op.amount > pol.maxDepositPerSubscriber)
        refuse(
          'POLICY_DEPOSIT_LIMIT',
          `deposits would reach ${frozen + op.amount}, the limit is ${pol.maxDepositPerSubscriber}`,
        );
      if (!this.#rate.allows(b.subscriber))
        refuse('POLICY_SUBSCRIBER_RATE', `at most ${pol.maxRequestsPerSubscriberPerHour} Requests an hour`);
      this.#rate.hit(b.subscriber);
      const signed = assembleTx(u, {
        [me]: sign(this.signer.secretKey, id),
        [b.subscriber]: hexToBytes(b.signature),
      });
      const res = await this.client.submitTx(signed, { wait: true, timeoutMs: 10_000 });
      return {
        txId: res.txId,
        contractId: cid,
        status: res.status,
        ...(res.status === 'included' ? { height: res.height } : {}),
      };
    });
  }

  async #serial<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.#locks.get(key) ?? Promise.resolve();
    const run = prev.then(fn, fn);
    const tail = run.catch(() => {});
    this.#locks.set(key, tail);
    void tail.then(() => {
      if (this.#locks.get(key) === tail) this.#locks.delete(key);
    });
    return run;
  }
}
