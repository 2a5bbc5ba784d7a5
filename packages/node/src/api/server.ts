/**
 * The node's Web-API (docs/API.md): Fastify routes with JSON schemas (which also make
 * `GET /openapi.json`), the WebSocket feed, Prometheus metrics, and optionally the built web app.
 *
 *   const api = await createApi(node, { port: 0 });   // 127.0.0.1:8080 by default
 *   await fetch(`${api.url}/v1/status`);
 *   await api.close();
 *
 * The API sees the node only through `NodeApi`. Every error answer is `{ code, message, details }`
 * with the HTTP status of its code (packages/protocol/src/errors.ts).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import fastifySwagger from '@fastify/swagger';
import fastifyWebsocket from '@fastify/websocket';
import { peerIdOf } from '@roamchain/p2p';
import {
  bytesToHex,
  type ChainParams,
  type ErrorCode,
  encodeTx,
  hexToBytes,
  httpStatusOf,
  isErrorCode,
  RoamError,
  SERVICE_KINDS,
  type ServiceKind,
  signedTx,
} from '@roamchain/protocol';
import {
  type Attestation,
  type ChainMeta,
  type Contract,
  type Demand,
  epochOf,
  K,
  type Offer,
  operatorRating,
  type Preference,
  type RankQuery,
  rankOffers,
  requireValidator,
  type Validator,
  validator as validatorCodec,
  validatorOf,
  validatorSetFor,
} from '@roamchain/state';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  LogController,
} from 'fastify';
import type { Logger } from 'pino';
import { FeedIndexer } from '../indexer/feed.js';
import type { AppliedBlock, NodeApi } from '../interfaces.js';
import type { KvStore } from '../store/index.js';
import { governanceRoutes } from './governance.js';
import { FeedHub } from './hub.js';
import {
  accountJson,
  attestationJson,
  blockJson,
  blockSummaryJson,
  contractJson,
  demandJson,
  feedEventJson,
  fromQuery,
  type JsonObject,
  offerJson,
  paramsJson,
  rankedJson,
  receiptJson,
  toJson,
  txStatusJson,
} from './json.js';
import {
  type ApiLimits,
  Clients,
  guardConnections,
  type LimitsInput,
  limitsFromEnv,
  registerRateLimits,
  resolveLimits,
  serverOptions,
} from './limits.js';
import { Metrics } from './metrics.js';
import { REQUEST_ID_HEADER, requestIdOf } from './request-id.js';
import * as S from './schemas.js';
import { RETRY_AFTER_SECONDS, RETRY_LATER_CODES, registerTxBatchRoute, TXS_REQUEST_BODY } from './txs.js';
import { registerWs } from './ws.js';

export interface ApiOptions {
  /** Interface to listen on (default 127.0.0.1). */
  host?: string;
  /** Port (default 8080; 0 picks a free one). */
  port?: number;
  /** A pino logger, or true for Fastify's own, or false (default) for none. */
  logger?: Logger | boolean;
  /** Directory of a built web app to serve at `/` (single-page app: unknown pages get index.html). */
  staticDir?: string;
  /** Metrics to report into (default: a new registry). Wire `NodeConfig.onCommitted` to `metrics.observeBlock`. */
  metrics?: Metrics;
  /** Answer browsers from other origins (default true: the API is public and read-mostly). */
  cors?: boolean;
  /** Events read per page when a WebSocket subscription replays from a cursor (default 500). */
  replayPageSize?: number;
  /** Operator agents to advertise at GET /v1/agents (operator name -> agent base URL), e.g. the devnet's. */
  agents?: () => Record<string, string>;
  /** Per-client limits (api/limits.ts), merged over the defaults; default from ROAMCHAIN_API_LIMITS. */
  limits?: LimitsInput;
  /**
   * The feed index serving filtered replays. Default: one opened on the node's store (a node that
   * exposes `store`) and closed with the API, unless ROAMCHAIN_FEED_INDEX=off; false: none
   * (filtered replays then read the stored blocks, as unfiltered ones do).
   */
  indexer?: FeedIndexer | false;
}

export interface Api {
  app: FastifyInstance;
  url: string;
  metrics: Metrics;
  close(): Promise<void>;
}

type Query = Record<string, unknown>;

const DEFAULT_WAIT_MS = 5000;

