import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  bytesToHex,
  encodeTx,
  hexToBytes,
  type OfferTerms,
  type Operation,
  refPrefixOf,
  type SignedTx,
  signedTx,
  signTx,
  UNIT,
} from '@roamchain/protocol';
import { type AccountKeys, buildGenesis } from '@roamchain/state';
import { Validator } from '@seriousme/openapi-schema-validator';
import pino, { type Logger } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { Metrics } from '../src/api/metrics.js';
import { type Api, createApi } from '../src/api/server.js';
import { Node, type NodeApi } from '../src/index.js';

const GB = 1_000_000_000n;
const dirs: string[] = [];

// biome-ignore lint/suspicious/noExplicitAny: answers are checked field by field
type J = Record<string, any>;

interface Env {
  node: Node;
  api: Api;
  keys: Map<string, AccountKeys>;
}

interface StartOptions {
  blockIntervalMs?: number;
  metrics?: Metrics;
  replayPageSize?: number;
  staticDir?: string;
  logger?: Logger;
  /** What the API sees of the node (default: the node itself). */
  wrap?: (node: Node) => NodeApi;
}

/** A NodeApi that forwards to `node`, with some methods replaced. */
function delegate(node: Node, over: Partial<NodeApi>): NodeApi {
  return {
    genesis: node.genesis,
    chainId: node.chainId,
    state: node.state,
    status: () => node.status(),
    submit: (b) => node.submit(b),
    submitBatch: (b) => node.submitBatch(b),
    waitFor: (id, t) => node.waitFor(id, t),
    txStatus: (id) => node.txStatus(id),
    blockByHeight: (h) => node.blockByHeight(h),
    commitAt: (h) => node.commitAt(h),
    blockById: (id) => node.blockById(id),
    contractTxs: (id) => node.contractTxs(id),
    contractsOf: (a, l, b) => node.contractsOf(a, l, b),
    eventsSince: (c, l) => node.eventsSince(c, l),
    onBlock: (l) => node.onBlock(l),
    ...over,
  };
}

async function start(opts: StartOptions = {}): Promise<Env> {
  const dir = mkdtempSync(join(tmpdir(), 'rc-api-'));
  dirs.push(dir);
  const { genesis, keys } = buildGenesis({
    accounts: [
      { name: 'node-1', roles: ['node_owner'] },
      { name: 'op-de', roles: ['operator'] },
      { name: 'op-fr', roles: ['operator'] },
      { name: 'gateway', roles: ['gateway'] },
      { name: 'alice', roles: ['subscriber'], homeOperator: 'op-fr' },
      { name: 'bob', roles: ['subscriber'], homeOperator: 'op-de' },
    ],
    umt: {
      'op-de': 1000n * UNIT,
      'op-fr': 1000n * UNIT,
      gateway: 100n * UNIT,
      alice: 10n * UNIT,
      bob: 10n * UNIT,
    },
    validators: ['node-1'],
  });
  const metrics = opts.metrics;
  const node = await Node.open({
    dataDir: dir,
    genesis,
    producer: { account: 'node-1', secretKey: keys.get('node-1')!.signing.secretKey },
    ...(opts.blockIntervalMs !== undefined ? { blockIntervalMs: opts.blockIntervalMs } : {}),
    ...(metrics ? { onCommitted: (b, s) => metrics.observeBlock(b.envelopes.length, s) } : {}),
  });
  const api = await createApi(opts.wrap ? opts.wrap(node) : node, {
    port: 0,
    ...(metrics ? { metrics } : {}),
    ...(opts.replayPageSize ? { replayPageSize: opts.replayPageSize } : {}),
    ...(opts.staticDir ? { staticDir: opts.staticDir } : {}),
    ...(opts.logger ? { logger: opts.logger } : {}),
  });
  return { node, api, keys };
}

async function stop(env: Env): Promise<void> {
  await env.api.close();
  await env.node.close();
}

function signed(
  env: Env,
  ops: Operation[],
  signers: string[],
  opts: { chainId?: Uint8Array } = {},
): SignedTx {
  const st = env.node.status();
  const keys: Record<string, Uint8Array> = {};
  for (const s of signers) keys[s] = env.keys.get(s)!.signing.secretKey;
  return signTx(
    {
      chainId: opts.chainId ?? env.node.chainId,
      refBlockNum: st.height,
      refBlockPrefix: refPrefixOf(hexToBytes(st.headId)),
      expiration: BigInt(Date.now() + 60_000),
      ops,
    },
    keys,
  );
}

const hexOf = (tx: SignedTx) => bytesToHex(encodeTx(tx));

async function req(
  env: Env,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: J }> {
  const res = await fetch(`${env.api.url}${path}`, {
    method,
    ...(body !== undefined
      ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }
      : {}),
  });
  const text = await res.text();
  let parsed: J;
  try {
    parsed = JSON.parse(text) as J;
  } catch {
    parsed = { text };
  }
  return { status: res.status, body: parsed };
}
const get = (env: Env, path: string) => req(env, 'GET', path);

function expectError(r: { status: number; body: J }, status: number, code: string): void {
  expect({ status: r.status, code: r.body.code }).toEqual({ status, code });
  expect(typeof r.body.message).toBe('string');
  expect(typeof r.body.details).toBe('object');
}

