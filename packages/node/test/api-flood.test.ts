/**
 * A client flooding POST /v1/txs with one account's transactions, performed over HTTP against a
 * real node: the account's excess is refused ACCOUNT_BUSY per transaction (Retry-After); a client
 * that comes back before its Retry-After after a batch refused mostly is held off (429 RATE_LIMITED)
 * without its batch being decoded; a client's concurrent batches are bounded by bytes; meanwhile
 * another client's transactions of another account are admitted and in the next block.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeTxBatch, type RoamError, UNIT } from '@roamchain/protocol';
import { buildGenesis } from '@roamchain/state';
import { afterEach, describe, expect, it } from 'vitest';
import { type Api, createApi } from '../src/api/server.js';
import { BatchGuard } from '../src/api/txs.js';
import { Node } from '../src/index.js';
import { transferBy } from './support/kit.js';

// biome-ignore lint/suspicious/noExplicitAny: answers are checked field by field
type J = Record<string, any>;

const KEY_FLOOD = 'flooding-client-key-0123';
const KEY_OTHER = 'another-client-key-01234';

const open: { node: Node; api: Api; dir: string }[] = [];
afterEach(async () => {
  for (const e of open.splice(0)) {
    await e.api.close();
    await e.node.close();
    rmSync(e.dir, { recursive: true, force: true });
  }
});

async function start() {
  const dir = mkdtempSync(join(tmpdir(), 'rc-flood-api-'));
  const { genesis, keys } = buildGenesis({
    accounts: [
      { name: 'node-1', roles: ['node_owner'] },
      { name: 'flooder' },
      { name: 'alice' },
      { name: 'bob' },
    ],
    umt: { flooder: 1000n * UNIT, alice: 10n * UNIT },
    validators: ['node-1'],
  });
  const node = await Node.open({
    dataDir: dir,
    genesis,
    producer: { account: 'node-1', secretKey: keys.get('node-1')!.signing.secretKey },
    blockIntervalMs: 3_600_000,
    admission: { accountRate: 0.001, accountBurst: 20 },
  });
  const api = await createApi(node, {
    port: 0,
    limits: {
      apiKeys: [
        { client: 'flood', key: KEY_FLOOD },
        { client: 'other', key: KEY_OTHER },
      ],
      txBatchHoldOffMs: 60_000,
    },
  });
  open.push({ node, api, dir });
  const batch = (from: string, n: number, first: number) =>
    encodeTxBatch(
      Array.from({ length: n }, (_, i) => transferBy(node, keys, from, 'bob', BigInt(first + i))),
    );
  return { node, api, batch };
}

async function post(api: Api, key: string, body: Uint8Array) {
  const res = await fetch(`${api.url}/v1/txs`, {
    method: 'POST',
    headers: { 'content-type': 'application/octet-stream', 'x-api-key': key },
    body: new Blob([body as Uint8Array<ArrayBuffer>]),
  });
  return {
    status: res.status,
    retryAfter: res.headers.get('retry-after'),
    body: (await res.json()) as J,
  };
}

describe('a client flooding POST /v1/txs', () => {
  it('is refused per transaction, then held off undecoded; another client is admitted and included', async () => {
    const { node, api, batch } = await start();
    // Over the account's burst: the excess is ACCOUNT_BUSY, with Retry-After.
    const r1 = await post(api, KEY_FLOOD, batch('flooder', 30, 1));
    expect(r1.status).toBe(200);
    const codes = r1.body.results.map((r: J) => (r.ok ? 'ok' : r.code));
    expect(codes.filter((c: string) => c === 'ok')).toHaveLength(20);
    expect(codes.slice(20).every((c: string) => c === 'ACCOUNT_BUSY')).toBe(true);
    expect(r1.retryAfter).toBe('1');
    // A batch refused mostly (here: whole) for the account's bounds...
    const r2 = await post(api, KEY_FLOOD, batch('flooder', 50, 100));
    expect(r2.status).toBe(200);
    expect(r2.body.results.every((r: J) => !r.ok && r.code === 'ACCOUNT_BUSY')).toBe(true);
    const refused = node.governor.refused.rate;
    // ...and the client comes back at once: held off, the batch is not even decoded.
    const r3 = await post(api, KEY_FLOOD, batch('flooder', 50, 200));
    expect(r3.status).toBe(429);
    expect(r3.body.code).toBe('RATE_LIMITED');
    expect(Number(r3.retryAfter)).toBeGreaterThanOrEqual(1);
    expect(node.governor.refused.rate).toBe(refused);
    // Another client, another account: admitted, and in the next block with the flooder's 20.
    const r4 = await post(api, KEY_OTHER, batch('alice', 3, 1));
    expect(r4.status).toBe(200);
    expect(r4.body.results.every((r: J) => r.ok)).toBe(true);
    const block = await node.produceBlock();
    const ids = new Set(block.envelopes.map((e) => e.idHex));
    for (const r of r4.body.results) expect(ids.has(r.txId)).toBe(true);
    expect(block.envelopes).toHaveLength(23);
  });
});

describe('BatchGuard', () => {
  const limits = { txBatchBytesInFlight: 1000, txBatchHoldOffMs: 500, keyedFactor: 10, trackedClients: 2 };
  const a = { id: 'ip:a', keyed: false };
  const code = (f: () => void) => {
    try {
      f();
    } catch (e) {
      return (e as RoamError).code;
    }
    return 'ok';
  };

  it('bounds a client’s concurrent batches by bytes (one alone always passes)', () => {
    const g = new BatchGuard(limits, () => 0);
    g.enter(a, 5000);
    expect(code(() => g.enter(a, 1))).toBe('RATE_LIMITED');
    g.leave(a, 5000, false);
    g.enter(a, 600);
    expect(code(() => g.enter(a, 600))).toBe('RATE_LIMITED');
    g.enter(a, 400);
    // A keyed client gets keyedFactor times the bound.
    const k = { id: 'key:k', keyed: true };
    g.leave(a, 1000, false);
    g.enter(k, 600);
    g.enter(k, 9000);
    expect(g.busyClients).toBe(1);
  });

  it('holds off a client after a batch refused mostly; strikes double the hold-off; a good batch clears them', () => {
    let now = 0;
    const g = new BatchGuard(limits, () => now);
    g.enter(a, 10);
    g.leave(a, 10, true); // held off 500 ms
    expect(code(() => g.enter(a, 10))).toBe('RATE_LIMITED'); // came back early: a strike
    now = 499;
    expect(code(() => g.enter(a, 10))).toBe('RATE_LIMITED'); // another
    now = 500;
    expect(code(() => g.enter(a, 10))).toBe('ok');
    g.leave(a, 10, true); // 3 strikes: 500 * 2^3 ms
    now = 500 + 3999;
    expect(code(() => g.enter(a, 10))).toBe('RATE_LIMITED');
    now = 500 + 4000 + 4000; // (that early one was a strike: 16 times next, capped at 32)
    expect(code(() => g.enter(a, 10))).toBe('ok');
    g.leave(a, 10, false); // not refused mostly: strikes cleared
    g.enter(a, 10);
    g.leave(a, 10, true);
    now += 500;
    expect(code(() => g.enter(a, 10))).toBe('ok');
    g.leave(a, 10, false);
    expect(g.busyClients).toBe(0);
  });
});
