/**
 * The agent's HTTP server (node:http, 127.0.0.1 by default).
 *
 * Public routes (a subscriber's wallet calls them): `GET /healthz`, `GET /v1/policy`,
 * `POST /v1/countersign` — the Request's own signature is the credential; a token bucket per
 * client address and a cap on concurrent checks (429 + Retry-After beyond); `POST /v1/signup` — the
 * new key's signature is the credential (signup.ts, its own limits).
 * Authenticated routes (`Authorization: Bearer <key>`, see auth.ts): `POST /v1/usage` (scope
 * usage), `GET /v1/statement` (statement), `GET /v1/contracts`, `GET /v1/quarantine` and `GET /metrics`
 * (admin; Prometheus text, metrics.ts). Every answer carries `x-request-id` (request-id.ts).
 * CORS only on the public routes and only for the configured origins; POST bodies must be
 * `application/json` and are bounded; slow requests time out (headers 10 s, whole request 30 s).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type ErrorCode, RoamError } from '@roamchain/protocol';
import type { RoamClient } from '@roamchain/sdk';
import { RoamApiError, statement, statementCsv } from '@roamchain/sdk';
import { type Credentials, RateLimiter } from './auth.js';
import type { AgentConfig, AgentScope } from './config.js';
import type { CountersignResult } from './countersign.js';
import type { AgentMetrics } from './metrics.js';
import { REQUEST_ID_HEADER, requestIdOf, withRequestId } from './request-id.js';
import type { AgentStore } from './store.js';

const PUBLIC = new Set(['/healthz', '/v1/policy', '/v1/countersign', '/v1/signup']);
const SCOPES: Record<string, AgentScope> = {
  '/v1/usage': 'usage',
  '/v1/statement': 'statement',
  '/v1/contracts': 'admin',
  '/v1/quarantine': 'admin',
  '/metrics': 'admin',
};
const BODY_LIMIT: Record<string, number> = {
  '/v1/countersign': 65_536,
  '/v1/usage': 1_048_576,
  '/v1/signup': 8_192,
};

class HttpFail extends RoamError {
  constructor(
    code: ErrorCode,
    message: string,
    readonly retryAfter?: number,
  ) {
    super(code, message);
  }
}

async function readJson(req: IncomingMessage, limit: number): Promise<unknown> {
  const type = String(req.headers['content-type'] ?? '')
    .split(';')[0]!
    .trim()
    .toLowerCase();
  if (type !== 'application/json')
    throw new HttpFail('AGENT_MEDIA_TYPE', 'content-type must be application/json');
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) throw new HttpFail('AGENT_BODY_TOO_LARGE', `body larger than ${limit} bytes`);
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const ch of req) {
    n += (ch as Buffer).length;
    if (n > limit) throw new HttpFail('AGENT_BODY_TOO_LARGE', `body larger than ${limit} bytes`);
    chunks.push(ch as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new HttpFail('BAD_REQUEST', 'body is not JSON');
  }
}

/** What the HTTP server needs of the agent (the agent passes itself; no import of agent.ts here). */
export interface AgentHttpHost {
  readonly cfg: AgentConfig;
  readonly client: RoamClient;
  readonly store: AgentStore;
  readonly credentials: Credentials;
  readonly log: (msg: string, data?: Record<string, unknown>) => void;
  readonly metrics: AgentMetrics;
  countersign(body: { tx?: unknown; subscriber?: unknown; signature?: unknown }): Promise<CountersignResult>;
  ingest(records: unknown[]): unknown;
  signup(body: unknown, address: string): Promise<unknown>;
  readonly signups: { describe(): unknown };
}

