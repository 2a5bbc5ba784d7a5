/**
 * The operator agent: a long-running service built on the SDK.
 *
 * - Home operator: `POST /v1/countersign` checks a subscriber's Request against the operator's
 *   policy, verifies the subscriber's signature, adds the issuer's, and submits it.
 * - Visited operator: follows the feed (resumable WebSocket, cursor persisted); for each contract
 *   it is the assignee of, checks the disclosed identity, provisions through the SM-DP+, charges
 *   the package price up front and metered usage from the usage feed in steps, never past the
 *   deposit, and closes the contract when the package is used up or its duration ends.
 * - Usage feed: `POST /v1/usage` and `*.json` files dropped in the usage folder; records are
 *   deduplicated by record id in the durable state; what was billed is read from the chain.
 * - Demands: answers `demand_posted` in its countries with an Offer addressed to the demand.
 * - Webhooks: every event of its contracts, HMAC-signed, retried with bounded exponential
 *   backoff from a persisted outbox (at least once; the idempotency key is the event cursor).
 * - `GET /v1/statement?from=&to=`: the settlement statement (JSON, or CSV with format=csv).
 */
import { createHmac } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import {
  assembleTx,
  BPS,
  bytesToHex,
  contractIdOf,
  decode,
  eventInvolves,
  hexToBytes,
  RoamError,
  sign,
  txId,
  unsignedTx,
  utf8,
  verify,
} from '@roamchain/protocol';
import {
  type ContractJson,
  compareCursors,
  type FeedEventJson,
  offerTermsFromJson,
  RoamApiError,
  RoamClient,
  type Signer,
  type Subscription,
} from '@roamchain/sdk';
import type { AgentConfig } from './config.js';
import {
  defaultIdentityVerifier,
  defaultProvisioner,
  type IdentityVerifier,
  type Provisioner,
  REASONS,
  syntheticEid,
} from './integrations.js';
import { statement, statementCsv } from './statement.js';
import { AgentStore, type ContractUsage } from './store.js';

export interface AgentKeys {
  signingSecret: Uint8Array;
  encryptionSecret: Uint8Array;
}

export interface AgentOptions {
  identity?: IdentityVerifier;
  provisioner?: Provisioner;
  log?: (msg: string, data?: Record<string, unknown>) => void;
}

/** A TAP-like usage record. */
export interface UsageRecordInput {
  recordId: string;
  /** The served contract, or the subscriber (then its open contract with this operator). */
  contractId?: string;
  subscriber?: string;
  usageType?: string;
  /** Start of the usage, ms or ISO time. */
  start?: number | string;
  durationSec?: number;
  bytesUp?: number | string;
  bytesDown?: number | string;
}

export interface IngestResult {
  accepted: number;
  duplicates: number;
  rejected: { recordId: string; message: string }[];
}

const MB = 1_000_000n;

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

function issuerFee(amount: bigint, bps: number): bigint {
  return (amount * BigInt(bps)) / BPS;
}

/** Most that can still be charged: charges plus the issuer's fee on them stay within the deposit. */
export function availableToCharge(c: Pick<ContractJson, 'deposit' | 'charged' | 'issuerFeeBps'>): bigint {
  const deposit = BigInt(c.deposit);
  let x = (deposit * BPS) / (BPS + BigInt(c.issuerFeeBps));
  while (x > 0n && x + issuerFee(x, c.issuerFeeBps) > deposit) x -= 1n;
  while (x + 1n + issuerFee(x + 1n, c.issuerFeeBps) <= deposit) x += 1n;
  const a = x - BigInt(c.charged);
  return a > 0n ? a : 0n;
}

/** Metered price of `total` bytes used: what lies beyond the package, per MB at the unit price. */
export function meteredPrice(c: Pick<ContractJson, 'dataBytes' | 'unitPrice'>, total: bigint): bigint {
  const over = total - BigInt(c.dataBytes);
  return over > 0n ? (over * BigInt(c.unitPrice)) / MB : 0n;
}

function toBig(v: unknown): bigint {
  if (v === undefined || v === null || v === '') return 0n;
  const b = BigInt(v as string | number);
  if (b < 0n) throw new Error('negative volume');
  return b;
}

