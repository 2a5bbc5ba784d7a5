/**
 * The OpenAPI document (`GET /openapi.json`) against a golden file: paths in order, their schemas,
 * documented error codes, tags. The routes are Fastify plugins (src/api/routes/); how they are
 * split must not change what the API documents. After an intended change to a route:
 * `UPDATE_GOLDEN=1 npx vitest run packages/node/test/openapi-golden.test.ts`.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UNIT } from '@roamchain/protocol';
import { buildGenesis } from '@roamchain/state';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Api, createApi } from '../src/api/server.js';
import { Node } from '../src/index.js';

const FILE = join(dirname(fileURLToPath(import.meta.url)), 'golden', 'openapi.json');

let dir = '';
let node: Node;
let api: Api;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'rc-openapi-'));
  const { genesis, keys } = buildGenesis({
    accounts: [{ name: 'node-1', roles: ['node_owner'] }],
    umt: { 'node-1': 1000n * UNIT },
    validators: ['node-1'],
  });
  node = await Node.open({
    dataDir: dir,
    genesis,
    producer: { account: 'node-1', secretKey: keys.get('node-1')!.signing.secretKey },
  });
  api = await createApi(node, { port: 0, indexer: false });
});

afterAll(async () => {
  await api?.close();
  await node?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('OpenAPI golden', () => {
  it('GET /openapi.json is the recorded document, byte for byte', async () => {
    const res = await fetch(`${api.url}/openapi.json`);
    expect(res.status).toBe(200);
    const text = `${JSON.stringify(await res.json(), null, 2)}\n`;
    if (process.env.UPDATE_GOLDEN === '1') writeFileSync(FILE, text);
    expect(existsSync(FILE), `${FILE} missing: run with UPDATE_GOLDEN=1 once`).toBe(true);
    expect(text).toBe(readFileSync(FILE, 'utf8'));
  });
});
