/**
 * End-to-end against a REAL devnet process: a WebSocket client subscribed to alice's events drops its
 * connection in the middle of a stream of transactions; more transactions involving alice happen
 * (more than one replay page of events); a new client subscribes with the last cursor it saw and gets
 * exactly the missed events (as GET /v1/events, filtered here, lists them), without duplicates, then
 * the live ones.
 */
import type { Operation } from '@roamchain/protocol';
import { eventInvolves } from '@roamchain/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { Devnet, http, type J, signWith, sleep, submitIncluded, txBase, until } from './support/proc.js';

/** Event fields naming a party (docs/API.md): an event matches an account in any of them. */
const involves = (e: J, who: string) => eventInvolves(e, who);

/** A WebSocket client that keeps every message it receives. */
class Feed {
  readonly messages: J[] = [];
  private waiters: (() => void)[] = [];

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      this.messages.push(JSON.parse(String(data)) as J);
      for (const w of this.waiters.splice(0)) w();
    });
  }

  static async open(url: string): Promise<Feed> {
    const ws = new WebSocket(url);
    const feed = new Feed(ws);
    await new Promise<void>((res, rej) => {
      ws.once('open', () => res());
      ws.once('error', rej);
    });
    return feed;
  }

  get events(): J[] {
    return this.messages.filter((m) => m.type === 'event');
  }

  send(msg: J): void {
    this.ws.send(JSON.stringify(msg));
  }

  /** Resolves once `pred` holds on the received messages. */
  async until<T>(what: string, pred: (msgs: J[]) => T | undefined, timeoutMs = 15_000): Promise<T> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const v = pred(this.messages);
      if (v !== undefined) return v;
      const left = end - Date.now();
      if (left <= 0)
        throw new Error(`WebSocket: timed out waiting for ${what} (${this.messages.length} messages)`);
      await new Promise<void>((res) => {
        const t = setTimeout(res, Math.min(left, 200));
        this.waiters.push(() => {
          clearTimeout(t);
          res();
        });
      });
    }
  }

  async subscribe(msg: J): Promise<J> {
    const before = this.messages.length;
    this.send({ op: 'subscribe', ...msg });
    return this.until('subscribed', (ms) => ms.slice(before).find((m) => m.type === 'subscribed'));
  }

  close(): void {
    this.ws.terminate();
  }
}

/** GET /v1/events after `cursor` through the newest one, every page. */
async function eventsAfter(url: string, cursor: string): Promise<J[]> {
  const out: J[] = [];
  let c = cursor;
  for (;;) {
    const { status, body } = await http(url, `/v1/events?cursor=${c}&limit=1000`);
    expect(status).toBe(200);
    out.push(...(body.items as J[]));
    if ((body.items as J[]).length < 1000) return out;
    c = body.next as string;
  }
}

const cursorKey = (c: string) => c.split(':').map(Number) as [number, number];
const before = (a: string, b: string) => {
  const [ha, ia] = cursorKey(a);
  const [hb, ib] = cursorKey(b);
  return ha < hb || (ha === hb && ia < ib);
};
const strictlyIncreasing = (cs: string[]) => cs.every((c, i) => i === 0 || before(cs[i - 1]!, c));
const strip = (m: J) => ({ cursor: m.cursor, height: m.height, txId: m.txId, event: m.event });