const WS_PATH = {
  get: {
    summary: 'WebSocket feed of blocks and events',
    tags: ['feed'],
    description:
      'Upgrade to a WebSocket. Send {"op":"subscribe","topic":"blocks"} and/or {"op":"subscribe","topic":"events",' +
      '"account"?,"contract"?,"cursor"?}. The server answers {"type":"subscribed","topic","cursor"} and pushes ' +
      '{"type":"block","height","id","time","txCount"} and {"type":"event","cursor","height","txId","event"}. ' +
      'With a cursor, every matching event after it is replayed first, then the feed continues live.',
    responses: {
      '101': { description: 'Switching Protocols: the connection is a WebSocket from now on' },
      '4XX': { description: 'Not a WebSocket upgrade request' },
    },
  },
};
const MAX_WAIT_MS = 60_000;
/** What POST /v1/tx answers for its typical refusals (any admission code of errors.ts may come). */
const TX_ADMISSION_CODES: readonly ErrorCode[] = [
  'BAD_REQUEST',
  'CODEC_TRUNCATED',
  'CODEC_TRAILING',
  'CODEC_BAD_VALUE',
  'CODEC_BAD_JSON',
  'TX_WRONG_CHAIN',
  'TX_EXPIRED',
  'TX_EXPIRATION_TOO_FAR',
  'SIG_MISSING',
  'SIG_INVALID',
  'ACCOUNT_UNKNOWN',
  'TX_DUPLICATE',
  'CODEC_TOO_LARGE',
  'UNSUPPORTED_MEDIA_TYPE',
  'MEMPOOL_ACCOUNT_LIMIT',
  'MEMPOOL_FULL',
  'WAIT_TIMEOUT',
];

/** Maps any error to the API's error shape and HTTP status. */
export function errorAnswer(err: unknown): { status: number; body: JsonObject } {
  const e = err as Partial<FastifyError> & { details?: unknown; name?: string };
  if (err instanceof RoamError || (e?.name === 'RoamError' && isErrorCode(e.code))) {
    const code = e.code as ErrorCode;
    return {
      status: httpStatusOf(code),
      body: { code, message: e.message ?? code, details: (toJson(e.details ?? {}) as JsonObject) ?? {} },
    };
  }
  const answer = (code: ErrorCode, message: string, details: JsonObject = {}) => ({
    status: httpStatusOf(code),
    body: { code, message, details },
  });
  if (e?.validation) {
    const where = e.validationContext ?? 'request';
    return answer('BAD_REQUEST', e.message ?? 'invalid request', {
      in: where,
      errors: e.validation.map((v) => ({
        path: `${where}${v.instancePath ?? ''}`,
        message: v.message ?? 'invalid',
        ...(v.params ? { params: toJson(v.params) } : {}),
      })),
    });
  }
  const sc = e?.statusCode;
  if (sc === 404) return answer('NOT_FOUND', e.message ?? 'Not found');
  if (sc === 413) return answer('CODEC_TOO_LARGE', e.message ?? 'Request body is too large');
  if (sc === 415) return answer('UNSUPPORTED_MEDIA_TYPE', e.message ?? 'Unsupported content type');
  if (sc !== undefined && sc >= 400 && sc < 500) {
    return answer('BAD_REQUEST', e.message ?? 'Bad request', e.code ? { reason: e.code } : {});
  }
  return answer('INTERNAL', 'Internal error');
}

/** 404: an unknown account is ACCOUNT_UNKNOWN on every route (as in transaction admission), else NOT_FOUND. */
const notFound = (what: string, id: string): never => {
  if (what === 'account')
    throw new RoamError('ACCOUNT_UNKNOWN', `account ${id} does not exist`, { account: id });
  throw new RoamError('NOT_FOUND', `${what} ${id} not found`, { [what]: id });
};