/** Submit through the API and commit a block; returns the receipt. */
async function commit(env: Env, tx: SignedTx): Promise<J> {
  const r = await req(env, 'POST', '/v1/tx', { tx: hexOf(tx) });
  expect(r.status, JSON.stringify(r.body)).toBe(202);
  await env.node.produceBlock();
  const s = await get(env, `/v1/tx/${r.body.txId}`);
  expect(s.body.status).toBe('included');
  return s.body.receipt as J;
}

function terms(env: Env, op: string, o: Partial<OfferTerms> = {}): OfferTerms {
  return {
    title: `${op} offer`,
    kind: 'data',
    category: '',
    countries: ['DE'],
    networks: ['262-01'],
    technologies: ['4G'],
    dataBytes: 5n * GB,
    voiceSeconds: 0n,
    smsCount: 0,
    durationSec: 7 * 86_400,
    price: 10n * UNIT,
    unitPrice: 0n,
    unit: 'mb',
    activation: 'on_provision',
    validFrom: 0n,
    validUntil: BigInt(Date.now()) + 30n * 86_400_000n,
    capacity: 100,
    encryptionKey: env.keys.get(op)!.encryption.publicKey,
    ...o,
  };
}

/** A small WebSocket client that records every message. */
class Client {
  readonly messages: J[] = [];
  private waiters: (() => void)[] = [];
  private constructor(readonly ws: WebSocket) {
    ws.on('message', (d) => {
      this.messages.push(JSON.parse(String(d)) as J);
      for (const w of this.waiters.splice(0)) w();
    });
  }
  static async connect(env: Env): Promise<Client> {
    const ws = new WebSocket(`${env.api.url.replace('http', 'ws')}/v1/ws`);
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    return new Client(ws);
  }
  send(m: unknown): void {
    this.ws.send(JSON.stringify(m));
  }
  events(): J[] {
    return this.messages.filter((m) => m.type === 'event');
  }
  async until(pred: (c: Client) => boolean, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pred(this)) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timeout; got ${JSON.stringify(this.messages).slice(0, 2000)}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }
  async close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return;
    await new Promise((r) => {
      this.ws.once('close', r);
      this.ws.close();
    });
  }
}

