/**
 * The home operator's agent countersigns a subscriber's top-up under its policy (docs/CONTRACT.md,
 * docs/AGENT.md): the honest one is included; each hostile one is refused with its typed code and
 * changes nothing on chain. A real node in this process (127.0.0.1).
 */
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { bytesToHex, encode, hexToBytes, type Operation, UNIT, unsignedTx } from '@roamchain/protocol';
import { type RoamClient, type Signer, signUnsigned, type TopUpArgs } from '@roamchain/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent } from '../src/agent.js';
import { parseConfig } from '../src/config.js';
import { verifyWebhook } from '../src/webhook.js';
import { type AgentChain, GB, startAgentChain } from './support/chain.js';

let chain: AgentChain;
let dir = '';
let client: RoamClient;
let fr: Agent;
let contractId = '';
const SECRET = 'whsec-topup-0123456789';
let hookServer: Server;
/** Alert deliveries received (checked signatures), by idempotency key. */
const received: { id: string; kind: string; ok: boolean }[] = [];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until<T>(what: string, fn: () => T | undefined | false, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v !== undefined && v !== false) return v as T;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}
const signer = (name: string): Signer => chain.signer(name);

async function post(url: string, body: unknown) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json().catch(() => ({}))) as Record<string, unknown> };
}

/** The body the wallet posts: the unsigned top-up, signed by `signedBy`, claimed for `subscriber`. */
async function topupBody(
  over: Partial<TopUpArgs> = {},
  o: { signedBy?: string; subscriber?: string; extraOps?: Operation[] } = {},
) {
  const args: TopUpArgs = {
    issuer: 'op-fr',
    payer: 'alice',
    contract: contractId,
    amount: 5n * UNIT,
    ...over,
  };
  const p = await client.prepareTopUp(args);
  const tx = o.extraOps ? { ...p.tx, ops: [...p.tx.ops, ...o.extraOps] } : p.tx;
  return {
    tx: bytesToHex(encode(unsignedTx, tx)),
    subscriber: o.subscriber ?? 'alice',
    signature: bytesToHex(signUnsigned(tx, chain.keys.get(o.signedBy ?? 'alice')!.signing.secretKey)),
  };
}

const deposit = async () => BigInt((await client.contract(contractId)).contract.deposit);
const balance = async (n: string, t: 'UMT' | 'SDR') => BigInt((await client.account(n)).balances[t] ?? '0');

beforeAll(async () => {
  chain = await startAgentChain({
    tag: 'topup',
    subscribers: { alice: UNIT, bob: UNIT },
    sdr: 500n * UNIT,
    unitPrice: 4000n,
  });
  ({ dir, client } = chain);
  hookServer = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => {
      body += d;
    });
    req.on('end', () => {
      const check = verifyWebhook({ secret: SECRET, body, headers: req.headers });
      const j = JSON.parse(body) as { id: string; alert?: { kind: string } };
      if (j.alert) received.push({ id: j.id, kind: j.alert.kind, ok: check.ok });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => hookServer.listen(0, '127.0.0.1', () => r()));
  const hookUrl = `http://127.0.0.1:${(hookServer.address() as { port: number }).port}/hook`;
  // The home agent runs before the Request, so it watches the contract from its opening.
  fr = await new Agent(
    parseConfig({
      operator: 'op-fr',
      api: chain.apiUrl,
      stateDir: join(dir, 'op-fr'),
      port: 0,
      tickMs: 100,
      simulation: true,
      webhooks: [{ url: hookUrl, secret: SECRET }],
      policy: { maxDepositPerSubscriber: '100', feeBps: 100, maxOpenPerSubscriber: 3, maxFeeDeposit: '1' },
      limits: { countersignPerMinute: 0, countersignConcurrent: 1000 },
    }),
    chain.agentKeys('op-fr'),
  ).start();
  await fr.feedOpen; // its feed subscription is live
  // No visited agent runs: the contract stays open and its head still (nothing races the top-ups).
  const opened = await client.openRequest(
    {
      issuer: 'op-fr',
      subscriber: 'alice',
      offer: chain.offerId,
      deposit: 20n * UNIT,
      issuerFeeBps: 100,
      feeDeposit: 100_000n,
      lifetimeSec: 3600,
      stepTimeoutSec: 3600,
    },
    [signer('op-fr'), signer('alice')],
  );
  contractId = opened.contractId;
}, 120_000);

afterAll(async () => {
  await fr?.stop();
  await chain?.close();
  await new Promise<void>((r) => (hookServer ? hookServer.close(() => r()) : r()));
});