/** Builds the Fastify app with every route (not listening yet). */
export async function buildApp(
  node: NodeApi,
  opts: Omit<ApiOptions, 'host' | 'port' | 'limits' | 'indexer'> & {
    metrics: Metrics;
    hub: FeedHub;
    limits: ApiLimits;
    indexer?: FeedIndexer;
  },
): Promise<FastifyInstance> {
  const { metrics, hub, limits } = opts;
  const app: FastifyInstance = Fastify({
    ...serverOptions(limits),
    ...(typeof opts.logger === 'object'
      ? { loggerInstance: opts.logger as unknown as FastifyBaseLogger }
      : { logger: opts.logger ?? false }),
    // One log line per request is too much at thousands of tx/s: errors are logged by the handler.
    logController: new LogController({ disableRequestLogging: true }),
    exposeHeadRoutes: false,
    return503OnClosing: true,
    // x-request-id: the caller's (when it is a short token) or a fresh one; on the logs and echoed.
    requestIdHeader: false,
    genReqId: (req) => requestIdOf(req.headers),
  }) as unknown as FastifyInstance;
  app.addHook('onRequest', async (req, reply) => {
    reply.header(REQUEST_ID_HEADER, req.id);
  });

  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'roamchain Web-API',
        version: '1.0.0',
        description:
          'HTTP API of a roamchain node. u64 values are decimal strings of base units (6 decimals for UMT and SDR), ' +
          'byte strings are lowercase hex in answers (either case is accepted on input), times in status fields are ' +
          'unix milliseconds. Every error answer is { code, message, details } with the HTTP status of its code; ' +
          'a body of another type than the route takes is 415 UNSUPPORTED_MEDIA_TYPE.',
      },
      tags: [
        { name: 'node', description: 'node and chain status' },
        { name: 'tx', description: 'transactions' },
        { name: 'chain', description: 'blocks and events' },
        { name: 'ledger', description: 'accounts, offers, contracts, demands, ratings' },
        { name: 'validators', description: 'Super Nodes: the active set and validator records' },
        { name: 'feed', description: 'WebSocket feed' },
        { name: 'governance', description: 'proposals and votes of the admitted operators' },
        { name: 'prices', description: 'Super Node price feeds and the SDR rate' },
      ],
    },
    // WebSocket routes are left out of the generated paths: describe the upgrade by hand.
    transformObject: (doc) => {
      const o = (doc as { openapiObject: { paths?: Record<string, Record<string, object>> } }).openapiObject;
      const paths: Record<string, object> = { ...o.paths, '/v1/ws': WS_PATH };
      const txs = paths['/v1/txs'] as Record<string, object> | undefined;
      if (txs?.post) paths['/v1/txs'] = { ...txs, post: { ...txs.post, requestBody: TXS_REQUEST_BODY } };
      return { ...o, paths } as never;
    },
  });
  await app.register(fastifyWebsocket, { options: { maxPayload: 64 * 1024 } });

  // Bodies are JSON (application/json), and binary batches on POST /v1/txs only: any other content
  // type (text/plain included) is 415 UNSUPPORTED_MEDIA_TYPE, never parsed.
  app.removeContentTypeParser('text/plain');

  const clients = new Clients(limits.apiKeys);
  await registerRateLimits(app, limits, clients, (reason) => metrics.refused.inc({ reason }));

  app.setErrorHandler((err, req, reply) => {
    const { status, body } = errorAnswer(err);
    // A full mempool: come back later (503 MEMPOOL_FULL, 429 MEMPOOL_ACCOUNT_LIMIT).
    if (RETRY_LATER_CODES.has(String(body.code)))
      void reply.header('retry-after', String(RETRY_AFTER_SECONDS));
    if (status >= 500 && body.code !== 'MEMPOOL_FULL')
      req.log.error({ err, requestId: req.id }, 'request failed');
    else req.log.debug({ code: body.code, url: req.url, requestId: req.id }, 'request rejected');
    void reply.status(status).send(body);
  });

  const staticIndex = opts.staticDir && existsSync(join(opts.staticDir, 'index.html'));
  app.setNotFoundHandler((req, reply) => {
    const path = req.url.split('?')[0] ?? '';
    const wantsPage =
      staticIndex &&
      req.method === 'GET' &&
      !path.startsWith('/v1/') &&
      !/\.[a-z0-9]+$/i.test(path) &&
      String(req.headers.accept ?? '').includes('text/html');
    if (wantsPage) return reply.type('text/html').sendFile('index.html');
    return reply.status(404).send({
      code: 'NOT_FOUND',
      message: `no route ${req.method} ${path}`,
      details: { method: req.method, path },
    });
  });

  app.addHook('onResponse', async (req, reply) => {
    metrics.observeRequest(
      req.method,
      req.routeOptions.url ?? 'unmatched',
      reply.statusCode,
      reply.elapsedTime / 1000,
    );
  });

  if (opts.cors ?? true) {
    app.addHook('onRequest', async (_req, reply) => {
      reply.header('access-control-allow-origin', '*');
    });
    app.options('/*', { schema: { hide: true } }, async (_req, reply) => {
      reply
        .header('access-control-allow-methods', 'GET, POST, OPTIONS')
        .header('access-control-allow-headers', 'content-type, authorization, x-api-key, x-request-id')
        .header('access-control-max-age', '86400')
        .status(204);
      return reply.send();
    });
  }

  if (opts.staticDir) {
    await app.register(fastifyStatic, {
      root: opts.staticDir,
      prefix: '/',
      wildcard: true,
      index: ['index.html'],
    });
  }

  const state = node.state;
  const R = (ok: Record<string, unknown>, codes: readonly ErrorCode[] = []) => ({
    ...ok,
    ...S.errorResponses(codes),
    ...S.ERRORS_RESPONSES,
  });

  // ------------------------------------------------------------ node

  app.get(
    '/healthz',
    {
      schema: {
        summary: 'Liveness',
        tags: ['node'],
        response: R({
          200: { type: 'object', properties: { ok: { type: 'boolean' }, height: { type: 'integer' } } },
        }),
      },
    },
    async () => ({ ok: true, height: node.status().height }),
  );

  app.get(
    '/metrics',
    {
      schema: {
        summary: 'Prometheus metrics (text exposition format)',
        tags: ['node'],
        produces: ['text/plain'],
        response: { 200: { description: 'Prometheus text', type: 'string' } },
      },
    },
    async (_req, reply) => {
      const text = await metrics.text();
      return reply.type(metrics.contentType).send(text);
    },
  );

  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  app.get(
    '/v1/status',
    { schema: { summary: 'Chain and node status', tags: ['node'], response: R({ 200: S.STATUS }) } },
    async () => node.status(),
  );

  app.get(
    '/v1/params',
    {
      schema: {
        summary: 'Chain parameters and genesis time',
        tags: ['node'],
        response: R({
          200: { type: 'object', additionalProperties: true, properties: { genesisTime: S.U64 } },
        }),
      },
    },
    async () => ({
      ...paramsJson(state.get<ChainParams>(K.params) ?? node.genesis.params),
      genesisTime: node.genesis.genesisTime.toString(),
    }),
  );

  // ------------------------------------------------------------ transactions

  app.post(
    '/v1/tx',
    {
      schema: {
        summary: 'Submit a signed transaction',
        description:
          'Body { tx: hex of the signed transaction bytes } or { json: signed transaction JSON }. Without wait the ' +
          'answer is 202 once the node admitted it; with wait=true, 200 once it is in a committed block.',
        tags: ['tx'],
        querystring: {
          type: 'object',
          properties: {
            wait: { type: 'string', enum: ['true', 'false', '1', '0'] },
            timeoutMs: { type: 'integer', minimum: 1, maximum: MAX_WAIT_MS },
          },
        },
        body: {
          type: 'object',
          properties: {
            tx: { type: 'string', pattern: '^([0-9a-fA-F]{2})+$', maxLength: 131_072 },
            json: { type: 'object', additionalProperties: true },
          },
          oneOf: [{ required: ['tx'] }, { required: ['json'] }],
        },
        response: R(
          {
            200: S.TX_STATUS,
            202: {
              type: 'object',
              properties: { txId: S.HEX, status: { type: 'string', enum: ['pending'] } },
            },
          },
          TX_ADMISSION_CODES,
        ),
      },
    },
    async (req, reply) => {
      const q = req.query as Query;
      const body = req.body as { tx?: string; json?: unknown };
      let bytes: Uint8Array;
      if (typeof body.tx === 'string') {
        bytes = hexToBytes(body.tx);
      } else {
        try {
          bytes = encodeTx(signedTx.fromJSON(body.json, 'tx'));
        } catch (e) {
          if (e instanceof RoamError) throw e;
          throw new RoamError('CODEC_BAD_JSON', (e as Error).message);
        }
      }
      const env = await node.submit(bytes);
      if (!fromQuery.bool(q.wait, 'wait')) {
        return reply.status(202).send({ txId: env.idHex, status: 'pending' });
      }
      const timeout =
        q.timeoutMs === undefined ? DEFAULT_WAIT_MS : fromQuery.int(q.timeoutMs, 'timeoutMs', 1, MAX_WAIT_MS);
      const s = await node.waitFor(env.idHex, timeout);
      return reply.status(200).send({
        txId: s.txId,
        status: 'included',
        height: s.height,
        index: s.index,
        blockId: s.blockId,
        receipt: receiptJson(s.receipt),
      });
    },
  );

  await registerTxBatchRoute(app, node);

  app.get(
    '/v1/tx/:id',
    {
      schema: {
        summary: 'Transaction status',
        tags: ['tx'],
        params: { type: 'object', required: ['id'], properties: { id: S.ID } },
        response: R({ 200: S.TX_STATUS }, ['BAD_REQUEST', 'NOT_FOUND']),
      },
    },
    async (req) => {
      const id = fromQuery.id((req.params as Query).id, 'id');
      const s = await node.txStatus(id);
      return s ? txStatusJson(s) : notFound('tx', id);
    },
  );

  // ------------------------------------------------------------ blocks and events

  app.get(
    '/v1/blocks/:ref',
    {
      schema: {
        summary: 'A block by height or id',
        tags: ['chain'],
        params: {
          type: 'object',
          required: ['ref'],
          properties: {
            ref: {
              type: 'string',
              pattern: '^([0-9]{1,15}|[0-9a-fA-F]{64})$',
              description: 'height or block id',
            },
          },
        },
        response: R({ 200: S.BLOCK }, ['BAD_REQUEST', 'NOT_FOUND']),
      },
    },
    async (req) => {
      const ref = String((req.params as Query).ref);
      let b: AppliedBlock | undefined;
      if (ref.length === 64) b = await node.blockById(ref.toLowerCase());
      else b = await node.blockByHeight(fromQuery.int(ref, 'ref', 0, Number.MAX_SAFE_INTEGER));
      return b ? blockJson(b, node.commitAt(b.height)) : notFound('block', ref);
    },
  );

  app.get(
    '/v1/blocks',
    {
      schema: {
        summary: 'Latest blocks, newest first',
        tags: ['chain'],
        querystring: {
          type: 'object',
          properties: {
            before: { type: 'integer', minimum: 1, description: 'only blocks below this height' },
            limit: { type: 'integer', minimum: 1, maximum: 100, default: 20 },
          },
        },
        response: R({ 200: S.PAGE.items(S.BLOCK_SUMMARY) }, ['BAD_REQUEST']),
      },
    },
    async (req) => {
      const q = req.query as Query;
      const limit = fromQuery.int(q.limit ?? 20, 'limit', 1, 100);
      const head = node.status().height;
      let h =
        q.before === undefined
          ? head
          : Math.min(head, fromQuery.int(q.before, 'before', 1, Number.MAX_SAFE_INTEGER) - 1);
      const items: JsonObject[] = [];
      for (; h >= 1 && items.length < limit; h--) {
        const b = await node.blockByHeight(h);
        if (b) items.push(blockSummaryJson(b));
      }
      return { items };
    },
  );

  app.get(
    '/v1/events',
    {
      schema: {
        summary: 'Ledger events after a cursor, oldest first',
        tags: ['chain'],
        querystring: {
          type: 'object',
          properties: {
            cursor: S.CURSOR,
            limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
          },
        },
        response: R({ 200: S.PAGE.items(S.FEED_EVENT, true) }, ['BAD_REQUEST']),
      },
    },
    async (req) => {
      const q = req.query as Query;
      const cursor = q.cursor === undefined ? null : fromQuery.cursor(q.cursor, 'cursor');
      const limit = fromQuery.int(q.limit ?? 100, 'limit', 1, 1000);
      const events = await node.eventsSince(cursor, limit);
      return { items: events.map(feedEventJson), next: events.at(-1)?.cursor ?? cursor };
    },
  );

  // ------------------------------------------------------------ ledger

  app.get(
    '/v1/accounts/:name',
    {
      schema: {
        summary: 'An account with its balances',
        tags: ['ledger'],
        params: { type: 'object', required: ['name'], properties: { name: S.NAME } },
        response: R({ 200: S.ACCOUNT }, ['BAD_REQUEST', 'ACCOUNT_UNKNOWN']),
      },
    },
    async (req) => {
      const name = fromQuery.name((req.params as Query).name, 'name');
      return accountJson(state, name, BigInt(Date.now())) ?? notFound('account', name);
    },
  );

  app.get(
    '/v1/offers',
    {
      schema: {
        summary: 'Offers, ordered by id (active ones by default)',
        tags: ['ledger'],
        querystring: {
          type: 'object',
          properties: {
            country: { type: 'string', pattern: '^[A-Z]{2}$' },
            network: { type: 'string', pattern: '^[0-9]{3}-[0-9]{2,3}$' },
            kind: { type: 'string', enum: [...SERVICE_KINDS] },
            operator: S.NAME,
            minPrice: S.U64,
            maxPrice: S.U64,
            status: { type: 'string', enum: ['active', 'withdrawn', 'all'], default: 'active' },
            cursor: { ...S.ID, description: 'id of the last offer of the previous page' },
            limit: { type: 'integer', minimum: 1, maximum: 500, default: 50 },
          },
        },
        response: R({ 200: S.PAGE.items(S.OFFER, true) }, ['BAD_REQUEST']),
      },
    },
    async (req) => {
      const q = req.query as Query;
      const status = (q.status as string | undefined) ?? 'active';
      const limit = fromQuery.int(q.limit ?? 50, 'limit', 1, 500);
      const minPrice = q.minPrice === undefined ? undefined : fromQuery.u64(q.minPrice, 'minPrice');
      const maxPrice = q.maxPrice === undefined ? undefined : fromQuery.u64(q.maxPrice, 'maxPrice');
      const cursor = q.cursor === undefined ? undefined : fromQuery.id(q.cursor, 'cursor');
      const country = q.country as string | undefined;
      const network = q.network as string | undefined;
      const operator = q.operator as string | undefined;
      const kind = q.kind as ServiceKind | undefined;
      let ids: Iterable<string>;
      if (status === 'active') {
        if (network) ids = state.offers.byNetwork(network);
        else if (country) ids = state.offers.byCountry(country);
        else if (operator) ids = state.offers.ofOperator(operator);
        else ids = state.offers.all();
      } else {
        // Withdrawn offers are not indexed: a scan, only when asked for.
        ids = [...state.entries<Offer>('offer/')].map(([k]) => k.slice('offer/'.length));
      }
      const matching: [string, Offer][] = [];
      for (const id of ids) {
        if (cursor !== undefined && id <= cursor) continue;
        const o = state.get<Offer>(K.offer(id));
        if (!o) continue;
        if (status !== 'all' && o.status !== status) continue;
        const t = o.terms;
        if (country && !t.countries.includes(country)) continue;
        if (network && !t.networks.includes(network)) continue;
        if (operator && o.operator !== operator) continue;
        if (kind && t.kind !== kind) continue;
        if (minPrice !== undefined && t.price < minPrice) continue;
        if (maxPrice !== undefined && t.price > maxPrice) continue;
        matching.push([id, o]);
      }
      matching.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
      const page = matching.slice(0, limit);
      return {
        items: page.map(([, o]) => offerJson(o)),
        next: matching.length > limit ? (page.at(-1)?.[0] ?? null) : null,
      };
    },
  );

  app.get(
    '/v1/offers/rank',
    {
      schema: {
        summary: 'Live offers ranked by price and operator rating, with reasons',
        tags: ['ledger'],
        querystring: {
          type: 'object',
          properties: {
            country: { type: 'string', pattern: '^[A-Z]{2}$' },
            network: { type: 'string', pattern: '^[0-9]{3}-[0-9]{2,3}$' },
            kind: { type: 'string', enum: [...SERVICE_KINDS] },
            volume: { ...S.U64, description: 'data volume wanted, bytes' },
            budget: { ...S.U64, description: 'most the subscriber will pay, SDR base units' },
            preference: { type: 'string', enum: ['price', 'quality', 'balanced'], default: 'balanced' },
            limit: { type: 'integer', minimum: 1, maximum: 200, default: 20 },
            subscriber: { ...S.NAME, description: "also list answers to this subscriber's demands" },
          },
        },
        response: R({ 200: S.PAGE.items(S.RANKED) }, ['BAD_REQUEST']),
      },
    },
    async (req) => {
      const q = req.query as Query;
      const query: RankQuery = { limit: fromQuery.int(q.limit ?? 20, 'limit', 1, 200) };
      if (q.country !== undefined) query.country = String(q.country);
      if (q.network !== undefined) query.network = String(q.network);
      if (q.kind !== undefined) query.kind = q.kind as ServiceKind;
      if (q.volume !== undefined) query.volumeBytes = fromQuery.u64(q.volume, 'volume');
      if (q.budget !== undefined) query.budget = fromQuery.u64(q.budget, 'budget');
      if (q.preference !== undefined) query.preference = q.preference as Preference;
      if (q.subscriber !== undefined) query.subscriber = String(q.subscriber);
      return { items: rankOffers(state, query, BigInt(Date.now())).map(rankedJson) };
    },
  );

  app.get(
    '/v1/offers/:id',
    {
      schema: {
        summary: 'An offer',
        tags: ['ledger'],
        params: { type: 'object', required: ['id'], properties: { id: S.ID } },
        response: R({ 200: S.OFFER }, ['BAD_REQUEST', 'NOT_FOUND']),
      },
    },
    async (req) => {
      const id = fromQuery.id((req.params as Query).id, 'id');
      const o = state.get<Offer>(K.offer(id));
      return o ? offerJson(o) : notFound('offer', id);
    },
  );

  app.get(
    '/v1/contracts/:id',
    {
      schema: {
        summary: 'A service smart contract and its transactions',
        tags: ['ledger'],
        params: { type: 'object', required: ['id'], properties: { id: S.ID } },
        response: R(
          {
            200: {
              type: 'object',
              properties: { contract: S.CONTRACT, transactions: { type: 'array', items: S.CONTRACT_TX } },
            },
          },
          ['BAD_REQUEST', 'NOT_FOUND'],
        ),
      },
    },
    async (req) => {
      const id = fromQuery.id((req.params as Query).id, 'id');
      const c = state.get<Contract>(K.contract(id));
      if (!c) return notFound('contract', id);
      return { contract: contractJson(c), transactions: await node.contractTxs(id) };
    },
  );

  app.get(
    '/v1/contracts',
    {
      schema: {
        summary: "An account's contracts (as issuer, assignee, payer or subscriber), newest first",
        tags: ['ledger'],
        querystring: {
          type: 'object',
          required: ['party'],
          properties: {
            party: S.NAME,
            limit: { type: 'integer', minimum: 1, maximum: 200, default: 50 },
            before: { ...S.ID, description: 'id of the last contract of the previous page' },
          },
        },
        response: R({ 200: S.PAGE.items(S.CONTRACT, true) }, ['BAD_REQUEST']),
      },
    },
    async (req) => {
      const q = req.query as Query;
      const party = fromQuery.name(q.party, 'party');
      const limit = fromQuery.int(q.limit ?? 50, 'limit', 1, 200);
      const before = q.before === undefined ? undefined : fromQuery.id(q.before, 'before');
      const ids = await node.contractsOf(party, limit + 1, before);
      const page = ids.slice(0, limit);
      const items: JsonObject[] = [];
      for (const id of page) {
        const c = state.get<Contract>(K.contract(id));
        if (c) items.push(contractJson(c));
      }
      return { items, next: ids.length > limit ? (page.at(-1) ?? null) : null };
    },
  );

  app.get(
    '/v1/demands/:id',
    {
      schema: {
        summary: 'A demand',
        tags: ['ledger'],
        params: { type: 'object', required: ['id'], properties: { id: S.ID } },
        response: R({ 200: S.DEMAND }, ['BAD_REQUEST', 'NOT_FOUND']),
      },
    },
    async (req) => {
      const id = fromQuery.id((req.params as Query).id, 'id');
      const d = state.get<Demand>(K.demand(id));
      return d ? demandJson(d) : notFound('demand', id);
    },
  );

  app.get(
    '/v1/identity/:subscriber',
    {
      schema: {
        summary: "A subscriber's current identity attestation (salted digests only; no claim is on chain)",
        tags: ['ledger'],
        params: { type: 'object', required: ['subscriber'], properties: { subscriber: S.NAME } },
        response: R({ 200: S.ATTESTATION }, ['BAD_REQUEST', 'IDENTITY_UNKNOWN']),
      },
    },
    async (req) => {
      const subscriber = fromQuery.name((req.params as Query).subscriber, 'subscriber');
      const att = state.get<Attestation>(K.attestation(subscriber));
      if (!att) {
        throw new RoamError('IDENTITY_UNKNOWN', `${subscriber} has no identity attestation`, { subscriber });
      }
      return attestationJson(att);
    },
  );

  app.get(
    '/v1/operators/:name/rating',
    {
      schema: {
        summary: "An operator's rating",
        tags: ['ledger'],
        params: { type: 'object', required: ['name'], properties: { name: S.NAME } },
        response: R({ 200: S.RATING }, ['BAD_REQUEST', 'ACCOUNT_UNKNOWN']),
      },
    },
    async (req) => {
      const name = fromQuery.name((req.params as Query).name, 'name');
      if (!state.get(K.account(name))) return notFound('account', name);
      return toJson(operatorRating(state, name));
    },
  );

  app.get(
    '/v1/ratings',
    {
      schema: {
        summary: 'Ratings of all operators and providers, best first',
        tags: ['ledger'],
        response: R({ 200: S.PAGE.items(S.RATING) }),
      },
    },
    async () => {
      const items = [];
      for (const [, a] of state.entries<{ name: string; roles: string[] }>('acct/')) {
        if (a.roles.includes('operator') || a.roles.includes('provider'))
          items.push(operatorRating(state, a.name));
      }
      items.sort((a, b) => b.ratingBps - a.ratingBps || (a.operator < b.operator ? -1 : 1));
      return { items: items.map(toJson) };
    },
  );

  // ------------------------------------------------------------ validators

  /** The set that validates the next block of the committed state, with its epoch. */
  const nextSet = () => {
    const meta = state.get<ChainMeta>(K.meta);
    const params = state.get<ChainParams>(K.params);
    if (!meta || !params) throw new RoamError('INTERNAL', 'state is not initialised from a genesis');
    const height = meta.height + 1n;
    return { height, epoch: epochOf(params, height), set: validatorSetFor(state, height) };
  };
  const validatorJson = (v: Validator): JsonObject => validatorCodec.toJSON(v) as JsonObject;
  // Validator records are not indexed beyond the active ones: listing them scans the `val/` keys,
  // at most once per committed block (the state only changes with a block).
  let records: { height: bigint; items: JsonObject[] } | undefined;
  const allRecords = (height: bigint): JsonObject[] => {
    if (records?.height !== height) {
      const all = [...state.entries<Validator>('val/')].map(([, v]) => v);
      all.sort((a, b) => (a.account < b.account ? -1 : a.account > b.account ? 1 : 0));
      records = { height, items: all.map(validatorJson) };
    }
    return records.items;
  };

  app.get(
    '/v1/validators',
    {
      schema: {
        summary: 'The validator set that signs the next block, and every validator record',
        tags: ['validators'],
        response: R({ 200: S.VALIDATOR_SET }),
      },
    },
    async () => {
      const { height, epoch, set } = nextSet();
      const active = set.map((m, index) => ({
        index,
        account: m.account,
        nodeKey: bytesToHex(m.nodeKey),
        bond: (validatorOf(state, m.account)?.bond ?? 0n).toString(),
        peerId: peerIdOf(m.nodeKey),
      }));
      return { epoch: Number(epoch), height: Number(height), active, records: allRecords(height) };
    },
  );

  app.get(
    '/v1/validators/:account',
    {
      schema: {
        summary: "A validator's record and its place in the set of the next block",
        tags: ['validators'],
        params: { type: 'object', required: ['account'], properties: { account: S.NAME } },
        response: R({ 200: S.VALIDATOR_DETAIL }, ['BAD_REQUEST', 'VALIDATOR_UNKNOWN']),
      },
    },
    async (req) => {
      const account = fromQuery.name((req.params as Query).account, 'account');
      const v = requireValidator(state, account);
      const { height, epoch, set } = nextSet();
      const index = set.findIndex((m) => m.account === account);
      return {
        ...validatorJson(v),
        inSet: index >= 0,
        index: index >= 0 ? index : null,
        peerId: peerIdOf(v.nodeKey),
        epoch: Number(epoch),
        height: Number(height),
      };
    },
  );

  app.get(
    '/v1/agents',
    {
      schema: {
        summary: 'Operator agents known to this node: operator -> agent base URL (POST {url}/v1/countersign)',
        tags: ['node'],
        response: R({ 200: { type: 'object', additionalProperties: { type: 'string' } } }),
      },
    },
    async () => opts.agents?.() ?? {},
  );

  await app.register(governanceRoutes, { node });
  await app.register((await import('./lists.js')).listRoutes, { node });

  registerWs(app, node, hub, {
    metrics,
    limits: limits.ws,
    clientOf: (req) => req.client?.id ?? `ip:${req.ip}`,
    ...(opts.indexer ? { indexer: opts.indexer } : {}),
    ...(opts.replayPageSize ? { replayPageSize: opts.replayPageSize } : {}),
  });
  return app;
}

