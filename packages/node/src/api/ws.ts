import { eventInvolves } from '@roamchain/protocol';
/**
 * WebSocket feed `/v1/ws` (docs/API.md). Clients send
 *   { op: 'subscribe', topic: 'blocks' }
 *   { op: 'subscribe', topic: 'events', account?, contract?, cursor? }
 *   { op: 'unsubscribe', topic }   { op: 'ping' }
 * and receive { type: 'subscribed', topic, cursor }, { type: 'block', height, id, time, txCount },
 * { type: 'event', cursor, height, txId, event }, { type: 'error', code, message }, { type: 'pong' }.
 *
 * No event is lost or sent twice, also across the handover from replay to live: a subscription is
 * attached to the live feed *before* its replay starts, buffers live events while it replays,
 * then drops every event whose cursor is not after the last one it sent. Every event the hub
 * delivers is already stored (the node commits, then notifies), so what the replay does not find
 * is in the buffer. A subscription without a cursor starts at the cursor of the last event the
 * feed has seen, which the `subscribed` answer reports.
 *
 * A replay filtered by account or contract reads the feed index (packages/node/src/indexer): its
 * cost is what it returns. Unfiltered, it reads the stored blocks (every event is returned anyway).
 *
 * Limits (WsLimits): connections in total and per client (refused at the upgrade: 429 RATE_LIMITED
 * or 503 API_BUSY with Retry-After); one `blocks` and one `events` subscription per connection (a new
 * subscribe replaces the old); messages and subscribes per connection and window (over it: close
 * 1008); unsent data per connection (over it: close 1013, the client resumes from its cursor);
 * replay pages read at the same time over all connections.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import { endCursor, feedOfBlock, type PreparedEvent } from '../indexer/events.js';
import type { FeedIndexReader } from '../indexer/messages.js';
import type { NodeApi } from '../interfaces.js';
import type { FeedHub } from './hub.js';
import { fromQuery, type JsonObject, toJson } from './json.js';
import type { WsLimits } from './limits.js';
import type { Metrics } from './metrics.js';

export { FeedHub } from './hub.js';
export { endCursor, feedOfBlock };

export interface EventFilter {
  account?: string;
  contract?: string;
}

export function eventMatches(event: Record<string, unknown>, f: EventFilter): boolean {
  if (f.contract !== undefined && event.contract !== f.contract) return false;
  if (f.account !== undefined && !eventInvolves(event, f.account)) return false;
  return true;
}

/** Close codes of the feed. */
export const WS_CLOSE = {
  /** Too many messages or subscribes on this connection. */
  POLICY: 1008,
  /** The client does not read fast enough; resubscribe from the last cursor. */
  TOO_SLOW: 1013,
} as const;

const REPLAY_PAGE = 500;
/** Live events (matching the filter) buffered per subscription during its replay; beyond: replay again. */
const MAX_BUFFERED_EVENTS = 10_000;
/** A replay waits for its socket to drain below this before reading the next page. */
const REPLAY_HIGH_WATER = 256 * 1024;
/** An index this many blocks behind the feed is bridged by reading the stored blocks. */
const SCAN_LAG = 16;
/** How long a replay waits for a lagging index before reading the stored blocks instead. */
const INDEX_WAIT_MS = 30_000;
/** A connection closed for a policy reason that does not finish its close handshake is cut. */
const CLOSE_GRACE_MS = 5_000;
const OPEN = 1;
const releaseKey = Symbol('roamchain.ws.release');

/** Cursor as numbers; `Infinity` as index stands after every event of that height. */
type Pos = [number, number];
const posOf = (c: string): Pos => {
  const [h = 0, i = 0] = c.split(':').map(Number);
  return [h, i];
};
const after = (h: number, i: number, p: Pos) => h > p[0] || (h === p[0] && i > p[1]);

interface EventSub {
  filter: EventFilter;
  /** Position of the last event considered (sent or filtered out). */
  last: Pos;
  /** Events of blocks up to this height are the replay's to send; later ones come live. */
  startHeight: number;
  replaying: boolean;
  buffer: PreparedEvent[];
  overflowed: boolean;
  cancelled: boolean;
}