export async function startAgentServer(agent: AgentHttpHost): Promise<{ server: Server; url: string }> {
  const cfg = agent.cfg;
  const perClient = new RateLimiter(cfg.limits.countersignPerMinute);
  let inFlight = 0;

  const cors = (req: IncomingMessage, res: ServerResponse, path: string) => {
    const origin = req.headers.origin;
    if (!origin || !PUBLIC.has(path)) return false;
    const any = cfg.corsOrigins.includes('*');
    if (!any && !cfg.corsOrigins.includes(origin)) return false;
    res.setHeader('access-control-allow-origin', any ? '*' : origin);
    res.setHeader('vary', 'origin');
    return true;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const send = (
      status: number,
      body: unknown,
      type = 'application/json',
      headers: Record<string, string> = {},
    ) => {
      if (res.headersSent) return;
      agent.metrics.httpRequests.inc({
        route: SCOPES[path] || PUBLIC.has(path) ? path : 'other',
        status: String(status),
      });
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', ...headers });
      res.end(typeof body === 'string' ? body : JSON.stringify(body));
    };
    let path = '/';
    try {
      const url = new URL(req.url ?? '/', 'http://agent');
      path = url.pathname;
      const allowed = cors(req, res, path);
      if (req.method === 'OPTIONS') {
        // Preflight: answered with the CORS headers only for a configured origin on a public route.
        if (allowed) {
          res.setHeader('access-control-allow-methods', 'GET, POST, OPTIONS');
          res.setHeader('access-control-allow-headers', `content-type, ${REQUEST_ID_HEADER}`);
          res.setHeader('access-control-max-age', '600');
        }
        res.writeHead(204).end();
        return;
      }
      const scope = SCOPES[path];
      if (scope) {
        const who = agent.credentials.check(req.headers.authorization);
        if (!who) throw new HttpFail('AGENT_UNAUTHORIZED', 'Authorization: Bearer <API key> required');
        if (!who.scopes.has(scope))
          throw new HttpFail('AGENT_FORBIDDEN', `client ${who.client} lacks scope ${scope}`);
      }
      if (req.method === 'GET' && path === '/metrics')
        return send(200, await agent.metrics.text(), agent.metrics.contentType);
      if (req.method === 'GET' && path === '/healthz') return send(200, { ok: true, operator: cfg.operator });
      if (req.method === 'GET' && path === '/v1/policy') {
        const p = cfg.policy;
        return send(200, {
          operator: cfg.operator,
          feeBps: p.feeBps,
          maxDepositPerSubscriber: p.maxDepositPerSubscriber.toString(),
          maxOpenPerSubscriber: p.maxOpenPerSubscriber,
          allowedCountries: p.allowedCountries,
          maxFeeDeposit: p.maxFeeDeposit.toString(),
          maxLifetimeSec: p.maxLifetimeSec,
          maxStepTimeoutSec: p.maxStepTimeoutSec,
          maxRequestsPerSubscriberPerHour: p.maxRequestsPerSubscriberPerHour,
          signup: agent.signups.describe(),
        });
      }
      if (req.method === 'POST' && path === '/v1/countersign') {
        const wait = perClient.take(req.socket.remoteAddress ?? '?');
        if (wait > 0) throw new HttpFail('AGENT_RATE_LIMITED', 'too many countersign requests', wait);
        if (inFlight >= cfg.limits.countersignConcurrent)
          throw new HttpFail('AGENT_RATE_LIMITED', 'too many countersign requests in progress', 1);
        inFlight += 1;
        try {
          const body = await readJson(req, BODY_LIMIT[path]!);
          if (typeof body !== 'object' || body === null)
            throw new HttpFail('BAD_REQUEST', 'body is an object');
          return send(200, await agent.countersign(body as Record<string, unknown>));
        } finally {
          inFlight -= 1;
        }
      }
      if (req.method === 'POST' && path === '/v1/signup') {
        const body = await readJson(req, BODY_LIMIT[path]!);
        return send(200, await agent.signup(body, req.socket.remoteAddress ?? '?'));
      }
      if (req.method === 'POST' && path === '/v1/usage') {
        const b = await readJson(req, BODY_LIMIT[path]!);
        const recs = Array.isArray(b) ? b : (b as { records?: unknown })?.records;
        if (!Array.isArray(recs))
          throw new HttpFail('USAGE_INVALID', 'body is a list of records or { records: [...] }');
        if (recs.length > cfg.limits.recordsPerPost)
          throw new HttpFail('USAGE_INVALID', `at most ${cfg.limits.recordsPerPost} records per post`);
        return send(200, agent.ingest(recs));
      }
      if (req.method === 'GET' && path === '/v1/contracts') {
        return send(200, {
          contracts: Object.fromEntries(agent.store.contracts(500)),
          counts: agent.store.counts(),
        });
      }
      if (req.method === 'GET' && path === '/v1/quarantine')
        return send(200, { records: agent.store.quarantined(500) });
      if (req.method === 'GET' && path === '/v1/statement') {
        const from = Number(url.searchParams.get('from') ?? 0);
        const to = Number(url.searchParams.get('to') ?? Date.now() + 1);
        if (!Number.isSafeInteger(from) || !Number.isSafeInteger(to))
          throw new HttpFail('BAD_REQUEST', 'from and to are unix ms');
        const s = await statement(agent.client, cfg.operator, from, to);
        if (url.searchParams.get('format') === 'csv') return send(200, statementCsv(s), 'text/csv');
        return send(200, s);
      }
      throw new HttpFail('NOT_FOUND', `no route ${req.method} ${path}`);
    } catch (e) {
      const retryAfter = (e as { retryAfter?: unknown }).retryAfter;
      if (e instanceof RoamError && typeof retryAfter === 'number')
        return send(e.status, { code: e.code, message: e.message }, 'application/json', {
          'retry-after': String(retryAfter),
        });
      if (e instanceof RoamApiError)
        return send(e.httpStatus >= 400 ? e.httpStatus : 502, { code: e.code, message: e.message });
      if (e instanceof RoamError) return send(e.status, { code: e.code, message: e.message });
      agent.log('http handler failed', { path, err: String(e) });
      return send(500, { code: 'INTERNAL', message: 'internal error' });
    }
  };

  const server = createServer((req, res) => {
    const id = requestIdOf(req.headers[REQUEST_ID_HEADER]);
    res.setHeader(REQUEST_ID_HEADER, id);
    void withRequestId(id, () => handle(req, res));
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  server.keepAliveTimeout = 5_000;
  server.maxHeadersCount = 64;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(cfg.port, cfg.host, () => resolve());
  });
  const a = server.address() as AddressInfo;
  return { server, url: `http://${cfg.host}:${a.port}` };
}
