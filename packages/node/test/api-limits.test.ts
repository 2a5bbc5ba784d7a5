/**
 * Per-client limits of the Web-API (packages/node/src/api/limits.ts, ws.ts), each one performed:
 * API keys count apart from the IP, an unknown key is refused, WebSocket caps in total, subscribe
 * floods and slow consumers are dropped with their close codes, bad limit settings are refused.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeTx, hexToBytes, refPrefixOf, signTx, UNIT } from '@roamchain/protocol';
import { type AccountKeys, buildGenesis } from '@roamchain/state';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { resolveLimits } from '../src/api/limits.js';
import { type Api, createApi } from '../src/api/server.js';
import { WS_CLOSE } from '../src/api/ws.js';
import { Node } from '../src/index.js';

const KEY_A = 'client-a-key-0123456789';
const KEY_A2 = 'client-a-key-rotated-0123456789';
const KEY_B = 'client-b-key-0123456789';
let dir: string;
let node: Node;
let keys: Map<string, AccountKeys>;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'rc-limits-'));
  const g = buildGenesis({
    accounts: [
      { name: 'node-1', roles: ['node_owner'] },
      { name: 'op-de', roles: ['operator'] },
      { name: 'bob', roles: ['subscriber'], homeOperator: 'op-de' },
    ],
    umt: { 'op-de': 100_000n * UNIT, bob: 10n * UNIT },
    validators: ['node-1'],
  });
  keys = g.keys;
  node = await Node.open({
    dataDir: dir,
    genesis: g.genesis,
    producer: { account: 'node-1', secretKey: keys.get('node-1')!.signing.secretKey },
    blockIntervalMs: 3_600_000,
    // The setup fills the chain from one account as fast as admission goes (over 1,000 tx/s on a
    // quiet machine): the per-account rate (admission-limits.ts, tested in flood.test.ts) is not
    // what this suite is about.
    admission: { accountRate: 1_000_000, accountBurst: 1_000_000 },
  });
  // Blocks with many events, for the slow consumer to be sent.
  for (let b = 0; b < 20; b++) {
    const st = node.status();
    for (let i = 0; i < 30; i++) {
      await node.submit(
        encodeTx(
          signTx(
            {
              chainId: node.chainId,
              refBlockNum: st.height,
              refBlockPrefix: refPrefixOf(hexToBytes(st.headId)),
              expiration: BigInt(Date.now() + 600_000),
              ops: [
                {
                  type: 'transfer',
                  from: 'op-de',
                  to: 'bob',
                  token: 'UMT',
                  amount: BigInt(1 + b * 100 + i),
                  memo: new Uint8Array(200),
                },
              ],
            },
            { 'op-de': keys.get('op-de')!.signing.secretKey },
          ),
        ),
      );
    }
    await node.produceBlock();
  }
}, 120_000);

afterAll(async () => {
  await node?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function withApi(limits: Parameters<typeof createApi>[1], f: (api: Api) => Promise<void>) {
  const api = await createApi(node, { port: 0, ...limits });
  try {
    await f(api);
  } finally {
    await api.close();
  }
}

const status = (api: Api, key?: string) =>
  fetch(`${api.url}/v1/status`, key ? { headers: { 'x-api-key': key } } : {}).then(async (r) => ({
    status: r.status,
    retryAfter: r.headers.get('retry-after'),
    body: (await r.json()) as { code?: string; details?: { retryAfterSeconds?: number } },
  }));

function ws(api: Api, headers: Record<string, string> = {}) {
  const sock = new WebSocket(`${api.url.replace('http', 'ws')}/v1/ws`, { headers });
  const result = new Promise<{ opened: boolean; status?: number; code?: number; messages: string[] }>(
    (resolve) => {
      const messages: string[] = [];
      let opened = false;
      sock.on('open', () => {
        opened = true;
      });
      sock.on('message', (d) => messages.push(String(d)));
      sock.on('unexpected-response', (_q, res) => {
        res.resume();
        resolve({ opened, status: res.statusCode ?? 0, messages });
        sock.terminate();
      });
      sock.on('close', (code) => resolve({ opened, code, messages }));
      sock.on('error', () => {});
    },
  );
  const open = new Promise<boolean>((r) => {
    sock.once('open', () => r(true));
    sock.once('unexpected-response', () => r(false));
  });
  return { sock, result, open };
}

describe('HTTP limits per client', () => {
  it('counts each API key client apart from the IP and the others; keys rotate; unknown keys are refused', async () => {
    await withApi(
      {
        limits: {
          reads: { max: 3, windowMs: 60_000 },
          keyedFactor: 2,
          apiKeys: [
            { client: 'a', key: KEY_A },
            { client: 'a', key: KEY_A2 },
            { client: 'b', key: KEY_B },
          ],
        },
      },
      async (api) => {
        const ip = [];
        for (let i = 0; i < 4; i++) ip.push(await status(api));
        expect(ip.map((r) => r.status)).toEqual([200, 200, 200, 429]);
        expect(ip[3]!.body.code).toBe('RATE_LIMITED');
        expect(Number(ip[3]!.retryAfter)).toBeGreaterThan(0);
        expect(ip[3]!.body.details?.retryAfterSeconds).toBeGreaterThan(0);
        // Client a: 3 x 2 = 6 reads, shared by its two keys (rotation); b has its own.
        const a = [];
        for (let i = 0; i < 7; i++) a.push((await status(api, i % 2 ? KEY_A2 : KEY_A)).status);
        expect(a).toEqual([200, 200, 200, 200, 200, 200, 429]);
        expect((await status(api, KEY_B)).status).toBe(200);
        const bad = await status(api, 'a-key-nobody-has-0123');
        expect(bad.status).toBe(401);
        expect(bad.body.code).toBe('API_KEY_INVALID');
      },
    );
  });

  it('bounds TCP connections per IP: beyond the bound a new connection is closed at once', async () => {
    await withApi({ limits: { maxConnectionsPerIp: 5, headersTimeoutMs: 60_000 } }, async (api) => {
      const { port } = new URL(api.url);
      const socks = Array.from({ length: 10 }, () => {
        const s = connect(Number(port), '127.0.0.1');
        const closed = new Promise<boolean>((r) => s.on('close', () => r(true)));
        s.on('error', () => {});
        return { s, closed };
      });
      const early = await Promise.all(
        socks.map((x) =>
          Promise.race([x.closed, new Promise<boolean>((r) => setTimeout(() => r(false), 2_000))]),
        ),
      );
      expect(early.filter(Boolean).length).toBe(5);
      for (const x of socks) x.s.destroy();
      // The places are free again.
      const end = Date.now() + 10_000;
      let ok = false;
      while (!ok && Date.now() < end) {
        ok = await status(api).then(
          (r) => r.status === 200,
          () => false,
        );
        if (!ok) await new Promise((r) => setTimeout(r, 100));
      }
      expect(ok).toBe(true);
    });
  });

  it('refuses bad limit settings', () => {
    expect(() => resolveLimits({ reads: { max: -1 } })).toThrow(/reads.max/);
    expect(() => resolveLimits({ apiKeys: [{ client: 'x', key: 'short' }] })).toThrow(/16 to 256/);
    expect(resolveLimits({}).ws.maxConnectionsPerClient).toBeGreaterThan(0);
  });
});

describe('WebSocket limits', () => {
  it('caps connections in total (503 API_BUSY) and per client (429), with Retry-After', async () => {
    await withApi(
      {
        limits: {
          apiKeys: [{ client: 'a', key: KEY_A }],
          ws: { maxConnections: 3, maxConnectionsPerClient: 2 },
        },
      },
      async (api) => {
        const first = [ws(api), ws(api)];
        expect(await Promise.all(first.map((c) => c.open))).toEqual([true, true]);
        const third = await ws(api).result;
        expect(third.status).toBe(429);
        const keyed = ws(api, { 'x-api-key': KEY_A });
        expect(await keyed.open).toBe(true);
        const fourth = await ws(api, { 'x-api-key': KEY_A }).result;
        expect(fourth.status).toBe(503);
        // A closed connection frees its place.
        first[0]!.sock.close();
        await first[0]!.result;
        let reopened = false;
        const end = Date.now() + 10_000;
        while (!reopened && Date.now() < end) {
          const c = ws(api);
          reopened = await c.open;
          if (reopened) c.sock.close();
          else await new Promise((r) => setTimeout(r, 100));
        }
        expect(reopened).toBe(true);
        for (const c of [first[1]!, keyed]) c.sock.close();
      },
    );
  });

  it('a peer that does not answer pings is cut; one that does stays', async () => {
    await withApi({ limits: { ws: { pingIntervalMs: 200 } } }, async (api) => {
      const url = `${api.url.replace('http', 'ws')}/v1/ws`;
      const dead = new WebSocket(url, { autoPong: false });
      const live = new WebSocket(url);
      const deadClosed = new Promise<number>((r) => dead.once('close', (code) => r(code)));
      let liveClosed = false;
      live.once('close', () => {
        liveClosed = true;
      });
      await new Promise((r) => live.once('open', r));
      expect(await deadClosed).toBe(1006);
      await new Promise((r) => setTimeout(r, 600));
      expect(liveClosed).toBe(false);
      live.close();
    });
  });

  it('a subscribe flood on one connection is refused and the connection closed (1008)', async () => {
    await withApi({ limits: { ws: { subscribes: { max: 3, windowMs: 60_000 } } } }, async (api) => {
      const c = ws(api);
      await c.open;
      for (let i = 0; i < 10; i++)
        c.sock.send(JSON.stringify({ op: 'subscribe', topic: 'events', account: 'bob', cursor: '0:0' }));
      const r = await c.result;
      expect(r.code).toBe(WS_CLOSE.POLICY);
      expect(r.messages.some((m) => m.includes('"RATE_LIMITED"'))).toBe(true);
    });
  });

  it('a client that does not read is dropped (1013) instead of buffered without bound', async () => {
    await withApi(
      { replayPageSize: 100_000, limits: { ws: { maxSendBufferBytes: 64 * 1024 } } },
      async (api) => {
        // An in-memory connection (no kernel buffers to absorb what the client does not read).
        const client = await api.app.injectWS('/v1/ws');
        const closed = new Promise<number>((r) => client.once('close', (code: number) => r(code)));
        const raw = (client as unknown as { _socket: { pause(): void; resume(): void } })._socket;
        raw.pause();
        client.send(JSON.stringify({ op: 'subscribe', topic: 'events', cursor: '0:0' }));
        await new Promise((r) => setTimeout(r, 500));
        raw.resume();
        expect(await closed).toBe(WS_CLOSE.TOO_SLOW);
      },
    );
  }, 60_000);
});
