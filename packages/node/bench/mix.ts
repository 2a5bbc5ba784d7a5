/**
 * The node bench's transactions (`npm run bench`, see run.ts): load accounts, their setup, and the
 * contract mix as a stream of pre-signed rounds. Everything is signed with libsodium up front; each
 * transaction knows the one earlier transaction it depends on (`dep`), so the load generator can
 * hold it back until that one is committed.
 *
 * Round r (group size G, dependency distance D rounds) holds, interleaved:
 *   G request_open of group r (home operator + subscriber sign: 2 signatures),
 *   G charge #1 of group r-D, G charge #2 of group r-2D, G refund of group r-3D,
 *   G/2 rate of group r-4D, G/2 SDR transfers between subscribers, G/20 sdr_issue top-ups,
 *   G/20 offer_replace (on offers nobody requests, so no request goes stale) and G/100 offer_publish.
 * A contract's id is opHash(txId, 0) of its request and each step's op hash is the next head, so the
 * whole chain of `prev`s is computed here. Rounds 0 .. 4D-1 are the ramp (not all kinds present yet);
 * from round 4D on the mix is steady.
 */
import {
  contractIdOf,
  encodeTx,
  type OfferTerms,
  type Operation,
  type OpName,
  opHash,
  refPrefixOf,
  requiredSigners,
  sha256,
  txId,
  UNIT,
  unsigned,
  utf8,
} from '@roamchain/protocol';
import { sodiumKeyPair, sodiumSign } from '../src/crypto/verifier.js';

export interface SignedTxOut {
  id: Uint8Array;
  idHex: string;
  /** The signed transaction's bytes (an element of a POST /v1/txs batch). */
  bytes: Uint8Array;
  /** The POST /v1/tx body, `{"tx":"<hex>"}`. */
  body: Buffer;
  signatures: number;
}

/** Signs drafts against TaPoS block 0 (its id is the chain id) with one fixed expiration. */
export class Signer {
  private readonly refBlockPrefix: number;
  signatures = 0;
  signed = 0;

  constructor(
    readonly chainId: Uint8Array,
    private readonly secrets: Map<string, Uint8Array>,
    readonly expiration: bigint,
  ) {
    this.refBlockPrefix = refPrefixOf(chainId);
  }

  sign(ops: Operation[]): SignedTxOut {
    const u = unsigned({
      chainId: this.chainId,
      refBlockNum: 0,
      refBlockPrefix: this.refBlockPrefix,
      expiration: this.expiration,
      ops,
    });
    const id = txId(u);
    const signers = requiredSigners(ops);
    const sigs = signers.map((n) => {
      const sk = this.secrets.get(n);
      if (!sk) throw new Error(`no key for ${n}`);
      return sodiumSign(sk, id);
    });
    const bytes = encodeTx({ ...u, signatures: sigs });
    const hex = Buffer.from(bytes).toString('hex');
    this.signatures += sigs.length;
    this.signed++;
    return {
      id,
      idHex: Buffer.from(id).toString('hex'),
      bytes,
      body: Buffer.from(`{"tx":"${hex}"}`, 'latin1'),
      signatures: sigs.length,
    };
  }
}

/** Deterministic libsodium key pair of a load account. */
export function loadKeys(name: string): { publicKey: Uint8Array; secretKey: Uint8Array; enc: Uint8Array } {
  const kp = sodiumKeyPair(sha256(utf8(`roamchain-bench/sign/${name}`)));
  return { ...kp, enc: sha256(utf8(`roamchain-bench/enc/${name}`)) };
}

export const loadSubscriberName = (i: number) => `lg-s${String(i).padStart(5, '0')}`;

export interface OfferRef {
  id: Uint8Array;
  operator: string;
  price: bigint;
}

const GB = 1_000_000_000n;
const COUNTRIES = ['DE', 'FR', 'TR', 'TH', 'US', 'ES', 'IT', 'NL'];

export function loadOfferTerms(
  operator: string,
  k: number,
  version: number,
  encryptionKey: Uint8Array,
  now: bigint,
): OfferTerms {
  return {
    title: `${operator} bench ${k} v${version}`,
    kind: 'data',
    category: '',
    countries: [COUNTRIES[(k + version) % COUNTRIES.length]!],
    networks: [`${200 + (k % 700)}-${String((k % 90) + 10)}`],
    technologies: ['4G', '5G'],
    dataBytes: 5n * GB,
    voiceSeconds: 0n,
    smsCount: 0,
    durationSec: 7 * 86_400,
    price: BigInt(2 + ((k * 3 + version) % 7)) * UNIT,
    unitPrice: UNIT / 100n,
    unit: 'mb',
    activation: 'on_provision',
    validFrom: now - 60_000n,
    validUntil: now + 30n * 86_400_000n,
    capacity: 1_000_000,
    encryptionKey,
  };
}

