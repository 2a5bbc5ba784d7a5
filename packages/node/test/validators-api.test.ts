/**
 * GET /v1/validators and /v1/validators/:account against a real node (one validator, manual
 * blocks, a 3-block epoch): the set of the next block with peer ids, every record, typed errors,
 * and a governance-admitted candidate entering the set at the epoch boundary.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  bytesToHex,
  encodeTx,
  generateSigningKey,
  hexToBytes,
  type Operation,
  refPrefixOf,
  sha256,
  signTx,
  UNIT,
  utf8,
} from '@roamchain/protocol';
import { type AccountKeys, buildGenesis } from '@roamchain/state';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Api, createApi } from '../src/api/server.js';
import { Node } from '../src/index.js';

// biome-ignore lint/suspicious/noExplicitAny: answers are checked field by field
type J = Record<string, any>;

const BOND = 10n * UNIT;
const OP_DE_NODE_KEY = generateSigningKey(sha256(utf8('validators-api/op-de/node'))).publicKey;

describe('validators API', () => {
  let dir: string;
  let node: Node;
  let api: Api;
  let keys: Map<string, AccountKeys>;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rc-validators-api-'));
    const built = buildGenesis({
      accounts: [
        { name: 'node-1', roles: ['node_owner'] },
        { name: 'op-de', roles: ['operator'] },
      ],
      umt: { 'op-de': 1000n * UNIT },
      validators: ['node-1'],
      params: { epochLength: 3, minValidatorBond: BOND },
    });
    keys = built.keys;
    node = await Node.open({
      dataDir: dir,
      genesis: built.genesis,
      producer: { account: 'node-1', secretKey: keys.get('node-1')!.signing.secretKey },
    });
    api = await createApi(node, { port: 0 });
  });
  afterAll(async () => {
    await api?.close();
    await node?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function get(path: string): Promise<{ status: number; body: J }> {
    const res = await fetch(`${api.url}${path}`);
    return { status: res.status, body: (await res.json()) as J };
  }

  /** Submits `ops` signed by `signer` and commits them in one block. */
  async function commit(ops: Operation[], signer: string): Promise<void> {
    const st = node.status();
    const tx = signTx(
      {
        chainId: node.chainId,
        refBlockNum: st.height,
        refBlockPrefix: refPrefixOf(hexToBytes(st.headId)),
        expiration: BigInt(Date.now() + 60_000),
        ops,
      },
      { [signer]: keys.get(signer)!.signing.secretKey },
    );
    const res = await fetch(`${api.url}/v1/tx`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ tx: bytesToHex(encodeTx(tx)) }),
    });
    expect(res.status, await res.text()).toBe(202);
    const b = await node.produceBlock();
    expect(b.receipts).toHaveLength(1);
  }

  it('lists the set of the next block with peer ids and every record; one record; typed errors', async () => {
    const r = await get('/v1/validators');
    expect(r.status).toBe(200);
    const nodeKey = bytesToHex(keys.get('node-1')!.signing.publicKey);
    expect(r.body).toMatchObject({ epoch: 0, height: 1 });
    expect(r.body.active).toEqual([
      {
        index: 0,
        account: 'node-1',
        nodeKey,
        bond: BOND.toString(),
        peerId: expect.stringMatching(/^12D3KooW/),
      },
    ]);
    expect(r.body.records).toEqual([
      {
        account: 'node-1',
        nodeKey,
        bond: BOND.toString(),
        status: 'active',
        slashed: '0',
        jailedAt: '0',
        unbonding: '0',
        createdAt: expect.any(String),
        updatedAt: expect.any(String),
      },
    ]);

    const one = await get('/v1/validators/node-1');
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({
      account: 'node-1',
      status: 'active',
      inSet: true,
      index: 0,
      peerId: r.body.active[0].peerId,
      epoch: 0,
      height: 1,
    });

    const unknown = await get('/v1/validators/op-de');
    expect(unknown.status).toBe(404);
    expect(unknown.body).toMatchObject({ code: 'VALIDATOR_UNKNOWN', details: { account: 'op-de' } });
    const bad = await get('/v1/validators/Not_A_Name');
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe('BAD_REQUEST');

    const doc = (await get('/openapi.json')).body;
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/v1/validators', '/v1/validators/{account}']),
    );
  });

  it('shows a candidate at once and an admitted validator in the set from the next epoch', async () => {
    const gov = node.genesis.params.governance;
    await commit(
      [
        {
          type: 'validator_set',
          authority: gov,
          account: 'op-de',
          status: 'candidate',
          nodeKey: OP_DE_NODE_KEY,
        },
      ],
      gov,
    ); // block 1
    let cand = await get('/v1/validators/op-de');
    expect(cand.body).toMatchObject({ status: 'candidate', bond: '0', inSet: false, index: null, height: 2 });
    expect(cand.body.nodeKey).toBe(bytesToHex(OP_DE_NODE_KEY));

    await commit([{ type: 'validator_bond', account: 'op-de', amount: BOND }], 'op-de'); // block 2
    await commit([{ type: 'validator_set', authority: gov, account: 'op-de', status: 'active' }], gov); // block 3 ends epoch 0

    const r = await get('/v1/validators');
    expect(r.body).toMatchObject({ epoch: 1, height: 4 });
    expect(r.body.active.map((m: J) => [m.index, m.account, m.bond])).toEqual([
      [0, 'node-1', BOND.toString()],
      [1, 'op-de', BOND.toString()],
    ]);
    expect(r.body.records.map((v: J) => [v.account, v.status])).toEqual([
      ['node-1', 'active'],
      ['op-de', 'active'],
    ]);
    cand = await get('/v1/validators/op-de');
    expect(cand.body).toMatchObject({ status: 'active', inSet: true, index: 1, epoch: 1, height: 4 });
  });
});
