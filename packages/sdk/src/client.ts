/**
 * `RoamClient`: a typed client of the node's Web-API (docs/API.md), fetch-based so it runs in
 * Node 20 and browsers, plus typed actions for every operation. Actions build the operation, fill
 * what needs the chain (TaPoS from /v1/status, contract head and next charge sequence, offer
 * version, operator encryption key), sign locally with the given signers (secret keys never leave
 * the process) and submit, by default waiting for inclusion.
 */
import {
  bytesToHex,
  contractIdOf,
  type ErrorCode,
  encodeTx,
  encodeTxBatch,
  generateX25519,
  hexToBytes,
  isErrorCode,
  type MiniAttestation,
  type OfferTerms,
  type Operation,
  offerTerms as offerTermsCodec,
  opHash,
  RoamError,
  refPrefixOf,
  type SignedTx,
  sha256,
  TX_BATCH_CONTENT_TYPE,
  TX_BATCH_HEADER_BYTES,
  TX_BATCH_MAX_BYTES,
  TX_BATCH_MAX_TXS,
  TX_VERSION,
  txBatchItemBytes,
  txId,
  type UnsignedTx,
  utf8,
  validateOp,
} from '@roamchain/protocol';
import {
  type AttestIdentityArgs,
  attestIdentityOp,
  type BondValidatorArgs,
  type BurnSdrArgs,
  bondValidatorOp,
  burnSdrOp,
  type CancelDemandArgs,
  type ChargeArgs,
  type CreateAccountArgs,
  cancelDemandOp,
  chargeOp,
  createAccountOp,
  type EvidenceArgs,
  evidenceOp,
  type IssueSdrArgs,
  issueSdrOp,
  type OfferTermsInput,
  type OpenRequestArgs,
  offerTerms,
  openRequestOp,
  type PostDemandArgs,
  type ProvisionArgs,
  type PublishOfferArgs,
  postDemandOp,
  provisionOp,
  publishOfferOp,
  type RateArgs,
  type RefundArgs,
  type ReplaceOfferArgs,
  type RevokeIdentityArgs,
  rateOp,
  refundOp,
  replaceOfferOp,
  revokeIdentityOp,
  type SetValidatorArgs,
  setValidatorOp,
  type TransferArgs,
  toBytes,
  transferOp,
  type UnbondValidatorArgs,
  type UpdateKeysArgs,
  unbondValidatorOp,
  updateKeysOp,
  type WithdrawOfferArgs,
  withdrawOfferOp,
} from './build.js';
import { apiErrorFromResponse, RoamApiError, RoamNetworkError, retryAfterMsOf } from './errors.js';
import {
  type GovernanceJson,
  type PriceFeedArgs,
  type PriceHistoryJson,
  type PricesJson,
  type ProposalJson,
  type ProposeArgs,
  priceFeedOp,
  proposeOp,
  type SuperNodesJson,
  type VoteArgs,
  voteOp,
} from './governance.js';
import { type AttestationJson, disclosureStrings, sealMemo, sealRequestPayload } from './identity.js';
import {
  type AttachMiniArgs,
  attachMiniOp,
  type BondMiniArgs,
  bondMiniOp,
  type MiniAttestResultJson,
  type MiniNodeDetailJson,
  type MiniNodesJson,
  miniAttestationJson,
  miniAttestOp,
  miniFraudOp,
  type UnbondMiniArgs,
  unbondMiniOp,
} from './mini.js';
import { sealProvisioning } from './provision.js';
import { type Signer, signWith } from './signer.js';
import { type PauseOfferArgs, pauseOfferOp, type TopUpArgs, topUpOp } from './topup.js';
import type {
  AccountJson,
  BatchTxResult,
  BlockJson,
  BlockSummaryJson,
  BlocksQuery,
  ChainParamsJson,
  ContractDetailJson,
  ContractJson,
  ContractsQuery,
  DemandJson,
  EventsQuery,
  FeedEventJson,
  HealthJson,
  Items,
  OfferJson,
  OffersQuery,
  OperatorRatingJson,
  Page,
  RankedOfferJson,
  RankQuery,
  StatusJson,
  SubmitResult,
  TxIncluded,
  TxStatusJson,
  ValidatorDetailJson,
  ValidatorSetJson,
} from './types.js';
import { type SubscribeOptions, type Subscription, subscribe, type WebSocketCtor } from './ws.js';

export const DEFAULT_API_URL = 'http://127.0.0.1:8080';
/** Transactions expire 10 minutes after the node's clock by default. */
export const DEFAULT_EXPIRATION_MS = 600_000;
export const DEFAULT_WAIT_TIMEOUT_MS = 5_000;

type FetchFn = (input: string, init?: RequestInit) => Promise<Response>;

export interface RoamClientOptions {
  /** Base URL of the node's API (default http://127.0.0.1:8080). */
  url?: string;
  /** fetch implementation (default: the global one). */
  fetch?: FetchFn;
  /** Extra headers on every request (e.g. an API gateway token). */
  headers?: Record<string, string>;
  /** Per-request timeout in ms (default 30 s; waiting submissions add their wait time). */
  timeoutMs?: number;
  /** Expiration of prepared transactions relative to the node's time (default 10 min). */
  expirationMs?: number;
  /** WebSocket constructor for `subscribe` (default: global WebSocket, else the `ws` package). */
  WebSocket?: WebSocketCtor;
}

