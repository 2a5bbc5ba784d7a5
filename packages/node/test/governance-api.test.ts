/**
 * Governance and price routes against a real node through the SDK (one validator, manual blocks):
 * GET /v1/prices before and after a Super Node feed (the wallet's shape), the history, a proposal
 * admitted by a vote (with its votes), typed errors, and the routes in the OpenAPI document.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { demoRates, startDemoFeeds } from '@roamchain/devnet';
import { UNIT } from '@roamchain/protocol';
import { RoamClient, signerFromSecret } from '@roamchain/sdk';
import { type AccountKeys, buildGenesis } from '@roamchain/state';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Api, createApi } from '../src/api/server.js';
import { Node } from '../src/index.js';

describe('governance and prices API', () => {
  let dir: string;
  let node: Node;
  let api: Api;
  let keys: Map<string, AccountKeys>;
  let client: RoamClient;
  const signer = (n: string) => signerFromSecret(n, keys.get(n)!.signing.secretKey);
  const noWait = { wait: false };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rc-governance-api-'));
    const built = buildGenesis({
      accounts: [
        { name: 'node-1', roles: ['node_owner'] },
        { name: 'op-a', roles: ['operator'] },
        { name: 'op-b', roles: ['operator'] },
        { name: 'newco' },
      ],
      umt: { 'op-a': 1000n * UNIT, 'op-b': 1000n * UNIT, 'node-1': 1000n * UNIT, newco: 10n * UNIT },
      validators: ['node-1'],
      params: { epochLength: 3, minValidatorBond: 10n * UNIT },
    });
    keys = built.keys;
    node = await Node.open({
      dataDir: dir,
      genesis: built.genesis,
      producer: { account: 'node-1', secretKey: keys.get('node-1')!.signing.secretKey },
    });
    api = await createApi(node, { port: 0 });
    client = new RoamClient({ url: api.url });
  });
  afterAll(async () => {
    await api?.close();
    await node?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('serves the SDR rate from the Super Node feeds, and its history', async () => {
    const before = await client.prices();
    expect(before).toMatchObject({ fresh: false, sdr: {}, usdPerSdr: '', feeds: [] });
    await client.publishPriceFeed(
      { validator: 'node-1', rates: { EUR: '1.085', CNY: '7.25', JPY: '149.5', GBP: '1.27' } },
      signer('node-1'),
      noWait,
    );
    await node.produceBlock();
    const p = await client.prices();
    expect(p).toMatchObject({
      fresh: true,
      height: node.status().height,
      usdPerSdr: '1.32801',
      sdr: { USD: '1.32801', EUR: '1.22397', CNY: '9.62807', JPY: '198.537', GBP: '1.04568' },
    });
    expect(p.feeds).toEqual([
      {
        validator: 'node-1',
        time: expect.any(Number),
        fresh: true,
        rates: { USD: '1', EUR: '1.085', CNY: '7.25', JPY: '149.5', GBP: '1.27' },
      },
    ]);
    const h = await client.priceHistory(7);
    expect(h.items).toHaveLength(1);
    expect(h.items[0]).toMatchObject({ usdPerSdr: '1.32801', feeders: ['node-1'] });
    // Admission executes nothing: the block that tries the feed refuses it, with its code.
    const bad = await client.publishPriceFeed(
      { validator: 'op-a', rates: { EUR: '1', CNY: '7', JPY: '150', GBP: '1.2' } },
      signer('op-a'),
      noWait,
    );
    await node.produceBlock();
    expect(await node.txStatus(bad.txId)).toMatchObject({ status: 'rejected', code: 'FEED_NOT_VALIDATOR' });
  });

  it('admits an operator by a vote; lists proposals with their votes; typed errors', async () => {
    const deadline = BigInt(Date.now()) + 3_600_000n;
    const r = await client.propose(
      {
        proposer: 'op-a',
        action: { kind: 'admit', account: 'newco', role: 'operator', displayName: 'NewCo', country: 'TR' },
        deadline,
        note: 'welcome',
      },
      signer('op-a'),
      noWait,
    );
    await node.produceBlock();
    expect(await client.proposal(r.proposalId)).toMatchObject({
      status: 'open',
      yes: 1,
      electorate: 2,
      needed: 2,
    });
    await client.vote({ voter: 'op-b', proposal: r.proposalId, approve: true }, signer('op-b'), noWait);
    await node.produceBlock();
    const p = await client.proposal(r.proposalId);
    expect(p).toMatchObject({ status: 'executed', yes: 2, action: { kind: 'admit', account: 'newco' } });
    expect(p.votes?.map((v) => v.voter)).toEqual(['op-a', 'op-b']);
    const list = await client.proposals({ status: 'executed' });
    expect(list.items.map((x) => x.id)).toEqual([r.proposalId]);
    const sn = await client.superNodes();
    expect(sn.items).toEqual([
      {
        account: 'node-1',
        status: 'active',
        bond: (10n * UNIT).toString(),
        slaDays: 0,
        today: { blocks: expect.any(Number), votesDue: expect.any(Number), votesSigned: expect.any(Number) },
        idle: false,
        inSet: true,
      },
    ]);
    // A set of one signs every commit: every precommit due today is in the blocks.
    const t = sn.items[0]!.today;
    expect(t.blocks).toBeGreaterThan(0);
    expect(t.votesSigned).toBe(t.votesDue);
    const g = await client.governance();
    expect(g.operators.map((o) => o.account)).toEqual(['newco', 'op-a', 'op-b']);
    expect(g.proposals).toBe('1');
    await expect(client.proposal('ab'.repeat(32))).rejects.toMatchObject({
      code: 'GOV_UNKNOWN',
      status: 404,
    });
    const again = await client.vote(
      { voter: 'op-b', proposal: r.proposalId, approve: true },
      signer('op-b'),
      noWait,
    );
    await node.produceBlock();
    expect(await node.txStatus(again.txId)).toMatchObject({ status: 'rejected', code: 'GOV_DUPLICATE_VOTE' });
    // A voted upgrade this node does not implement: /v1/governance says it will stop before the height.
    const at = BigInt(node.status().height) + 1_000n;
    const up = await client.propose(
      { proposer: 'op-a', action: { kind: 'upgrade', version: 3, height: at }, deadline },
      signer('op-a'),
      noWait,
    );
    await node.produceBlock();
    await client.vote({ voter: 'op-b', proposal: up.proposalId, approve: true }, signer('op-b'), noWait);
    await client.vote({ voter: 'newco', proposal: up.proposalId, approve: true }, signer('newco'), noWait);
    await node.produceBlock();
    expect((await client.proposal(up.proposalId)).status).toBe('executed');
    expect((await client.governance()).upgrade).toMatchObject({
      version: 3,
      height: at.toString(),
      implemented: 2,
      supported: false,
      blocksLeft: Number(at) - node.status().height - 1,
    });
    const doc = (await client.openapi()) as { paths: Record<string, unknown> };
    for (const path of [
      '/v1/prices',
      '/v1/prices/history',
      '/v1/governance',
      '/v1/governance/proposals',
      '/v1/governance/proposals/{id}',
    ])
      expect(Object.keys(doc.paths)).toContain(path);
  });

  it('devnet demo feeds: each validator publishes the reference rates moved by its offset', async () => {
    expect(demoRates(2).EUR).toBe(1_085_542_500n);
    const warnings: unknown[] = [];
    const stop = startDemoFeeds(
      node,
      [{ account: 'node-1', secretKey: keys.get('node-1')!.signing.secretKey }],
      (msg, data) => warnings.push({ msg, data }),
      3_600_000,
    );
    stop();
    for (let i = 0; i < 100 && node.status().mempool === 0; i++) await new Promise((r) => setTimeout(r, 20));
    await node.produceBlock();
    const p = await client.prices();
    expect(warnings).toEqual([]);
    expect(p.feeds[0]!.rates).toEqual({ USD: '1', EUR: '1.085', CNY: '7.25', JPY: '149.5', GBP: '1.27' });
  });
});
