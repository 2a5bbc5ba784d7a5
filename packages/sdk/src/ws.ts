/**
 * WebSocket feed of `/v1/ws` with reconnection. The subscription remembers the cursor of the last
 * event it delivered (or the cursor the server reported when subscribing) and resubscribes from
 * it after a reconnect, so no event is lost or delivered twice. Uses the global WebSocket when the
 * platform has one (browsers, Node >= 22), else the `ws` package.
 */
import type { FeedEventJson } from './types.js';

export interface BlockMessage {
  type: 'block';
  height: number;
  id: string;
  time: number | string;
  txCount: number;
}

export interface EventMessage extends FeedEventJson {
  type: 'event';
}

export interface SubscribedMessage {
  type: 'subscribed';
  topic: 'blocks' | 'events';
  cursor?: string | null;
}

export interface ErrorMessage {
  type: 'error';
  code?: string;
  message?: string;
}

export type ServerMessage = BlockMessage | EventMessage | SubscribedMessage | ErrorMessage;

export interface EventFilter {
  account?: string;
  contract?: string;
  /** Replay every matching event after this cursor first. */
  cursor?: string;
}

export interface SubscribeOptions {
  /** Receive a message for every committed block. */
  blocks?: boolean;
  /** Receive ledger events (all, or filtered by account / contract), optionally from a cursor. */
  events?: boolean | EventFilter;
  onEvent?: (e: FeedEventJson) => void;
  onBlock?: (b: BlockMessage) => void;
  /** Each (re)connection once the server confirmed the subscriptions. */
  onOpen?: (info: { reconnect: boolean; cursor: string | undefined }) => void;
  /** The connection dropped; the next attempt starts after `delayMs`. */
  onReconnect?: (info: { attempt: number; delayMs: number; error?: unknown }) => void;
  onError?: (err: unknown) => void;
  backoff?: { initialMs?: number; maxMs?: number; factor?: number };
  signal?: AbortSignal;
  /** WebSocket constructor to use (tests, custom agents). */
  WebSocket?: WebSocketCtor;
}

export interface Subscription {
  /** Cursor of the last event delivered. */
  readonly cursor: string | undefined;
  close(): void;
  /** Resolves once closed by `close()` or the abort signal. */
  readonly closed: Promise<void>;
}

/** The part of the WebSocket interface used here (the DOM one and the `ws` package both have it). */
export interface WebSocketLike {
  readonly readyState: number;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: unknown) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

export type WebSocketCtor = new (url: string) => WebSocketLike;

let wsCtorPromise: Promise<WebSocketCtor> | undefined;

/** The global WebSocket, or the `ws` package loaded on demand. */
export function resolveWebSocket(): Promise<WebSocketCtor> {
  const g = (globalThis as { WebSocket?: unknown }).WebSocket;
  if (typeof g === 'function') return Promise.resolve(g as WebSocketCtor);
  wsCtorPromise ??= (async () => {
    const spec = 'ws';
    const mod = (await import(/* @vite-ignore */ spec)) as { default?: unknown; WebSocket?: unknown };
    const ctor = (mod.WebSocket ?? mod.default) as WebSocketCtor | undefined;
    if (typeof ctor !== 'function') throw new Error('no WebSocket implementation: install the "ws" package');
    return ctor;
  })();
  return wsCtorPromise;
}

/** http(s)://host/x -> ws(s)://host/x/v1/ws */
export function wsUrlOf(apiUrl: string): string {
  const u = new URL(apiUrl);
  u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
  u.pathname = `${u.pathname.replace(/\/+$/, '')}/v1/ws`;
  u.search = '';
  u.hash = '';
  return u.toString();
}

/** Orders cursors `height:index` numerically; returns <0, 0, >0. */
export function compareCursors(a: string, b: string): number {
  const [ah = 0, ai = 0] = a.split(':').map((x) => Number(x));
  const [bh = 0, bi = 0] = b.split(':').map((x) => Number(x));
  return ah !== bh ? ah - bh : ai - bi;
}

function dataToString(data: unknown): string {
  if (typeof data === 'string') return data;
  if (data instanceof ArrayBuffer) return new TextDecoder().decode(data);
  if (ArrayBuffer.isView(data)) return new TextDecoder().decode(data as Uint8Array);
  if (Array.isArray(data)) return data.map(dataToString).join('');
  return String(data);
}

const noop = () => {};

/** Forget a socket: no more callbacks (an error handler stays, the `ws` package throws without one). */
function detach(ws: WebSocketLike): void {
  ws.onopen = ws.onmessage = ws.onclose = null;
  ws.onerror = noop;
  try {
    ws.close();
  } catch {
    // already closed
  }
}