export interface RequestOptions {
  signal?: AbortSignal;
  /** HTTP timeout of this request in ms (default: the client's). */
  timeoutMs?: number;
}

export interface SubmitOptions {
  /** Wait for inclusion in a block (default true). */
  wait?: boolean;
  /** How long the node waits for inclusion, ms (default 5000; the `timeoutMs` query parameter). */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface PrepareOptions {
  /** A fresh /v1/status to take TaPoS from (fetched when omitted). */
  status?: StatusJson;
  /** Expiration relative to the node's time (default: the client's, 10 min). */
  expirationMs?: number;
}

export type ActionOptions = SubmitOptions & PrepareOptions;

/** The answer of a submission plus the id computed locally. */
export type TxResult = SubmitResult;

export type Signers = Signer | readonly Signer[];

type Query = Record<string, string | number | bigint | boolean | undefined>;

function qs(q: Query | undefined): string {
  if (!q) return '';
  const parts: string[] = [];
  for (const [k, v] of Object.entries(q)) {
    if (v === undefined) continue;
    parts.push(`${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`);
  }
  return parts.length ? `?${parts.join('&')}` : '';
}

const seg = (s: string | number) => encodeURIComponent(String(s));

function signalFor(timeoutMs: number, user?: AbortSignal): AbortSignal | undefined {
  const timeout = typeof AbortSignal.timeout === 'function' ? AbortSignal.timeout(timeoutMs) : undefined;
  if (!user) return timeout;
  if (!timeout) return user;
  const any = (AbortSignal as { any?: (s: AbortSignal[]) => AbortSignal }).any;
  return any ? any([user, timeout]) : user;
}

/** Id (hex) of the object created by operation `opIndex` of a transaction (offer, contract, demand). */
export function objectIdOf(txIdHex: string, opIndex = 0): string {
  return bytesToHex(opHash(hexToBytes(txIdHex), opIndex));
}

/** Offer terms of an offer JSON, as protocol values (e.g. to edit and replace them). */
export function offerTermsFromJson(j: OfferJson['terms']): OfferTerms {
  return offerTermsCodec.fromJSON(j, 'terms');
}

/** TaPoS fields from a status: refBlockNum = height, refBlockPrefix = first 4 bytes of headId (BE u32). */
export function taposOf(status: Pick<StatusJson, 'height' | 'headId'>): {
  refBlockNum: number;
  refBlockPrefix: number;
} {
  return { refBlockNum: status.height, refBlockPrefix: refPrefixOf(hexToBytes(status.headId)) };
}

export class RoamClient {
  readonly url: string;
  readonly #fetch: FetchFn;
  readonly #headers: Record<string, string>;
  readonly #timeoutMs: number;
  readonly #expirationMs: number;
  readonly #WebSocket: WebSocketCtor | undefined;

  constructor(opts: RoamClientOptions | string = {}) {
    const o: RoamClientOptions = typeof opts === 'string' ? { url: opts } : opts;
    this.url = (o.url ?? DEFAULT_API_URL).replace(/\/+$/, '');
    if (!o.fetch && typeof globalThis.fetch !== 'function') {
      throw new Error('RoamClient: no fetch implementation available; pass options.fetch');
    }
    this.#fetch = o.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.#headers = o.headers ?? {};
    this.#timeoutMs = o.timeoutMs ?? 30_000;
    this.#expirationMs = o.expirationMs ?? DEFAULT_EXPIRATION_MS;
    this.#WebSocket = o.WebSocket;
  }

  // ---------- transport ----------

  async #raw(
    method: 'GET' | 'POST',
    path: string,
    opts: { query?: Query; body?: unknown; binary?: Uint8Array } & RequestOptions = {},
  ): Promise<{ status: number; text: string; url: string }> {
    const url = `${this.url}${path}${qs(opts.query)}`;
    const headers: Record<string, string> = { accept: 'application/json', ...this.#headers };
    const init: RequestInit = { method, headers };
    if (opts.binary !== undefined) {
      headers['content-type'] = TX_BATCH_CONTENT_TYPE;
      init.body = opts.binary as Uint8Array<ArrayBuffer>;
    } else if (opts.body !== undefined) {
      headers['content-type'] = 'application/json';
      init.body = JSON.stringify(opts.body);
    }
    const signal = signalFor(opts.timeoutMs ?? this.#timeoutMs, opts.signal);
    if (signal) init.signal = signal;
    let res: Response;
    let text: string;
    try {
      res = await this.#fetch(url, init);
      text = await res.text();
    } catch (e) {
      const name = (e as { name?: string })?.name;
      const timedOut = name === 'TimeoutError';
      const why = timedOut
        ? `timed out after ${opts.timeoutMs ?? this.#timeoutMs} ms`
        : name === 'AbortError'
          ? 'aborted'
          : ((e as { cause?: { message?: string } })?.cause?.message ?? (e as Error)?.message ?? String(e));
      throw new RoamNetworkError(`${method} ${url}: ${why}`, { method, url, cause: e, timedOut });
    }
    if (res.status < 200 || res.status > 299) {
      const err = apiErrorFromResponse(res.status, text, { method, url });
      err.retryAfterMs = retryAfterMsOf(res.headers.get('retry-after'));
      throw err;
    }
    return { status: res.status, text, url };
  }

  async #json<T>(
    method: 'GET' | 'POST',
    path: string,
    opts: { query?: Query; body?: unknown; binary?: Uint8Array } & RequestOptions = {},
  ): Promise<T> {
    const { status, text, url } = await this.#raw(method, path, opts);
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new RoamApiError({
        code: 'INTERNAL',
        message: `answer of ${method} ${path} is not JSON`,
        httpStatus: status,
        method,
        url,
      });
    }
  }

