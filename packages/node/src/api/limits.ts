/**
 * Limits of the Web-API per client (docs/API.md, "Limits"). A client is its API key's name when
 * the request carries a known `x-api-key`, else its IP address (an IPv6 /56). Reads (GET, HEAD,
 * OPTIONS, and the WebSocket upgrade) and writes (every other method) are counted separately in
 * fixed windows (`@fastify/rate-limit`, an LRU of `trackedClients`); over the limit the answer is
 * `429 RATE_LIMITED` with `Retry-After` (seconds). Clients with an API key get `keyedFactor` times
 * the limits. Several keys may carry the same client name: add the new key, move the client over,
 * remove the old one (rotation without downtime). HTTP connections are bounded in total and per
 * IP, headers and bodies must arrive within their timeouts (slowloris), idle keep-alive sockets
 * are closed, and bodies are bounded.
 *
 * Defaults fit one busy public node; `createApi({ limits })` or the environment variable
 * `ROAMCHAIN_API_LIMITS` (JSON, the same shape, merged over the defaults) change them.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Server, Socket } from 'node:net';
import fastifyRateLimit from '@fastify/rate-limit';
import { RoamError } from '@roamchain/protocol';
import type { FastifyInstance, FastifyRequest } from 'fastify';

export interface RateWindow {
  /** Requests per window and client. */
  max: number;
  windowMs: number;
}

export interface WsLimits {
  /** Open WebSocket connections in total. */
  maxConnections: number;
  /** Open WebSocket connections per client. */
  maxConnectionsPerClient: number;
  /** A connection whose unsent data exceeds this is closed (1013): the client resumes from its cursor. */
  maxSendBufferBytes: number;
  /** Messages a connection may send per window (over it: closed with 1008). */
  messages: RateWindow;
  /** `subscribe` messages per connection and window (over it: RATE_LIMITED, closed with 1008). */
  subscribes: RateWindow;
  /** Replay pages read at the same time over all connections (the others wait their turn). */
  maxConcurrentReplays: number;
  /** A replay whose client reads nothing for this long is dropped (1013). */
  stallTimeoutMs: number;
  /** The server pings every connection this often; one that did not answer the last ping is cut. */
  pingIntervalMs: number;
}

export interface ApiLimits {
  reads: RateWindow;
  writes: RateWindow;
  /** Clients with a known API key get this many times the limits. */
  keyedFactor: number;
  /** API credentials: `x-api-key: <key>` is counted as `client`. */
  apiKeys: { client: string; key: string }[];
  /** Clients whose counters are kept (LRU). */
  trackedClients: number;
  /** Largest request body, bytes. */
  bodyLimit: number;
  /** Bytes of POST /v1/txs batches one client may have in admission at once (keyed: times keyedFactor). */
  txBatchBytesInFlight: number;
  /**
   * After a batch of which more than half was refused for an account's bounds (ACCOUNT_BUSY,
   * MEMPOOL_ACCOUNT_LIMIT: a client flooding one account), the client's next batches within this many
   * ms are refused whole (RATE_LIMITED) without being decoded: a client that ignores Retry-After
   * does not make the node decode its refused transactions again and again. Each further such batch,
   * and each batch sent while held off, doubles the next hold-off (up to 32 times) until a batch is
   * not refused mostly (0: off).
   */
  txBatchHoldOffMs: number;
  /** The request's headers must have arrived within this time. */
  headersTimeoutMs: number;
  /** The whole request (headers and body) must have arrived within this time. */
  requestTimeoutMs: number;
  /** A socket without any traffic for this long is closed. */
  idleTimeoutMs: number;
  /** An idle keep-alive socket is closed after this long. */
  keepAliveTimeoutMs: number;
  /** Requests per keep-alive socket (then the server asks the client to reconnect). */
  maxRequestsPerSocket: number;
  /** Open HTTP connections (including WebSockets) in total and per IP. */
  maxConnections: number;
  maxConnectionsPerIp: number;
  /** Take the client address from X-Forwarded-For (only behind a trusted reverse proxy). */
  trustProxy: boolean;
  ws: WsLimits;
}

export type LimitsInput = Partial<Omit<ApiLimits, 'ws' | 'reads' | 'writes'>> & {
  reads?: Partial<RateWindow>;
  writes?: Partial<RateWindow>;
  ws?: Partial<Omit<WsLimits, 'messages' | 'subscribes'>> & {
    messages?: Partial<RateWindow>;
    subscribes?: Partial<RateWindow>;
  };
};

