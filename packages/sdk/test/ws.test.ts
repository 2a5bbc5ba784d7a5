import { afterEach, describe, expect, it } from 'vitest';
import { compareCursors, type FeedEventJson, subscribe, type WebSocketLike, wsUrlOf } from '../src/index.js';

/** A scripted in-memory WebSocket: the test plays the server. */
class FakeSocket implements WebSocketLike {
  static all: FakeSocket[] = [];
  readyState = 0;
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: ((ev: unknown) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  sent: Record<string, unknown>[] = [];
  constructor(readonly url: string) {
    FakeSocket.all.push(this);
    queueMicrotask(() => {
      this.readyState = 1;
      this.onopen?.({});
    });
  }
  send(data: string) {
    this.sent.push(JSON.parse(data));
  }
  close() {
    this.readyState = 3;
  }
  push(m: unknown) {
    this.onmessage?.({ data: JSON.stringify(m) });
  }
  drop() {
    this.readyState = 3;
    this.onclose?.({});
  }
}

const tick = (ms = 5) => new Promise((r) => setTimeout(r, ms));
const ev = (cursor: string): Record<string, unknown> => ({
  type: 'event',
  cursor,
  height: Number(cursor.split(':')[0]),
  txId: null,
  event: { type: 'transfer', n: cursor },
});

afterEach(() => {
  FakeSocket.all = [];
});

describe('subscribe', () => {
  it('builds the ws url', () => {
    expect(wsUrlOf('http://127.0.0.1:8080')).toBe('ws://127.0.0.1:8080/v1/ws');
    expect(wsUrlOf('https://api.example/roam/')).toBe('wss://api.example/roam/v1/ws');
  });

  it('orders cursors numerically', () => {
    expect(compareCursors('10:0', '9:5')).toBeGreaterThan(0);
    expect(compareCursors('9:10', '9:9')).toBeGreaterThan(0);
    expect(compareCursors('3:1', '3:1')).toBe(0);
  });

  it('reconnects with backoff and resumes from the last cursor without duplicates', async () => {
    const got: FeedEventJson[] = [];
    const opens: boolean[] = [];
    const delays: number[] = [];
    const sub = subscribe('http://node.test', {
      events: { contract: 'ab' },
      blocks: true,
      WebSocket: FakeSocket,
      backoff: { initialMs: 1, maxMs: 4 },
      onEvent: (e) => got.push(e),
      onOpen: ({ reconnect }) => opens.push(reconnect),
      onReconnect: ({ delayMs }) => delays.push(delayMs),
    });
    await tick();
    const s1 = FakeSocket.all[0]!;
    expect(s1.url).toBe('ws://node.test/v1/ws');
    expect(s1.sent).toEqual([
      { op: 'subscribe', topic: 'blocks' },
      { op: 'subscribe', topic: 'events', contract: 'ab' },
    ]);
    s1.push({ type: 'subscribed', topic: 'blocks' });
    s1.push({ type: 'subscribed', topic: 'events', cursor: '5:0' });
    expect(opens).toEqual([false]);
    expect(sub.cursor).toBe('5:0');
    s1.push(ev('6:0'));
    s1.push(ev('6:1'));
    s1.drop();
    await tick(20);
    const s2 = FakeSocket.all[1]!;
    expect(s2.sent[1]).toEqual({ op: 'subscribe', topic: 'events', contract: 'ab', cursor: '6:1' });
    s2.push({ type: 'subscribed', topic: 'blocks' });
    s2.push({ type: 'subscribed', topic: 'events', cursor: '6:1' });
    s2.push(ev('6:1')); // a server replaying one too many is ignored
    s2.push(ev('7:0'));
    expect(got.map((e) => e.cursor)).toEqual(['6:0', '6:1', '7:0']);
    expect(opens).toEqual([false, true]);
    expect(delays[0]).toBe(1);
    sub.close();
    await sub.closed;
    s2.push(ev('8:0'));
    expect(got).toHaveLength(3);
  });

  it('backs off exponentially up to the maximum while the server is down', async () => {
    const delays: number[] = [];
    const Refusing = class extends FakeSocket {
      constructor(url: string) {
        super(url);
        this.onopen = null;
        queueMicrotask(() => this.drop());
      }
    };
    const sub = subscribe('http://node.test', {
      events: true,
      WebSocket: Refusing,
      backoff: { initialMs: 1, maxMs: 8, factor: 2 },
      onReconnect: ({ delayMs }) => delays.push(delayMs),
    });
    await tick(80);
    sub.close();
    expect(delays.slice(0, 5)).toEqual([1, 2, 4, 8, 8]);
  });
});
