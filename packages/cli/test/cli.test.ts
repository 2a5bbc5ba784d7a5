/**
 * End-to-end: the `roamchain` command (spawned as `node packages/cli/bin/roamchain.js … --json`)
 * against a real node. A full service smart contract, a live `contract watch --until-closed`, and
 * every invalid transition as exit code 1 with `error CODE: …` on stderr.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { ACCOUNTS as A } from '../../sdk/test/testnode.js';
import { type Ran, runInProcess } from './harness.js';
import { useCliDevnet } from './support/devnet.js';

const BIN = fileURLToPath(new URL('../bin/roamchain.js', import.meta.url));

/** The CLI's environment, once the suite's node is up. */
let env: () => Record<string, string> = () => ({});
const children = new Set<ChildProcess>();

function start(args: string[]): { child: ChildProcess; done: Promise<Ran> } {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { ...process.env, ...env() },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  child.on('exit', () => children.delete(child));
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => {
    stdout += d;
  });
  child.stderr!.on('data', (d) => {
    stderr += d;
  });
  const done = new Promise<Ran>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
  return { child, done };
}

// biome-ignore lint/suspicious/noExplicitAny: parsed --json output of many shapes
type Ran2 = Ran & { json: any };
type Runner = (args: string[]) => Promise<Ran>;

/** A spawned `node bin/roamchain.js` (asynchronously: the node runs in this process). */
const spawned: Runner = (args) => start(args).done;

/** The same CLI in this process (`run(argv, io)`): quicker, for the commands beyond the contract flow. */
const inProcess: Runner = (args) => runInProcess(args, env());

async function roam(runner: Runner, args: string[]): Promise<Ran2> {
  const r = await runner([...args, '--json']);
  let json: unknown;
  try {
    json = JSON.parse(r.stdout);
  } catch {
    json = undefined;
  }
  return { ...r, json };
}

