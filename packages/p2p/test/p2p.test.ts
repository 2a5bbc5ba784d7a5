import { createPrivateKey, createPublicKey, randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import {
  backoffDelay,
  createP2P,
  type P2P,
  P2PError,
  type P2POptions,
  peerIdOf,
  peerIdOfSeed,
  StrikeBook,
  topicName,
} from '../src/index.js';

const chainId = new Uint8Array(32).fill(0xab);
const enc = new TextEncoder();
const dec = new TextDecoder();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const live: P2P[] = [];
afterEach(async () => {
  await Promise.all(live.splice(0).map((n) => n.stop()));
});

async function node(o: Partial<P2POptions> = {}): Promise<P2P> {
  const n = await createP2P({
    nodeSecretKey: randomBytes(32),
    chainId,
    backoff: { initialMs: 100, maxMs: 1000 },
    ...o,
  });
  live.push(n);
  return n;
}

async function until(cond: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** Publishes distinct messages every 100 ms until `cond` holds (the mesh forms over a few heartbeats). */
async function publishUntil(n: P2P, prefix: string, cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (let i = 0; !cond(); i++) {
    if (Date.now() > end) throw new Error(`no delivery of ${prefix}`);
    await n.publish('tx', enc.encode(`${prefix}-${i}`));
    await sleep(100);
  }
}

/** Raw Ed25519 public key of a 32-byte seed, via node:crypto (independent of libp2p). */
function ed25519Public(seed: Uint8Array): Uint8Array {
  const pkcs8 = Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed]);
  const pub = createPublicKey(createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' }));
  return pub.export({ format: 'der', type: 'spki' }).subarray(12);
}

describe('pure parts', () => {
  it('backoff doubles from 250 ms, is jittered within [d/2, d] and capped at 10 s', () => {
    expect(backoffDelay(0, undefined, () => 1)).toBe(250);
    expect(backoffDelay(0, undefined, () => 0)).toBe(125);
    expect(backoffDelay(3, undefined, () => 1)).toBe(2000);
    for (const a of [6, 7, 50, 1e9]) expect(backoffDelay(a, undefined, () => 1)).toBe(10_000);
    for (let a = 0; a < 100; a++) {
      const d = backoffDelay(a);
      expect(d).toBeGreaterThanOrEqual(125);
      expect(d).toBeLessThanOrEqual(10_000);
    }
  });

  it('strike book bans at the threshold inside the window, and the ban expires', () => {
    let t = 0;
    const book = new StrikeBook({ threshold: 3, windowMs: 1000, banMs: 5000 }, () => t);
    expect(book.strike('p')).toBe(false);
    t = 900;
    expect(book.strike('p')).toBe(false);
    t = 1500; // the first strike has left the window
    expect(book.strike('p')).toBe(false);
    expect(book.count('p')).toBe(2);
    expect(book.strike('p')).toBe(true);
    expect(book.isBanned('p')).toBe(true);
    t = 1500 + 5000;
    expect(book.isBanned('p')).toBe(false);
  });

  it('names carry the chain prefix', () => {
    expect(topicName(chainId, 'consensus')).toBe('/roamchain/abababab/consensus/2');
  });
});

describe('identity', () => {
  it('peer id is a function of the Ed25519 node key', async () => {
    const seed = randomBytes(32);
    const a = await node({ nodeSecretKey: seed });
    expect(a.peerId).toBe(await peerIdOfSeed(seed));
    expect(peerIdOf(ed25519Public(seed))).toBe(a.peerId);
    await a.stop();
    const again = await node({ nodeSecretKey: seed });
    expect(again.peerId).toBe(a.peerId);
    expect(peerIdOf(ed25519Public(randomBytes(32)))).not.toBe(a.peerId);
    expect(again.addrs()[0]).toMatch(new RegExp(`^/ip4/127\\.0\\.0\\.1/tcp/\\d+/p2p/${a.peerId}$`));
    // a lone node publishes without throwing
    expect(await again.publish('tx', enc.encode('alone'))).toBe(0);
  });
});

describe('gossip', () => {
  it('three nodes in a line relay A -> B -> C; rejects stop relaying and get the sender banned', async () => {
    const a = await node();
    const b = await node({
      bootstrap: a.addrs(),
      scoring: { threshold: 5, windowMs: 60_000, banMs: 60_000 },
    });
    const c = await node({ bootstrap: b.addrs() });
    await until(() => b.peers().length === 2, 5000, 'line to form');
    expect(a.peers().map((p) => p.id)).toEqual([b.peerId]);
    expect(c.peers().map((p) => p.id)).toEqual([b.peerId]);

    const atC: { data: string; from: string }[] = [];
    let rejectedAtB = 0;
    a.subscribe('tx', () => 'accept');
    b.subscribe('tx', (d) => {
      if (dec.decode(d).startsWith('bad')) {
        rejectedAtB++;
        return 'reject';
      }
      return 'accept';
    });
    c.subscribe('tx', async (d, from) => {
      atC.push({ data: dec.decode(d), from });
      return 'accept' as const;
    });

    await publishUntil(a, 'good', () => atC.length > 0);
    expect(atC[0]?.from).toBe(b.peerId); // relayed by B
    expect(b.peerScore(a.peerId)).toBeGreaterThanOrEqual(0);

    // four rejects: not relayed, score drops, still connected
    for (let i = 0; i < 4; i++) await a.publish('tx', enc.encode(`bad-${i}`));
    await until(() => rejectedAtB === 4, 3000, 'B to reject');
    await sleep(300);
    expect(atC.some((m) => m.data.startsWith('bad'))).toBe(false);
    expect(b.peerScore(a.peerId)).toBeLessThan(0);
    expect(b.isBanned(a.peerId)).toBe(false);
    expect(b.peers().some((p) => p.id === a.peerId)).toBe(true);

    // the fifth crosses the threshold: A is disconnected and refused
    await a.publish('tx', enc.encode('bad-4'));
    await until(() => !b.peers().some((p) => p.id === a.peerId), 3000, 'B to drop A');
    expect(b.isBanned(a.peerId)).toBe(true);
    await until(() => b.peerScore(a.peerId) < -100, 1000, 'score to reflect the ban'); // cached per heartbeat
    await expect(a.request(b.peerId, 'status', new Uint8Array(1), 2000)).rejects.toMatchObject({
      code: 'P2P_UNREACHABLE',
    });
    await sleep(500); // B's re-dial loop must not reconnect to a banned peer
    expect(b.peers().some((p) => p.id === a.peerId)).toBe(false);
    expect(atC.some((m) => m.data.startsWith('bad'))).toBe(false);
  });

  it('identical messages are delivered once (message id = hash of data)', async () => {
    const a = await node();
    const b = await node({ bootstrap: a.addrs() });
    const got: string[] = [];
    a.subscribe('consensus', () => 'accept');
    b.subscribe('consensus', (d) => {
      got.push(dec.decode(d));
      return 'accept';
    });
    await until(() => a.peers().length === 1);
    const end = Date.now() + 5000;
    while (got.length === 0 && Date.now() < end) {
      await a.publish('consensus', enc.encode(`probe-${Date.now()}`));
      await sleep(100);
    }
    got.length = 0;
    await a.publish('consensus', enc.encode('vote'));
    await a.publish('consensus', enc.encode('vote'));
    await sleep(300);
    expect(got).toEqual(['vote']);
  });

  it('penalize() counts like a reject', async () => {
    const a = await node();
    const b = await node({ bootstrap: a.addrs(), scoring: { threshold: 2 } });
    await until(() => b.peers().length === 1);
    b.penalize(a.peerId, 'bad block');
    expect(b.isBanned(a.peerId)).toBe(false);
    b.penalize(a.peerId, 'bad block');
    expect(b.isBanned(a.peerId)).toBe(true);
    await until(() => b.peers().length === 0, 3000, 'disconnect');
  });
});

describe('request / response', () => {
  it('answers, reports remote errors, times out, bounds sizes', async () => {
    const a = await node({ maxResponseBytes: 2 * 1024 * 1024 });
    const b = await node({ bootstrap: a.addrs(), maxRequestBytes: 1024 * 1024 });
    await b.handle('status', async (req, from) =>
      enc.encode(`h=42 len=${req.length} from=${from === a.peerId}`),
    );
    await b.handle('slow', async () => {
      await sleep(2000);
      return new Uint8Array(1);
    });
    await b.handle('boom', async () => {
      throw new Error('no such block');
    });
    await b.handle('big', async () => new Uint8Array(3 * 1024 * 1024));
    await until(() => a.peers().length === 1);

    expect(dec.decode(await a.request(b.peerId, 'status', new Uint8Array(7), 2000))).toBe(
      'h=42 len=7 from=true',
    );
    // a 1 MiB request (the responder's limit) round-trips
    await b.handle('echo', async (req) => req);
    const mb = randomBytes(1024 * 1024);
    expect(Buffer.from(await a.request(b.peerId, 'echo', mb, 5000)).equals(mb)).toBe(true);

    const t0 = Date.now();
    const slow = await a.request(b.peerId, 'slow', new Uint8Array(1), 300).catch((e: unknown) => e);
    expect(slow).toBeInstanceOf(P2PError);
    expect((slow as P2PError).code).toBe('P2P_TIMEOUT');
    expect(Date.now() - t0).toBeLessThan(1000);

    await expect(a.request(b.peerId, 'boom', new Uint8Array(1), 2000)).rejects.toMatchObject({
      code: 'P2P_REMOTE',
      message: expect.stringContaining('no such block'),
    });
    await expect(a.request(b.peerId, 'nothere', new Uint8Array(1), 2000)).rejects.toMatchObject({
      code: 'P2P_REMOTE',
    });
    // response over the requester's 2 MiB limit
    await expect(a.request(b.peerId, 'big', new Uint8Array(1), 2000)).rejects.toMatchObject({
      code: 'P2P_TOO_LARGE',
    });
    // request over the responder's 1 MiB limit: refused by the remote
    await expect(a.request(b.peerId, 'echo', new Uint8Array(1024 * 1024 + 1), 5000)).rejects.toMatchObject({
      code: 'P2P_TOO_LARGE',
    });
    // the connection survives all of the above
    expect(dec.decode(await a.request(b.peerId, 'status', new Uint8Array(1), 2000))).toMatch(/^h=42/);

    const stranger = await peerIdOfSeed(randomBytes(32));
    await expect(a.request(stranger, 'status', new Uint8Array(1), 1000)).rejects.toBeInstanceOf(P2PError);
  });
});

describe('reconnection', () => {
  it('a node restarted on the same port is reconnected by its peer’s backoff', async () => {
    const seed = randomBytes(32);
    let a = await node({ nodeSecretKey: seed });
    const addr = a.addrs()[0]!;
    const port = /\/tcp\/(\d+)\//.exec(addr)?.[1];
    const b = await node({ bootstrap: [addr] });
    const events: string[] = [];
    b.onPeer((id, ev) => {
      if (id === a.peerId) events.push(ev);
    });
    await until(() => b.peers().length === 1, 5000, 'first connect');

    await a.stop();
    await until(() => events.includes('disconnect'), 5000, 'disconnect');
    await sleep(1500); // B keeps failing meanwhile (backoff grows, capped at 1 s here)
    a = await node({ nodeSecretKey: seed, listen: [`/ip4/127.0.0.1/tcp/${port}`] });
    const t0 = Date.now();
    await until(() => b.peers().some((p) => p.id === a.peerId), 5000, 'reconnect');
    expect(Date.now() - t0).toBeLessThan(2500);
    expect(events.at(-1)).toBe('connect');
  });
});
