/**
 * The operator agent: a long-running service built on the SDK.
 *
 * - Home operator: `POST /v1/countersign` checks a subscriber's Request against the operator's
 *   policy (countersign.ts), verifies the subscriber's signature, adds the issuer's, submits it.
 * - Visited operator: follows the feed (resumable WebSocket, cursor persisted); for each contract
 *   it is the assignee of, checks the disclosed identity, provisions through the SM-DP+, charges
 *   the package price up front and metered usage from the usage feed in steps, never past the
 *   deposit, and closes the contract when the package is used up or its duration ends.
 * - Usage feed: `POST /v1/usage` (authenticated) and `*.json` files dropped in the usage folder;
 *   records are validated (usage.ts), deduplicated by record id in the database, quarantined with
 *   a reason when they cannot be billed; what was billed is read from the chain.
 * - Demands: answers `demand_posted` in its countries with an Offer addressed to the demand.
 * - Webhooks: every event of its contracts, signed with a timestamp (webhook.ts), retried with
 *   bounded exponential backoff from a persisted outbox (at least once; the key is the cursor);
 *   alerts at 75 % / 90 % of the package and before expiry, once per contract each (alerts.ts).
 * - `GET /v1/statement?from=&to=` (authenticated): the settlement statement (JSON or CSV).
 * HTTP: http.ts. State: store.ts (SQLite).
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync } from 'node:fs';
import type { Server } from 'node:http';
import { join } from 'node:path';
import { keyFileExposure } from '@roamchain/fsutil';
import { BPS, eventInvolves, RoamError, utf8 } from '@roamchain/protocol';
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
import { Alerts } from './alerts.js';
import { Credentials } from './auth.js';
import type { AgentClient, AgentConfig } from './config.js';
import { Countersigner, type CountersignResult } from './countersign.js';
import { startAgentServer } from './http.js';
import {
  defaultIdentityVerifier,
  defaultProvisioner,
  type IdentityVerifier,
  type Provisioner,
  REASONS,
  syntheticEid,
} from './integrations.js';
import { AgentMetrics } from './metrics.js';
import { fetchWithRequestId, logWithRequestId } from './request-id.js';
import { type KycCheck, Signup } from './signup.js';
import { AgentStore, type ContractUsage } from './store.js';
import { parseUsageRecord, physicalProblem, U64_MAX, UsageError, type UsageRecordInput } from './usage.js';
import { deliverOutbox } from './webhook.js';

export type { UsageRecordInput };

export interface AgentKeys {
  signingSecret: Uint8Array;
  encryptionSecret: Uint8Array;
}

export interface AgentOptions {
  identity?: IdentityVerifier;
  provisioner?: Provisioner;
  /** The operator's KYC step for sign-ups (`signup.kyc: "external"`); without it sign-up is off. */
  kyc?: KycCheck;
  log?: (msg: string, data?: Record<string, unknown>) => void;
}

export interface IngestResult {
  accepted: number;
  duplicates: number;
  /** Malformed records: not stored (fix and resend). */
  rejected: { recordId: string; message: string }[];
  /** Well-formed records that cannot be billed: stored with the reason, never billed. */
  quarantined: { recordId: string; reason: string }[];
}

const MB = 1_000_000n;

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

export class Agent {
  readonly cfg: AgentConfig;
  readonly client: RoamClient;
  readonly store: AgentStore;
  readonly credentials: Credentials;
  readonly countersigner: Countersigner;
  readonly signups: Signup;
  readonly alerts: Alerts;
  readonly #signer: Signer;
  readonly #encryptionSecret: Uint8Array;
  #identity: IdentityVerifier | undefined;
  #provisioner: Provisioner | undefined;
  readonly log: (msg: string, data?: Record<string, unknown>) => void;
  readonly metrics: AgentMetrics;
  #server: Server | undefined;
  #sub: Subscription | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #stopped = false;
  #queue: Promise<void> = Promise.resolve();
  #ticking: Promise<void> = Promise.resolve();
  #countries: string[] | undefined;
  url = '';
  /**
   * Resolves once the feed's WebSocket is open. A fresh agent (no stored cursor) follows events from
   * then on; a caller that must not miss one (a test) waits for it instead of a fixed time.
   */
  feedOpen: Promise<void> = Promise.resolve();

