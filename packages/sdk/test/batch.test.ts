/**
 * `client.submitTxs`: the binary batch route against a real node (results in order, typed codes,
 * admitted transactions get included), and against a fake fetch: splitting by count and by bytes,
 * a 503 MEMPOOL_FULL or 429 RATE_LIMITED batch turned into per-transaction results with Retry-After.
 */
import {
  bytesToHex,
  decodeTxBatch,
  encodeTx,
  hexToBytes,
  refPrefixOf,
  signTx,
  TX_BATCH_MAX_BYTES,
  TX_BATCH_MAX_TXS,
} from '@roamchain/protocol';
import { derivedKeys } from '@roamchain/state';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RoamApiError, RoamClient } from '../src/index.js';
import { ACCOUNTS as A, startTestNode, type TestNode } from './testnode.js';

describe('client.submitTxs against a real node', () => {
  let tn: TestNode;
  let c: RoamClient;
  beforeAll(async () => {
    tn = await startTestNode();
    c = new RoamClient({ url: tn.url });
  });
  afterAll(async () => {
    await tn?.close();
  });

  it('one typed result per transaction, in order; the admitted ones are included', async () => {
    const st = await c.status();
    const mk = (amount: bigint, signer: string = A.visited) =>
      encodeTx(
        signTx(
          {
            chainId: hexToBytes(st.chainId),
            refBlockNum: st.height,
            refBlockPrefix: refPrefixOf(hexToBytes(st.headId)),
            expiration: BigInt(st.time + 60_000),
            ops: [
              {
                type: 'transfer',
                from: A.visited,
                to: A.stranger,
                token: 'UMT',
                amount,
                memo: new Uint8Array(),
              },
            ],
          },
          { [A.visited]: derivedKeys(signer).signing.secretKey },
        ),
      );
    const good = Array.from({ length: 20 }, (_, i) => mk(BigInt(i + 1)));
    const forged = mk(999n, A.stranger);
    const results = await c.submitTxs([...good.slice(0, 10), forged, good[0]!, ...good.slice(10)]);
    expect(results).toHaveLength(22);
    expect(results.map((r) => (r.ok ? 'ok' : r.code))).toEqual([
      ...Array(10).fill('ok'),
      'SIG_INVALID',
      'TX_DUPLICATE',
      ...Array(10).fill('ok'),
    ]);
    const ids = results.flatMap((r) => (r.ok ? [r.txId] : []));
    for (const id of ids) expect((await c.waitForTx(id, 15_000)).status).toBe('included');
  });

  it('a malformed request throws a typed RoamApiError', async () => {
    const err = await c.submitTxs([new Uint8Array(40_000)]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RoamApiError);
    expect((err as RoamApiError).code).toBe('CODEC_TOO_LARGE');
  });
});

describe('client.submitTxs against a fake node', () => {
  /** A fetch that decodes each batch and answers with `answer(batch)`. */
  function fakeFetch(answer: (batch: Uint8Array[], n: number) => Response) {
    const batches: Uint8Array[][] = [];
    const f = async (_url: string, init?: RequestInit) => {
      expect((init?.headers as Record<string, string> | undefined)?.['content-type']).toBe(
        'application/octet-stream',
      );
      const body = new Uint8Array(await new Response(init?.body as BodyInit).arrayBuffer());
      const batch = decodeTxBatch(body, 4 * 1024 * 1024);
      batches.push(batch);
      return answer(batch, batches.length);
    };
    return { f, batches };
  }
  const okAll = (batch: Uint8Array[]) =>
    Response.json({ results: batch.map((t) => ({ ok: true, txId: bytesToHex(t).padEnd(64, '0') })) });

  it('splits by count and by bytes, keeping the order', async () => {
    const { f, batches } = fakeFetch(okAll);
    const c = new RoamClient({ url: 'http://127.0.0.1:1', fetch: f });
    const many = Array.from({ length: TX_BATCH_MAX_TXS + 5 }, (_, i) => new Uint8Array([i & 0xff, i >> 8]));
    const r = await c.submitTxs(many);
    expect(batches.map((b) => b.length)).toEqual([TX_BATCH_MAX_TXS, 5]);
    expect(r.map((x) => (x.ok ? x.txId.slice(0, 4) : '')).slice(-2)).toEqual(
      many.slice(-2).map((t) => bytesToHex(t)),
    );
    batches.length = 0;
    const big = Array.from({ length: 3 }, (_, i) => new Uint8Array(3 * 1024 * 1024).fill(i));
    await c.submitTxs(big);
    expect(batches.map((b) => b.length)).toEqual([2, 1]);
    for (const b of batches)
      expect(b.reduce((s, t) => s + 4 + t.length, 2)).toBeLessThanOrEqual(TX_BATCH_MAX_BYTES);
  });

  it('a batch refused whole for a full mempool gives MEMPOOL_FULL results with retryAfterMs', async () => {
    const { f } = fakeFetch((batch, n) =>
      n === 1
        ? okAll(batch)
        : new Response(JSON.stringify({ code: 'MEMPOOL_FULL', message: 'full', details: {} }), {
            status: 503,
            headers: { 'content-type': 'application/json', 'retry-after': '2' },
          }),
    );
    const c = new RoamClient({ url: 'http://127.0.0.1:1', fetch: f });
    const txs = Array.from({ length: TX_BATCH_MAX_TXS + 2 }, () => new Uint8Array([7]));
    const r = await c.submitTxs(txs);
    expect(r).toHaveLength(txs.length);
    expect(r[0]).toMatchObject({ ok: true });
    expect(r.at(-1)).toEqual({
      ok: false,
      code: 'MEMPOOL_FULL',
      serverCode: 'MEMPOOL_FULL',
      message: 'full',
      retryAfterMs: 2000,
    });
    // A client held off (429 RATE_LIMITED, e.g. after a batch refused mostly ACCOUNT_BUSY): the same.
    const held = new RoamClient({
      url: 'http://127.0.0.1:1',
      fetch: fakeFetch(
        () =>
          new Response(JSON.stringify({ code: 'RATE_LIMITED', message: 'held off', details: {} }), {
            status: 429,
            headers: { 'content-type': 'application/json', 'retry-after': '1' },
          }),
      ).f,
    });
    expect(await held.submitTxs([new Uint8Array([1]), new Uint8Array([2])])).toEqual(
      [1, 2].map(() => ({
        ok: false,
        code: 'RATE_LIMITED',
        serverCode: 'RATE_LIMITED',
        message: 'held off',
        retryAfterMs: 1000,
      })),
    );
    // Unknown codes stay visible; a wrong number of results is an error.
    const odd = new RoamClient({
      url: 'http://127.0.0.1:1',
      fetch: fakeFetch(() => Response.json({ results: [{ ok: false, code: 'NEW_CODE', message: 'x' }] })).f,
    });
    expect(await odd.submitTxs([new Uint8Array([1])])).toEqual([
      { ok: false, code: 'INTERNAL', serverCode: 'NEW_CODE', message: 'x' },
    ]);
    await expect(odd.submitTxs([new Uint8Array([1]), new Uint8Array([2])])).rejects.toMatchObject({
      code: 'INTERNAL',
    });
  });
});