  /** GET any API path (for routes added after this SDK). */
  get<T = unknown>(path: string, query?: Query, opts?: RequestOptions): Promise<T> {
    return this.#json<T>('GET', path, { ...opts, ...(query ? { query } : {}) });
  }

  // ---------- routes ----------

  health(opts?: RequestOptions): Promise<HealthJson> {
    return this.#json('GET', '/healthz', opts);
  }

  /** Prometheus text. */
  async metrics(opts?: RequestOptions): Promise<string> {
    return (await this.#raw('GET', '/metrics', opts)).text;
  }

  openapi(opts?: RequestOptions): Promise<Record<string, unknown>> {
    return this.#json('GET', '/openapi.json', opts);
  }

  status(opts?: RequestOptions): Promise<StatusJson> {
    return this.#json('GET', '/v1/status', opts);
  }

  params(opts?: RequestOptions): Promise<ChainParamsJson> {
    return this.#json('GET', '/v1/params', opts);
  }

  /**
   * Submits a signed transaction (bytes or SignedTx). With `wait` (default) resolves once it is in a
   * block; a rejection at admission or while waiting throws RoamApiError with its code.
   */
  async submitTx(tx: Uint8Array | SignedTx, opts: SubmitOptions = {}): Promise<TxResult> {
    const bytes = tx instanceof Uint8Array ? tx : encodeTx(tx);
    const wait = opts.wait ?? true;
    const waitTimeoutMs = opts.timeoutMs ?? DEFAULT_WAIT_TIMEOUT_MS;
    const query: Query = wait ? { wait: 'true', timeoutMs: waitTimeoutMs } : {};
    return this.#json<TxResult>('POST', '/v1/tx', {
      query,
      body: { tx: bytesToHex(bytes) },
      timeoutMs: this.#timeoutMs + (wait ? waitTimeoutMs : 0),
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
  }

  /**
   * Submits many signed transactions through the binary batch route (`POST /v1/txs`), split into
   * batches of at most TX_BATCH_MAX_TXS transactions and TX_BATCH_MAX_BYTES bytes, sent one after
   * the other. Resolves to one result per transaction, in order: `{ ok: true, txId }` (admitted,
   * pending) or `{ ok: false, code, message }` with the node's code. A batch the node refused whole
   * for a full mempool (MEMPOOL_FULL, 503) or as too many from this client (RATE_LIMITED, 429: e.g.
   * held off after a batch refused mostly ACCOUNT_BUSY) gives that code for each of its transactions
   * (with `retryAfterMs`), so the caller resubmits exactly those; any other failed request throws
   * (RoamApiError, RoamNetworkError).
   */
  async submitTxs(
    txs: readonly (Uint8Array | SignedTx)[],
    opts: RequestOptions = {},
  ): Promise<BatchTxResult[]> {
    const all = txs.map((t) => (t instanceof Uint8Array ? t : encodeTx(t)));
    const out: BatchTxResult[] = [];
    let start = 0;
    while (start < all.length) {
      let end = start;
      let size = TX_BATCH_HEADER_BYTES;
      while (end < all.length && end - start < TX_BATCH_MAX_TXS) {
        const item = txBatchItemBytes(all[end]!.length);
        if (end > start && size + item > TX_BATCH_MAX_BYTES) break;
        size += item;
        end++;
      }
      out.push(...(await this.#submitBatch(all.slice(start, end), opts)));
      start = end;
    }
    return out;
  }

  async #submitBatch(batch: Uint8Array[], opts: RequestOptions): Promise<BatchTxResult[]> {
    let answer: { results?: unknown };
    try {
      answer = await this.#json<{ results?: unknown }>('POST', '/v1/txs', {
        ...opts,
        binary: encodeTxBatch(batch, Math.max(...batch.map((t) => t.length))),
      });
    } catch (e) {
      if (!(e instanceof RoamApiError && (e.code === 'MEMPOOL_FULL' || e.code === 'RATE_LIMITED'))) throw e;
      return batch.map(() => ({
        ok: false as const,
        code: e.code,
        serverCode: e.code,
        message: e.message,
        ...(e.retryAfterMs !== undefined ? { retryAfterMs: e.retryAfterMs } : {}),
      }));
    }
    const results = answer.results;
    if (!Array.isArray(results) || results.length !== batch.length) {
      throw new RoamError(
        'INTERNAL',
        `POST /v1/txs answered ${Array.isArray(results) ? results.length : 'no'} results for ${batch.length} transactions`,
      );
    }
    return results.map((r: { ok?: unknown; txId?: unknown; code?: unknown; message?: unknown }) => {
      if (r.ok === true && typeof r.txId === 'string') return { ok: true as const, txId: r.txId };
      const serverCode = typeof r.code === 'string' ? r.code : 'INTERNAL';
      const code: ErrorCode = isErrorCode(serverCode) ? serverCode : 'INTERNAL';
      return {
        ok: false as const,
        code,
        serverCode,
        message: typeof r.message === 'string' ? r.message : serverCode,
      };
    });
  }

