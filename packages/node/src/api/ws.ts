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
 * attached to the live feed *before* its replay starts, buffers live events while it replays from
 * the node's event store, then drops every event whose cursor is not after the last one it sent.
 * Every event the node emits live is already in its store (it commits, then notifies), so what the
 * replay does not find is in the buffer. A subscription without a cursor starts at the cursor of
 * the last event the feed has seen, which the `subscribed` answer reports.
 */
import type { FastifyInstance } from 'fastify';
import type { WebSocket } from 'ws';
import type { AppliedBlock, FeedEvent, NodeApi } from '../interfaces.js';
import { compareCursors, fromQuery, type JsonObject, toJson } from './json.js';
import type { Metrics } from './metrics.js';

/** The feed events of an applied block: every receipt's events in transaction order, then block-end events. */
export function feedOfBlock(b: AppliedBlock): FeedEvent[] {
  const out: FeedEvent[] = [];
  let i = 0;
  for (const r of b.receipts) {
    for (const event of r.events)
      out.push({ cursor: `${b.height}:${i++}`, height: b.height, txId: r.txId, event });
  }
  for (const event of b.endEvents)
    out.push({ cursor: `${b.height}:${i++}`, height: b.height, txId: null, event });
  return out;
}

/**
 * A cursor that stands after every event of block `height` (which has `count` events). For a block
 * without events `height:0` works too: there is no event 0 to skip.
 */
export function endCursor(height: number, count: number): string {
  return `${height}:${Math.max(count - 1, 0)}`;
}

export interface EventFilter {
  account?: string;
  contract?: string;
}

export function eventMatches(event: Record<string, unknown>, f: EventFilter): boolean {
  if (f.contract !== undefined && event.contract !== f.contract) return false;
  if (f.account !== undefined && !eventInvolves(event, f.account)) return false;
  return true;
}

type HubListener = (b: AppliedBlock, events: FeedEvent[]) => void;

/** One subscription to the node's blocks, fanned out to every WebSocket; remembers the feed's position. */
export class FeedHub {
  private readonly listeners = new Set<HubListener>();
  private unsubscribe: (() => void) | null = null;
  /** Cursor after the last event of the last block the hub delivered. */
  lastCursor = '0:0';
  lastHeight = 0;

  static async open(node: NodeApi): Promise<FeedHub> {
    const hub = new FeedHub();
    let seen = false;
    hub.unsubscribe = node.onBlock((b) => {
      seen = true;
      hub.onBlock(b);
    });
    const h = node.status().height;
    if (h > 0) {
      const b = await node.blockByHeight(h);
      if (!seen) {
        hub.lastHeight = h;
        hub.lastCursor = b ? endCursor(h, feedOfBlock(b).length) : `${h}:0`;
      }
    }
    return hub;
  }

  private onBlock(b: AppliedBlock): void {
    const events = feedOfBlock(b);
    this.lastHeight = b.height;
    this.lastCursor = endCursor(b.height, events.length);
    for (const l of this.listeners) {
      try {
        l(b, events);
      } catch {
        // one broken connection must not stop the others
      }
    }
  }

  subscribe(l: HubListener): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  get size(): number {
    return this.listeners.size;
  }

  close(): void {
    this.unsubscribe?.();
    this.unsubscribe = null;
    this.listeners.clear();
  }
}

const REPLAY_PAGE = 500;
const MAX_BUFFERED_EVENTS = 50_000;
/** A client that lets this much pile up unread is dropped; it resumes from its last cursor. */
const MAX_SOCKET_BUFFER = 16 * 1024 * 1024;
const REPLAY_HIGH_WATER = 1024 * 1024;

interface EventSub {
  filter: EventFilter;
  /** Cursor of the last event considered (sent or filtered out). */
  last: string;
  replaying: boolean;
  buffer: FeedEvent[];
  overflowed: boolean;
  cancelled: boolean;
}

const OPEN = 1;

/** Registers `GET /v1/ws`. */
export function registerWs(
  app: FastifyInstance,
  node: NodeApi,
  hub: FeedHub,
  opts: { metrics?: Metrics; replayPageSize?: number } = {},
): void {
  const { metrics } = opts;
  const pageSize = opts.replayPageSize ?? REPLAY_PAGE;
  app.get(
    '/v1/ws',
    {
      websocket: true,
      schema: {
        summary: 'WebSocket feed of blocks and events',
        description:
          'Upgrade to a WebSocket. Send {"op":"subscribe","topic":"blocks"} or {"op":"subscribe","topic":"events",' +
          '"account"?,"contract"?,"cursor"?}; with a cursor, every matching event after it is replayed first.',
        tags: ['feed'],
      },
    },
    (socket: WebSocket) => {
      metrics?.wsConnections.inc();
      let blocks = false;
      let events: EventSub | null = null;

      const send = (msg: unknown): void => {
        if (socket.readyState !== OPEN) return;
        if (socket.bufferedAmount > MAX_SOCKET_BUFFER) {
          socket.close(1013, 'client too slow: resubscribe from your last cursor');
          return;
        }
        socket.send(JSON.stringify(msg));
      };
      const sendError = (code: string, message: string) => send({ type: 'error', code, message });

      const emit = (sub: EventSub, e: FeedEvent): void => {
        if (compareCursors(e.cursor, sub.last) <= 0) return;
        sub.last = e.cursor;
        const event = toJson(e.event) as JsonObject;
        if (eventMatches(event, sub.filter)) {
          send({ type: 'event', cursor: e.cursor, height: e.height, txId: e.txId, event });
        }
      };
      const deliver = (sub: EventSub, e: FeedEvent): void => {
        if (sub.cancelled) return;
        if (sub.replaying) {
          sub.buffer.push(e);
          if (sub.buffer.length > MAX_BUFFERED_EVENTS) {
            // Everything emitted is stored: drop the buffer and let the replay read it back.
            sub.buffer = [];
            sub.overflowed = true;
          }
          return;
        }
        emit(sub, e);
      };

      const unsubscribeHub = hub.subscribe((b, evs) => {
        if (blocks) {
          send({
            type: 'block',
            height: b.height,
            id: b.id,
            time: Number(b.block.header.time),
            txCount: b.envelopes.length,
          });
        }
        const sub = events;
        if (sub) for (const e of evs) deliver(sub, e);
      });

      const replay = async (sub: EventSub): Promise<void> => {
        do {
          sub.overflowed = false;
          for (;;) {
            const page = await node.eventsSince(sub.last, pageSize);
            if (sub.cancelled) return;
            for (const e of page) emit(sub, e);
            // A slow client slows its replay down, not the node: wait until the socket drained.
            while (
              socket.readyState === OPEN &&
              socket.bufferedAmount > REPLAY_HIGH_WATER &&
              !sub.cancelled
            ) {
              await new Promise((r) => setTimeout(r, 5));
            }
            if (sub.cancelled) return;
            if (page.length < pageSize) break;
          }
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
        const sub: EventSub = {
          filter,
          last: cursor ?? hub.lastCursor,
          replaying: cursor !== undefined,
          buffer: [],
          overflowed: false,
          cancelled: false,
        };
        events = sub;
        send({ type: 'subscribed', topic: 'events', cursor: sub.last });
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
        metrics?.wsConnections.dec();
        unsubscribeHub();
        if (events) events.cancelled = true;
        events = null;
      });
    },
  );
}