/** Starts the Web-API of a node. */
export async function createApi(node: NodeApi, opts: ApiOptions = {}): Promise<Api> {
  const metrics = (opts.metrics ?? new Metrics()).bind(node);
  const limits = resolveLimits(opts.limits ?? limitsFromEnv());
  const { indexer: _given, limits: _l, ...rest } = opts;
  const store = (node as { store?: KvStore }).store;
  const ownIndexer =
    opts.indexer === undefined &&
    process.env.ROAMCHAIN_FEED_INDEX !== 'off' &&
    store &&
    typeof store.range === 'function'
      ? new FeedIndexer(node, store, { follow: false })
      : undefined;
  const indexer = opts.indexer || ownIndexer;
  const hub = await FeedHub.open(node, indexer ? { indexer } : {});
  const stopCounting = node.onBlock((b) => metrics.noteBlock(b.envelopes.length));
  let app: FastifyInstance | undefined;
  try {
    app = await buildApp(node, { ...rest, metrics, hub, limits, ...(indexer ? { indexer } : {}) });
    guardConnections(app.server, limits, () => metrics.refused.inc({ reason: 'tcp_per_ip' }));
    if (indexer) metrics.indexHeight = () => indexer.height;
    await app.listen({ host: opts.host ?? '127.0.0.1', port: opts.port ?? 8080 });
  } catch (e) {
    stopCounting();
    hub.close();
    await ownIndexer?.close();
    await app?.close().catch(() => {});
    throw e;
  }
  const server = app;
  const addr = server.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : (opts.port ?? 8080);
  const host = opts.host ?? '127.0.0.1';
  const shown = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  let closed: Promise<void> | null = null;
  return {
    app: server,
    url: `http://${shown}:${port}`,
    metrics,
    close() {
      closed ??= (async () => {
        stopCounting();
        hub.close();
        await server.close();
        await ownIndexer?.close();
      })();
      return closed;
    },
  };
}
