/**
 * One error vocabulary: walks the OpenAPI document of a real node on 127.0.0.1 and, for every route
 * that documents error codes, sends representative bad requests and checks that each answer's
 * status is documented for that route and its code is one the document lists for that status.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bytesToHex, encodeTx, hexToBytes, refPrefixOf, signTx, UNIT } from '@roamchain/protocol';
import { buildGenesis } from '@roamchain/state';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Api, createApi } from '../src/api/server.js';
import { Node } from '../src/index.js';

// biome-ignore lint/suspicious/noExplicitAny: the OpenAPI document is walked field by field
type J = Record<string, any>;
interface Bad {
  path: string;
  body?: string;
  type?: string;
  /** The code this request must get (also checked to be documented). */
  code: string;
}

let dir = '';
let node: Node;
let api: Api;
let unknownSigner = '';

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'rc-api-errors-'));
  const { genesis, keys } = buildGenesis({
    accounts: [
      { name: 'node-1', roles: ['node_owner'] },
      { name: 'op-de', roles: ['operator'] },
    ],
    umt: { 'op-de': 1000n * UNIT },
    validators: ['node-1'],
  });
  node = await Node.open({
    dataDir: dir,
    genesis,
    producer: { account: 'node-1', secretKey: keys.get('node-1')!.signing.secretKey },
  });
  api = await createApi(node, { port: 0 });
  const st = node.status();
  // A transfer from an account that does not exist (signed by a key of its own).
  const ghost = buildGenesis({ accounts: [{ name: 'ghost', roles: [] }] }).keys.get('ghost')!;
  unknownSigner = bytesToHex(
    encodeTx(
      signTx(
        {
          chainId: node.chainId,
          refBlockNum: st.height,
          refBlockPrefix: refPrefixOf(hexToBytes(st.headId)),
          expiration: BigInt(Date.now() + 60_000),
          ops: [{ type: 'transfer', from: 'ghost', to: 'op-de', token: 'UMT', amount: 1n, memo: '' }],
        } as never,
        { ghost: ghost.signing.secretKey },
      ),
    ),
  );
});

afterAll(async () => {
  await api?.close();
  await node?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const id = 'ab'.repeat(32);
/** Representative bad requests per documented route ("METHOD /openapi/path"). */
const BAD: Record<string, () => Bad[]> = {
  'POST /v1/tx': () => [
    { path: '/v1/tx', body: JSON.stringify({ tx: unknownSigner }), code: 'ACCOUNT_UNKNOWN' },
    // Hex in either case: the uppercase transaction decodes and is judged the same.
    { path: '/v1/tx', body: JSON.stringify({ tx: unknownSigner.toUpperCase() }), code: 'ACCOUNT_UNKNOWN' },
    { path: '/v1/tx', body: 'ab', type: 'text/plain', code: 'UNSUPPORTED_MEDIA_TYPE' },
    { path: '/v1/tx', body: JSON.stringify({ tx: '0102' }), code: 'CODEC_TRUNCATED' },
    { path: '/v1/tx', body: '{}', code: 'BAD_REQUEST' },
  ],
  'POST /v1/txs': () => [
    { path: '/v1/txs', body: JSON.stringify({ tx: unknownSigner }), code: 'UNSUPPORTED_MEDIA_TYPE' },
    { path: '/v1/txs', body: 'ab', type: 'text/plain', code: 'UNSUPPORTED_MEDIA_TYPE' },
  ],
  'GET /v1/tx/{id}': () => [
    { path: `/v1/tx/${id}`, code: 'NOT_FOUND' },
    { path: '/v1/tx/zz', code: 'BAD_REQUEST' },
  ],
  'GET /v1/blocks/{ref}': () => [
    { path: '/v1/blocks/99999', code: 'NOT_FOUND' },
    { path: '/v1/blocks/-1', code: 'BAD_REQUEST' },
  ],
  'GET /v1/accounts/{name}': () => [
    { path: '/v1/accounts/nobody', code: 'ACCOUNT_UNKNOWN' },
    { path: '/v1/accounts/No%20Body', code: 'BAD_REQUEST' },
  ],
  'GET /v1/blocks': () => [{ path: '/v1/blocks?limit=0', code: 'BAD_REQUEST' }],
  'GET /v1/events': () => [{ path: '/v1/events?limit=abc', code: 'BAD_REQUEST' }],
  'GET /v1/offers': () => [{ path: '/v1/offers?limit=501', code: 'BAD_REQUEST' }],
  'GET /v1/offers/rank': () => [{ path: '/v1/offers/rank?limit=0', code: 'BAD_REQUEST' }],
  'GET /v1/contracts': () => [{ path: '/v1/contracts', code: 'BAD_REQUEST' }],
  'GET /v1/governance/proposals': () => [
    { path: '/v1/governance/proposals?status=maybe', code: 'BAD_REQUEST' },
  ],
  'GET /v1/prices/history': () => [{ path: '/v1/prices/history?days=0', code: 'BAD_REQUEST' }],
  'GET /v1/offers/{id}': () => [{ path: `/v1/offers/${id}`, code: 'NOT_FOUND' }],
  'GET /v1/contracts/{id}': () => [
    { path: `/v1/contracts/${id}`, code: 'NOT_FOUND' },
    { path: '/v1/contracts/xyz', code: 'BAD_REQUEST' },
  ],
  'GET /v1/demands/{id}': () => [{ path: `/v1/demands/${id}`, code: 'NOT_FOUND' }],
  'GET /v1/identity/{subscriber}': () => [{ path: '/v1/identity/op-de', code: 'IDENTITY_UNKNOWN' }],
  'GET /v1/operators/{name}/rating': () => [{ path: '/v1/operators/nobody/rating', code: 'ACCOUNT_UNKNOWN' }],
  'GET /v1/governance/proposals/{id}': () => [
    { path: `/v1/governance/proposals/${id}`, code: 'GOV_UNKNOWN' },
    { path: '/v1/governance/proposals/nope', code: 'BAD_REQUEST' },
  ],
  'GET /v1/validators/{account}': () => [{ path: '/v1/validators/op-de', code: 'VALIDATOR_UNKNOWN' }],
  'GET /v1/mininodes': () => [{ path: '/v1/mininodes?superNode=No%20Body', code: 'BAD_REQUEST' }],
  'GET /v1/mininodes/{id}': () => [
    { path: '/v1/mininodes/nobody', code: 'MINI_UNKNOWN' },
    { path: '/v1/mininodes/No%20Body', code: 'BAD_REQUEST' },
  ],
  'POST /v1/mininodes/attestations': () => [
    {
      path: '/v1/mininodes/attestations',
      body: JSON.stringify({
        attestations: [{ mini: 'op-de', height: '99999', stateRoot: id, signature: id + id }],
      }),
      code: 'MINI_ATTEST_INVALID',
    },
    { path: '/v1/mininodes/attestations', body: '{}', code: 'BAD_REQUEST' },
    { path: '/v1/mininodes/attestations', body: 'ab', type: 'text/plain', code: 'UNSUPPORTED_MEDIA_TYPE' },
  ],
  'GET /v1/lists/transactions': () => [
    { path: '/v1/lists/transactions?limit=0', code: 'LIST_LIMIT_INVALID' },
    { path: '/v1/lists/transactions?before=x', code: 'LIST_CURSOR_INVALID' },
  ],
  'GET /v1/accounts/{name}/transactions': () => [
    { path: '/v1/accounts/nobody/transactions', code: 'ACCOUNT_UNKNOWN' },
    { path: '/v1/accounts/No%20Body/transactions', code: 'BAD_REQUEST' },
    { path: '/v1/accounts/op-de/transactions?before=1', code: 'LIST_CURSOR_INVALID' },
  ],
  'GET /v1/lists/contracts': () => [{ path: '/v1/lists/contracts?limit=101', code: 'LIST_LIMIT_INVALID' }],
  'GET /v1/lists/fees': () => [{ path: '/v1/lists/fees?before=0', code: 'LIST_CURSOR_INVALID' }],
  'GET /v1/lists/accounts': () => [{ path: '/v1/lists/accounts?after=..', code: 'LIST_CURSOR_INVALID' }],
  'GET /v1/lists/validators': () => [{ path: '/v1/lists/validators?limit=x', code: 'LIST_LIMIT_INVALID' }],
};

/** Status → documented codes of one operation (only responses whose `code` has an enum). */
function documented(op: J): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const [status, r] of Object.entries((op.responses ?? {}) as J)) {
    const schema = (r as J).content?.['application/json']?.schema as J | undefined;
    const codes = schema?.properties?.code?.enum as string[] | undefined;
    if (codes) out.set(status, codes);
  }
  return out;
}