export const DEFAULT_LIMITS: ApiLimits = {
  reads: { max: 5_000, windowMs: 10_000 },
  writes: { max: 20_000, windowMs: 10_000 },
  keyedFactor: 10,
  apiKeys: [],
  trackedClients: 10_000,
  bodyLimit: 1024 * 1024,
  txBatchBytesInFlight: 8 * 1024 * 1024,
  txBatchHoldOffMs: 1000,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  idleTimeoutMs: 120_000,
  keepAliveTimeoutMs: 10_000,
  maxRequestsPerSocket: 0,
  maxConnections: 8_192,
  maxConnectionsPerIp: 2_048,
  trustProxy: false,
  ws: {
    maxConnections: 4_096,
    maxConnectionsPerClient: 64,
    maxSendBufferBytes: 4 * 1024 * 1024,
    messages: { max: 100, windowMs: 10_000 },
    subscribes: { max: 20, windowMs: 10_000 },
    maxConcurrentReplays: 8,
    stallTimeoutMs: 30_000,
    pingIntervalMs: 30_000,
  },
};

const positive = (v: unknown, what: string): number => {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0)
    throw new RoamError('BAD_REQUEST', `API limit ${what} must be a non-negative integer`, { [what]: v });
  return v;
};

const window = (d: RateWindow, v: Partial<RateWindow> | undefined, what: string): RateWindow => ({
  max: positive(v?.max ?? d.max, `${what}.max`),
  windowMs: Math.max(1, positive(v?.windowMs ?? d.windowMs, `${what}.windowMs`)),
});

/** The defaults with `input` merged over them, checked. */
export function resolveLimits(input: LimitsInput = {}): ApiLimits {
  const d = DEFAULT_LIMITS;
  const num = (k: keyof ApiLimits & keyof LimitsInput) =>
    positive((input[k] as number | undefined) ?? (d[k] as number), k);
  const w = input.ws ?? {};
  const wsNum = (
    k:
      | 'maxConnections'
      | 'maxConnectionsPerClient'
      | 'maxSendBufferBytes'
      | 'maxConcurrentReplays'
      | 'stallTimeoutMs'
      | 'pingIntervalMs',
  ) => positive(w[k] ?? d.ws[k], `ws.${k}`);
  const apiKeys = input.apiKeys ?? d.apiKeys;
  for (const k of apiKeys) {
    if (typeof k?.client !== 'string' || !/^[\w.-]{1,64}$/.test(k.client))
      throw new RoamError('BAD_REQUEST', 'API key client names are 1-64 letters, digits, _ . -');
    if (typeof k.key !== 'string' || k.key.length < 16 || k.key.length > 256)
      throw new RoamError('BAD_REQUEST', `API key of ${k.client} must be 16 to 256 characters`);
  }
  return {
    reads: window(d.reads, input.reads, 'reads'),
    writes: window(d.writes, input.writes, 'writes'),
    keyedFactor: Math.max(1, num('keyedFactor')),
    apiKeys,
    trackedClients: Math.max(1, num('trackedClients')),
    bodyLimit: Math.max(1, num('bodyLimit')),
    txBatchBytesInFlight: Math.max(1, num('txBatchBytesInFlight')),
    txBatchHoldOffMs: num('txBatchHoldOffMs'),
    headersTimeoutMs: Math.max(1, num('headersTimeoutMs')),
    requestTimeoutMs: Math.max(1, num('requestTimeoutMs')),
    idleTimeoutMs: num('idleTimeoutMs'),
    keepAliveTimeoutMs: Math.max(1, num('keepAliveTimeoutMs')),
    maxRequestsPerSocket: num('maxRequestsPerSocket'),
    maxConnections: Math.max(1, num('maxConnections')),
    maxConnectionsPerIp: Math.max(1, num('maxConnectionsPerIp')),
    trustProxy: input.trustProxy ?? d.trustProxy,
    ws: {
      maxConnections: wsNum('maxConnections'),
      maxConnectionsPerClient: wsNum('maxConnectionsPerClient'),
      maxSendBufferBytes: Math.max(1024, wsNum('maxSendBufferBytes')),
      messages: window(d.ws.messages, w.messages, 'ws.messages'),
      subscribes: window(d.ws.subscribes, w.subscribes, 'ws.subscribes'),
      maxConcurrentReplays: Math.max(1, wsNum('maxConcurrentReplays')),
      stallTimeoutMs: Math.max(1, wsNum('stallTimeoutMs')),
      pingIntervalMs: Math.max(100, wsNum('pingIntervalMs')),
    },
  };
}