  constructor(cfg: AgentConfig, keys: AgentKeys, opts: AgentOptions = {}) {
    if (!cfg.smdpUrl && !cfg.simulation && !opts.provisioner)
      throw new Error('agent config: smdpUrl is required (or "simulation": true, for a devnet only)');
    this.cfg = cfg;
    this.client = new RoamClient({ url: cfg.api, fetch: fetchWithRequestId() });
    this.store = new AgentStore(cfg.stateDir);
    this.credentials = new Credentials(cfg.clients);
    this.#signer = { name: cfg.operator, secretKey: keys.signingSecret };
    this.countersigner = new Countersigner(cfg, this.client, this.#signer);
    this.#encryptionSecret = keys.encryptionSecret;
    this.#identity = opts.identity;
    this.#provisioner = opts.provisioner;
    this.log = logWithRequestId(opts.log ?? (() => {}));
    this.metrics = new AgentMetrics(this.store);
    this.signups = new Signup(cfg, this.client, this.#signer, opts.kyc, this.log);
    this.alerts = new Alerts(this.store, cfg.operator, () => this.cfg.webhooks, cfg.alertBeforeExpiryMs);
  }

  /** Opens the keystore of the config (passphrase from the environment) and builds the agent. */
  static async fromConfig(cfg: AgentConfig, opts: AgentOptions = {}): Promise<Agent> {
    const { Keystore, passphraseFromEnv } = await import('@roamchain/sdk/keystore');
    if (!cfg.keystore) throw new Error('agent config: keystore is required');
    const exposed = keyFileExposure(cfg.keystore);
    if (exposed) throw new RoamError('KEY_FILE_EXPOSED', exposed, { path: cfg.keystore });
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

  /** Replaces the API clients' keys without a restart (key rotation). */
  reloadClients(clients: AgentClient[]): void {
    this.credentials.set(clients);
  }

  async start(): Promise<this> {
    this.#identity ??= defaultIdentityVerifier();
    this.#provisioner ??= defaultProvisioner(this.cfg.smdpUrl, this.cfg.simulation);
    if (this.cfg.simulation) this.log('provisioning: SIMULATION (made-up profiles), configured explicitly');
    if (this.cfg.usageDir) mkdirSync(join(this.cfg.usageDir, 'done'), { recursive: true });
    const s = await startAgentServer(this);
    this.#server = s.server;
    this.url = s.url;
    const cursor = this.store.cursor;
    let opened!: () => void;
    this.feedOpen = new Promise<void>((r) => {
      opened = r;
    });
    this.#sub = this.client.subscribe({
      events: cursor !== undefined ? { cursor } : true,
      onOpen: () => opened(),
      onEvent: (fe) => {
        this.#queue = this.#queue
          .then(() => this.#onEvent(fe))
          .catch((e) => this.log('event failed', { e: String(e) }));
      },
      onError: () => {},
      backoff: { initialMs: 200, maxMs: 5000 },
    });
    this.#schedule();
    this.log('agent running', { operator: this.cfg.operator, url: this.url });
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
    this.store.close();
  }

  countersign(body: { tx?: unknown; subscriber?: unknown; signature?: unknown }): Promise<CountersignResult> {
    return this.countersigner.countersign(body);
  }

  /** A traveller's sign-up (signup.ts): proof of possession, KYC, account and attestation on chain. */
  signup(body: unknown, address: string): ReturnType<Signup['signup']> {
    return this.signups.signup(body, address);
  }

  // ------------------------------------------------------------------ feed

  async #onEvent(fe: FeedEventJson): Promise<void> {
    const e = fe.event as Record<string, unknown> & { type: string };
    const st = this.store;
    const last = st.cursor;
    if (last !== undefined && compareCursors(fe.cursor, last) <= 0) return;
    if (e.type === 'demand_posted') {
      try {
        await this.#answerDemand(String(e.demand));
      } catch (err) {
        this.log('demand answer failed', { demand: e.demand, err: String(err) });
      }
    }
    const me = this.cfg.operator;
    const party = e.issuer === me || e.assignee === me;
    const cid = String(e.contract);
    // A charge may cross an alert threshold: the contract's counters are read before the transaction.
    const charged =
      e.type === 'contract_charged' && party && this.alerts.watching(cid)
        ? await this.client.contract(cid).then(
            (d) => d.contract,
            () => undefined,
          )
        : undefined;
    // The event's outbox items, alerts, contract rows and the cursor: one transaction.
    st.tx(() => {
      if (e.type === 'contract_opened' && party && !this.alerts.watch(cid, Number(e.expiresAt)))
        this.log('alert watch list full', { contract: cid });
      if (e.type === 'contract_settled' && party) this.alerts.unwatch(cid);
      if (charged) this.alerts.check(charged, Date.now());
      if (eventInvolves(e, this.cfg.operator)) {
        const body = JSON.stringify({
          id: fe.cursor,
          operator: this.cfg.operator,
          cursor: fe.cursor,
          height: fe.height,
          txId: fe.txId,
          event: e,
        });
        for (const w of this.cfg.webhooks)
          st.enqueue({ key: fe.cursor, url: w.url, body, attempts: 0, nextAt: 0 });
      }
      if (e.type === 'contract_opened' && e.assignee === this.cfg.operator)
        st.addContract(String(e.contract), String(e.subscriber));
      else if (e.type === 'contract_settled' && e.assignee === this.cfg.operator)
        st.markContract(String(e.contract), { closed: true });
      st.setCursor(fe.cursor);
    });
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
    if (this.store.answered(id)) return;
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
    if (until <= BigInt(st.time)) return;
    // The answer lives no longer than the demand (the chain enforces it too).
    const r = await this.client.publishOffer(
      {
        operator: this.cfg.operator,
        demand: id,
        terms: {
          ...t,
          title: `${`${t.title}`.slice(0, 60)} (for you)`,
          price,
          validFrom: BigInt(st.time) - 1000n,
          validUntil: until < t.validUntil ? until : t.validUntil,
        },
      },
      this.#signer,
      { status: st },
    );
    this.store.markAnswered(id);
    this.log('answered demand', { demand: id, offer: r.offerId, price: price.toString() });
  }

  // ------------------------------------------------------------------ usage

  /**
   * Ingests usage records: each validated, deduplicated by record id and written in its own small
   * transaction before this returns. Malformed records are rejected (not stored); well-formed
   * records that cannot be billed are quarantined with the reason.
   */
  ingest(records: unknown[]): IngestResult {
    const st = this.store;
    const res: IngestResult = { accepted: 0, duplicates: 0, rejected: [], quarantined: [] };
    for (const raw of records) {
      const rid =
        typeof (raw as { recordId?: unknown })?.recordId === 'string'
          ? String((raw as { recordId: string }).recordId).slice(0, 128)
          : '';
      let r: ReturnType<typeof parseUsageRecord>;
      try {
        r = parseUsageRecord(raw);
      } catch (e) {
        res.rejected.push({ recordId: rid, message: (e as Error).message });
        continue;
      }
      if (st.hasRecord(r.recordId)) {
        res.duplicates += 1;
        continue;
      }
      const cid = r.contractId ?? (r.subscriber ? st.openContractOf(r.subscriber) : undefined);
      const c = cid ? st.contract(cid) : undefined;
      if (!cid || !c) {
        res.rejected.push({
          recordId: r.recordId,
          message: cid
            ? `contract ${cid} is not served by ${this.cfg.operator}`
            : 'no open contract of this operator for the record',
        });
        continue;
      }
      const quarantine = (reason: string) => {
        st.quarantine(r.recordId, cid, reason, Date.now());
        res.quarantined.push({ recordId: r.recordId, reason });
      };
      if (c.closed) {
        quarantine(`contract ${cid} is closed`);
        continue;
      }
      const phys = physicalProblem(r, this.cfg.billing.maxLineRateBps);
      if (phys) {
        quarantine(phys);
        continue;
      }
      const up = BigInt(c.bytesUp) + r.bytesUp;
      const down = BigInt(c.bytesDown) + r.bytesDown;
      if (up > U64_MAX || down > U64_MAX) {
        quarantine('the contract volume would exceed 2^64-1 bytes');
        continue;
      }
      st.addUsage(
        r.recordId,
        cid,
        { bytesUp: up, bytesDown: down, seconds: c.seconds + r.durationSec },
        Date.now(),
      );
      res.accepted += 1;
    }
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
        const r = this.ingest(Array.isArray(recs) ? recs : [recs]);
        if (r.rejected.length || r.quarantined.length)
          this.log('usage file: records not billed', {
            file: f,
            rejected: r.rejected,
            quarantined: r.quarantined,
          });
        renameSync(p, join(dir, 'done', f));
      } catch (e) {
        this.log('usage file unreadable', { file: f, err: String(e) });
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
    try {
      this.#scanUsageDir();
    } catch (e) {
      this.log('usage folder', { err: String(e) });
    }
    for (const [cid, c] of this.store.activeContracts()) {
      if (this.#stopped) return;
      if (c.refused) continue;
      try {
        await this.#serve(cid, c);
      } catch (e) {
        this.log('serving contract failed', { contract: cid, err: String(e) });
      }
    }
    await this.#expiryAlerts();
    await deliverOutbox(this.store, this.cfg, () => this.#stopped);
  }

  /** Watched contracts ending within `alertBeforeExpiryMs`: their alert (once), or unwatched if closed. */
  async #expiryAlerts(): Promise<void> {
    for (const cid of this.alerts.dueForExpiry(Date.now())) {
      if (this.#stopped) return;
      try {
        const c = (await this.client.contract(cid)).contract;
        if (c.status !== 'open') this.alerts.unwatch(cid);
        else this.alerts.check(c, Date.now());
      } catch (e) {
        this.log('expiry alert failed', { contract: cid, err: String(e) });
      }
    }
  }

  async #provision(cid: string, c: ContractJson): Promise<boolean> {
    const st = this.store;
    const id = await this.#identity!(this.client, {
      contractId: cid,
      assigneeEncryptionSecret: this.#encryptionSecret,
    });
    let eid: string | undefined;
    const refund = async (reason: number, why: string) => {
      this.log('refunding', { contract: cid, why });
      await this.client.refund({ by: this.cfg.operator, contract: cid, prev: c.head, reason }, this.#signer);
      st.markContract(cid, { refused: true, closed: true });
      return false;
    };
    if (!id.ok) {
      // Without requireIdentity, a Request that discloses nothing (no payload, no attestation) is served.
      const soft =
        !this.cfg.requireIdentity &&
        (id.refundReason === REASONS.NO_ATTESTATION || id.refundReason === REASONS.PAYLOAD_UNREADABLE);
      if (!soft) return refund(id.refundReason, `identity refused: ${id.reason}`);
    } else eid = id.eid;
    // A profile is bound to the device's EID: without one there is nothing to provision (no made-up
    // EID), except in an explicitly configured simulation.
    if (!eid) {
      if (!this.cfg.simulation) {
        this.metrics.provisioningFailures.inc();
        return refund(REASONS.PROVISIONING_FAILED, 'the Request discloses no EID');
      }
      eid = syntheticEid(cid);
    }
    let p: Awaited<ReturnType<Provisioner>>;
    try {
      p = await this.#provisioner!({ contractId: cid, eid, operator: this.cfg.operator });
    } catch (e) {
      this.metrics.provisioningFailures.inc();
      return refund(REASONS.PROVISIONING_FAILED, `provisioning failed: ${String(e)}`);
    }
    const profile = p;
    await this.#atHead(cid, c.head, (prev) =>
      this.client.provision(
        {
          assignee: this.cfg.operator,
          contract: cid,
          prev,
          iccid: profile.iccid,
          plaintext: utf8(JSON.stringify(profile)),
          encryptionSecret: this.#encryptionSecret,
        },
        this.#signer,
      ),
    );
    st.markContract(cid, { provisioned: true });
    return true;
  }