describe('one error vocabulary, as documented in /openapi.json', () => {
  it('every route that documents error codes answers them for its bad requests', async () => {
    const doc = (await (await fetch(`${api.url}/openapi.json`)).json()) as J;
    const walked: string[] = [];
    for (const [path, ops] of Object.entries(doc.paths as J)) {
      for (const [method, op] of Object.entries(ops as J)) {
        const codes = documented(op as J);
        const key = `${method.toUpperCase()} ${path}`;
        // A route that takes input (parameters or a body) documents how it refuses bad input.
        const input = ((op as J).parameters?.length ?? 0) > 0 || (op as J).requestBody !== undefined;
        if (input) expect(codes.size, `${key} takes input but documents no error code`).toBeGreaterThan(0);
        if (codes.size === 0) continue;
        const bad = BAD[key];
        expect(bad, `no representative bad request for ${key}`).toBeDefined();
        for (const b of bad!()) {
          const res = await fetch(`${api.url}${b.path}`, {
            method: method.toUpperCase(),
            ...(b.body !== undefined
              ? { headers: { 'content-type': b.type ?? 'application/json' }, body: b.body }
              : {}),
          });
          const body = (await res.json()) as J;
          const what = `${key} ${b.path} ${b.body ?? ''}`;
          expect(body.code, `${what} ${JSON.stringify(body)}`).toBe(b.code);
          expect(codes.get(String(res.status)), `${what}: status ${res.status} not documented`).toContain(
            body.code,
          );
        }
        walked.push(key);
      }
    }
    // Every table entry is a documented route (a renamed route cannot silently escape the check).
    expect(walked.sort()).toEqual(Object.keys(BAD).sort());
  });

  it('an unknown account is ACCOUNT_UNKNOWN on the account route and in transaction admission', async () => {
    const a = (await (await fetch(`${api.url}/v1/accounts/ghost`)).json()) as J;
    const t = (await (
      await fetch(`${api.url}/v1/tx`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ tx: unknownSigner }),
      })
    ).json()) as J;
    expect([a.code, t.code]).toEqual(['ACCOUNT_UNKNOWN', 'ACCOUNT_UNKNOWN']);
    expect(node.status().mempool).toBe(0);
  });

  it('hex ids are accepted in either case (answers are lowercase)', async () => {
    await node.produceBlock();
    const head = node.status().headId;
    const lower = (await (await fetch(`${api.url}/v1/blocks/${head}`)).json()) as J;
    const upper = (await (await fetch(`${api.url}/v1/blocks/${head.toUpperCase()}`)).json()) as J;
    expect(upper.id, JSON.stringify(upper)).toBe(head);
    expect(upper).toEqual(lower);
  });
});