/** `ROAMCHAIN_API_LIMITS` (JSON) from the environment, if set. */
export function limitsFromEnv(env: NodeJS.ProcessEnv = process.env): LimitsInput | undefined {
  const raw = env.ROAMCHAIN_API_LIMITS;
  if (!raw) return undefined;
  try {
    return JSON.parse(raw) as LimitsInput;
  } catch (e) {
    throw new RoamError('BAD_REQUEST', `ROAMCHAIN_API_LIMITS is not JSON: ${(e as Error).message}`);
  }
}

/** Fastify server options that enforce the HTTP limits. */
export function serverOptions(l: ApiLimits) {
  // Node checks header and request timeouts on an interval: keep it short enough to matter.
  const checkEvery = Math.max(100, Math.min(1000, Math.floor(l.headersTimeoutMs / 2)));
  return {
    bodyLimit: l.bodyLimit,
    connectionTimeout: l.idleTimeoutMs,
    requestTimeout: Math.max(l.requestTimeoutMs, l.headersTimeoutMs),
    keepAliveTimeout: l.keepAliveTimeoutMs,
    maxRequestsPerSocket: l.maxRequestsPerSocket,
    trustProxy: l.trustProxy,
    http: { headersTimeout: l.headersTimeoutMs, connectionsCheckingInterval: checkEvery },
  };
}

const sha = (s: string) => createHash('sha256').update(s).digest();

/** Who a request is, for the limits. */
export class Clients {
  private readonly byHash = new Map<string, { client: string; digest: Buffer }>();

  constructor(keys: { client: string; key: string }[]) {
    for (const k of keys) {
      const digest = sha(k.key);
      this.byHash.set(digest.toString('hex'), { client: k.client, digest });
    }
  }

  /** `key:<client>` for a known API key, `ip:<address>` without one; throws API_KEY_INVALID for an unknown key. */
  of(req: FastifyRequest): { id: string; keyed: boolean } {
    const h = req.headers['x-api-key'];
    if (h === undefined) return { id: `ip:${req.ip}`, keyed: false };
    const key = Array.isArray(h) ? h[0] : h;
    const digest = sha(String(key ?? ''));
    const hit = this.byHash.get(digest.toString('hex'));
    if (!hit || !timingSafeEqual(hit.digest, digest)) throw new RoamError('API_KEY_INVALID');
    return { id: `key:${hit.client}`, keyed: true };
  }
}

declare module 'fastify' {
  interface FastifyRequest {
    client: { id: string; keyed: boolean } | null;
  }
}

const isRead = (method: string) => method === 'GET' || method === 'HEAD' || method === 'OPTIONS';

/** Per-client rate limits on every route: reads and writes in separate counters. */
export async function registerRateLimits(
  app: FastifyInstance,
  l: ApiLimits,
  clients: Clients,
  onRefused: (reason: 'rate_limit' | 'api_key') => void = () => {},
): Promise<void> {
  await app.register(fastifyRateLimit, { global: false });
  app.decorateRequest('client', null);
  const limiter = (w: RateWindow) =>
    app.rateLimit({
      max: (req) => (req.client?.keyed ? w.max * l.keyedFactor : w.max),
      timeWindow: w.windowMs,
      cache: l.trackedClients,
      keyGenerator: (req) => req.client?.id ?? `ip:${req.ip}`,
      onExceeded: () => onRefused('rate_limit'),
      errorResponseBuilder: (_req, ctx) => {
        const retry = Math.max(1, Math.ceil(ctx.ttl / 1000));
        return new RoamError(
          'RATE_LIMITED',
          `rate limit of ${ctx.max} requests exceeded; retry in ${retry} s`,
          {
            limit: ctx.max,
            retryAfterSeconds: retry,
          },
        );
      },
    });
  const reads = limiter(l.reads);
  const writes = limiter(l.writes);
  app.addHook('onRequest', async (req, reply) => {
    try {
      req.client = clients.of(req);
    } catch (e) {
      onRefused('api_key');
      throw e;
    }
    await (isRead(req.method) ? reads : writes).call(app, req, reply);
  });
}

/** Bounds open TCP connections in total and per IP: over the bound a new connection is closed at once. */
export function guardConnections(
  server: Server,
  l: ApiLimits,
  onRefused: () => void = () => {},
): () => number {
  server.maxConnections = l.maxConnections;
  const perIp = new Map<string, number>();
  server.on('connection', (socket: Socket) => {
    const ip = socket.remoteAddress ?? '?';
    const n = perIp.get(ip) ?? 0;
    if (n >= l.maxConnectionsPerIp) {
      onRefused();
      socket.destroy();
      return;
    }
    perIp.set(ip, n + 1);
    socket.once('close', () => {
      const m = (perIp.get(ip) ?? 1) - 1;
      if (m <= 0) perIp.delete(ip);
      else perIp.set(ip, m);
    });
  });
  return () => perIp.size;
}
