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
import { type ErrorCode, httpStatusOf, isErrorCode, RoamError } from '@roamchain/protocol';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type FastifyPluginAsync,
  LogController,
} from 'fastify';
import type { Logger } from 'pino';
import { acquireIndexWorker, type IndexWorker } from '../indexer/client.js';
import { dropLegacyIndexes } from '../indexer/legacy.js';
import type { FeedIndexReader, ListIndexReader } from '../indexer/messages.js';
import type { NodeApi } from '../interfaces.js';
import type { KvStore, StoreKind } from '../store/index.js';
import { FeedHub } from './hub.js';
import { type JsonObject, toJson } from './json.js';
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
import { accountRoutes } from './routes/accounts.js';
import { agentRoutes } from './routes/agents.js';
import { blockRoutes } from './routes/blocks.js';
import type { RouteDeps } from './routes/common.js';
import { contractRoutes } from './routes/contracts.js';
import { demandRoutes } from './routes/demands.js';
import { governanceRoutes } from './routes/governance.js';
import { identityRoutes } from './routes/identity.js';
import { listRoutes } from './routes/lists.js';
import { miniRoutes } from './routes/mini.js';
import { offerRoutes } from './routes/offers.js';
import { ratingRoutes } from './routes/ratings.js';
import { statusRoutes } from './routes/status.js';
import { txRoutes } from './routes/txs.js';
import { validatorRoutes } from './routes/validators.js';
import { RETRY_AFTER_SECONDS, RETRY_LATER_CODES, TXS_REQUEST_BODY } from './txs.js';
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
   * The feed index serving filtered replays. Default: the index worker's (indexer/client.ts: a
   * worker thread with its own store in `<dataDir>/index`, for a node that exposes its `store` and
   * `config.dataDir`), unless ROAMCHAIN_FEED_INDEX=off; false: none (filtered replays then read the
   * stored blocks, as unfiltered ones do).
   */
  indexer?: FeedIndexReader | false;
  /** The list index of the explorer's lists; default the index worker's, unless ROAMCHAIN_LIST_INDEX=off. */
  listIndexer?: ListIndexReader | false;
}

export interface Api {
  app: FastifyInstance;
  url: string;
  metrics: Metrics;
  /** The index worker this API uses (shared by the APIs of one node), if it started one. */
  indexes: IndexWorker | undefined;
  close(): Promise<void>;
}

/** The route plugins, in the order of the OpenAPI document's paths. */
const ROUTES: FastifyPluginAsync<RouteDeps>[] = [
  statusRoutes,
  txRoutes,
  blockRoutes,
  accountRoutes,
  offerRoutes,
  contractRoutes,
  demandRoutes,
  identityRoutes,
  ratingRoutes,
  validatorRoutes,
  agentRoutes,
  governanceRoutes,
  miniRoutes,
  listRoutes,
];

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

/** Builds the Fastify app with every route (not listening yet). */
export async function buildApp(
  node: NodeApi,
  opts: Omit<ApiOptions, 'host' | 'port' | 'limits' | 'indexer' | 'listIndexer'> & {
    metrics: Metrics;
    hub: FeedHub;
    limits: ApiLimits;
    indexer?: FeedIndexReader;
    listIndexer?: ListIndexReader;
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
        { name: 'mininodes', description: 'Mini Nodes: bonds, importance, audit attestations' },
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
    // Come back later: a full mempool (503 MEMPOOL_FULL, 429 MEMPOOL_ACCOUNT_LIMIT), an account over
    // its bounds (429 ACCOUNT_BUSY), a client held off (429 RATE_LIMITED): the error says when.
    const retry = (body.details as { retryAfterSeconds?: unknown } | undefined)?.retryAfterSeconds;
    if (typeof retry === 'number' && Number.isSafeInteger(retry) && retry > 0)
      void reply.header('retry-after', String(retry));
    else if (RETRY_LATER_CODES.has(String(body.code)))
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

  // The routes, one plugin per resource (routes/*.ts), in the order of the OpenAPI document's paths.
  const deps: RouteDeps = { node, metrics, agents: opts.agents, lists: opts.listIndexer, limits };
  for (const routes of ROUTES) await app.register(routes, deps);

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
  const { indexer: _given, listIndexer: _givenList, limits: _l, ...rest } = opts;
  const feedOn = opts.indexer === undefined && process.env.ROAMCHAIN_FEED_INDEX !== 'off';
  const listOn = opts.listIndexer === undefined && process.env.ROAMCHAIN_LIST_INDEX !== 'off';
  const own = ownIndexes(node, opts, feedOn, listOn);
  const indexer = feedOn ? own?.worker.feed : opts.indexer || undefined;
  const listIndexer = listOn ? own?.worker.list : opts.listIndexer || undefined;
  const hub = await FeedHub.open(node);
  const stopCounting = node.onBlock((b) => metrics.noteBlock(b.envelopes.length));
  let app: FastifyInstance | undefined;
  try {
    app = await buildApp(node, {
      ...rest,
      metrics,
      hub,
      limits,
      ...(indexer ? { indexer } : {}),
      ...(listIndexer ? { listIndexer } : {}),
    });
    guardConnections(app.server, limits, () => metrics.refused.inc({ reason: 'tcp_per_ip' }));
    if (indexer) metrics.indexHeight = () => indexer.height;
    await app.listen({ host: opts.host ?? '127.0.0.1', port: opts.port ?? 8080 });
  } catch (e) {
    stopCounting();
    hub.close();
    await own?.release();
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
    indexes: own?.worker,
    close() {
      closed ??= (async () => {
        stopCounting();
        hub.close();
        await server.close();
        await own?.release();
      })();
      return closed;
    },
  };
}

/**
 * The index worker of the node (one per node in the process, shared by its APIs), unless both
 * indexes are given or off, or the node exposes no store and data directory. Old data directories'
 * indexes in the node's own store (`xf/`, `xl/`) are deleted in the background when it starts.
 */
function ownIndexes(
  node: NodeApi,
  opts: ApiOptions,
  feed: boolean,
  list: boolean,
): ReturnType<typeof acquireIndexWorker> | undefined {
  const store = (node as { store?: KvStore }).store;
  const config = (node as { config?: { dataDir?: unknown; store?: StoreKind } }).config;
  if ((!feed && !list) || !store || typeof store.range !== 'function' || typeof config?.dataDir !== 'string')
    return undefined;
  const logger = typeof opts.logger === 'object' ? opts.logger : undefined;
  const own = acquireIndexWorker(
    { onBlock: (l) => node.onBlock(l), status: () => node.status(), store },
    {
      dir: join(config.dataDir, 'index'),
      kind: config.store ?? 'level',
      feed,
      list,
      log: (level, msg, data) => logger?.[level](data ?? {}, msg),
    },
    node,
  );
  if (!legacyDropped.has(store)) {
    legacyDropped.add(store);
    dropLegacyIndexes(store, () => own.worker.closed).then(
      (n) =>
        n > 0 && logger?.info({ keys: n }, 'deleted the indexes kept in the node store by older versions'),
      (e: unknown) =>
        logger?.warn({ err: String(e) }, 'deleting the old indexes failed; retried at the next start'),
    );
  }
  return own;
}

const legacyDropped = new WeakSet<KvStore>();