export interface PlannedTx extends SignedTxOut {
  seq: number;
  round: number;
  kind: OpName;
  /** seq of the transaction that must be committed before this one is sent; -1 for none. */
  dep: number;
}

export interface MixOptions {
  signer: Signer;
  operators: string[];
  gateway: string;
  subscribers: { name: string; home: string }[];
  /** Offers that requests use (never replaced). */
  requestOffers: OfferRef[];
  /** Offers that are only replaced (so no request ever names a stale version). */
  churnOffers: { id: Uint8Array; operator: string; k: number }[];
  encryptionKeys: Map<string, Uint8Array>;
  group: number;
  depth: number;
  now: bigint;
  runTag: string;
}

interface ContractSim {
  id: Uint8Array;
  head: Uint8Array;
  /** seq of the transaction that set the head. */
  headSeq: number;
  sub: string;
  assignee: string;
  price: bigint;
}

/** Generates round after round of the contract mix, signed. */
export class ContractMix {
  private readonly contracts = new Map<number, ContractSim>();
  private round = 0;
  private seq = 0;
  private transfers = 0;
  private issues = 0;
  private replaces = 0;
  private publishes = 0;
  private readonly sealed = new Uint8Array(48).fill(0xce);
  private readonly payload = new Uint8Array(64).fill(0xab);

  constructor(private readonly o: MixOptions) {
    if (o.group < 100) throw new Error('group must be at least 100');
  }

  /** First round with every kind of transaction present. */
  get steadyRound(): number {
    return 4 * this.o.depth;
  }

  /** Transactions in a steady round. */
  get steadyRoundTxs(): number {
    const G = this.o.group;
    return 4 * G + Math.floor(G / 2) * 2 + Math.floor(G / 20) * 2 + Math.floor(G / 100);
  }

  nextRound(): PlannedTx[] {
    const r = this.round++;
    const { group: G, depth: D } = this.o;
    const out: PlannedTx[] = [];
    const add = (kind: OpName, ops: Operation[], dep: number): PlannedTx => {
      const s = this.o.signer.sign(ops);
      const t: PlannedTx = { ...s, seq: this.seq++, round: r, kind, dep };
      out.push(t);
      return t;
    };
    const groupOf = (g: number) => (g >= 0 ? Array.from({ length: G }, (_, k) => g * G + k) : []);
    const lists: (() => void)[][] = [
      groupOf(r - 3 * D).map((j) => () => this.refund(j, add)),
      groupOf(r - 2 * D).map((j) => () => this.charge(j, 2, add)),
      groupOf(r).map((j) => () => this.open(j, add)),
      groupOf(r - D).map((j) => () => this.charge(j, 1, add)),
      Array.from({ length: Math.floor(G / 2) }, () => () => this.transfer(add)),
      groupOf(r - 4 * D)
        .filter((j) => j % 2 === 0)
        .map((j) => () => this.rate(j, add)),
      Array.from({ length: Math.floor(G / 20) }, () => () => this.issue(add)),
      Array.from({ length: Math.floor(G / 20) }, () => () => this.replace(add)),
      Array.from({ length: Math.floor(G / 100) }, () => () => this.publish(add)),
    ];
    const longest = Math.max(0, ...lists.map((l) => l.length));
    for (let i = 0; i < longest; i++) for (const l of lists) l[i]?.();
    return out;
  }