function okWith(runner: Runner) {
  return async (...args: string[]) => {
    const r = await roam(runner, args);
    if (r.code !== 0) throw new Error(`roamchain ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
    return r.json;
  };
}

function failsWith(runner: Runner) {
  return async (code: string, ...args: string[]) => {
    const r = await roam(runner, args);
    expect(r.code, `roamchain ${args.join(' ')}: ${r.stderr}`).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`^error ${code}: `));
    expect(r.json?.error?.code).toBe(code);
  };
}

describe('roamchain CLI against a real node', () => {
  env = useCliDevnet('e2e').env;
  afterAll(async () => {
    for (const c of children) c.kill();
  });

  it('runs a full contract through the CLI, with typed errors on invalid transitions', {
    timeout: 180_000,
  }, async () => {
    const ok = okWith(spawned);
    const fails = failsWith(spawned);
    const imported = await ok(
      'keys',
      'import-devnet',
      A.visited,
      A.home,
      A.gateway,
      A.subscriber,
      A.stranger,
    );
    expect(imported).toHaveLength(5);

    const st = await ok('status');
    expect(st.chainName).toBe('roamchain-e2e');

    const issue = await ok('sdr', 'issue', A.gateway, A.subscriber, '100', '--ref', 'wire-cli-1');
    expect(issue.status).toBe('included');
    expect(issue.receipt.events[0].type).toBe('sdr_issued');

    const pub = await ok(
      'offer',
      'publish',
      '--operator',
      A.visited,
      '--title',
      'DE 5 GB',
      '--country',
      'DE',
      '--network',
      '262-01',
      '--data-gb',
      '5',
      '--days',
      '7',
      '--price',
      '10',
      '--unit-price',
      '0.01',
      '--tech',
      '4G,5G',
      '--capacity',
      '10',
      '--valid-days',
      '30',
    );
    const offerId: string = pub.offerId;
    expect(offerId).toMatch(/^[0-9a-f]{64}$/);
    const [shown, list, rank, human] = await Promise.all([
      ok('offer', 'show', offerId),
      ok('offer', 'list', '--country', 'DE'),
      ok('offer', 'rank', '--country', 'DE', '--volume-gb', '5', '--preference', 'price'),
      start(['offer', 'rank', '--country', 'DE', '--volume-gb', '5']).done,
    ]);
    expect(shown.terms).toMatchObject({
      price: '10000000',
      unitPrice: '10000',
      dataBytes: '5000000000',
      durationSec: 604_800,
    });
    expect(list.items.map((o: { id: string }) => o.id)).toContain(offerId);
    expect(rank.items[0].offerId).toBe(offerId);
    expect(rank.items[0].reasons.length).toBeGreaterThan(0);
    expect(human.stdout).toContain('% of the best price');

    // Two signatures from the local keystore: the issuer and the payer (the subscriber).
    const open = await ok(
      'request',
      'open',
      '--issuer',
      A.home,
      '--subscriber',
      A.subscriber,
      '--offer',
      offerId,
      '--deposit',
      '20',
      '--fee-bps',
      '100',
      '--fee-deposit',
      '1',
    );
    const cid: string = open.contractId;
    expect(open.receipt.events[0]).toMatchObject({ type: 'contract_opened', contract: cid, issuer: A.home });
    const firstHead: string = (await ok('contract', 'show', cid)).contract.head;

    const watch = start(['contract', 'watch', cid, '--until-closed', '--json']);

    for (const amount of ['4', '3', '2.5']) {
      const r = await ok('charge', cid, '--assignee', A.visited, '--amount', amount, '--mb-down', '1000');
      expect(r.receipt.events[0].type).toBe('contract_charged');
    }
    const mid = await ok('contract', 'show', cid);
    expect(mid.contract).toMatchObject({ chargeCount: 3, charged: '9500000', volumeDown: '3000000000' });

    // Rejected transitions change nothing, so they can run side by side.
    await Promise.all([
      fails('SSC_NOT_PARTY', 'charge', cid, '--assignee', A.home, '--amount', '1'),
      fails('SSC_NOT_HEAD', 'charge', cid, '--assignee', A.visited, '--amount', '1', '--prev', firstHead),
      fails('SSC_OVERCHARGE', 'charge', cid, '--assignee', A.visited, '--amount', '100'),
      fails('SSC_NOT_PARTY', 'refund', cid, '--by', A.stranger),
    ]);

    const refund = await ok('refund', cid, '--by', A.subscriber);
    expect(refund.receipt.events[0]).toMatchObject({
      type: 'contract_settled',
      toAssignee: '9500000',
      toIssuer: '95000',
      toPayer: '10405000',
    });

    const w = await watch.done;
    expect(w.code).toBe(0);
    const lines = w.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines[0].type).toBe('contract');
    expect(lines.filter((l) => l.type === 'event').map((l) => l.event.type)).toEqual([
      'contract_opened',
      'contract_charged',
      'contract_charged',
      'contract_charged',
      'contract_settled',
    ]);

    await Promise.all([
      fails('SSC_CLOSED', 'charge', cid, '--assignee', A.visited, '--amount', '1'),
      fails('SSC_CLOSED', 'refund', cid, '--by', A.home),
    ]);

    const rate = await ok('rate', cid, '--subscriber', A.subscriber, '--score', '5');
    expect(rate.receipt.events[0]).toMatchObject({ type: 'contract_rated', score: 5 });
    await fails('RATE_DUPLICATE', 'rate', cid, '--subscriber', A.subscriber, '--score', '4');

    const done = await ok('contract', 'show', cid);
    expect(done.contract).toMatchObject({ status: 'closed', score: 5, closedBy: A.subscriber });
    const acct = await ok('account', 'show', A.subscriber);
    expect(acct.balances.SDR).toBe((100_000_000n - 20_000_000n + 10_405_000n).toString());
    const rating = await ok('rating', A.visited);
    expect(rating).toMatchObject({ ratingCount: 1, closed: 1 });

    // Readable output by default.
    const text = await start(['contract', 'show', cid]).done;
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('settled');
    expect(text.stdout).toContain('9.5 SDR in 3 charge(s)');
  });

  it('transfers, accounts, demands and keys (in-process)', { timeout: 120_000 }, async () => {
    const ok = okWith(inProcess);
    const fails = failsWith(inProcess);
    await ok('keys', 'import-devnet', A.home, A.subscriber, A.stranger);
    const t = await ok('transfer', A.stranger, A.subscriber, '1.5', '--token', 'UMT', '--memo', 'thanks');
    expect(t.receipt.events[0]).toMatchObject({ type: 'transfer', amount: '1500000', token: 'UMT' });
    await fails('BALANCE_LOW', 'transfer', A.stranger, A.subscriber, '1000000', '--token', 'UMT');

    const created = await ok('account', 'create', 'carol', '--creator', A.home, '--home-operator', A.home);
    expect(created.receipt.events[0]).toMatchObject({ type: 'account_created', account: 'carol' });
    const carol = await ok('account', 'show', 'carol');
    expect(carol).toMatchObject({ roles: ['subscriber'], homeOperator: A.home });
    expect(carol.signingKey).toBe((await ok('keys', 'show', 'carol')).signingKey);
    await fails(
      'ACCOUNT_EXISTS',
      'account',
      'create',
      'carol',
      '--creator',
      A.home,
      '--home-operator',
      A.home,
    );

    const d = await ok(
      'demand',
      'post',
      '--subscriber',
      A.subscriber,
      '--country',
      'TH',
      '--data-gb',
      '10',
      '--days',
      '14',
      '--max-price',
      '15',
      '--note',
      'two weeks in Thailand',
    );
    expect(d.demandId).toMatch(/^[0-9a-f]{64}$/);
    expect(await ok('demand', 'show', d.demandId)).toMatchObject({ status: 'open', maxPrice: '15000000' });
    await fails('SSC_NOT_PARTY', 'demand', 'cancel', d.demandId, '--subscriber', A.stranger);
    await ok('demand', 'cancel', d.demandId, '--subscriber', A.subscriber);
    expect((await ok('demand', 'show', d.demandId)).status).toBe('cancelled');

    // Provisioning: sealed for the requester (ephemeral key kept by `request open`) and the issuer.
    await ok('keys', 'import-devnet', A.visited, A.gateway);
    await ok('sdr', 'issue', A.gateway, A.home, '10', '--ref', 'wire-cli-2');
    const pub = await ok(
      'offer',
      'publish',
      '--operator',
      A.visited,
      '--title',
      'DE 1 GB',
      '--country',
      'DE',
      '--data-gb',
      '1',
      '--days',
      '1',
      '--price',
      '2',
    );
    const open = await ok(
      'request',
      'open',
      '--issuer',
      A.home,
      '--subscriber',
      'carol',
      '--payer',
      A.home,
      '--offer',
      pub.offerId,
      '--deposit',
      '3',
    );
    const cid = open.contractId as string;
    expect((await ok('keys', 'list', '--all')).map((k: { name: string }) => k.name)).toContain(`ssc/${cid}`);
    expect((await ok('keys', 'list')).map((k: { name: string }) => k.name)).not.toContain(`ssc/${cid}`);
    await fails('NOT_FOUND', 'contract', 'provisioning', cid);
    const prov = await ok(
      'provision',
      cid,
      '--assignee',
      A.visited,
      '--iccid',
      '8949000000000000001',
      '--activation-code',
      'LPA:1$smdp.example$ABC',
      '--apn',
      'internet',
    );
    expect(prov.receipt.events[0].type).toBe('contract_provisioned');
    const want = { activationCode: 'LPA:1$smdp.example$ABC', iccid: '8949000000000000001', apn: 'internet' };
    expect((await ok('contract', 'provisioning', cid)).provisioning).toEqual(want);
    expect((await ok('contract', 'provisioning', cid, '--issuer')).provisioning).toEqual(want);
    await fails(
      'SSC_PROVISIONED',
      'provision',
      cid,
      '--assignee',
      A.visited,
      '--iccid',
      '1',
      '--activation-code',
      'x',
    );

    // Offer lifecycle, identity and key rotation.
    const replaced = await ok(
      'offer',
      'replace',
      pub.offerId,
      '--operator',
      A.visited,
      '--price',
      '2.5',
      '--title',
      'DE 1 GB+',
    );
    expect(replaced.receipt.events[0].type).toBe('offer_replaced');
    expect((await ok('offer', 'show', pub.offerId)).terms).toMatchObject({
      price: '2500000',
      title: 'DE 1 GB+',
      dataBytes: '1000000000',
    });
    await ok('offer', 'withdraw', pub.offerId, '--operator', A.visited);
    await fails('OFFER_INACTIVE', 'offer', 'withdraw', pub.offerId, '--operator', A.visited);

    const att = await ok(
      'identity',
      'attest',
      'carol',
      '--operator',
      A.home,
      '--claim',
      'given_name=Carol',
      '--claim',
      'nationality=DE',
    );
    expect(att.attestationId).toMatch(/^[0-9a-f]{64}$/);
    expect(att.disclosures.map((d: { name: string }) => d.name)).toEqual(['given_name', 'nationality']);
    await fails(
      'IDENTITY_NOT_HOME',
      'identity',
      'attest',
      'carol',
      '--operator',
      A.visited,
      '--claim',
      'x=y',
    );
    await ok('identity', 'revoke', 'carol', '--operator', A.home, '--reason', '1');

    await ok('transfer', A.home, 'carol', '1', '--token', 'UMT');
    const before = (await ok('keys', 'show', 'carol')).signingKey;
    const rotated = await ok('account', 'rotate-keys', 'carol', '--signing');
    expect(rotated.receipt.events[0].type).toBe('keys_updated');
    const after = (await ok('keys', 'show', 'carol')).signingKey;
    expect(after).not.toBe(before);
    expect((await ok('account', 'show', 'carol')).signingKey).toBe(after);
    await ok('transfer', 'carol', A.home, '0.1', '--token', 'UMT'); // signed with the new key
  });
});