export function subscribe(apiUrl: string, opts: SubscribeOptions): Subscription {
  const url = wsUrlOf(apiUrl);
  const initialMs = opts.backoff?.initialMs ?? 250;
  const maxMs = opts.backoff?.maxMs ?? 10_000;
  const factor = opts.backoff?.factor ?? 2;
  const filter: EventFilter | undefined =
    opts.events === true ? {} : opts.events === false || opts.events === undefined ? undefined : opts.events;

  let cursor: string | undefined = filter?.cursor;
  let stopped = false;
  let socket: WebSocketLike | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let attempt = 0;
  let connections = 0;
  let resolveClosed!: () => void;
  const closed = new Promise<void>((r) => {
    resolveClosed = r;
  });

  const report = (err: unknown) => {
    try {
      opts.onError?.(err);
    } catch {
      // a throwing handler must not break the feed
    }
  };

  const scheduleReconnect = (error?: unknown) => {
    if (stopped) return;
    attempt += 1;
    const delayMs = Math.min(maxMs, Math.round(initialMs * factor ** (attempt - 1)));
    opts.onReconnect?.({ attempt, delayMs, ...(error !== undefined ? { error } : {}) });
    timer = setTimeout(() => void connect(), delayMs);
  };

  const connect = async () => {
    if (stopped) return;
    let Ctor: WebSocketCtor;
    try {
      Ctor = opts.WebSocket ?? (await resolveWebSocket());
    } catch (e) {
      report(e);
      stop();
      return;
    }
    if (stopped) return;
    let ws: WebSocketLike;
    try {
      ws = new Ctor(url);
    } catch (e) {
      report(e);
      scheduleReconnect(e);
      return;
    }
    socket = ws;
    const reconnect = connections > 0;
    let pendingAcks = (opts.blocks ? 1 : 0) + (filter ? 1 : 0);
    let dropped = false;
    const drop = (error?: unknown) => {
      if (dropped) return;
      dropped = true;
      if (socket === ws) socket = undefined;
      detach(ws);
      scheduleReconnect(error);
    };
    ws.onopen = () => {
      if (opts.blocks) ws.send(JSON.stringify({ op: 'subscribe', topic: 'blocks' }));
      if (filter) {
        const msg: Record<string, string> = { op: 'subscribe', topic: 'events' };
        if (filter.account !== undefined) msg.account = filter.account;
        if (filter.contract !== undefined) msg.contract = filter.contract;
        if (cursor !== undefined) msg.cursor = cursor;
        ws.send(JSON.stringify(msg));
      }
      if (pendingAcks === 0) {
        connections += 1;
        attempt = 0;
        opts.onOpen?.({ reconnect, cursor });
      }
    };
    ws.onmessage = (ev) => {
      let m: ServerMessage;
      try {
        m = JSON.parse(dataToString(ev.data)) as ServerMessage;
      } catch (e) {
        report(e);
        return;
      }
      try {
        switch (m.type) {
          case 'subscribed':
            if (m.topic === 'events' && cursor === undefined && typeof m.cursor === 'string')
              cursor = m.cursor;
            pendingAcks -= 1;
            if (pendingAcks === 0) {
              connections += 1;
              attempt = 0;
              opts.onOpen?.({ reconnect, cursor });
            }
            break;
          case 'event': {
            if (cursor !== undefined && compareCursors(m.cursor, cursor) <= 0) break; // replayed twice
            cursor = m.cursor;
            const { type: _t, ...fe } = m;
            opts.onEvent?.(fe);
            break;
          }
          case 'block':
            opts.onBlock?.(m);
            break;
          case 'error':
            report(new Error(`${m.code ?? 'ERROR'}: ${m.message ?? 'websocket error'}`));
            break;
          default:
            break;
        }
      } catch (e) {
        report(e);
      }
    };
    ws.onerror = (ev) => {
      const err = (ev as { error?: unknown })?.error ?? new Error(`websocket error on ${url}`);
      report(err);
      drop(err);
    };
    ws.onclose = () => drop();
  };

  const stop = () => {
    if (stopped) return;
    stopped = true;
    if (timer !== undefined) clearTimeout(timer);
    const ws = socket;
    socket = undefined;
    if (ws) {
      detach(ws);
    }
    resolveClosed();
  };

  if (opts.signal) {
    if (opts.signal.aborted) stop();
    else opts.signal.addEventListener('abort', stop, { once: true });
  }
  void connect();

  return {
    get cursor() {
      return cursor;
    },
    close: stop,
    closed,
  };
}