  tx(id: string, opts?: RequestOptions): Promise<TxStatusJson> {
    return this.#json('GET', `/v1/tx/${seg(id)}`, opts);
  }

  /** Polls /v1/tx/:id until the transaction is included; throws its code if rejected, WAIT_TIMEOUT after `timeoutMs`. */
  async waitForTx(id: string, timeoutMs = 10_000, pollMs = 200): Promise<TxIncluded> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      let s: TxStatusJson | undefined;
      try {
        s = await this.tx(id);
      } catch (e) {
        if (!(e instanceof RoamApiError && e.status === 404)) throw e;
      }
      if (s?.status === 'included') return s as TxIncluded;
      if (s?.status === 'rejected') {
        const err = apiErrorFromResponse(409, JSON.stringify({ code: s.code, message: s.message }), {
          method: 'GET',
          url: `${this.url}/v1/tx/${id}`,
        });
        throw err;
      }
      if (Date.now() >= deadline)
        throw new RoamError('WAIT_TIMEOUT', `transaction ${id} not included in ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, pollMs));
    }
  }

  /** A block by height or id (hex). */
  block(ref: number | string, opts?: RequestOptions): Promise<BlockJson> {
    return this.#json('GET', `/v1/blocks/${seg(ref)}`, opts);
  }

  /** Newest blocks first. */
  blocks(q: BlocksQuery = {}, opts?: RequestOptions): Promise<Items<BlockSummaryJson>> {
    return this.#json('GET', '/v1/blocks', { ...opts, query: { before: q.before, limit: q.limit } });
  }

  /** An account with its balances; 404 ACCOUNT_UNKNOWN (the code transaction admission uses too). */
  account(name: string, opts?: RequestOptions): Promise<AccountJson> {
    return this.#json('GET', `/v1/accounts/${seg(name)}`, opts);
  }

  offers(q: OffersQuery = {}, opts?: RequestOptions): Promise<Page<OfferJson>> {
    return this.#json('GET', '/v1/offers', {
      ...opts,
      query: {
        country: q.country,
        network: q.network,
        kind: q.kind,
        operator: q.operator,
        minPrice: q.minPrice,
        maxPrice: q.maxPrice,
        status: q.status,
        cursor: q.cursor,
        limit: q.limit,
      },
    });
  }

  /** Live offers ranked by price and operator rating, with the reasons. */
  rankOffers(q: RankQuery = {}, opts?: RequestOptions): Promise<Items<RankedOfferJson>> {
    return this.#json('GET', '/v1/offers/rank', {
      ...opts,
      query: {
        country: q.country,
        network: q.network,
        kind: q.kind,
        volume: q.volume,
        subscriber: q.subscriber,
        budget: q.budget,
        preference: q.preference,
        limit: q.limit,
      },
    });
  }

  offer(id: string, opts?: RequestOptions): Promise<OfferJson> {
    return this.#json('GET', `/v1/offers/${seg(id)}`, opts);
  }

  contract(id: string, opts?: RequestOptions): Promise<ContractDetailJson> {
    return this.#json('GET', `/v1/contracts/${seg(id)}`, opts);
  }

  contracts(q: ContractsQuery = {}, opts?: RequestOptions): Promise<Page<ContractJson>> {
    return this.#json('GET', '/v1/contracts', {
      ...opts,
      query: { party: q.party, limit: q.limit, before: q.before },
    });
  }

  demand(id: string, opts?: RequestOptions): Promise<DemandJson> {
    return this.#json('GET', `/v1/demands/${seg(id)}`, opts);
  }

  operatorRating(name: string, opts?: RequestOptions): Promise<OperatorRatingJson> {
    return this.#json('GET', `/v1/operators/${seg(name)}/rating`, opts);
  }

  ratings(opts?: RequestOptions): Promise<Items<OperatorRatingJson>> {
    return this.#json('GET', '/v1/ratings', opts);
  }

  /** The validator set that signs the next block (with peer ids) and every validator record. */
  validators(opts?: RequestOptions): Promise<ValidatorSetJson> {
    return this.#json('GET', '/v1/validators', opts);
  }

  /** One validator record and its place in the next block's set; 404 VALIDATOR_UNKNOWN. */
  validator(account: string, opts?: RequestOptions): Promise<ValidatorDetailJson> {
    return this.#json('GET', `/v1/validators/${seg(account)}`, opts);
  }

  events(q: EventsQuery = {}, opts?: RequestOptions): Promise<Page<FeedEventJson>> {
    return this.#json('GET', '/v1/events', { ...opts, query: { cursor: q.cursor, limit: q.limit } });
  }

  /** Live feed over `/v1/ws` that reconnects with backoff and resumes from the last cursor. */
  subscribe(opts: SubscribeOptions): Subscription {
    const ctor = opts.WebSocket ?? this.#WebSocket;
    return subscribe(this.url, ctor ? { ...opts, WebSocket: ctor } : opts);
  }

  // ---------- building and signing ----------

  /**
   * An unsigned transaction of `ops` with TaPoS from /v1/status (refBlockNum = height,
   * refBlockPrefix = first 4 bytes of headId) and expiration = node time + 10 min.
   */
  async prepareTx(ops: Operation[], opts: PrepareOptions = {}): Promise<UnsignedTx> {
    for (const op of ops) validateOp(op);
    const st = opts.status ?? (await this.status());
    return {
      version: TX_VERSION,
      chainId: hexToBytes(st.chainId),
      ...taposOf(st),
      expiration: BigInt(st.time) + BigInt(opts.expirationMs ?? this.#expirationMs),
      ops,
    };
  }

  /**
   * Prepares, signs with `signers` (every required signer must be among them) and submits.
   * Operations that need no signature (evidence) are sent with no signer (`[]`, the default).
   */
  async send(ops: Operation[], signers: Signers = [], opts: ActionOptions = {}): Promise<TxResult> {
    const u = await this.prepareTx(ops, opts);
    const signed = signWith(u, Array.isArray(signers) ? signers : [signers as Signer]);
    const res = await this.submitTx(signed, opts);
    const local = bytesToHex(txId(u));
    if (res.txId !== local) {
      throw new RoamError('INTERNAL', `node reports transaction id ${res.txId}, computed ${local}`);
    }
    return res;
  }

  // ---------- actions (one per operation) ----------

  /** Transfers tokens; with `encryptMemo`, the memo is sealed to the recipient's encryption key. */
  async transfer(args: TransferArgs, signer: Signers, opts?: ActionOptions): Promise<TxResult> {
    const { encryptMemo, ...rest } = args;
    if (encryptMemo === undefined) return this.send([transferOp(rest)], signer, opts);
    if (rest.memo !== undefined) throw new RoamError('BAD_REQUEST', 'give either memo or encryptMemo');
    const key = hexToBytes((await this.account(rest.to)).encryptionKey);
    return this.send([transferOp({ ...rest, memo: sealMemo(key, encryptMemo) })], signer, opts);
  }

  createAccount(args: CreateAccountArgs, signer: Signers, opts?: ActionOptions): Promise<TxResult> {
    return this.send([createAccountOp(args)], signer, opts);
  }

  /** Rotates an account's signing and/or encryption key; signed with the current signing key. */
  updateKeys(args: UpdateKeysArgs, signer: Signers, opts?: ActionOptions): Promise<TxResult> {
    return this.send([updateKeysOp(args)], signer, opts);
  }

  issueSdr(args: IssueSdrArgs, signer: Signers, opts?: ActionOptions): Promise<TxResult> {
    return this.send([issueSdrOp(args)], signer, opts);
  }

  burnSdr(args: BurnSdrArgs, signer: Signers, opts?: ActionOptions): Promise<TxResult> {
    return this.send([burnSdrOp(args)], signer, opts);
  }

  /** Full offer terms from an input: defaults, validity from the node's time, the operator's key on chain. */
  async resolveOfferTerms(operator: string, t: OfferTermsInput, status?: StatusJson): Promise<OfferTerms> {
    const st = status ?? (await this.status());
    const encryptionKey = t.encryptionKey ?? (await this.account(operator)).encryptionKey;
    return offerTerms(t, { now: BigInt(st.time), encryptionKey });
  }

  /** Publishes an offer; `offerId` is the new offer's id. */
  async publishOffer(
    args: PublishOfferArgs,
    signer: Signers,
    opts: ActionOptions = {},
  ): Promise<TxResult & { offerId: string }> {
    const status = opts.status ?? (await this.status());
    const terms = await this.resolveOfferTerms(args.operator, args.terms, status);
    const op = publishOfferOp({
      operator: args.operator,
      terms,
      ...(args.demand !== undefined ? { demand: args.demand } : {}),
    });
    const res = await this.send([op], signer, { ...opts, status });
    return { ...res, offerId: objectIdOf(res.txId) };
  }

  async replaceOffer(args: ReplaceOfferArgs, signer: Signers, opts: ActionOptions = {}): Promise<TxResult> {
    const status = opts.status ?? (await this.status());
    const terms = await this.resolveOfferTerms(args.operator, args.terms, status);
    return this.send([replaceOfferOp({ operator: args.operator, offer: args.offer, terms })], signer, {
      ...opts,
      status,
    });
  }

  withdrawOffer(args: WithdrawOfferArgs, signer: Signers, opts?: ActionOptions): Promise<TxResult> {
    return this.send([withdrawOfferOp(args)], signer, opts);
  }

  /**
   * Builds an unsigned Request for multi-party signing: fills `prev` with the offer's current
   * version and a fresh ephemeral X25519 key when not given. Each party signs `tx` with
   * `signUnsigned`; `assembleTx` puts the signatures together; `submitTx` sends it.
   */
  async prepareOpenRequest(
    args: OpenRequestArgs,
    opts: PrepareOptions = {},
  ): Promise<{ tx: UnsignedTx; txId: string; contractId: string; ephemeralSecret: Uint8Array | undefined }> {
    const offerId = bytesToHex(toBytes(args.offer, 'offer', 32));
    const { disclose, ...rest } = args;
    const offer = args.prev === undefined || disclose !== undefined ? await this.offer(offerId) : undefined;
    const prev = args.prev ?? offer!.version;
    let ephemeralKey = args.ephemeralKey;
    let ephemeralSecret: Uint8Array | undefined;
    if (ephemeralKey === undefined) {
      const kp = generateX25519();
      ephemeralKey = kp.publicKey;
      ephemeralSecret = kp.secretKey;
    }
    let payload = args.payload;
    const status = opts.status ?? (await this.status());
    if (disclose !== undefined) {
      if (payload !== undefined) throw new RoamError('BAD_REQUEST', 'give either payload or disclose');
      if (ephemeralSecret === undefined) {
        throw new RoamError(
          'BAD_REQUEST',
          'disclose needs the generated ephemeral key: do not pass ephemeralKey',
        );
      }
      payload = sealRequestPayload({
        ephemeralSecret,
        assigneeEncryptionKey: hexToBytes(offer!.terms.encryptionKey),
        contractId: contractIdOf(hexToBytes(status.chainId), toBytes(ephemeralKey, 'ephemeralKey', 32)),
        payload: {
          v: 1,
          disclosures: disclosureStrings(disclose.disclosures),
          eid: disclose.eid,
          ...(disclose.imei !== undefined ? { imei: disclose.imei } : {}),
        },
      });
    }
    const tx = await this.prepareTx(
      [openRequestOp({ ...rest, prev, ephemeralKey, ...(payload !== undefined ? { payload } : {}) })],
      { ...opts, status },
    );
    const id = bytesToHex(txId(tx));
    return {
      tx,
      txId: id,
      contractId: bytesToHex(contractIdOf(tx.chainId, toBytes(ephemeralKey, 'ephemeralKey', 32))),
      ephemeralSecret,
    };
  }

  /**
   * Opens a Service Smart Contract. Needs the issuer's signature and, when the payer is not the
   * issuer, the payer's: pass both signers, or use prepareOpenRequest + signUnsigned + assembleTx
   * when they sign on different machines. `ephemeralSecret` is the X25519 secret of the generated
   * ephemeral key (undefined when the caller gave one).
   */
  async openRequest(
    args: OpenRequestArgs,
    signers: Signers,
    opts: ActionOptions = {},
  ): Promise<TxResult & { contractId: string; ephemeralSecret: Uint8Array | undefined }> {
    const p = await this.prepareOpenRequest(args, opts);
    const signed = signWith(p.tx, Array.isArray(signers) ? signers : [signers as Signer]);
    const res = await this.submitTx(signed, opts);
    return { ...res, contractId: p.contractId, ephemeralSecret: p.ephemeralSecret };
  }

  /**
   * Builds an unsigned top-up of an open contract (more SDR deposit on the same contract) for
   * multi-party signing: the payer signs `tx` (`signUnsigned`) and the issuer countersigns (its
   * agent's /v1/countersign). `prev` is the contract head, fetched when omitted.
   */
  async prepareTopUp(args: TopUpArgs, opts: PrepareOptions = {}): Promise<{ tx: UnsignedTx; txId: string }> {
    const prev =
      args.prev ?? (await this.contract(bytesToHex(toBytes(args.contract, 'contract', 32)))).contract.head;
    const tx = await this.prepareTx([topUpOp({ ...args, prev })], opts);
    return { tx, txId: bytesToHex(txId(tx)) };
  }

  /** Tops up an open contract; needs the issuer's and the payer's signatures (pass both signers). */
  async topUp(args: TopUpArgs, signers: Signers, opts: ActionOptions = {}): Promise<TxResult> {
    const p = await this.prepareTopUp(args, opts);
    const signed = signWith(p.tx, Array.isArray(signers) ? signers : [signers as Signer]);
    return this.submitTx(signed, opts);
  }

  /** The publishing operator pauses its offer: it cannot be bought (OFFER_PAUSED) until resumed. */
  pauseOffer(args: PauseOfferArgs, signer: Signers, opts?: ActionOptions): Promise<TxResult> {
    return this.send([pauseOfferOp(args, true)], signer, opts);
  }

  /** Puts a paused offer back on sale. */
  resumeOffer(args: PauseOfferArgs, signer: Signers, opts?: ActionOptions): Promise<TxResult> {
    return this.send([pauseOfferOp(args, false)], signer, opts);
  }

  /** Bills one step; `prev` (the contract head) and `seq` (next charge number) are fetched when omitted. */
  async charge(args: ChargeArgs, signer: Signers, opts: ActionOptions = {}): Promise<TxResult> {
    const status = opts.status ?? (await this.status());
    let { prev, seq } = args;
    if (prev === undefined || seq === undefined) {
      const c = (await this.contract(bytesToHex(toBytes(args.contract, 'contract', 32)))).contract;
      prev ??= c.head;
      seq ??= c.chargeCount + 1;
    }
    const op = chargeOp({ ...args, prev, seq, start: args.start ?? BigInt(status.time) });
    return this.send([op], signer, { ...opts, status });
  }

  /**
   * Provisions the subscriber (the assignee, once per contract): either pass sealed `forRequester` /
   * `forIssuer`, or `plaintext` + the assignee's `encryptionSecret` and the client seals them
   * (see provision.ts). `prev` is fetched when omitted.
   */
  async provision(args: ProvisionArgs, signer: Signers, opts: ActionOptions = {}): Promise<TxResult> {
    const cid = bytesToHex(toBytes(args.contract, 'contract', 32));
    let { prev, forRequester, forIssuer, forSubscriber } = args;
    const needContract = prev === undefined || forRequester === undefined || forIssuer === undefined;
    const c = needContract ? (await this.contract(cid)).contract : undefined;
    prev ??= c?.head;
    if (forRequester === undefined || forIssuer === undefined) {
      if (!args.plaintext || !args.encryptionSecret) {
        throw new RoamError(
          'BAD_REQUEST',
          'provision needs forRequester and forIssuer, or plaintext and encryptionSecret',
        );
      }
      const sealed = sealProvisioning({
        contractId: cid,
        assigneeEncryptionSecret: args.encryptionSecret,
        requesterEphemeralKey: c!.ephemeralKey,
        issuerEncryptionKey: (await this.account(c!.issuer)).encryptionKey,
        subscriberEncryptionKey: (await this.account(c!.subscriber)).encryptionKey,
        plaintext: args.plaintext,
      });
      forRequester ??= sealed.forRequester;
      forIssuer ??= sealed.forIssuer;
      forSubscriber ??= sealed.forSubscriber;
    }
    const iccidHash = args.iccidHash ?? (args.iccid !== undefined ? sha256(utf8(args.iccid)) : undefined);
    if (iccidHash === undefined) throw new RoamError('BAD_REQUEST', 'provision needs iccidHash or iccid');
    const op = provisionOp({
      assignee: args.assignee,
      contract: cid,
      prev: prev!,
      iccidHash,
      forRequester,
      forIssuer,
      ...(forSubscriber !== undefined ? { forSubscriber } : {}),
    });
    return this.send([op], signer, opts);
  }

  /** Closes and settles a contract; `prev` is fetched when omitted. */
  async refund(args: RefundArgs, signer: Signers, opts: ActionOptions = {}): Promise<TxResult> {
    const prev =
      args.prev ?? (await this.contract(bytesToHex(toBytes(args.contract, 'contract', 32)))).contract.head;
    return this.send([refundOp({ ...args, prev })], signer, opts);
  }

  rate(args: RateArgs, signer: Signers, opts?: ActionOptions): Promise<TxResult> {
    return this.send([rateOp(args)], signer, opts);
  }

  /** Posts a demand; `startAt` defaults to the node's time; `demandId` is the new demand's id. */
  async postDemand(
    args: PostDemandArgs,
    signer: Signers,
    opts: ActionOptions = {},
  ): Promise<TxResult & { demandId: string }> {
    const status = opts.status ?? (await this.status());
    const op = postDemandOp({ ...args, startAt: args.startAt ?? BigInt(status.time) });
    const res = await this.send([op], signer, { ...opts, status });
    return { ...res, demandId: objectIdOf(res.txId) };
  }

  cancelDemand(args: CancelDemandArgs, signer: Signers, opts?: ActionOptions): Promise<TxResult> {
    return this.send([cancelDemandOp(args)], signer, opts);
  }

  /** The home operator attests its subscriber's identity (digests of `makeDisclosures`); `attestationId` is its id. */
  async attestIdentity(
    args: AttestIdentityArgs,
    signer: Signers,
    opts?: ActionOptions,
  ): Promise<TxResult & { attestationId: string }> {
    const res = await this.send([attestIdentityOp(args)], signer, opts);
    return { ...res, attestationId: objectIdOf(res.txId) };
  }

  /** The subscriber's current identity attestation (GET /v1/identity/:subscriber); 404 IDENTITY_UNKNOWN. */
  identity(subscriber: string, opts?: RequestOptions): Promise<AttestationJson> {
    return this.#json('GET', `/v1/identity/${seg(subscriber)}`, opts);
  }

  revokeIdentity(args: RevokeIdentityArgs, signer: Signers, opts?: ActionOptions): Promise<TxResult> {
    return this.send([revokeIdentityOp(args)], signer, opts);
  }

  /**
   * Governance registers a Super Node candidate (a new record needs `nodeKey`), admits it ('active'),
   * demotes it ('candidate') or removes it, and may rotate its node key. Signed by `authority`.
   * The active set changes at the next epoch boundary.
   */
  setValidator(args: SetValidatorArgs, signer: Signers, opts?: ActionOptions): Promise<TxResult> {
    return this.send([setValidatorOp(args)], signer, opts);
  }

  /** The owner raises its validator bond from its free UMT. */
  bondValidator(args: BondValidatorArgs, signer: Signers, opts?: ActionOptions): Promise<TxResult> {
    return this.send([bondValidatorOp(args)], signer, opts);
  }

  /**
   * The owner unbonds part of its bond (at least the minimum must stay) or all of it (a full exit).
   * The UMT is paid out after the unbonding delay; `unbondingId` names the queued payout.
   */
  async unbondValidator(
    args: UnbondValidatorArgs,
    signer: Signers,
    opts?: ActionOptions,
  ): Promise<TxResult & { unbondingId: string }> {
    const res = await this.send([unbondValidatorOp(args)], signer, opts);
    return { ...res, unbondingId: objectIdOf(res.txId) };
  }

  /**
   * Submits evidence of a double signature (two conflicting votes of one validator). The
   * transaction carries no signature and pays no fee: the chain checks the votes' signatures.
   */
  submitEvidence(args: EvidenceArgs, opts?: ActionOptions): Promise<TxResult> {
    return this.send([evidenceOp(args)], [], opts);
  }

  // ---------- Mini Nodes (docs/GOVERNANCE.md §8) ----------

  /** The owner bonds (at least 1,000 UMT) a Mini Node attached to a Super Node, or tops it up. */
  bondMini(args: BondMiniArgs, signer: Signers, opts?: ActionOptions): Promise<TxResult> {
    return this.send([bondMiniOp(args)], signer, opts);
  }

  /** The owner unbonds part of the bond (the minimum stays) or all of it (an exit), released after the delay. */
  unbondMini(args: UnbondMiniArgs, signer: Signers, opts?: ActionOptions): Promise<TxResult> {
    return this.send([unbondMiniOp(args)], signer, opts);
  }

  /** The owner attaches its Mini Node to another Super Node. */
  attachMini(args: AttachMiniArgs, signer: Signers, opts?: ActionOptions): Promise<TxResult> {
    return this.send([attachMiniOp(args)], signer, opts);
  }

  /** Signed attestations as a `mini_attest` transaction (no signer, no fee). */
  submitMiniAttestations(attestations: MiniAttestation[], opts?: ActionOptions): Promise<TxResult> {
    return this.send([miniAttestOp(attestations)], [], opts);
  }

  /** Proof that a Mini Node signed a root the chain did not commit (no signer, no fee). */
  submitMiniFraud(attestation: MiniAttestation, opts?: ActionOptions): Promise<TxResult> {
    return this.send([miniFraudOp(attestation)], [], opts);
  }

  /** Hands attestations to a (Super) node, which submits the matching ones and proves the others false. */
  sendMiniAttestations(
    attestations: MiniAttestation[],
    opts?: RequestOptions,
  ): Promise<MiniAttestResultJson> {
    return this.#json('POST', '/v1/mininodes/attestations', {
      ...opts,
      body: { attestations: attestations.map(miniAttestationJson) },
    });
  }

  /** Mini Nodes attached to the Super Nodes (GET /v1/mininodes), most important first. */
  miniNodes(q: { superNode?: string } = {}, opts?: RequestOptions): Promise<MiniNodesJson> {
    return this.#json('GET', '/v1/mininodes', { ...opts, query: { superNode: q.superNode } });
  }

  /** One Mini Node with its activity; 404 MINI_UNKNOWN. */
  miniNode(owner: string, opts?: RequestOptions): Promise<MiniNodeDetailJson> {
    return this.#json('GET', `/v1/mininodes/${seg(owner)}`, opts);
  }

  // ---------- governance, price feeds, the SDR (docs/GOVERNANCE.md) ----------

  /** An admitted operator proposes an action (it counts as its yes vote); `proposalId` is its id. */
  async propose(
    args: ProposeArgs,
    signer: Signers,
    opts?: ActionOptions,
  ): Promise<TxResult & { proposalId: string }> {
    const res = await this.send([proposeOp(args)], signer, opts);
    return { ...res, proposalId: objectIdOf(res.txId) };
  }

  /** An admitted operator votes yes or no (once, before the deadline). */
  vote(args: VoteArgs, signer: Signers, opts?: ActionOptions): Promise<TxResult> {
    return this.send([voteOp(args)], signer, opts);
  }

  /** A Super Node of the active set publishes its exchange rates. */
  publishPriceFeed(args: PriceFeedArgs, signer: Signers, opts?: ActionOptions): Promise<TxResult> {
    return this.send([priceFeedOp(args)], signer, opts);
  }

  /** Proposals, newest first (GET /v1/governance/proposals). */
  proposals(
    q: { status?: ProposalJson['status']; limit?: number } = {},
    opts?: RequestOptions,
  ): Promise<{ items: ProposalJson[] }> {
    return this.#json('GET', '/v1/governance/proposals', {
      ...opts,
      query: { status: q.status, limit: q.limit },
    });
  }

  /** One proposal with its votes; 404 GOV_UNKNOWN. */
  proposal(id: string, opts?: RequestOptions): Promise<ProposalJson> {
    return this.#json('GET', `/v1/governance/proposals/${seg(id)}`, opts);
  }

  /** The admitted operators with their participation, pending parameter changes, a scheduled upgrade. */
  governance(opts?: RequestOptions): Promise<GovernanceJson> {
    return this.#json('GET', '/v1/governance', opts);
  }

  /** Super Nodes by Proof of Importance (SLA days of the last 100), with their place in the next set. */
  superNodes(opts?: RequestOptions): Promise<SuperNodesJson> {
    return this.#json('GET', '/v1/supernodes', opts);
  }

  /** The SDR rate from the price feeds (GET /v1/prices). */
  prices(opts?: RequestOptions): Promise<PricesJson> {
    return this.#json('GET', '/v1/prices', opts);
  }

  /** Daily SDR fixings, newest first (GET /v1/prices/history). */
  priceHistory(days = 30, opts?: RequestOptions): Promise<PriceHistoryJson> {
    return this.#json('GET', '/v1/prices/history', { ...opts, query: { days } });
  }
}