export class Agent {
  readonly cfg: AgentConfig;
  readonly client: RoamClient;
  readonly store: AgentStore;
  readonly #signer: Signer;
  readonly #encryptionSecret: Uint8Array;
  #identity: IdentityVerifier | undefined;
  #provisioner: Provisioner | undefined;
  readonly #log: (msg: string, data?: Record<string, unknown>) => void;
  #server: Server | undefined;
  #sub: Subscription | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #stopped = false;
  #queue: Promise<void> = Promise.resolve();
  #ticking: Promise<void> = Promise.resolve();
  #webhookBusy = false;
  #countries: string[] | undefined;
  #dirty = false;
  #countersignLock: Promise<void> = Promise.resolve();
  url = '';

  constructor(cfg: AgentConfig, keys: AgentKeys, opts: AgentOptions = {}) {
    this.cfg = cfg;
    this.client = new RoamClient({ url: cfg.api });
    this.store = new AgentStore(cfg.stateDir);
    this.#signer = { name: cfg.operator, secretKey: keys.signingSecret };
    this.#encryptionSecret = keys.encryptionSecret;
    this.#identity = opts.identity;
    this.#provisioner = opts.provisioner;
    this.#log = opts.log ?? (() => {});
  }

  /** Opens the keystore of the config (passphrase from the environment) and builds the agent. */
  static async fromConfig(cfg: AgentConfig, opts: AgentOptions = {}): Promise<Agent> {
    const { Keystore, passphraseFromEnv } = await import('@roamchain/sdk/keystore');
    if (!cfg.keystore) throw new Error('agent config: keystore is required');
    const pass = passphraseFromEnv(cfg.passphraseEnv);
    if (!pass) throw new Error(`agent: set ${cfg.passphraseEnv ?? 'ROAMCHAIN_KEYSTORE_PASSPHRASE'}`);
    const ks = await Keystore.open(cfg.keystore, pass);
    try {
      const k = ks.get(cfg.operator);
      return new Agent(cfg, { signingSecret: k.signingSecret, encryptionSecret: k.encryptionSecret }, opts);
    } finally {
      ks.close();
    }
  }

  async start(): Promise<this> {
    this.#identity ??= defaultIdentityVerifier();
    this.#provisioner ??= defaultProvisioner(this.cfg.smdpUrl);
    if (!this.cfg.smdpUrl) this.#log('provisioning: no smdpUrl, local simulation');
    if (this.cfg.usageDir) mkdirSync(join(this.cfg.usageDir, 'done'), { recursive: true });
    await this.#listen();
    const cursor = this.store.data.cursor;
    this.#sub = this.client.subscribe({
      events: cursor !== undefined ? { cursor } : true,
      onEvent: (fe) => {
        this.#queue = this.#queue
          .then(() => this.#onEvent(fe))
          .catch((e) => this.#log('event failed', { e: String(e) }));
      },
      onError: () => {},
      backoff: { initialMs: 200, maxMs: 5000 },
    });
    this.#schedule();
    this.#log('agent running', { operator: this.cfg.operator, url: this.url });
    return this;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#sub?.close();
    await this.#queue.catch(() => {});
    await this.#ticking.catch(() => {});
    const s = this.#server;
    if (s) {
      s.closeAllConnections?.();
      await new Promise<void>((r) => s.close(() => r()));
    }
    this.store.save();
  }

  // ------------------------------------------------------------------ feed