afterAll(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('Web-API on a real node', () => {
  let env: Env;
  let offerDe1: string;
  let offerDe2: string;
  let offerFr: string;
  let contractId: string;
  let demandId: string;
  const metrics = new Metrics();

  beforeAll(async () => {
    env = await start({ metrics });
    // SDR for alice, offers from both operators, then a whole contract: open, charge, refund, rate.
    await commit(
      env,
      signed(
        env,
        [{ type: 'sdr_issue', gateway: 'gateway', to: 'alice', amount: 50n * UNIT, paymentRef: 'wire-1' }],
        ['gateway'],
      ),
    );
    const r1 = await commit(
      env,
      signed(
        env,
        [
          { type: 'offer_publish', operator: 'op-de', terms: terms(env, 'op-de') },
          {
            type: 'offer_publish',
            operator: 'op-de',
            terms: terms(env, 'op-de', { price: 7n * UNIT, technologies: ['5G'] }),
          },
        ],
        ['op-de'],
      ),
    );
    offerDe1 = r1.events[0].offer;
    offerDe2 = r1.events[1].offer;
    const r2 = await commit(
      env,
      signed(
        env,
        [
          {
            type: 'offer_publish',
            operator: 'op-fr',
            terms: terms(env, 'op-fr', { countries: ['FR'], networks: ['208-01'], kind: 'voice' }),
          },
        ],
        ['op-fr'],
      ),
    );
    offerFr = r2.events[0].offer;
    const r3 = await commit(
      env,
      signed(
        env,
        [
          {
            type: 'request_open',
            issuer: 'op-fr',
            payer: 'alice',
            subscriber: 'alice',
            offer: hexToBytes(offerDe1),
            prev: hexToBytes(offerDe1),
            deposit: 20n * UNIT,
            issuerFeeBps: 200,
            feeDeposit: 1n * UNIT,
            ephemeralKey: new Uint8Array(32).fill(7),
            payload: new Uint8Array([1, 2, 3]),
            stepTimeoutSec: 3600,
            lifetimeSec: 7 * 86_400,
          },
        ],
        ['op-fr', 'alice'],
      ),
    );
    contractId = r3.events.find((e: J) => e.type === 'contract_opened').contract;
    const head = async () => (await get(env, `/v1/contracts/${contractId}`)).body.contract.head as string;
    await commit(
      env,
      signed(
        env,
        [
          {
            type: 'charge',
            assignee: 'op-de',
            contract: hexToBytes(contractId),
            prev: hexToBytes(await head()),
            record: {
              seq: 1,
              usageType: 'data',
              start: BigInt(Date.now()),
              duration: 60,
              volumeUp: 1000n,
              volumeDown: GB,
              units: 1000n,
              amount: 4n * UNIT,
            },
            sealed: new Uint8Array(),
          },
        ],
        ['op-de'],
      ),
    );
    await commit(
      env,
      signed(
        env,
        [
          {
            type: 'refund',
            by: 'alice',
            contract: hexToBytes(contractId),
            prev: hexToBytes(await head()),
            badService: false,
            reason: 0,
          },
        ],
        ['alice'],
      ),
    );
    await commit(
      env,
      signed(
        env,
        [{ type: 'rate', subscriber: 'alice', contract: hexToBytes(contractId), score: 5 }],
        ['alice'],
      ),
    );
    const now = BigInt(Date.now());
    const r4 = await commit(
      env,
      signed(
        env,
        [
          {
            type: 'demand_post',
            subscriber: 'bob',
            kind: 'data',
            countries: ['FR'],
            networks: [],
            dataBytes: 2n * GB,
            startAt: now,
            endAt: now + 86_400_000n,
            maxPrice: 9n * UNIT,
            note: 'two days in Paris',
          },
        ],
        ['bob'],
      ),
    );
    demandId = r4.events[0].demand;
  });

  afterAll(async () => {
    await stop(env);
  });

  it('GET /healthz, /v1/status, /v1/params', async () => {
    const h = await get(env, '/healthz');
    expect(h).toEqual({ status: 200, body: { ok: true, height: env.node.height } });
    const s = await get(env, '/v1/status');
    expect(s.status).toBe(200);
    expect(s.body).toMatchObject({
      chainId: bytesToHex(env.node.chainId),
      chainName: 'roamchain-test',
      producer: 'node-1',
    });
    expect(Object.keys(s.body).sort()).toEqual(
      [
        'chainId',
        'chainName',
        'consensus',
        'finalizedHeight',
        'halted',
        'headId',
        'headTime',
        'height',
        'mempool',
        'producer',
        'protocolVersion',
        'time',
      ].sort(),
    );
    expect(s.body).toMatchObject({ halted: null, protocolVersion: 2 });
    expect(typeof s.body.headTime).toBe('number');
    const p = await get(env, '/v1/params');
    expect(p.status).toBe(200);
    expect(p.body.blockIntervalMs).toBe(500);
    expect(p.body.fees.transfer).toBe('1000');
    expect(p.body.vestingMonthMs).toBe(String(30 * 86_400_000));
    expect(p.body.genesisTime).toBe(env.node.genesis.genesisTime.toString());
  });

  it('POST /v1/tx: hex and JSON bodies, 202 pending, wait=true, GET /v1/tx/:id', async () => {
    const t1 = signed(
      env,
      [{ type: 'transfer', from: 'op-de', to: 'bob', token: 'UMT', amount: 5n, memo: new Uint8Array() }],
      ['op-de'],
    );
    const r1 = await req(env, 'POST', '/v1/tx', { tx: hexOf(t1) });
    expect(r1).toEqual({
      status: 202,
      body: { txId: expect.stringMatching(/^[0-9a-f]{64}$/), status: 'pending' },
    });
    expect((await get(env, `/v1/tx/${r1.body.txId}`)).body).toEqual({
      txId: r1.body.txId,
      status: 'pending',
    });

    const t2 = signed(
      env,
      [{ type: 'transfer', from: 'op-fr', to: 'bob', token: 'UMT', amount: 6n, memo: new Uint8Array([1]) }],
      ['op-fr'],
    );
    const waiting = req(env, 'POST', '/v1/tx?wait=true&timeoutMs=10000', { json: signedTx.toJSON(t2) });
    await new Promise((r) => setTimeout(r, 50));
    const block = await env.node.produceBlock();
    const r2 = await waiting;
    expect(r2.status).toBe(200);
    expect(r2.body).toMatchObject({ status: 'included', height: block.height, index: 1, blockId: block.id });
    expect(r2.body.receipt).toMatchObject({ txId: r2.body.txId, index: 1, fee: '1000' });
    expect(r2.body.receipt.events[0]).toEqual({
      type: 'transfer',
      from: 'op-fr',
      to: 'bob',
      token: 'UMT',
      amount: '6',
    });

    const s1 = await get(env, `/v1/tx/${r1.body.txId.toUpperCase()}`);
    expect(s1.status).toBe(200);
    expect(s1.body).toMatchObject({
      txId: r1.body.txId,
      status: 'included',
      height: block.height,
      index: 0,
      blockId: block.id,
    });
    expect(s1.body.tx).toEqual(signedTx.toJSON(t1));
    expect(s1.body.receipt.events[0].amount).toBe('5');
  });

  it('POST /v1/tx: admission errors carry their codes and HTTP statuses', async () => {
    const transfer = (amount: bigint, from = 'op-de'): Operation => ({
      type: 'transfer',
      from,
      to: 'bob',
      token: 'UMT',
      amount,
      memo: new Uint8Array(),
    });
    // 400 BAD_REQUEST: not hex / neither field / both fields / bad query
    expectError(await req(env, 'POST', '/v1/tx', { tx: 'xyz' }), 400, 'BAD_REQUEST');
    expectError(await req(env, 'POST', '/v1/tx', {}), 400, 'BAD_REQUEST');
    const ok = signed(env, [transfer(1n)], ['op-de']);
    expectError(
      await req(env, 'POST', '/v1/tx', { tx: hexOf(ok), json: signedTx.toJSON(ok) }),
      400,
      'BAD_REQUEST',
    );
    expectError(await req(env, 'POST', '/v1/tx?timeoutMs=abc', { tx: hexOf(ok) }), 400, 'BAD_REQUEST');
    const text = await fetch(`${env.api.url}/v1/tx`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: 'ab',
    });
    expectError({ status: text.status, body: (await text.json()) as J }, 415, 'UNSUPPORTED_MEDIA_TYPE');
    const badJson = await fetch(`${env.api.url}/v1/tx`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"tx":',
    });
    expectError({ status: badJson.status, body: (await badJson.json()) as J }, 400, 'BAD_REQUEST');
    // codec errors
    expectError(await req(env, 'POST', '/v1/tx', { tx: '0102' }), 400, 'CODEC_TRUNCATED');
    expectError(await req(env, 'POST', '/v1/tx', { tx: `${hexOf(ok)}00` }), 400, 'CODEC_TRAILING');
    expectError(await req(env, 'POST', '/v1/tx', { json: { version: 1 } }), 400, 'CODEC_BAD_JSON');
    // state and signature errors
    // Admission executes nothing: an overspend is accepted, then refused by the block that tries it
    // (the client learns the code from the transaction's status or from ?wait=true).
    const over = await req(env, 'POST', '/v1/tx', {
      tx: hexOf(signed(env, [transfer(10_000_000n * UNIT)], ['op-de'])),
    });
    expect(over.status).toBe(202);
    await env.node.produceBlock();
    const overStatus = await get(env, `/v1/tx/${over.body.txId}`);
    expect(overStatus.body).toMatchObject({ status: 'rejected', code: 'BALANCE_LOW' });
    const forged = signed(env, [transfer(2n)], ['op-de']);
    forged.signatures[0] = signed(env, [transfer(3n)], ['op-de']).signatures[0]!;
    expectError(await req(env, 'POST', '/v1/tx', { tx: hexOf(forged) }), 401, 'SIG_INVALID');
    expectError(
      await req(env, 'POST', '/v1/tx', {
        tx: hexOf(signed(env, [transfer(4n)], ['op-de'], { chainId: new Uint8Array(32) })),
      }),
      400,
      'TX_WRONG_CHAIN',
    );
    expectError(
      await req(env, 'POST', '/v1/tx', { tx: hexOf({ ...ok, signatures: [] }) }),
      401,
      'SIG_MISSING',
    );
    const unknown = signed(env, [transfer(1n)], ['op-de']);
    unknown.ops[0] = transfer(1n, 'nobody');
    expectError(await req(env, 'POST', '/v1/tx', { tx: hexOf(unknown) }), 404, 'ACCOUNT_UNKNOWN');
    // duplicate: in the mempool, then included
    const dup = signed(env, [transfer(7n)], ['op-de']);
    expect((await req(env, 'POST', '/v1/tx', { tx: hexOf(dup) })).status).toBe(202);
    const again = await req(env, 'POST', '/v1/tx', { tx: hexOf(dup) });
    expect(again.status).toBe(409);
    await env.node.produceBlock();
    expectError(await req(env, 'POST', '/v1/tx', { tx: hexOf(dup) }), 409, 'TX_DUPLICATE');
    // wait that times out
    const slow = signed(env, [transfer(8n)], ['op-de']);
    expectError(
      await req(env, 'POST', '/v1/tx?wait=true&timeoutMs=50', { tx: hexOf(slow) }),
      504,
      'WAIT_TIMEOUT',
    );
    await env.node.produceBlock();
  });

  it('GET /v1/tx/:id: 404 and 400', async () => {
    expectError(await get(env, `/v1/tx/${'ab'.repeat(32)}`), 404, 'NOT_FOUND');
    expectError(await get(env, '/v1/tx/nothex'), 400, 'BAD_REQUEST');
  });

  it('GET /v1/blocks/:ref and /v1/blocks', async () => {
    const b1 = await get(env, '/v1/blocks/1');
    expect(b1.status).toBe(200);
    expect(b1.body).toMatchObject({ height: 1, header: { height: '1', producer: 'node-1', txCount: 1 } });
    expect(b1.body.txs).toHaveLength(1);
    expect(b1.body.txs[0].tx.ops[0].type).toBe('sdr_issue');
    expect(b1.body.receipts[0].events[0]).toMatchObject({
      type: 'sdr_issued',
      to: 'alice',
      amount: String(50n * UNIT),
    });
    expect(Array.isArray(b1.body.endEvents)).toBe(true);
    const byId = await get(env, `/v1/blocks/${b1.body.id}`);
    expect(byId.body).toEqual(b1.body);
    expectError(await get(env, '/v1/blocks/99999'), 404, 'NOT_FOUND');
    expectError(await get(env, '/v1/blocks/0'), 404, 'NOT_FOUND');
    expectError(await get(env, `/v1/blocks/${'0'.repeat(64)}`), 404, 'NOT_FOUND');
    expectError(await get(env, '/v1/blocks/xyz'), 400, 'BAD_REQUEST');

    const head = env.node.height;
    const list = await get(env, '/v1/blocks?limit=3');
    expect(list.body.items.map((b: J) => b.height)).toEqual([head, head - 1, head - 2]);
    expect(Object.keys(list.body.items[0]).sort()).toEqual(['height', 'id', 'producer', 'time', 'txCount']);
    expect(typeof list.body.items[0].time).toBe('number');
    const older = await get(env, `/v1/blocks?before=3&limit=10`);
    expect(older.body.items.map((b: J) => b.height)).toEqual([2, 1]);
    expectError(await get(env, '/v1/blocks?limit=0'), 400, 'BAD_REQUEST');
    expectError(await get(env, '/v1/blocks?limit=1000'), 400, 'BAD_REQUEST');
  });

  it('GET /v1/accounts/:name', async () => {
    const a = await get(env, '/v1/accounts/alice');
    expect(a.status).toBe(200);
    expect(a.body).toEqual({
      name: 'alice',
      roles: ['subscriber'],
      homeOperator: 'op-fr',
      signingKey: bytesToHex(env.keys.get('alice')!.signing.publicKey),
      encryptionKey: bytesToHex(env.keys.get('alice')!.encryption.publicKey),
      createdAt: expect.stringMatching(/^\d+$/),
      balances: { UMT: expect.stringMatching(/^\d+$/), SDR: String(50n * UNIT - 4n * UNIT - 80_000n) },
      lockedUMT: '0',
    });
    const founders = await get(env, '/v1/accounts/founders');
    expect(founders.body.homeOperator).toBeNull();
    expect(BigInt(founders.body.lockedUMT)).toBeGreaterThanOrEqual(0n);
    expectError(await get(env, '/v1/accounts/nobody'), 404, 'ACCOUNT_UNKNOWN');
    expectError(await get(env, '/v1/accounts/NOT_A_NAME'), 400, 'BAD_REQUEST');
  });

  it('GET /v1/offers: filters, price range, status, pagination', async () => {
    const ids = (r: { body: J }) => r.body.items.map((o: J) => o.id);
    const all = await get(env, '/v1/offers');
    expect(all.status).toBe(200);
    expect(ids(all)).toEqual([offerDe1, offerDe2, offerFr].sort());
    expect(all.body.next).toBeNull();
    const o = all.body.items.find((x: J) => x.id === offerDe2);
    expect(o).toMatchObject({
      operator: 'op-de',
      status: 'active',
      terms: { price: String(7n * UNIT), technologies: ['5G'] },
    });
    expect(ids(await get(env, '/v1/offers?country=DE'))).toEqual([offerDe1, offerDe2].sort());
    expect(ids(await get(env, '/v1/offers?network=208-01'))).toEqual([offerFr]);
    expect(ids(await get(env, '/v1/offers?operator=op-fr'))).toEqual([offerFr]);
    expect(ids(await get(env, '/v1/offers?kind=voice'))).toEqual([offerFr]);
    expect(ids(await get(env, `/v1/offers?country=DE&maxPrice=${8n * UNIT}`))).toEqual([offerDe2]);
    expect(ids(await get(env, `/v1/offers?minPrice=${8n * UNIT}`))).toEqual([offerDe1, offerFr].sort());
    // pages of one
    const seen: string[] = [];
    let cursor: string | null = null;
    for (let i = 0; i < 5; i++) {
      const page: { body: J } = await get(env, `/v1/offers?limit=1${cursor ? `&cursor=${cursor}` : ''}`);
      seen.push(...ids(page));
      cursor = page.body.next;
      if (!cursor) break;
    }
    expect(seen).toEqual([offerDe1, offerDe2, offerFr].sort());
    // withdrawn offers
    await commit(
      env,
      signed(env, [{ type: 'offer_withdraw', operator: 'op-fr', offer: hexToBytes(offerFr) }], ['op-fr']),
    );
    expect(ids(await get(env, '/v1/offers'))).toEqual([offerDe1, offerDe2].sort());
    expect(ids(await get(env, '/v1/offers?status=withdrawn'))).toEqual([offerFr]);
    expect(ids(await get(env, '/v1/offers?status=all'))).toEqual([offerDe1, offerDe2, offerFr].sort());
    expect((await get(env, `/v1/offers/${offerFr}`)).body.status).toBe('withdrawn');

    expectError(await get(env, '/v1/offers?minPrice=99999999999999999999'), 400, 'BAD_REQUEST');
    expectError(await get(env, '/v1/offers?minPrice=-1'), 400, 'BAD_REQUEST');
    expectError(await get(env, '/v1/offers?country=germany'), 400, 'BAD_REQUEST');
    expectError(await get(env, '/v1/offers?kind=pizza'), 400, 'BAD_REQUEST');
    expectError(await get(env, '/v1/offers?limit=x'), 400, 'BAD_REQUEST');
    expectError(await get(env, '/v1/offers?cursor=12'), 400, 'BAD_REQUEST');
  });

  it('GET /v1/offers/rank and /v1/offers/:id', async () => {
    const r = await get(env, `/v1/offers/rank?country=DE&volume=${GB}&preference=price`);
    expect(r.status).toBe(200);
    expect(r.body.items.map((x: J) => x.offerId)).toEqual([offerDe2, offerDe1]);
    const top = r.body.items[0];
    expect(top).toMatchObject({
      cost: String(7n * UNIT),
      priceScore: 10_000,
      offer: { id: offerDe2 },
      rating: { operator: 'op-de' },
    });
    expect(top.reasons.length).toBeGreaterThan(0);
    expect((await get(env, `/v1/offers/rank?country=DE&budget=${8n * UNIT}`)).body.items).toHaveLength(1);
    expect((await get(env, '/v1/offers/rank?country=JP')).body.items).toEqual([]);
    expectError(await get(env, '/v1/offers/rank?preference=cheap'), 400, 'BAD_REQUEST');
    expectError(await get(env, '/v1/offers/rank?volume=1.5'), 400, 'BAD_REQUEST');

    const o = await get(env, `/v1/offers/${offerDe1}`);
    expect(o.body).toMatchObject({
      id: offerDe1,
      operator: 'op-de',
      version: expect.any(String),
      demand: null,
      openContracts: 0,
    });
    expect(o.body.terms.countries).toEqual(['DE']);
    expectError(await get(env, `/v1/offers/${'cd'.repeat(32)}`), 404, 'NOT_FOUND');
    expectError(await get(env, '/v1/offers/zz'), 400, 'BAD_REQUEST');
  });

  it('GET /v1/contracts/:id and /v1/contracts?party=', async () => {
    const c = await get(env, `/v1/contracts/${contractId}`);
    expect(c.status).toBe(200);
    expect(c.body.contract).toMatchObject({
      id: contractId,
      issuer: 'op-fr',
      assignee: 'op-de',
      payer: 'alice',
      subscriber: 'alice',
      status: 'closed',
      charged: String(4n * UNIT),
      paidAssignee: String(4n * UNIT),
      score: 5,
      closedBy: 'alice',
    });
    expect(c.body.transactions.map((t: J) => t.type)).toEqual(['request_open', 'charge', 'refund', 'rate']);
    expect(c.body.transactions[0]).toEqual({
      txId: expect.any(String),
      height: expect.any(Number),
      index: 0,
      opIndex: 0,
      type: 'request_open',
    });
    for (const party of ['alice', 'op-fr', 'op-de']) {
      const l = await get(env, `/v1/contracts?party=${party}`);
      expect(l.body.items.map((x: J) => x.id)).toEqual([contractId]);
      expect(l.body.next).toBeNull();
    }
    expect((await get(env, '/v1/contracts?party=bob')).body).toEqual({ items: [], next: null });
    expectError(await get(env, `/v1/contracts/${'ef'.repeat(32)}`), 404, 'NOT_FOUND');
    expectError(await get(env, '/v1/contracts'), 400, 'BAD_REQUEST');
    expectError(await get(env, '/v1/contracts?party=alice&limit=-3'), 400, 'BAD_REQUEST');
  });

  it('GET /v1/demands/:id, ratings', async () => {
    const d = await get(env, `/v1/demands/${demandId}`);
    expect(d.status).toBe(200);
    expect(d.body).toMatchObject({
      id: demandId,
      subscriber: 'bob',
      countries: ['FR'],
      maxPrice: String(9n * UNIT),
      status: 'open',
    });
    expectError(await get(env, `/v1/demands/${'12'.repeat(32)}`), 404, 'NOT_FOUND');

    const r = await get(env, '/v1/operators/op-de/rating');
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({
      operator: 'op-de',
      ratingCount: 1,
      closed: 1,
      badService: 0,
      contracts: 1,
    });
    expect(r.body.ratingBps).toBeGreaterThan(7000);
    expect(r.body.service).toMatch(/^(new|serving|unproven|failing)$/);
    expect(r.body.serviceBps).toBe(10_000);
    // The measured 30-day service window (docs/RATING.md): op-de provisioned its one Request.
    expect(r.body).toMatchObject({ opened30d: 1, provisioned30d: 1, failed30d: 0, servedShareBps: 10_000 });
    expect(typeof r.body.meanProvisionMs30d).toBe('number');
    expectError(await get(env, '/v1/operators/nobody/rating'), 404, 'ACCOUNT_UNKNOWN');
    const all = await get(env, '/v1/ratings');
    expect(all.body.items.map((x: J) => x.operator)).toEqual(['op-de', 'op-fr']);
  });

  it('GET /v1/events with cursors', async () => {
    const first = await get(env, '/v1/events?limit=3');
    expect(first.status).toBe(200);
    expect(first.body.items).toHaveLength(3);
    expect(first.body.items[0]).toMatchObject({
      cursor: '1:0',
      height: 1,
      event: { type: 'sdr_issued', amount: String(50n * UNIT) },
    });
    expect(first.body.next).toBe(first.body.items[2].cursor);
    const all = (await get(env, '/v1/events?limit=1000')).body.items as J[];
    const rest = await get(env, `/v1/events?cursor=${first.body.next}&limit=1000`);
    expect([...first.body.items, ...rest.body.items]).toEqual(all);
    const end = await get(env, `/v1/events?cursor=${all.at(-1)!.cursor}`);
    expect(end.body).toEqual({ items: [], next: all.at(-1)!.cursor });
    expect(all.some((e) => e.txId === null && e.event.type === 'fees_paid')).toBe(true);
    expectError(await get(env, '/v1/events?cursor=abc'), 400, 'BAD_REQUEST');
    expectError(await get(env, '/v1/events?limit=5000'), 400, 'BAD_REQUEST');
  });

  it('unknown routes answer NOT_FOUND; CORS preflight', async () => {
    expectError(await get(env, '/v1/nothing'), 404, 'NOT_FOUND');
    expectError(await req(env, 'DELETE', '/v1/status'), 404, 'NOT_FOUND');
    const pre = await fetch(`${env.api.url}/v1/tx`, { method: 'OPTIONS' });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-origin')).toBe('*');
  });

  it('GET /openapi.json is a valid OpenAPI 3 document with every route', async () => {
    const r = await get(env, '/openapi.json');
    expect(r.status).toBe(200);
    expect(r.body.openapi).toBe('3.0.3');
    expect(r.body.info.title).toBe('roamchain Web-API');
    const v = new Validator();
    const res = await v.validate(r.body);
    expect(res.errors ?? [], JSON.stringify(res.errors)).toEqual([]);
    expect(res.valid).toBe(true);
    const paths = Object.keys(r.body.paths);
    for (const p of [
      '/healthz',
      '/metrics',
      '/v1/status',
      '/v1/params',
      '/v1/tx',
      '/v1/tx/{id}',
      '/v1/blocks/{ref}',
      '/v1/blocks',
      '/v1/accounts/{name}',
      '/v1/offers',
      '/v1/offers/rank',
      '/v1/offers/{id}',
      '/v1/contracts/{id}',
      '/v1/contracts',
      '/v1/demands/{id}',
      '/v1/operators/{name}/rating',
      '/v1/ratings',
      '/v1/events',
      '/v1/ws',
    ]) {
      expect(paths, p).toContain(p);
    }
    expect(r.body.paths['/v1/tx'].post.responses['202']).toBeDefined();
  });

  it('GET /metrics', async () => {
    const res = await fetch(`${env.api.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    const text = await res.text();
    const value = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1]);
    expect(value('roamchain_height')).toBe(env.node.height);
    expect(value('roamchain_finalized_height')).toBe(env.node.height);
    expect(value('roamchain_mempool_size')).toBe(0);
    expect(value('roamchain_transactions_total')).toBeGreaterThanOrEqual(10);
    expect(value('roamchain_block_apply_seconds_count')).toBe(env.node.height);
    expect(value('roamchain_blocks_total')).toBe(env.node.height);
    expect(value('roamchain_tps')).toBeGreaterThan(0);
    expect(text).toMatch(
      /roamchain_api_request_seconds_count\{method="GET",route="\/v1\/offers",status="200"\} \d+/,
    );
    expect(text).toMatch(
      /roamchain_api_request_seconds_count\{method="GET",route="unmatched",status="404"\} \d+/,
    );
  });
});

describe('createApi options', () => {
  it('serves a built web app from staticDir, with index.html for app routes; takes a pino logger', async () => {
    const web = mkdtempSync(join(tmpdir(), 'rc-web-'));
    dirs.push(web);
    writeFileSync(join(web, 'index.html'), '<!doctype html><title>roamchain</title>');
    writeFileSync(join(web, 'app.js'), 'console.log(1)');
    const env = await start({ staticDir: web, logger: pino({ level: 'silent' }) });
    try {
      const html = (p: string) => fetch(`${env.api.url}${p}`, { headers: { accept: 'text/html' } });
      const root = await html('/');
      expect(root.status).toBe(200);
      expect(await root.text()).toContain('<title>roamchain</title>');
      const js = await fetch(`${env.api.url}/app.js`);
      expect(js.status).toBe(200);
      expect(js.headers.get('content-type')).toContain('javascript');
      const page = await html('/wallet/alice');
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toContain('text/html');
      expectError(await get(env, '/v1/nothing'), 404, 'NOT_FOUND');
      expectError(await get(env, '/missing.css'), 404, 'NOT_FOUND');
      expect((await get(env, '/v1/status')).status).toBe(200);
    } finally {
      await stop(env);
    }
  });

  it('refuses a port in use with a clear error and leaves nothing open', async () => {
    const env = await start();
    try {
      const port = Number(new URL(env.api.url).port);
      await expect(createApi(env.node, { port })).rejects.toThrow(/EADDRINUSE|address already in use/);
    } finally {
      await stop(env);
    }
  });
});

describe('WebSocket /v1/ws', () => {
  it('pushes blocks and filtered events; a reconnect with the last cursor gets exactly the missed events', async () => {
    const env = await start();
    try {
      const transfer = (from: string, to: string, amount: bigint): SignedTx =>
        signed(env, [{ type: 'transfer', from, to, token: 'UMT', amount, memo: new Uint8Array() }], [from]);
      const c = await Client.connect(env);
      c.send({ op: 'subscribe', topic: 'blocks' });
      c.send({ op: 'subscribe', topic: 'events', account: 'bob' });
      await c.until((x) => x.messages.filter((m) => m.type === 'subscribed').length === 2);
      const subscribed = c.messages.find((m) => m.topic === 'events')!;
      expect(subscribed.cursor).toBe('0:0');

      await env.node.submit(encodeTx(transfer('op-de', 'bob', 1n)));
      await env.node.submit(encodeTx(transfer('op-fr', 'alice', 2n)));
      const b1 = await env.node.produceBlock();
      await c.until((x) => x.events().length === 1 && x.messages.some((m) => m.type === 'block'));
      expect(c.messages.find((m) => m.type === 'block')).toEqual({
        type: 'block',
        height: b1.height,
        id: b1.id,
        time: Number(b1.block.header.time),
        txCount: 2,
      });
      expect(c.events()[0]).toMatchObject({
        type: 'event',
        cursor: '1:0',
        height: 1,
        txId: b1.envelopes[0]!.idHex,
      });
      expect(c.events()[0]!.event).toEqual({
        type: 'transfer',
        from: 'op-de',
        to: 'bob',
        token: 'UMT',
        amount: '1',
      });
      const last = c.events().at(-1)!.cursor as string;
      await c.close();

      // While disconnected: more blocks, some for bob, some not.
      for (let i = 0; i < 4; i++) {
        await env.node.submit(encodeTx(transfer('op-de', 'bob', BigInt(10 + i))));
        await env.node.submit(encodeTx(transfer('op-fr', 'alice', BigInt(20 + i))));
        if (i % 2 === 0) await env.node.submit(encodeTx(transfer('bob', 'alice', BigInt(30 + i))));
        await env.node.produceBlock();
      }
      const all = (await get(env, '/v1/events?limit=1000')).body.items as J[];
      const missed = all.filter(
        (e) =>
          Number(e.cursor.split(':')[0]) > 1 &&
          (e.event.from === 'bob' || e.event.to === 'bob' || e.event.payer === 'bob'),
      );
      expect(missed).toHaveLength(6);

      const c2 = await Client.connect(env);
      c2.send({ op: 'subscribe', topic: 'events', account: 'bob', cursor: last });
      await c2.until((x) => x.events().length >= missed.length);
      expect(c2.messages[0]).toEqual({ type: 'subscribed', topic: 'events', cursor: last });
      // then live again
      await env.node.submit(encodeTx(transfer('op-de', 'bob', 99n)));
      const b6 = await env.node.produceBlock();
      await c2.until((x) => x.events().length >= missed.length + 1);
      await new Promise((r) => setTimeout(r, 100));
      const got = c2.events().map(({ type: _t, ...e }) => e);
      expect(got.slice(0, missed.length)).toEqual(missed);
      expect(got).toHaveLength(missed.length + 1);
      expect(got.at(-1)).toMatchObject({ height: b6.height, event: { to: 'bob', amount: '99' } });

      // filter by contract matches nothing here; a bad message gets an error
      c2.send({ op: 'subscribe', topic: 'events', contract: 'nothex' });
      c2.send('not json');
      c2.send({ op: 'ping' });
      await c2.until(
        (x) =>
          x.messages.filter((m) => m.type === 'error').length === 2 &&
          x.messages.some((m) => m.type === 'pong'),
      );
      expect(c2.messages.filter((m) => m.type === 'error').every((m) => m.code === 'BAD_REQUEST')).toBe(true);
      await c2.close();
    } finally {
      await stop(env);
    }
  });

  it('handover: blocks committed during every replay page arrive exactly once', async () => {
    let inject = 0;
    let tail = false;
    let calls = 0;
    let node!: Node;
    let keys!: Map<string, AccountKeys>;
    const block = async (amount: bigint) => {
      const st = node.status();
      const tx = signTx(
        {
          chainId: node.chainId,
          refBlockNum: st.height,
          refBlockPrefix: refPrefixOf(hexToBytes(st.headId)),
          expiration: BigInt(Date.now() + 60_000),
          ops: [{ type: 'transfer', from: 'op-de', to: 'bob', token: 'UMT', amount, memo: new Uint8Array() }],
        },
        { 'op-de': keys.get('op-de')!.signing.secretKey },
      );
      await node.submit(encodeTx(tx));
      await node.produceBlock();
    };
    const env = await start({
      replayPageSize: 3,
      wrap: (n) => {
        node = n;
        return delegate(n, {
          async eventsSince(c, l) {
            if (inject === 0) {
              const page = await n.eventsSince(c, l);
              if (tail && page.length < l) {
                // the replay caught up: a block committed now reaches it only through the live buffer
                tail = false;
                await block(4000n);
              }
              return page;
            }
            inject--;
            calls++;
            if (calls % 2 === 0) {
              // committed (and emitted) before the page is read: in the store and in the live buffer
              await block(1000n + BigInt(calls));
              return n.eventsSince(c, l);
            }
            // committed after the page was read: for the last page, only in the live buffer
            const page = await n.eventsSince(c, l);
            await block(1000n + BigInt(calls));
            return page;
          },
        });
      },
    });
    keys = env.keys;
    try {
      for (let i = 1; i <= 6; i++) await block(BigInt(i));
      const c = await Client.connect(env);
      inject = 9;
      tail = true;
      c.send({ op: 'subscribe', topic: 'events', cursor: '1:0' });
      await c.until(() => inject === 0 && !tail);
      await block(5000n);
      const stored = (await node.eventsSince('1:0', 10_000)).map((e) => e.cursor);
      expect(stored.length).toBeGreaterThan(20);
      await c.until((x) => x.events().length >= stored.length);
      await new Promise((r) => setTimeout(r, 100));
      expect(c.events().map((e) => e.cursor)).toEqual(stored);
      expect(calls).toBe(9);
      await c.close();
    } finally {
      await stop(env);
    }
  });

  it('replay hands over to live without loss or duplicates while blocks keep coming', async () => {
    const env = await start({ blockIntervalMs: 5 });
    try {
      const keysOf = (n: string) => ({ [n]: env.keys.get(n)!.signing.secretKey });
      let n = 0;
      const pump = async (count: number) => {
        for (let i = 0; i < count; i++) {
          const st = env.node.status();
          const from = i % 2 === 0 ? 'op-de' : 'op-fr';
          const tx = signTx(
            {
              chainId: env.node.chainId,
              refBlockNum: st.height,
              refBlockPrefix: refPrefixOf(hexToBytes(st.headId)),
              expiration: BigInt(Date.now() + 60_000),
              ops: [
                {
                  type: 'transfer',
                  from,
                  to: 'bob',
                  token: 'UMT',
                  amount: BigInt(++n),
                  memo: new Uint8Array(),
                },
              ],
            },
            keysOf(from),
          );
          await env.node.submit(encodeTx(tx));
          if (i % 7 === 0) await new Promise((r) => setTimeout(r, 3));
        }
      };
      env.node.start();
      await pump(300);
      // Start a replay from the beginning while the chain keeps growing.
      const c = await Client.connect(env);
      c.send({ op: 'subscribe', topic: 'events', cursor: '0:0' });
      await pump(300);
      await new Promise((r) => setTimeout(r, 100));
      // Let the mempool drain, then compare with the store.
      for (let i = 0; i < 200 && env.node.status().mempool > 0; i++)
        await new Promise((r) => setTimeout(r, 20));
      await new Promise((r) => setTimeout(r, 100));
      const stored = await env.node.eventsSince(null, 100_000);
      await c.until((x) => x.events().length >= stored.length, 20_000);
      await new Promise((r) => setTimeout(r, 200));
      const cursors = c.events().map((e) => e.cursor as string);
      expect(new Set(cursors).size).toBe(cursors.length);
      expect(cursors.slice(0, stored.length)).toEqual(stored.map((e) => e.cursor));
      expect(c.events().filter((e) => e.event.type === 'transfer')).toHaveLength(600);
      await c.close();
    } finally {
      await stop(env);
    }
  });
});