/** A counting semaphore with a FIFO of waiters (at most one per connection). */
class Slots {
  private free: number;
  private readonly waiting: (() => void)[] = [];
  constructor(n: number) {
    this.free = n;
  }
  async run<T>(f: () => Promise<T>): Promise<T> {
    if (this.free > 0) this.free--;
    else await new Promise<void>((r) => this.waiting.push(r));
    try {
      return await f();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.free++;
    }
  }
}

/** A fixed-window counter. */
class Window {
  private start = 0;
  private n = 0;
  constructor(
    private readonly max: number,
    private readonly ms: number,
  ) {}
  take(): boolean {
    const now = Date.now();
    if (now - this.start >= this.ms) {
      this.start = now;
      this.n = 0;
    }
    return ++this.n <= this.max;
  }
}

export interface WsOptions {
  metrics?: Metrics;
  replayPageSize?: number;
  limits: WsLimits;
  indexer?: FeedIndexReader;
  /** Who the request is (API key client or IP); the upgrade is refused beyond the per-client cap. */
  clientOf: (req: FastifyRequest) => string;
}

/** Registers `GET /v1/ws`. */
export function registerWs(app: FastifyInstance, node: NodeApi, hub: FeedHub, opts: WsOptions): void {
  const { metrics, limits, indexer } = opts;
  const pageSize = opts.replayPageSize ?? REPLAY_PAGE;
  const slots = new Slots(limits.maxConcurrentReplays);
  const highWater = Math.min(REPLAY_HIGH_WATER, Math.floor(limits.maxSendBufferBytes / 2));
  const perClient = new Map<string, number>();
  let total = 0;

  /** Admission of an upgrade: counted from here until its TCP socket closes. */
  const admit = async (req: FastifyRequest, reply: FastifyReply) => {
    const client = opts.clientOf(req);
    const n = perClient.get(client) ?? 0;
    const refuse = (status: number, code: string, message: string) =>
      reply
        .status(status)
        .header('retry-after', '5')
        .header('connection', 'close')
        .send({ code, message, details: { retryAfterSeconds: 5 } });
    if (total >= limits.maxConnections) {
      metrics?.refused.inc({ reason: 'ws_total' });
      return refuse(503, 'API_BUSY', `the node serves ${limits.maxConnections} WebSockets already`);
    }
    if (n >= limits.maxConnectionsPerClient) {
      metrics?.refused.inc({ reason: 'ws_per_client' });
      return refuse(429, 'RATE_LIMITED', `at most ${limits.maxConnectionsPerClient} WebSockets per client`);
    }
    total++;
    perClient.set(client, n + 1);
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      total--;
      const m = (perClient.get(client) ?? 1) - 1;
      if (m <= 0) perClient.delete(client);
      else perClient.set(client, m);
    };
    // The TCP socket (an injected test connection has none: its WebSocket's close releases it).
    if (req.raw.socket) req.raw.socket.once('close', release);
    else (req.raw as { [releaseKey]?: () => void })[releaseKey] = release;
  };

  app.get(
    '/v1/ws',
    {
      websocket: true,
      onRequest: admit,
      schema: {
        summary: 'WebSocket feed of blocks and events',
        description:
          'Upgrade to a WebSocket. Send {"op":"subscribe","topic":"blocks"} or {"op":"subscribe","topic":"events",' +
          '"account"?,"contract"?,"cursor"?}; with a cursor, every matching event after it is replayed first.',
        tags: ['feed'],
      },
    },
    (socket: WebSocket, req: FastifyRequest) => {
      metrics?.wsConnections.inc();
      const release = (req.raw as { [releaseKey]?: () => void })[releaseKey];
      if (release) socket.once('close', release);
      let blocks = false;
      let events: EventSub | null = null;
      let closing = false;
      // Keep-alive: a peer that does not answer a ping within an interval is gone (half-open TCP).
      let alive = true;
      socket.on('pong', () => {
        alive = true;
      });
      const heartbeat = setInterval(() => {
        if (!alive) {
          metrics?.refused.inc({ reason: 'ws_dead' });
          socket.terminate();
          return;
        }
        alive = false;
        socket.ping();
      }, limits.pingIntervalMs);
      heartbeat.unref();
      const messages = new Window(limits.messages.max, limits.messages.windowMs);
      const subscribes = new Window(limits.subscribes.max, limits.subscribes.windowMs);

      const drop = (code: number, reason: string): void => {
        if (closing) return;
        closing = true;
        metrics?.refused.inc({ reason: code === WS_CLOSE.TOO_SLOW ? 'ws_slow' : 'ws_policy' });
        if (events) events.cancelled = true;
        socket.close(code, reason);
        setTimeout(() => socket.terminate(), CLOSE_GRACE_MS).unref();
      };
      /** Sends a prepared text frame; a client that lets too much pile up is dropped. */
      const sendRaw = (data: Uint8Array | string): void => {
        if (socket.readyState !== OPEN || closing) return;
        if (socket.bufferedAmount > limits.maxSendBufferBytes) {
          drop(WS_CLOSE.TOO_SLOW, 'client too slow: resubscribe from your last cursor');
          return;
        }
        socket.send(data, { binary: false });
      };
      const send = (msg: unknown): void => sendRaw(JSON.stringify(msg));
      const sendError = (code: string, message: string) => send({ type: 'error', code, message });

      const emit = (sub: EventSub, e: PreparedEvent): void => {
        if (!after(e.height, e.index, sub.last)) return;
        sub.last = [e.height, e.index];
        if (eventMatches(e.json, sub.filter)) sendRaw(e.wire);
      };

      const unsubscribeHub = hub.subscribe((blockWire, _b, evs) => {
        if (blocks) sendRaw(blockWire);
        const sub = events;
        if (!sub || sub.cancelled) return;
        for (const e of evs) {
          if (!sub.replaying) emit(sub, e);
          else if (eventMatches(e.json, sub.filter)) {
            sub.buffer.push(e);
            if (sub.buffer.length > MAX_BUFFERED_EVENTS) {
              // Everything delivered is stored: drop the buffer and let the replay read it back.
              sub.buffer = [];
              sub.overflowed = true;
              sub.startHeight = hub.lastHeight;
            }
          }
        }
      });

      /**
       * A slow client slows its replay down, not the node: wait until the socket drained. One that
       * reads nothing for `stallTimeoutMs` is dropped.
       */
      const drained = async (sub: EventSub) => {
        const until = Date.now() + limits.stallTimeoutMs;
        while (socket.readyState === OPEN && socket.bufferedAmount > highWater && !sub.cancelled) {
          if (Date.now() > until) {
            drop(WS_CLOSE.TOO_SLOW, 'client too slow: resubscribe from your last cursor');
            return;
          }
          await new Promise((r) => setTimeout(r, 5));
        }
      };

      /** Replays from the stored blocks until their end. */
      const scan = async (sub: EventSub): Promise<void> => {
        for (;;) {
          const cursor = `${sub.last[0]}:${Number.isFinite(sub.last[1]) ? sub.last[1] : 999_999_999}`;
          const page = await slots.run(() => node.eventsSince(cursor, pageSize));
          if (sub.cancelled) return;
          for (const e of page) {
            const [h, i] = posOf(e.cursor);
            if (!after(h, i, sub.last)) continue;
            sub.last = [h, i];
            const event = toJson(e.event) as JsonObject;
            if (eventMatches(event, sub.filter))
              send({ type: 'event', cursor: e.cursor, height: e.height, txId: e.txId, event });
          }
          await drained(sub);
          if (sub.cancelled || page.length < pageSize) return;
        }
      };

      /** Replays from the feed index up to the subscription's start, bridging a lagging index. */
      const fromIndex = async (sub: EventSub, ix: FeedIndexReader): Promise<void> => {
        const waitUntil = Date.now() + INDEX_WAIT_MS;
        for (;;) {
          const cursor = `${sub.last[0]}:${Number.isFinite(sub.last[1]) ? sub.last[1] : 0xffff_ffff}`;
          let answer: Awaited<ReturnType<FeedIndexReader['read']>>;
          try {
            answer = await slots.run(() => ix.read(sub.filter, cursor, pageSize));
          } catch (e) {
            // The index worker is restarting or busy: the stored blocks have every event too.
            if ((e as { code?: unknown }).code === 'INDEX_UNAVAILABLE') return scan(sub);
            throw e;
          }
          const { events: page, through } = answer;
          if (sub.cancelled) return;
          for (const e of page) {
            const [h, i] = posOf(e.cursor);
            if (!after(h, i, sub.last)) continue;
            sub.last = [h, i];
            sendRaw(e.wire);
          }
          await drained(sub);
          if (sub.cancelled) return;
          if (page.length >= pageSize) continue;
          if (after(through, Number.POSITIVE_INFINITY, sub.last))
            sub.last = [through, Number.POSITIVE_INFINITY];
          if (through >= sub.startHeight) return;
          if (sub.startHeight - through <= SCAN_LAG || Date.now() > waitUntil) return scan(sub);
          await ix.progressed(1000);
        }
      };

      const replay = async (sub: EventSub): Promise<void> => {
        const ix =
          indexer && (sub.filter.account !== undefined || sub.filter.contract !== undefined)
            ? indexer
            : undefined;
        do {
          sub.overflowed = false;
          if (ix) await fromIndex(sub, ix);
          else await scan(sub);
          if (sub.cancelled) return;
        } while (sub.overflowed);
        sub.replaying = false;
        const buffered = sub.buffer;
        sub.buffer = [];
        for (const e of buffered) emit(sub, e);
      };

      const subscribeEvents = (m: Record<string, unknown>): void => {
        const filter: EventFilter = {};
        let cursor: string | undefined;
        try {
          if (m.account !== undefined && m.account !== null)
            filter.account = fromQuery.name(m.account, 'account');
          if (m.contract !== undefined && m.contract !== null)
            filter.contract = fromQuery.id(m.contract, 'contract');
          if (m.cursor !== undefined && m.cursor !== null) cursor = fromQuery.cursor(m.cursor, 'cursor');
        } catch (e) {
          sendError('BAD_REQUEST', (e as Error).message);
          return;
        }
        if (events) events.cancelled = true;
        const start = cursor ?? hub.lastCursor;
        const sub: EventSub = {
          filter,
          last: posOf(start),
          startHeight: hub.lastHeight,
          replaying: cursor !== undefined,
          buffer: [],
          overflowed: false,
          cancelled: false,
        };
        events = sub;
        send({ type: 'subscribed', topic: 'events', cursor: start });
        if (sub.replaying) {
          replay(sub).catch((e: unknown) => {
            if (sub.cancelled) return;
            const code = (e as { code?: unknown }).code;
            sendError(typeof code === 'string' ? code : 'INTERNAL', (e as Error).message);
            sub.cancelled = true;
            if (events === sub) events = null;
          });
        }
      };

      socket.on('message', (data) => {
        if (closing) return;
        if (!messages.take()) {
          drop(WS_CLOSE.POLICY, 'too many messages');
          return;
        }
        let m: unknown;
        try {
          m = JSON.parse(String(data));
        } catch {
          sendError('BAD_REQUEST', 'messages must be JSON');
          return;
        }
        if (!m || typeof m !== 'object' || Array.isArray(m)) {
          sendError('BAD_REQUEST', 'messages must be JSON objects');
          return;
        }
        const msg = m as Record<string, unknown>;
        if (msg.op === 'subscribe' && !subscribes.take()) {
          sendError(
            'RATE_LIMITED',
            `at most ${limits.subscribes.max} subscribes per ${limits.subscribes.windowMs} ms`,
          );
          drop(WS_CLOSE.POLICY, 'too many subscribes');
          return;
        }
        if (msg.op === 'ping') {
          send({ type: 'pong' });
        } else if (msg.op === 'subscribe' && msg.topic === 'blocks') {
          blocks = true;
          send({ type: 'subscribed', topic: 'blocks', cursor: null, height: hub.lastHeight });
        } else if (msg.op === 'subscribe' && msg.topic === 'events') {
          subscribeEvents(msg);
        } else if (msg.op === 'unsubscribe' && (msg.topic === 'blocks' || msg.topic === 'events')) {
          if (msg.topic === 'blocks') blocks = false;
          else if (events) {
            events.cancelled = true;
            events = null;
          }
          send({ type: 'unsubscribed', topic: msg.topic });
        } else {
          sendError(
            'BAD_REQUEST',
            'expected {"op":"subscribe"|"unsubscribe","topic":"blocks"|"events"} or {"op":"ping"}',
          );
        }
      });
      socket.on('close', () => {
        clearInterval(heartbeat);
        metrics?.wsConnections.dec();
        unsubscribeHub();
        if (events) events.cancelled = true;
        events = null;
      });
    },
  );
}