  #relevant(e: Record<string, unknown>): boolean {
    return eventInvolves(e, this.cfg.operator);
  }

  async #onEvent(fe: FeedEventJson): Promise<void> {
    const e = fe.event as Record<string, unknown> & { type: string };
    const d = this.store.data;
    if (d.cursor !== undefined && compareCursors(fe.cursor, d.cursor) <= 0) return;
    const relevant = this.#relevant(e) || e.type === 'demand_posted';
    if (this.#relevant(e)) {
      const body = JSON.stringify({
        id: fe.cursor,
        operator: this.cfg.operator,
        cursor: fe.cursor,
        height: fe.height,
        txId: fe.txId,
        event: e,
      });
      for (const w of this.cfg.webhooks)
        d.outbox.push({ key: fe.cursor, url: w.url, body, attempts: 0, nextAt: 0 });
    }
    if (e.type === 'contract_opened' && e.assignee === this.cfg.operator) {
      const cid = String(e.contract);
      d.contracts[cid] ??= {
        subscriber: String(e.subscriber),
        bytesUp: '0',
        bytesDown: '0',
        seconds: 0,
        records: 0,
      };
    } else if (e.type === 'contract_settled' && e.assignee === this.cfg.operator) {
      const c = d.contracts[String(e.contract)];
      if (c) c.closed = true;
    } else if (e.type === 'demand_posted') {
      try {
        await this.#answerDemand(String(e.demand));
      } catch (err) {
        this.#log('demand answer failed', { demand: e.demand, err: String(err) });
      }
    }
    d.cursor = fe.cursor;
    // Other parties' events only move the cursor: saved with the next write (replaying them is harmless).
    if (relevant) this.store.save();
    else this.#dirty = true;
  }

  // ------------------------------------------------------------------ demands

  async #myCountries(): Promise<string[]> {
    if (this.cfg.pricing.countries) return this.cfg.pricing.countries;
    if (!this.#countries) {
      const offers = await this.client.offers({ operator: this.cfg.operator, limit: 200 });
      this.#countries = [...new Set(offers.items.flatMap((o) => o.terms.countries))];
    }
    return this.#countries;
  }

  async #answerDemand(id: string): Promise<void> {
    const d = this.store.data;
    if (d.demands.includes(id)) return;
    const demand = await this.client.demand(id);
    const mine = await this.#myCountries();
    const where = demand.countries.filter((c) => mine.includes(c));
    if (demand.status !== 'open' || where.length === 0) return;
    const offers = await this.client.offers({ operator: this.cfg.operator, kind: demand.kind, limit: 200 });
    const fit = offers.items
      .filter(
        (o) =>
          !o.demand &&
          o.status === 'active' &&
          o.terms.countries.some((c) => where.includes(c)) &&
          BigInt(o.terms.dataBytes) >= BigInt(demand.dataBytes),
      )
      .sort((a, b) => (BigInt(a.terms.price) < BigInt(b.terms.price) ? -1 : 1));
    const best = fit[0];
    if (!best) return;
    const price = (BigInt(best.terms.price) * (BPS - BigInt(this.cfg.pricing.demandDiscountBps))) / BPS;
    if (price > BigInt(demand.maxPrice) || price <= 0n) return;
    const t = offerTermsFromJson(best.terms);
    const st = await this.client.status();
    const until = BigInt(demand.endAt);
    const r = await this.client.publishOffer(
      {
        operator: this.cfg.operator,
        demand: id,
        terms: {
          ...t,
          title: `${t.title}`.slice(0, 60) + ' (for you)',
          price,
          validFrom: BigInt(st.time) - 1000n,
          validUntil: until > BigInt(st.time) ? until : t.validUntil,
        },
      },
      this.#signer,
      { status: st },
    );
    d.demands.push(id);
    this.store.save();
    this.#log('answered demand', { demand: id, offer: r.offerId, price: price.toString() });
  }

  // ------------------------------------------------------------------ usage

  /** Ingests usage records: deduplicated by record id, persisted before this returns. */
  ingest(records: UsageRecordInput[]): IngestResult {
    const d = this.store.data;
    const res: IngestResult = { accepted: 0, duplicates: 0, rejected: [] };
    for (const r of records) {
      const rid = typeof r?.recordId === 'string' ? r.recordId : '';
      try {
        if (!rid) throw new Error('recordId is required');
        if (d.usage[rid]) {
          res.duplicates += 1;
          continue;
        }
        let cid = r.contractId?.toLowerCase();
        if (!cid && r.subscriber) {
          cid = Object.entries(d.contracts)
            .filter(([, c]) => c.subscriber === r.subscriber && !c.closed && !c.refused)
            .map(([k]) => k)
            .at(-1);
        }
        if (!cid) throw new Error('no open contract of this operator for the record');
        const c = d.contracts[cid];
        if (!c) throw new Error(`contract ${cid} is not served by ${this.cfg.operator}`);
        if (c.closed) throw new Error(`contract ${cid} is closed`);
        const up = toBig(r.bytesUp);
        const down = toBig(r.bytesDown);
        c.bytesUp = (BigInt(c.bytesUp) + up).toString();
        c.bytesDown = (BigInt(c.bytesDown) + down).toString();
        c.seconds += Math.max(0, Number(r.durationSec ?? 0));
        c.records += 1;
        c.pendingSince ??= Date.now();
        d.usage[rid] = { contract: cid, at: Date.now() };
        res.accepted += 1;
      } catch (e) {
        res.rejected.push({ recordId: rid, message: (e as Error).message });
      }
    }
    this.store.save();
    return res;
  }

  #scanUsageDir(): void {
    const dir = this.cfg.usageDir;
    if (!dir || !existsSync(dir)) return;
    for (const f of readdirSync(dir).sort()) {
      if (!f.endsWith('.json')) continue;
      const p = join(dir, f);
      try {
        const j = JSON.parse(readFileSync(p, 'utf8')) as unknown;
        const recs = Array.isArray(j) ? j : ((j as { records?: unknown[] }).records ?? [j]);
        const r = this.ingest(recs as UsageRecordInput[]);
        if (r.rejected.length) this.#log('usage file: records rejected', { file: f, rejected: r.rejected });
        renameSync(p, join(dir, 'done', f));
      } catch (e) {
        this.#log('usage file unreadable', { file: f, err: String(e) });
      }
    }
  }

  // ------------------------------------------------------------------ serving contracts

  #schedule(): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#ticking = this.#tick().finally(() => this.#schedule());
    }, this.cfg.tickMs);
  }

  async #tick(): Promise<void> {
    if (this.#dirty) {
      this.#dirty = false;
      this.store.save();
    }
    try {
      this.#scanUsageDir();
    } catch (e) {
      this.#log('usage folder', { err: String(e) });
    }
    for (const [cid, c] of Object.entries(this.store.data.contracts)) {
      if (this.#stopped) return;
      if (c.closed || c.refused) continue;
      try {
        await this.#serve(cid, c);
      } catch (e) {
        this.#log('serving contract failed', { contract: cid, err: String(e) });
      }
    }
    await this.#deliverWebhooks();
  }

  async #serve(cid: string, u: ContractUsage): Promise<void> {
    let c = (await this.client.contract(cid)).contract;
    const save = () => this.store.save();
    if (c.status === 'closed') {
      u.closed = true;
      return save();
    }
    if (!c.provisionedAt || c.provisionedAt === '0') {
      const id = await this.#identity!(this.client, {
        contractId: cid,
        assigneeEncryptionSecret: this.#encryptionSecret,
      });
      let eid: string | undefined;
      if (!id.ok) {
        // Without requireIdentity, a Request that discloses nothing (no payload, no attestation) is served.
        const soft =
          !this.cfg.requireIdentity &&
          (id.refundReason === REASONS.NO_ATTESTATION || id.refundReason === REASONS.PAYLOAD_UNREADABLE);
        if (!soft) {
          this.#log('identity refused', { contract: cid, reason: id.reason });
          await this.client.refund(
            { by: this.cfg.operator, contract: cid, prev: c.head, reason: id.refundReason },
            this.#signer,
          );
          u.refused = true;
          u.closed = true;
          return save();
        }
      } else eid = id.eid;
      let p: Awaited<ReturnType<Provisioner>>;
      try {
        p = await this.#provisioner!({
          contractId: cid,
          eid: eid ?? syntheticEid(cid),
          operator: this.cfg.operator,
        });
      } catch (e) {
        this.#log('provisioning failed', { contract: cid, err: String(e) });
        await this.client.refund(
          { by: this.cfg.operator, contract: cid, prev: c.head, reason: REASONS.PROVISIONING_FAILED },
          this.#signer,
        );
        u.closed = true;
        return save();
      }
      await this.client.provision(
        {
          assignee: this.cfg.operator,
          contract: cid,
          prev: c.head,
          iccid: p.iccid,
          plaintext: utf8(JSON.stringify(p)),
          encryptionSecret: this.#encryptionSecret,
        },
        this.#signer,
      );
      u.provisioned = true;
      save();
      c = (await this.client.contract(cid)).contract;
    }
    // The package price, up front (the first charge, so the chain's charge count tells it is done).
    if (BigInt(c.price) > 0n && c.chargeCount === 0) {
      const avail = availableToCharge(c);
      const amount = BigInt(c.price) < avail ? BigInt(c.price) : avail;
      await this.client.charge(
        {
          assignee: this.cfg.operator,
          contract: cid,
          prev: c.head,
          seq: 1,
          amount,
          usageType: 'package',
          units: 1n,
        },
        this.#signer,
      );
      c = (await this.client.contract(cid)).contract;
    }
    const now = Date.now();
    const chainUp = BigInt(c.volumeUp);
    const chainDown = BigInt(c.volumeDown);
    const pUp = BigInt(u.bytesUp) - chainUp;
    const pDown = BigInt(u.bytesDown) - chainDown;
    const pendUp = pUp > 0n ? pUp : 0n;
    const pendDown = pDown > 0n ? pDown : 0n;
    const pending = pendUp + pendDown;
    const durationEnd = Number(c.provisionedAt ?? 0) + c.durationSec * 1000;
    const packageOver = Number(c.provisionedAt ?? 0) > 0 && now >= durationEnd;
    const due =
      pending > 0n &&
      (pending >= this.cfg.billing.stepBytes ||
        packageOver ||
        (this.cfg.billing.stepSeconds > 0 &&
          u.pendingSince !== undefined &&
          now - u.pendingSince >= this.cfg.billing.stepSeconds * 1000));
    let exhausted = false;
    if (due) {
      const before = chainUp + chainDown;
      const want = meteredPrice(c, before + pending) - meteredPrice(c, before);
      const avail = availableToCharge(c);
      const amount = want < avail ? want : avail;
      exhausted = BigInt(c.unitPrice) > 0n && want > 0n && want >= avail;
      try {
        await this.client.charge(
          {
            assignee: this.cfg.operator,
            contract: cid,
            prev: c.head,
            seq: c.chargeCount + 1,
            amount,
            usageType: 'data',
            volumeUp: pendUp,
            volumeDown: pendDown,
            units: (pending + MB - 1n) / MB,
          },
          this.#signer,
        );
      } catch (e) {
        if (e instanceof RoamApiError && (e.code === 'SSC_TIMEOUT' || e.code === 'SSC_EXPIRED')) {
          exhausted = true;
        } else throw e;
      }
      delete u.pendingSince;
      save();
      c = (await this.client.contract(cid)).contract;
    }
    // Keep the contract alive: a Charge must come within the step timeout of the previous step, so a
    // quiet subscriber gets a zero step before the timeout (paid from the contract's UMT fee deposit).
    if (!due && c.status === 'open' && now - Number(c.lastStepAt) > c.stepTimeoutSec * 600) {
      await this.client.charge(
        { assignee: this.cfg.operator, contract: cid, prev: c.head, seq: c.chargeCount + 1, amount: 0n },
        this.#signer,
      );
      c = (await this.client.contract(cid)).contract;
    }
    const used = BigInt(c.volumeUp) + BigInt(c.volumeDown);
    const packageUsed = BigInt(c.dataBytes) > 0n && used >= BigInt(c.dataBytes) && BigInt(c.unitPrice) === 0n;
    if (c.status === 'open' && (packageUsed || packageOver || exhausted)) {
      await this.client.refund(
        { by: this.cfg.operator, contract: cid, prev: c.head, reason: REASONS.SERVICE_COMPLETE },
        this.#signer,
      );
      u.closed = true;
      save();
      this.#log('contract completed', { contract: cid });
    }
  }

  // ------------------------------------------------------------------ webhooks

  async #deliverWebhooks(): Promise<void> {
    if (this.#webhookBusy) return;
    this.#webhookBusy = true;
    try {
      const d = this.store.data;
      const blocked = new Set<string>();
      const now = Date.now();
      const { initialMs, maxMs, maxAttempts } = this.cfg.webhookRetry;
      for (const item of [...d.outbox]) {
        if (this.#stopped) return;
        if (blocked.has(item.url)) continue;
        if (item.nextAt > now) {
          blocked.add(item.url); // in order, per receiver
          continue;
        }
        const secret = this.cfg.webhooks.find((w) => w.url === item.url)?.secret ?? '';
        let ok = false;
        try {
          const res = await fetch(item.url, {
            method: 'POST',
            headers: {
              'content-type': 'application/json',
              'x-roamchain-signature': createHmac('sha256', secret).update(item.body).digest('hex'),
              'x-roamchain-idempotency-key': item.key,
              'x-roamchain-attempt': String(item.attempts + 1),
            },
            body: item.body,
            signal: AbortSignal.timeout(5000),
          });
          await res.text().catch(() => '');
          ok = res.status >= 200 && res.status < 300;
        } catch {
          ok = false;
        }
        if (ok) {
          d.outbox.splice(d.outbox.indexOf(item), 1);
        } else {
          item.attempts += 1;
          if (item.attempts >= maxAttempts) {
            d.outbox.splice(d.outbox.indexOf(item), 1);
            d.dead.push(item);
          } else {
            item.nextAt = Date.now() + Math.min(maxMs, initialMs * 2 ** (item.attempts - 1));
            blocked.add(item.url);
          }
        }
        this.store.save();
      }
    } finally {
      this.#webhookBusy = false;
    }
  }

  // ------------------------------------------------------------------ home side

  /**
   * Checks and countersigns a subscriber's Request; answers once it is included. One at a time, so
   * two concurrent Requests cannot both slip under a per-subscriber limit.
   */
  countersign(body: { tx?: unknown; subscriber?: unknown; signature?: unknown }): Promise<{
    txId: string;
    contractId: string;
    status: string;
    height?: number;
  }> {
    const run = this.#countersignLock.then(() => this.#countersign(body));
    this.#countersignLock = run.then(
      () => {},
      () => {},
    );
    return run;
  }

  async #countersign(body: { tx?: unknown; subscriber?: unknown; signature?: unknown }): Promise<{
    txId: string;
    contractId: string;
    status: string;
    height?: number;
  }> {
    if (
      typeof body.tx !== 'string' ||
      typeof body.subscriber !== 'string' ||
      typeof body.signature !== 'string'
    )
      throw new HttpError(400, 'BAD_REQUEST', 'body needs tx (hex), subscriber and signature (hex)');
    let u: ReturnType<typeof unsignedTx.dec>;
    try {
      u = decode(unsignedTx, hexToBytes(body.tx));
    } catch (e) {
      throw new HttpError(400, 'CODEC_INVALID', `tx is not an unsigned transaction: ${(e as Error).message}`);
    }
    const op = u.ops[0];
    if (u.ops.length !== 1 || !op || op.type !== 'request_open')
      throw new HttpError(400, 'POLICY_TX', 'the transaction must be a single request_open');
    const pol = this.cfg.policy;
    const me = this.cfg.operator;
    if (op.issuer !== me) throw new HttpError(403, 'POLICY_ISSUER', `the issuer must be ${me}`);
    if (op.subscriber !== body.subscriber || op.payer !== op.subscriber)
      throw new HttpError(403, 'POLICY_PAYER', 'the subscriber must be the payer of its own Request');
    const st = await this.client.status();
    if (bytesToHex(u.chainId) !== st.chainId) throw new HttpError(400, 'TX_WRONG_CHAIN', 'another chain');
    const acct = await this.client.account(op.subscriber);
    if (acct.homeOperator !== me || !acct.roles.includes('subscriber'))
      throw new HttpError(403, 'POLICY_SUBSCRIBER', `${op.subscriber} is not a subscriber of ${me}`);
    const id = txId(u);
    let sigOk = false;
    try {
      sigOk = verify(hexToBytes(acct.signingKey), id, hexToBytes(body.signature));
    } catch {
      sigOk = false;
    }
    if (!sigOk) throw new HttpError(401, 'SIG_INVALID', "the subscriber's signature does not verify");
    if (op.issuerFeeBps !== pol.feeBps)
      throw new HttpError(403, 'POLICY_FEE', `the issuer fee must be ${pol.feeBps} bps`);
    const offer = await this.client.offer(bytesToHex(op.offer));
    if (
      pol.allowedCountries.length > 0 &&
      !offer.terms.countries.some((c) => pol.allowedCountries.includes(c))
    )
      throw new HttpError(
        403,
        'POLICY_COUNTRY',
        `offers in ${offer.terms.countries.join(', ')} are not allowed`,
      );
    const open = (await this.client.contracts({ party: op.subscriber, limit: 200 })).items.filter(
      (c) => c.status === 'open' && c.issuer === me,
    );
    if (open.length >= pol.maxOpenPerSubscriber)
      throw new HttpError(403, 'POLICY_OPEN_LIMIT', `at most ${pol.maxOpenPerSubscriber} open contracts`);
    const frozen = open.reduce((s, c) => s + BigInt(c.deposit), 0n);
    if (frozen + op.deposit > pol.maxDepositPerSubscriber)
      throw new HttpError(
        403,
        'POLICY_DEPOSIT_LIMIT',
        `deposits would reach ${frozen + op.deposit}, the limit is ${pol.maxDepositPerSubscriber}`,
      );
    const signed = assembleTx(u, {
      [me]: sign(this.#signer.secretKey, id),
      [op.subscriber]: hexToBytes(body.signature),
    });
    const res = await this.client.submitTx(signed, { wait: true, timeoutMs: 10_000 });
    return {
      txId: res.txId,
      contractId: bytesToHex(contractIdOf(u.chainId, op.ephemeralKey)),
      status: res.status,
      ...(res.status === 'included' ? { height: res.height } : {}),
    };
  }

  // ------------------------------------------------------------------ HTTP

  async #listen(): Promise<void> {
    const server = createServer((req, res) => void this.#handle(req, res));
    this.#server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.cfg.port, this.cfg.host, () => resolve());
    });
    const a = server.address() as AddressInfo;
    this.url = `http://${this.cfg.host}:${a.port}`;
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    res.setHeader('access-control-allow-origin', '*');
    const send = (status: number, body: unknown, type = 'application/json') => {
      res.writeHead(status, { 'content-type': type });
      res.end(typeof body === 'string' ? body : JSON.stringify(body));
    };
    try {
      if (req.method === 'OPTIONS') {
        res.writeHead(204, {
          'access-control-allow-methods': 'GET, POST, OPTIONS',
          'access-control-allow-headers': 'content-type, authorization',
          'access-control-max-age': '86400',
        });
        res.end();
        return;
      }
      const url = new URL(req.url ?? '/', 'http://agent');
      const readBody = async (): Promise<unknown> => {
        const chunks: Buffer[] = [];
        let n = 0;
        for await (const ch of req) {
          n += (ch as Buffer).length;
          if (n > 4_000_000) throw new HttpError(413, 'BAD_REQUEST', 'body too large');
          chunks.push(ch as Buffer);
        }
        try {
          return JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
        } catch {
          throw new HttpError(400, 'BAD_REQUEST', 'body is not JSON');
        }
      };
      if (req.method === 'GET' && url.pathname === '/healthz') {
        return send(200, { ok: true, operator: this.cfg.operator, cursor: this.store.data.cursor ?? null });
      }
      if (req.method === 'GET' && url.pathname === '/v1/policy') {
        const p = this.cfg.policy;
        return send(200, {
          operator: this.cfg.operator,
          feeBps: p.feeBps,
          maxDepositPerSubscriber: p.maxDepositPerSubscriber.toString(),
          maxOpenPerSubscriber: p.maxOpenPerSubscriber,
          allowedCountries: p.allowedCountries,
        });
      }
      if (req.method === 'POST' && url.pathname === '/v1/countersign') {
        return send(200, await this.countersign((await readBody()) as Record<string, unknown>));
      }
      if (req.method === 'POST' && url.pathname === '/v1/usage') {
        const b = (await readBody()) as unknown;
        const recs = Array.isArray(b) ? b : ((b as { records?: unknown[] }).records ?? [b]);
        return send(200, this.ingest(recs as UsageRecordInput[]));
      }
      if (req.method === 'GET' && url.pathname === '/v1/contracts') {
        return send(200, { contracts: this.store.data.contracts, outbox: this.store.data.outbox.length });
      }
      if (req.method === 'GET' && url.pathname === '/v1/statement') {
        const from = Number(url.searchParams.get('from') ?? 0);
        const to = Number(url.searchParams.get('to') ?? Date.now() + 1);
        if (!Number.isFinite(from) || !Number.isFinite(to))
          throw new HttpError(400, 'BAD_REQUEST', 'from and to are unix ms');
        const s = await statement(this.client, this.cfg.operator, from, to);
        if (url.searchParams.get('format') === 'csv') return send(200, statementCsv(s), 'text/csv');
        return send(200, s);
      }
      throw new HttpError(404, 'NOT_FOUND', `no route ${req.method} ${url.pathname}`);
    } catch (e) {
      if (e instanceof HttpError) return send(e.status, { code: e.code, message: e.message });
      if (e instanceof RoamApiError)
        return send(e.httpStatus >= 400 ? e.httpStatus : 502, { code: e.code, message: e.message });
      if (e instanceof RoamError) return send(400, { code: e.code, message: e.message });
      return send(500, { code: 'INTERNAL', message: (e as Error)?.message ?? String(e) });
    }
  }
}