  /**
   * Runs a step of contract `cid` on its head; when a top-up (the issuer and the payer) moved the
   * head meanwhile (SSC_NOT_HEAD), retries on the new head, at most twice.
   */
  async #atHead<T>(cid: string, head: string, step: (prev: string) => Promise<T>): Promise<T> {
    let prev = head;
    for (let attempt = 0; ; attempt++) {
      try {
        return await step(prev);
      } catch (e) {
        if (!(e instanceof RoamApiError && e.code === 'SSC_NOT_HEAD') || attempt >= 2) throw e;
        const c = (await this.client.contract(cid)).contract;
        if (c.head === prev) throw e;
        prev = c.head;
      }
    }
  }

  async #serve(cid: string, u: ContractUsage): Promise<void> {
    const st = this.store;
    let c = (await this.client.contract(cid)).contract;
    if (c.status === 'closed') return st.markContract(cid, { closed: true });
    if (!c.provisionedAt || c.provisionedAt === '0') {
      if (!(await this.#provision(cid, c))) return;
      c = (await this.client.contract(cid)).contract;
    }
    // The package price, up front (the first charge, so the chain's charge count tells it is done).
    if (BigInt(c.price) > 0n && c.chargeCount === 0) {
      const avail = availableToCharge(c);
      const amount = BigInt(c.price) < avail ? BigInt(c.price) : avail;
      await this.#atHead(cid, c.head, (prev) =>
        this.client.charge(
          {
            assignee: this.cfg.operator,
            contract: cid,
            prev,
            seq: 1,
            amount,
            usageType: 'package',
            units: 1n,
          },
          this.#signer,
        ),
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
    let billed = false;
    if (due) {
      const before = chainUp + chainDown;
      const want = meteredPrice(c, before + pending) - meteredPrice(c, before);
      const avail = availableToCharge(c);
      const amount = want < avail ? want : avail;
      exhausted = BigInt(c.unitPrice) > 0n && want > 0n && want >= avail;
      try {
        const seq = c.chargeCount + 1;
        await this.#atHead(cid, c.head, (prev) =>
          this.client.charge(
            {
              assignee: this.cfg.operator,
              contract: cid,
              prev,
              seq,
              amount,
              usageType: 'data',
              volumeUp: pendUp,
              volumeDown: pendDown,
              units: (pending + MB - 1n) / MB,
            },
            this.#signer,
          ),
        );
        billed = true;
      } catch (e) {
        if (e instanceof RoamApiError && (e.code === 'SSC_TIMEOUT' || e.code === 'SSC_EXPIRED'))
          exhausted = true;
        // Any other failure is logged; the keep-alive below still runs, the records stay pending.
        else this.log('usage charge failed', { contract: cid, err: String(e) });
      }
      if (billed) st.clearPending(cid);
      c = (await this.client.contract(cid)).contract;
      // A top-up that landed meanwhile leaves room: the contract goes on.
      if (exhausted && billed && availableToCharge(c) > 0n) exhausted = false;
    }
    // Keep the contract alive: a Charge must come within the step timeout of the previous step, so a
    // quiet subscriber gets a zero step before the timeout (paid from the contract's UMT fee deposit).
    if (!billed && c.status === 'open' && now - Number(c.lastStepAt) > c.stepTimeoutSec * 600) {
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
      st.markContract(cid, { closed: true });
      this.log('contract completed', { contract: cid });
    }
  }
}

export { UsageError };
