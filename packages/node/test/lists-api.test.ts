/**
 * The explorer's paginated lists against a real node through the SDK (one validator, manual
 * blocks): transactions and an account's history from the list index (newest first, page by page,
 * nothing skipped or repeated), contracts as they were opened, the fee distribution per block,
 * accounts and validators by name; typed errors for hostile cursors and page sizes; the index
 * catching up from the stored blocks after a restart; the routes in the OpenAPI document.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UNIT } from '@roamchain/protocol';
import {
  accountTransactions,
  allPages,
  listAccounts,
  listContracts,
  listFees,
  listProposals,
  listTransactions,
  listValidators,
  RoamClient,
  signerFromSecret,
} from '@roamchain/sdk';
import { type AccountKeys, buildGenesis } from '@roamchain/state';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Api, createApi } from '../src/api/server.js';
import { Node } from '../src/index.js';

async function codeOf(p: Promise<unknown>): Promise<{ code: string; status: number }> {
  try {
    await p;
  } catch (e) {
    const x = e as { code: string; status: number };
    return { code: x.code, status: x.status };
  }
  throw new Error('expected a rejection');
}

describe('explorer lists API', () => {
  let dir: string;
  let node: Node;
  let api: Api;
  let keys: Map<string, AccountKeys>;
  let client: RoamClient;
  const signer = (n: string) => signerFromSecret(n, keys.get(n)!.signing.secretKey);
  const noWait = { wait: false };
  const sent: string[] = [];

  const genesis = () =>
    buildGenesis({
      accounts: [
        { name: 'node-1', roles: ['node_owner'] },
        { name: 'gate-1', roles: ['gateway'] },
        { name: 'op-home', roles: ['operator'] },
        { name: 'op-visit', roles: ['operator'] },
        { name: 'alice', roles: ['subscriber'], homeOperator: 'op-home' },
        { name: 'bob', roles: ['subscriber'], homeOperator: 'op-home' },
        { name: 'carol', roles: ['subscriber'], homeOperator: 'op-home' },
      ],
      umt: {
        'node-1': 1000n * UNIT,
        'gate-1': 100n * UNIT,
        'op-home': 100n * UNIT,
        'op-visit': 100n * UNIT,
        alice: 100n * UNIT,
        bob: 100n * UNIT,
        carol: 100n * UNIT,
      },
      validators: ['node-1'],
      params: { minValidatorBond: 10n * UNIT },
    });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rc-lists-api-'));
    const built = genesis();
    keys = built.keys;
    node = await Node.open({
      dataDir: dir,
      genesis: built.genesis,
      producer: { account: 'node-1', secretKey: keys.get('node-1')!.signing.secretKey },
    });
    api = await createApi(node, { port: 0 });
    client = new RoamClient({ url: api.url });
    // Seven transfers alice -> bob over three blocks, one bob -> carol, and a contract.
    for (let b = 0; b < 3; b++) {
      for (let i = 0; i < (b === 1 ? 1 : 3); i++) {
        const r = await client.transfer(
          { from: 'alice', to: 'bob', token: 'UMT', amount: BigInt(b * 10 + i + 1) },
          signer('alice'),
          noWait,
        );
        sent.push(r.txId);
      }
      await node.produceBlock();
    }
    sent.push(
      (await client.transfer({ from: 'bob', to: 'carol', token: 'UMT', amount: 5n }, signer('bob'), noWait))
        .txId,
    );
    await node.produceBlock();
    await node.produceBlock(); // an empty block: lists skip it without reading it
  });
  afterAll(async () => {
    await api?.close();
    await node?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('pages through every transaction newest first, each once', async () => {
    const seen: string[] = [];
    let before: string | undefined;
    let pages = 0;
    for (;;) {
      const p = await listTransactions(client, { limit: 3, ...(before ? { before } : {}) });
      pages++;
      expect(p.items.length).toBeLessThanOrEqual(3);
      seen.push(...p.items.map((t) => t.txId));
      if (!p.next) break;
      before = p.next;
    }
    expect(seen).toEqual([...sent].reverse());
    expect(pages).toBe(3);
    const first = (await listTransactions(client, { limit: 1 })).items[0]!;
    expect(first).toMatchObject({ types: ['transfer'], signers: ['bob'], height: node.status().height - 1 });
    expect(BigInt(first.fee)).toBeGreaterThan(0n);
    expect(Number(first.time)).toBeGreaterThan(0);
    // The SDK walks a list for you.
    const all: string[] = [];
    for await (const t of allPages((c) =>
      listTransactions(client, { limit: 4, ...(c ? { before: c } : {}) }),
    ))
      all.push(t.txId);
    expect(all).toEqual(seen);
  });

  it("an account's history: what it signed and what named it, newest first; nobody else's", async () => {
    const bob = await accountTransactions(client, 'bob', { limit: 100 });
    expect(bob.items.map((t) => t.txId)).toEqual([...sent].reverse());
    expect(bob.next).toBeNull();
    const carol = await accountTransactions(client, 'carol');
    expect(carol.items.map((t) => t.txId)).toEqual([sent.at(-1)]);
    const alice1 = await accountTransactions(client, 'alice', { limit: 2 });
    expect(alice1.items.map((t) => t.txId)).toEqual(sent.slice(5, 7).reverse());
    const alice2 = await accountTransactions(client, 'alice', { limit: 100, before: alice1.next! });
    expect(alice2.items.map((t) => t.txId)).toEqual(sent.slice(0, 5).reverse());
    expect(await accountTransactions(client, 'op-visit')).toEqual({ items: [], next: null });
    expect(await codeOf(accountTransactions(client, 'nobody'))).toEqual({
      code: 'ACCOUNT_UNKNOWN',
      status: 404,
    });
  });

  it('lists contracts as opened, with their current state, and each block fee split', async () => {
    const pub = await client.publishOffer(
      {
        operator: 'op-visit',
        terms: {
          title: 'DE 1 GB',
          countries: ['DE'],
          dataBytes: 1_000_000_000n,
          durationSec: 86_400,
          price: 2n * UNIT,
        },
      },
      signer('op-visit'),
      noWait,
    );
    await client.issueSdr(
      { gateway: 'gate-1', to: 'alice', amount: 50n * UNIT, paymentRef: 'r1' },
      signer('gate-1'),
      noWait,
    );
    await node.produceBlock();
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const o = await client.openRequest(
        { issuer: 'op-home', subscriber: 'alice', offer: pub.offerId, deposit: 3n * UNIT },
        [signer('op-home'), signer('alice')],
        noWait,
      );
      ids.push(o.contractId);
      await node.produceBlock();
    }
    const p1 = await listContracts(client, { limit: 2 });
    expect(p1.items.map((c) => c.id)).toEqual([ids[2], ids[1]]);
    expect(p1.items[0]).toMatchObject({ status: 'open', subscriber: 'alice', assignee: 'op-visit' });
    const p2 = await listContracts(client, { limit: 2, before: p1.next! });
    expect(p2.items.map((c) => c.id)).toEqual([ids[0]]);
    expect(p2.next).toBeNull();
    // Fees: one fees_paid row per block with fees; its parts add up to the total.
    const fees = await listFees(client, { limit: 3 });
    expect(fees.items).toHaveLength(3);
    for (const f of fees.items) {
      const e = f.event;
      expect(e.type).toBe('fees_paid');
      expect(BigInt(e.community) + BigInt(e.superNodes) + BigInt(e.miniNodes)).toBe(BigInt(e.total));
    }
    expect(fees.items[0]!.height).toBe(node.status().height);
    const older = await listFees(client, { limit: 100, before: fees.next! });
    expect(older.items.every((f) => f.height < fees.items[2]!.height)).toBe(true);
  });

  it('accounts and validators by name, page by page', async () => {
    const names: string[] = [];
    for await (const a of allPages((c) => listAccounts(client, { limit: 4, ...(c ? { after: c } : {}) })))
      names.push(a.name);
    expect(names).toEqual([...names].sort());
    for (const n of ['alice', 'bob', 'carol', 'gate-1', 'node-1', 'op-home', 'op-visit', 'ndf'])
      expect(names).toContain(n);
    expect(new Set(names).size).toBe(names.length);
    const alice = (await listAccounts(client, { limit: 1, after: 'ali' })).items[0]!;
    expect(alice).toMatchObject({ name: 'alice', roles: ['subscriber'] });
    // The start of a name: the accounts from it on (the explorer's prefix search).
    const ops = await listAccounts(client, { limit: 2, after: 'op' });
    expect(ops.items.map((a) => a.name)).toEqual(['op-home', 'op-visit']);
    const v = await listValidators(client);
    expect(v.items).toEqual([
      expect.objectContaining({
        account: 'node-1',
        status: 'active',
        inSet: true,
        bond: (10n * UNIT).toString(),
      }),
    ]);
    expect(v.next).toBeNull();
  });

  it('proposals page by page, newest first', async () => {
    const deadline = BigInt(Date.now()) + 3_600_000n;
    const ids: string[] = [];
    for (const value of [2n, 3n, 4n]) {
      const r = await client.propose(
        { proposer: 'op-home', action: { kind: 'param', param: 'govMaxSkips', value }, deadline },
        signer('op-home'),
        noWait,
      );
      ids.push(r.proposalId);
      await node.produceBlock();
    }
    const p1 = await listProposals(client, { limit: 2 });
    expect(p1.items.map((p) => p.id)).toEqual([ids[2], ids[1]]);
    const p2 = await listProposals(client, { limit: 2, before: p1.next! });
    expect(p2).toMatchObject({ items: [{ id: ids[0] }], next: null });
    expect(await codeOf(listProposals(client, { before: 'x' }))).toEqual({
      code: 'BAD_REQUEST',
      status: 400,
    });
  });

  it('refuses hostile cursors and page sizes with typed errors, and documents the routes', async () => {
    const bad = async (path: string) => {
      const r = await fetch(`${api.url}${path}`);
      return { status: r.status, code: ((await r.json()) as { code: string }).code };
    };
    for (const q of ['limit=0', 'limit=101', 'limit=abc', 'limit=-1', 'limit=1e3'])
      expect(await bad(`/v1/lists/transactions?${q}`), q).toEqual({
        status: 400,
        code: 'LIST_LIMIT_INVALID',
      });
    for (const q of ['before=x', 'before=1', 'before=0:0', 'before=1:99999999999', "before=1:1'--"])
      expect(await bad(`/v1/lists/transactions?${q}`), q).toEqual({
        status: 400,
        code: 'LIST_CURSOR_INVALID',
      });
    expect(await bad('/v1/accounts/bob/transactions?before=../..')).toEqual({
      status: 400,
      code: 'LIST_CURSOR_INVALID',
    });
    expect(await bad('/v1/lists/accounts?after=A%2FB')).toEqual({ status: 400, code: 'LIST_CURSOR_INVALID' });
    expect(await bad('/v1/lists/validators?limit=1000')).toEqual({ status: 400, code: 'LIST_LIMIT_INVALID' });
    expect(await bad('/v1/lists/fees?before=-3')).toEqual({ status: 400, code: 'LIST_CURSOR_INVALID' });
    // The SDK surfaces them typed.
    expect(await codeOf(listContracts(client, { before: 'nope' }))).toEqual({
      code: 'LIST_CURSOR_INVALID',
      status: 400,
    });
    const doc = (await client.openapi()) as { paths: Record<string, unknown> };
    for (const path of [
      '/v1/lists/transactions',
      '/v1/lists/contracts',
      '/v1/lists/accounts',
      '/v1/lists/validators',
      '/v1/lists/fees',
      '/v1/accounts/{name}/transactions',
    ])
      expect(Object.keys(doc.paths)).toContain(path);
  });

  it('catches up from the stored blocks after a restart', async () => {
    await api.close();
    // Blocks committed while no list index runs (an API without one answers 503, typed).
    process.env.ROAMCHAIN_LIST_INDEX = 'off';
    const bare = await createApi(node, { port: 0 }).finally(() => {
      delete process.env.ROAMCHAIN_LIST_INDEX;
    });
    const c2 = new RoamClient({ url: bare.url });
    expect(await codeOf(listTransactions(c2))).toEqual({ code: 'LIST_INDEX_UNAVAILABLE', status: 503 });
    const extra: string[] = [];
    for (let i = 0; i < 2; i++) {
      const r = await c2.transfer(
        { from: 'carol', to: 'alice', token: 'UMT', amount: 1n },
        signer('carol'),
        noWait,
      );
      extra.push(r.txId);
      await node.produceBlock();
    }
    await bare.close();
    api = await createApi(node, { port: 0 });
    client = new RoamClient({ url: api.url });
    const carol = await accountTransactions(client, 'carol');
    expect(carol.items.map((t) => t.txId)).toEqual([...extra.reverse(), sent.at(-1)]);
  });
});