describe('the home agent countersigns a top-up under its policy', () => {
  it('hostile top-ups are refused with their code and change nothing', async () => {
    const url = `${fr.url}/v1/countersign`;
    const d0 = await deposit();
    const umt0 = await balance('op-fr', 'UMT');
    const sdr0 = await balance('alice', 'SDR');
    const cases: [string, Promise<Record<string, unknown>>][] = [
      // bob pays a top-up of alice's contract
      ['POLICY_TOPUP_LIMIT', topupBody({ payer: 'bob' }, { signedBy: 'bob', subscriber: 'bob' })],
      // alice's top-up posted in bob's name
      ['POLICY_PAYER', topupBody({}, { subscriber: 'bob', signedBy: 'bob' })],
      // bob signs a top-up that alice would pay
      ['SIG_INVALID', topupBody({}, { signedBy: 'bob' })],
      // the operator would lock 50 UMT of fee deposit
      ['POLICY_FEE_DEPOSIT', topupBody({ feeDeposit: 50n * UNIT })],
      // 0.95 UMT is within the limit alone, not with the contract's 0.1 UMT
      ['POLICY_FEE_DEPOSIT', topupBody({ feeDeposit: 950_000n })],
      // frozen deposits 20 + 90 pass the 100 SDR limit
      ['POLICY_DEPOSIT_LIMIT', topupBody({ amount: 90n * UNIT })],
      // another operator as issuer
      ['POLICY_ISSUER', topupBody({ issuer: 'op-de' })],
      // a top-up with a transfer out of the operator's account slipped in
      [
        'POLICY_TX',
        topupBody(
          {},
          {
            extraOps: [
              {
                type: 'transfer',
                from: 'op-fr',
                to: 'alice',
                token: 'UMT',
                amount: 10n * UNIT,
                memo: new Uint8Array(),
              },
            ],
          },
        ),
      ],
    ];
    for (const [code, body] of cases) {
      const r = await post(url, await body);
      expect(r.json.code, `${code}: ${JSON.stringify(r.json)}`).toBe(code);
      expect(r.status).toBeGreaterThanOrEqual(400);
    }
    // A contract that does not exist is not countersigned either.
    const ghost = await post(url, {
      ...(await topupBody()),
      tx: bytesToHex(
        encode(unsignedTx, {
          ...(
            await client.prepareTopUp({
              issuer: 'op-fr',
              payer: 'alice',
              contract: '11'.repeat(32),
              prev: '22'.repeat(32),
              amount: 5n * UNIT,
            })
          ).tx,
        }),
      ),
    });
    expect(ghost.json.code).toBe('SIG_INVALID'); // the signature was over another transaction
    expect(await deposit()).toBe(d0);
    expect(await balance('op-fr', 'UMT')).toBe(umt0);
    expect(await balance('alice', 'SDR')).toBe(sdr0);
  }, 60_000);

  it('an honest top-up is countersigned and included: the deposit grows, alice pays', async () => {
    const d0 = await deposit();
    const sdr0 = await balance('alice', 'SDR');
    const r = await post(`${fr.url}/v1/countersign`, await topupBody({ feeDeposit: 100_000n }));
    expect(r.status, JSON.stringify(r.json)).toBe(200);
    expect(r.json).toMatchObject({ contractId, status: 'included' });
    expect(await deposit()).toBe(d0 + 5n * UNIT);
    expect(await balance('alice', 'SDR')).toBe(sdr0 - 5n * UNIT);
    const c = (await client.contract(contractId)).contract;
    expect(BigInt(c.feeDeposit)).toBe(200_000n);
    expect(hexToBytes(c.head)).toHaveLength(32);
  }, 60_000);

  it('sends signed alerts once: before expiry, at 75 % and at 90 % of the package', async () => {
    // The contract lives an hour: within the one-day window from its opening.
    await until('expiry alert', () => received.some((r) => r.kind === 'expiry'));
    const charge = (seq: number, gb: bigint) =>
      client.charge(
        { assignee: 'op-de', contract: contractId, seq, amount: 1000n, volumeDown: gb * GB },
        signer('op-de'),
      );
    await charge(1, 4n);
    await charge(2, 0n); // nothing more used: still 80 %
    await until('75 % alert', () => received.some((r) => r.kind === 'usage_75'));
    await charge(3, 1n); // 5 GB of 5: 100 %
    await until('90 % alert', () => received.some((r) => r.kind === 'usage_90'));
    await charge(4, 0n);
    await sleep(1500); // ticks and deliveries go on: nothing is sent twice
    expect(received.every((r) => r.ok)).toBe(true);
    expect(received.map((r) => r.kind).sort()).toEqual(['expiry', 'usage_75', 'usage_90']);
    expect(new Set(received.map((r) => r.id)).size).toBe(3);
  }, 60_000);
});