describe('e2e: WebSocket resume', () => {
  let dn: Devnet;
  const feeds: Feed[] = [];

  beforeAll(async () => {
    dn = await Devnet.start({ blockMs: 150 });
  });
  afterAll(async () => {
    for (const f of feeds) f.close();
    await dn?.cleanup();
  });

  /** Sends a transaction (wait=true) and returns its id; one op per alice event unless said otherwise. */
  let seq = 0;
  async function send(ops: Operation[], signer: string): Promise<string> {
    const a = await submitIncluded(dn.url, signWith(await txBase(dn.url), ops, [signer]));
    expect(a.status, JSON.stringify(a.body)).toBe(200);
    return a.body.txId as string;
  }
  const toAlice = () => {
    const n = seq++;
    return n % 2 === 0
      ? send(
          [
            {
              type: 'transfer',
              from: 'bob',
              to: 'alice',
              token: 'UMT',
              amount: BigInt(1000 + n),
              memo: new Uint8Array(),
            },
          ],
          'bob',
        )
      : send(
          [
            {
              type: 'sdr_issue',
              gateway: 'sdr-gateway',
              to: 'alice',
              amount: BigInt(1000 + n),
              paymentRef: `ws-${n}`,
            },
          ],
          'sdr-gateway',
        );
  };
  const fromAlice = () => {
    const n = seq++;
    return send(
      [
        {
          type: 'transfer',
          from: 'alice',
          to: 'chen',
          token: 'SDR',
          amount: BigInt(1000 + n),
          memo: new Uint8Array(),
        },
      ],
      'alice',
    );
  };
  /** Not about alice: must not reach her subscription. */
  const elsewhere = () => {
    const n = seq++;
    return send(
      [
        {
          type: 'transfer',
          from: 'chen',
          to: 'deniz',
          token: 'UMT',
          amount: BigInt(1000 + n),
          memo: new Uint8Array(),
        },
      ],
      'chen',
    );
  };
  /** One transaction, 16 events for alice (a bulk to make the replay span several pages). */
  const bulkToAlice = () => {
    const n = seq++;
    const ops: Operation[] = Array.from({ length: 16 }, (_, i) => ({
      type: 'sdr_issue',
      gateway: 'sdr-gateway',
      to: 'alice',
      amount: BigInt(1 + i),
      paymentRef: `ws-bulk-${n}-${i}`,
    }));
    return send(ops, 'sdr-gateway');
  };

  it('a client that disconnects mid-stream and resumes from its last cursor misses nothing', async () => {
    const url = dn.url;
    const ws1 = await Feed.open(dn.wsUrl);
    feeds.push(ws1);
    const sub1 = await ws1.subscribe({ topic: 'events', account: 'alice' });
    expect(sub1).toMatchObject({ type: 'subscribed', topic: 'events' });
    const c0 = sub1.cursor as string;
    expect(c0).toMatch(/^\d+:\d+$/);

    // A stream of transactions, some about alice; the first client drops out in the middle of it.
    const stream = (async () => {
      const ids: string[] = [];
      for (let i = 0; i < 12; i++) {
        const batch = await Promise.all([i % 3 === 2 ? fromAlice() : toAlice(), elsewhere()]);
        ids.push(batch[0]);
        await sleep(20);
      }
      return ids;
    })();
    await ws1.until('5 live events', (ms) =>
      ms.filter((m) => m.type === 'event').length >= 5 ? true : undefined,
    );
    ws1.close();
    const got1 = ws1.events;
    expect(got1.length).toBeGreaterThanOrEqual(5);
    const last = got1.at(-1)!.cursor as string;
    // Everything the first client got: about alice, after its start, in order, once.
    expect(got1.every((m) => involves(m.event, 'alice'))).toBe(true);
    expect(strictlyIncreasing([c0, ...got1.map((m) => m.cursor as string)])).toBe(true);

    // While it is away: the rest of the stream, a bulk spanning several replay pages, and others' traffic.
    const streamIds = await stream;
    const bulkIds = await Promise.all(Array.from({ length: 36 }, () => bulkToAlice()));
    await elsewhere();
    const missed = (await eventsAfter(url, last)).filter((m) => involves(m.event, 'alice'));
    expect(missed.length).toBeGreaterThan(16 * 36);
    const missedTx = new Set(missed.map((m) => m.txId as string));
    for (const id of bulkIds) expect(missedTx.has(id)).toBe(true);
    for (const id of streamIds) expect(missedTx.has(id) || got1.some((m) => m.txId === id)).toBe(true);

    // Resume with the last cursor while new transactions keep coming (replay and live overlap).
    const ws2 = await Feed.open(dn.wsUrl);
    feeds.push(ws2);
    ws2.send({ op: 'subscribe', topic: 'events', account: 'alice', cursor: last });
    const liveIds = await Promise.all([toAlice(), fromAlice(), elsewhere(), toAlice()]).then((ids) => [
      ids[0],
      ids[1],
      ids[3],
    ]);
    const want = missed.length + liveIds.length;
    await ws2.until(
      `${want} events`,
      (ms) => (ms.filter((m) => m.type === 'event').length >= want ? true : undefined),
      20_000,
    );
    // A few more blocks: nothing else may arrive (no duplicate, nothing about others).
    const h = (await http(url, '/v1/status')).body.height as number;
    await until('3 more blocks', async () =>
      (await http(url, '/v1/status')).body.height >= h + 3 ? true : undefined,
    );
    await sleep(100);

    const sub2 = ws2.messages.find((m) => m.type === 'subscribed');
    expect(sub2).toMatchObject({ topic: 'events', cursor: last });
    expect(ws2.messages.filter((m) => m.type === 'error')).toEqual([]);
    const got2 = ws2.events;
    expect(got2.length).toBe(want);
    expect(strictlyIncreasing([last, ...got2.map((m) => m.cursor as string)])).toBe(true);
    // Exactly the missed events first (same cursors, transactions and event bodies) ...
    expect(got2.slice(0, missed.length).map(strip)).toEqual(missed.map(strip));
    // ... then the live ones.
    expect(new Set(got2.slice(missed.length).map((m) => m.txId))).toEqual(new Set(liveIds));

    // Both clients together saw precisely alice's part of the event log since the first subscription.
    const all = (await eventsAfter(url, c0)).filter((m) => involves(m.event, 'alice'));
    expect([...got1, ...got2].map(strip)).toEqual(all.map(strip));
  }, 60_000);
});
