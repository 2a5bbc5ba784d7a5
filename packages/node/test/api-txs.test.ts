/**
 * The binary batch route `POST /v1/txs` on a real node and a real Fastify server (127.0.0.1):
 * one result per transaction in order, malformed bodies admit nothing, a full mempool answers
 * MEMPOOL_FULL (503) with Retry-After on both submission routes.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  bytesToHex,
  encodeTx,
  encodeTxBatch,
  hexToBytes,
  refPrefixOf,
  signTx,
  TX_BATCH_MAX_BYTES,
  UNIT,
} from '@roamchain/protocol';
import { type AccountKeys, buildGenesis } from '@roamchain/state';
import { Validator } from '@seriousme/openapi-schema-validator';
import { afterEach, describe, expect, it } from 'vitest';
import { type Api, createApi } from '../src/api/server.js';
import { Node } from '../src/index.js';
import type { MempoolLimits } from '../src/mempool.js';

// biome-ignore lint/suspicious/noExplicitAny: answers are checked field by field
type J = Record<string, any>;

const open: { node: Node; api: Api; dir: string }[] = [];
afterEach(async () => {
  for (const e of open.splice(0)) {
    await e.api.close();
    await e.node.close();
    rmSync(e.dir, { recursive: true, force: true });
  }
});

async function start(mempool: Partial<MempoolLimits> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'rc-txs-'));
  const { genesis, keys } = buildGenesis({
    accounts: [
      { name: 'node-1', roles: ['node_owner'] },
      { name: 'op-de', roles: ['operator'] },
      { name: 'bob' },
    ],
    umt: { 'op-de': 1000n * UNIT, bob: 10n * UNIT },
    validators: ['node-1'],
  });
  // No consensus driver is started: blocks come only from produceBlock, so the mempool stays put.
  const node = await Node.open({
    dataDir: dir,
    genesis,
    producer: { account: 'node-1', secretKey: keys.get('node-1')!.signing.secretKey },
    mempool,
  });
  const api = await createApi(node, { port: 0 });
  open.push({ node, api, dir });
  return { node, api, keys };
}

function transfer(
  node: Node,
  keys: Map<string, AccountKeys>,
  from: string,
  amount: bigint,
  opts: { key?: string } = {},
): Uint8Array {
  const st = node.status();
  return encodeTx(
    signTx(
      {
        chainId: node.chainId,
        refBlockNum: st.height,
        refBlockPrefix: refPrefixOf(hexToBytes(st.headId)),
        expiration: BigInt(Date.now() + 60_000),
        ops: [
          {
            type: 'transfer',
            from,
            to: from === 'bob' ? 'op-de' : 'bob',
            token: 'UMT',
            amount,
            memo: new Uint8Array(),
          },
        ],
      },
      { [from]: keys.get(opts.key ?? from)!.signing.secretKey },
    ),
  );
}

async function post(api: Api, body: Uint8Array | string, type = 'application/octet-stream') {
  const res = await fetch(`${api.url}/v1/txs`, {
    method: 'POST',
    headers: { 'content-type': type },
    body: typeof body === 'string' ? body : new Blob([body as Uint8Array<ArrayBuffer>]),
  });
  return { status: res.status, retryAfter: res.headers.get('retry-after'), body: (await res.json()) as J };
}

describe('POST /v1/txs (binary batch)', () => {
  it('answers one result per transaction in order; good ones are admitted and included', async () => {
    const { node, api, keys } = await start();
    const a = transfer(node, keys, 'op-de', 1n);
    const b = transfer(node, keys, 'bob', 2n);
    const forged = transfer(node, keys, 'bob', 3n, { key: 'op-de' });
    const garbage = new Uint8Array([1, 2, 3]);
    const r = await post(api, encodeTxBatch([a, forged, a, garbage, b]));
    expect(r.status).toBe(200);
    expect(r.retryAfter).toBeNull();
    const res = r.body.results as J[];
    expect(res.map((x) => (x.ok ? 'ok' : x.code))).toEqual([
      'ok',
      'SIG_INVALID',
      'TX_DUPLICATE',
      res[3]!.code,
      'ok',
    ]);
    expect(res[3]!.ok).toBe(false);
    expect(res[3]!.code).toMatch(/^CODEC_/);
    expect(typeof res[1]!.message).toBe('string');
    expect(node.status().mempool).toBe(2);
    await node.produceBlock();
    for (const x of [res[0]!, res[4]!]) {
      const s = (await (await fetch(`${api.url}/v1/tx/${x.txId}`)).json()) as J;
      expect(s.status).toBe('included');
    }
  });

  it('a malformed body admits nothing and gets its typed error', async () => {
    const { node, api, keys } = await start();
    const a = transfer(node, keys, 'op-de', 1n);
    const good = encodeTxBatch([a]);
    const cases: [Uint8Array | string, string, number, string][] = [
      [new Uint8Array([...good, 0]), 'application/octet-stream', 400, 'CODEC_TRAILING'],
      [good.subarray(0, good.length - 1), 'application/octet-stream', 400, 'CODEC_TRUNCATED'],
      [new Uint8Array([0, 0]), 'application/octet-stream', 400, 'CODEC_BAD_VALUE'],
      // An element longer than the chain's maxTxBytes (32 KiB by default).
      [encodeTxBatch([new Uint8Array(40_000)], 65_536), 'application/octet-stream', 413, 'CODEC_TOO_LARGE'],
      // A count above the most a batch may hold.
      [new Uint8Array([0xff, 0xff]), 'application/octet-stream', 413, 'CODEC_TOO_LARGE'],
      // A body above TX_BATCH_MAX_BYTES is refused before it is read to the end.
      [new Uint8Array(TX_BATCH_MAX_BYTES + 1), 'application/octet-stream', 413, 'CODEC_TOO_LARGE'],
      [bytesToHex(good), 'text/plain', 415, 'UNSUPPORTED_MEDIA_TYPE'],
    ];
    for (const [body, type, status, code] of cases) {
      const r = await post(api, body, type);
      expect({ status: r.status, code: r.body.code }, `${type} ${body.length}`).toEqual({ status, code });
    }
    expect(node.status().mempool).toBe(0);
  });

  it('a full mempool: MEMPOOL_FULL results with Retry-After, 503 when nothing fit, on both routes', async () => {
    const { node, api, keys } = await start({ maxTotal: 2 });
    const txs = [1n, 2n, 3n].map((n) => transfer(node, keys, 'op-de', n));
    const r = await post(api, encodeTxBatch(txs));
    expect(r.status).toBe(200);
    expect(r.retryAfter).toBe('1');
    expect(r.body.results.map((x: J) => (x.ok ? 'ok' : x.code))).toEqual(['ok', 'ok', 'MEMPOOL_FULL']);

    const more = [4n, 5n].map((n) => transfer(node, keys, 'op-de', n));
    const full = await post(api, encodeTxBatch(more));
    expect({ status: full.status, code: full.body.code, retryAfter: full.retryAfter }).toEqual({
      status: 503,
      code: 'MEMPOOL_FULL',
      retryAfter: '1',
    });
    const json = await fetch(`${api.url}/v1/tx`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ tx: bytesToHex(more[0]!) }),
    });
    expect(json.status).toBe(503);
    expect(json.headers.get('retry-after')).toBe('1');
    expect(((await json.json()) as J).code).toBe('MEMPOOL_FULL');
    expect(node.status().mempool).toBe(2);

    // Once a block took them, there is room again.
    await node.produceBlock();
    const again = await post(api, encodeTxBatch(more));
    expect(again.body.results.map((x: J) => x.ok)).toEqual([true, true]);
  });

  it('a per-account cap answers MEMPOOL_ACCOUNT_LIMIT (429) with Retry-After', async () => {
    const { node, api, keys } = await start({ maxPerAccount: 1 });
    const r = await post(
      api,
      encodeTxBatch([transfer(node, keys, 'op-de', 1n), transfer(node, keys, 'op-de', 2n)]),
    );
    expect(r.body.results.map((x: J) => (x.ok ? 'ok' : x.code))).toEqual(['ok', 'MEMPOOL_ACCOUNT_LIMIT']);
    expect(r.retryAfter).toBe('1');
    const json = await fetch(`${api.url}/v1/tx`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ tx: bytesToHex(transfer(node, keys, 'op-de', 3n)) }),
    });
    expect(json.status).toBe(429);
    expect(json.headers.get('retry-after')).toBe('1');
  });

  it('is described in the OpenAPI document with its binary body', async () => {
    const { api } = await start();
    const doc = (await (await fetch(`${api.url}/openapi.json`)).json()) as J;
    const res = await new Validator().validate(doc);
    expect(res.errors ?? [], JSON.stringify(res.errors)).toEqual([]);
    const op = doc.paths['/v1/txs'].post;
    expect(op.requestBody.content['application/octet-stream'].schema.format).toBe('binary');
    expect(op.responses['200']).toBeDefined();
  });
});