  private open(j: number, add: (k: OpName, ops: Operation[], dep: number) => PlannedTx): void {
    const subs = this.o.subscribers;
    const s = subs[j % subs.length]!;
    const offers = this.o.requestOffers;
    let o = offers[(j * 7) % offers.length]!;
    // Roaming: the visited operator is never the home operator.
    for (let i = 1; o.operator === s.home; i++) o = offers[(j * 7 + i) % offers.length]!;
    // A fresh ephemeral key per contract: it fixes the contract id (contractIdOf) before signing.
    const ephemeralKey = sha256(utf8(`${this.o.runTag}/ephemeral/${j}`));
    const t = add(
      'request_open',
      [
        {
          type: 'request_open',
          issuer: s.home,
          payer: s.name,
          subscriber: s.name,
          offer: o.id,
          prev: o.id,
          deposit: 2n * o.price,
          issuerFeeBps: 200,
          feeDeposit: 5_000n,
          ephemeralKey,
          payload: this.payload,
          stepTimeoutSec: 3_600,
          lifetimeSec: 7 * 86_400,
        },
      ],
      -1,
    );
    this.contracts.set(j, {
      id: contractIdOf(this.o.signer.chainId, ephemeralKey),
      head: opHash(t.id, 0),
      headSeq: t.seq,
      sub: s.name,
      assignee: o.operator,
      price: o.price,
    });
  }

  private charge(j: number, seq: number, add: (k: OpName, ops: Operation[], dep: number) => PlannedTx): void {
    const c = this.contracts.get(j)!;
    const record = {
      seq,
      usageType: 'data' as const,
      start: this.o.now - 60_000n,
      duration: 60,
      volumeUp: 1_000_000n,
      volumeDown: 50_000_000n,
      units: 50n,
      amount: c.price / 2n,
    };
    const t = add(
      'charge',
      [{ type: 'charge', assignee: c.assignee, contract: c.id, prev: c.head, record, sealed: this.sealed }],
      c.headSeq,
    );
    c.head = opHash(t.id, 0);
    c.headSeq = t.seq;
  }

  private refund(j: number, add: (k: OpName, ops: Operation[], dep: number) => PlannedTx): void {
    const c = this.contracts.get(j)!;
    const by = j % 2 === 0 ? c.sub : c.assignee;
    const bad = j % 10 === 0;
    const t = add(
      'refund',
      [{ type: 'refund', by, contract: c.id, prev: c.head, badService: bad, reason: bad ? 3 : 0 }],
      c.headSeq,
    );
    c.head = opHash(t.id, 0);
    c.headSeq = t.seq;
  }

  private rate(j: number, add: (k: OpName, ops: Operation[], dep: number) => PlannedTx): void {
    const c = this.contracts.get(j)!;
    add('rate', [{ type: 'rate', subscriber: c.sub, contract: c.id, score: 1 + (j % 5) }], c.headSeq);
    this.contracts.delete(j);
  }

  private transfer(add: (k: OpName, ops: Operation[], dep: number) => PlannedTx): void {
    const i = this.transfers++;
    const subs = this.o.subscribers;
    const from = subs[(i * 13) % subs.length]!.name;
    const to = subs[(i * 13 + 1 + (i % 97)) % subs.length]!.name;
    const memo = utf8(`${this.o.runTag}/${i}`);
    add(
      'transfer',
      [{ type: 'transfer', from, to, token: 'SDR', amount: 10_000n + BigInt(i % 1000), memo }],
      -1,
    );
  }

  private issue(add: (k: OpName, ops: Operation[], dep: number) => PlannedTx): void {
    const i = this.issues++;
    const subs = this.o.subscribers;
    add(
      'sdr_issue',
      [
        {
          type: 'sdr_issue',
          gateway: this.o.gateway,
          to: subs[(i * 31) % subs.length]!.name,
          amount: UNIT,
          paymentRef: `${this.o.runTag}-topup-${i}`,
        },
      ],
      -1,
    );
  }

  private replace(add: (k: OpName, ops: Operation[], dep: number) => PlannedTx): void {
    const i = this.replaces++;
    const churn = this.o.churnOffers;
    const o = churn[i % churn.length]!;
    const version = 1 + Math.floor(i / churn.length);
    const terms = loadOfferTerms(
      o.operator,
      o.k,
      version,
      this.o.encryptionKeys.get(o.operator)!,
      this.o.now,
    );
    add('offer_replace', [{ type: 'offer_replace', operator: o.operator, offer: o.id, terms }], -1);
  }

  private publish(add: (k: OpName, ops: Operation[], dep: number) => PlannedTx): void {
    const i = this.publishes++;
    const ops = this.o.operators;
    const operator = ops[i % ops.length]!;
    const terms = loadOfferTerms(operator, 10_000 + i, 0, this.o.encryptionKeys.get(operator)!, this.o.now);
    add('offer_publish', [{ type: 'offer_publish', operator, terms }], -1);
  }
}
