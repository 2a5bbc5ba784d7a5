/**
 * End to end: a real devnet node process and real agent processes (packages/agent/src/main.ts).
 * - a subscriber's Request, countersigned by its home operator's agent, is served to completion by
 *   the visited operator's agent with no human step (identity check, SM-DP+ provisioning, package
 *   charge, usage charges from the HTTP feed and the usage folder, close on package used up);
 * - usage records replayed after the agent was killed (-9) and restarted are not billed twice;
 * - a webhook receiver that fails 3 times still receives every event, signed, once it recovers;
 * - the settlement statement matches the contracts' settlements on chain to the base unit;
 * - the home agent refuses a Request outside its policy; a Demand gets an Offer addressed to it.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  bytesToHex,
  contractIdOf,
  encode,
  generateX25519,
  hexToBytes,
  makeDisclosures,
  unsignedTx,
} from '@roamchain/protocol';
import {
  type ContractJson,
  disclosureStrings,
  type FeedEventJson,
  openProvisioningAsRequester,
  RoamClient,
  sealRequestPayload,
  signUnsigned,
  statement,
  statementCsv,
} from '@roamchain/sdk';
import { parseActivationCode, type RunningSmdp, smdpClient, startSmdp } from '@roamchain/smdp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Devnet, REPO_ROOT, secretOf } from '../../node/test/support/proc.js';
import { verifyWebhook } from '../src/webhook.js';

const AGENT_MAIN = resolve(REPO_ROOT, 'packages/agent/src/main.ts');
const GB = 1_000_000_000n;
const SDR = 1_000_000n;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(
  what: string,
  fn: () => Promise<T | undefined | false>,
  timeoutMs = 30_000,
  log?: () => string,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v as T;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end)
      throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}\n${log?.() ?? ''}`);
    await sleep(150);
  }
}

class AgentProc {
  child: ChildProcess | undefined;
  url = '';
  out = '';
  constructor(readonly configFile: string) {}

  async start(): Promise<void> {
    const child = spawn(process.execPath, ['--import', 'tsx', AGENT_MAIN, '--config', this.configFile], {
      cwd: REPO_ROOT,
      env: { ...process.env, ROAMCHAIN_KEYSTORE_PASSPHRASE: 'devnet' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    child.stderr?.on('data', (d: Buffer) => {
      this.out = (this.out + d.toString()).slice(-20_000);
    });
    this.url = await new Promise<string>((res, rej) => {
      let buf = '';
      const t = setTimeout(() => rej(new Error(`agent did not start: ${this.out}`)), 30_000);
      child.stdout?.on('data', (d: Buffer) => {
        buf += d.toString();
        const line = buf.split('\n').find((l) => l.includes('"ready"'));
        if (line) {
          clearTimeout(t);
          res((JSON.parse(line) as { url: string }).url);
        }
      });
      child.once('exit', (code) => rej(new Error(`agent exited ${code}: ${this.out}`)));
    });
  }

  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const c = this.child;
    if (!c || c.exitCode !== null) return;
    const gone = new Promise((r) => c.once('exit', r));
    c.kill(signal);
    await gone;
    this.child = undefined;
  }
}

type Json = Record<string, unknown>;

async function post(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; json: Json }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as Json };
}

async function allEvents(client: RoamClient): Promise<FeedEventJson[]> {
  const out: FeedEventJson[] = [];
  let cursor: string | undefined;
  for (;;) {
    const page = await client.events({ limit: 500, ...(cursor ? { cursor } : {}) });
    if (page.items.length === 0) return out;
    out.push(...page.items);
    cursor = page.next ?? page.items.at(-1)!.cursor;
  }
}

describe('operator agent, end to end', () => {
  let dn: Devnet;
  let client: RoamClient;
  let dir: string;
  let de: AgentProc;
  let fr: AgentProc;
  let hook: Server;
  let hookUrl = '';
  let smdp: RunningSmdp;
  const EID = '89049032004008882600003579861234';
  const identity = makeDisclosures({ given_name: 'Alice', family_name: 'Martin', nationality: 'FR' });
  let hookFailures = 0;
  const hookSecret = 'whsec-test-0123456789';
  const API_KEY = 'billing-key-0123456789abcdef';
  const AUTH = { authorization: `Bearer ${API_KEY}` };
  const received = new Map<string, { event: unknown }>();
  let badSignatures = 0;
  const usageDir = () => join(dir, 'usage-de');

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rc-agent-'));
    hook = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (hookFailures < 3) {
          hookFailures += 1;
          res.writeHead(500).end('down');
          return;
        }
        const body = Buffer.concat(chunks).toString('utf8');
        // The documented receiver check: signature over timestamp + body, replay window, signed key.
        const v = verifyWebhook({ secret: hookSecret, body, headers: req.headers });
        if (!v.ok) {
          badSignatures += 1;
          res.writeHead(401).end('bad signature');
          return;
        }
        received.set(v.id, JSON.parse(body) as { event: unknown });
        res.writeHead(200).end('ok');
      });
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', () => r()));
    hookUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/hook`;

    smdp = await startSmdp();
    dn = await Devnet.start({ blockMs: 100 });
    client = new RoamClient({ url: dn.url });
    await until('demo offers', async () => (await client.offers({ operator: 'telco-de' })).items.length >= 2);
    // The home operator attests alice's identity (salted digests only on chain).
    const st = await client.status();
    await client.attestIdentity(
      {
        operator: 'telco-fr',
        subscriber: 'alice',
        digests: identity.digests,
        level: 2,
        expiresAt: BigInt(st.time) + 86_400_000n,
      },
      { name: 'telco-fr', secretKey: secretOf('telco-fr') },
    );
    const keystore = join(dn.dataDir, 'keystore.json');
    const common = {
      api: dn.url,
      keystore,
      port: 0,
      tickMs: 200,
      smdpUrl: smdp.url,
      clients: [{ id: 'billing', keys: [API_KEY], scopes: ['usage', 'statement', 'admin'] }],
    };
    mkdirSync(usageDir(), { recursive: true });
    writeFileSync(
      join(dir, 'de.json'),
      JSON.stringify({
        ...common,
        operator: 'telco-de',
        stateDir: join(dir, 'state-de'),
        usageDir: usageDir(),
        billing: { stepBytes: 1_000_000_000 },
        webhooks: [{ url: hookUrl, secret: hookSecret }],
        webhookRetry: { initialMs: 200, maxMs: 1000, maxAttempts: 50 },
        pricing: { demandDiscountBps: 500 },
      }),
    );
    writeFileSync(
      join(dir, 'fr.json'),
      JSON.stringify({
        ...common,
        operator: 'telco-fr',
        stateDir: join(dir, 'state-fr'),
        policy: {
          maxDepositPerSubscriber: '50',
          allowedCountries: ['DE', 'TR'],
          feeBps: 100,
          maxOpenPerSubscriber: 2,
        },
      }),
    );
    de = new AgentProc(join(dir, 'de.json'));
    fr = new AgentProc(join(dir, 'fr.json'));
    await Promise.all([de.start(), fr.start()]);
  }, 90_000);

  afterAll(async () => {
    await de?.kill('SIGTERM');
    await fr?.kill('SIGTERM');
    await dn?.cleanup();
    await smdp?.close();
    await new Promise<void>((r) => (hook ? hook.close(() => r()) : r()));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  let contractId = '';

  /** Alice's Request, with her disclosures and EID sealed to the assignee, signed by her. */
  async function prepare(offerId: string, deposit: bigint, feeBps = 100, disclosures = identity.disclosures) {
    const offer = await client.offer(offerId);
    const st = await client.status();
    const eph = generateX25519();
    const cid = contractIdOf(hexToBytes(st.chainId), eph.publicKey);
    const payload = sealRequestPayload({
      ephemeralSecret: eph.secretKey,
      assigneeEncryptionKey: hexToBytes(offer.terms.encryptionKey),
      contractId: cid,
      payload: { v: 1, disclosures: disclosureStrings(disclosures), eid: EID },
    });
    const p = await client.prepareOpenRequest({
      ephemeralKey: eph.publicKey,
      payload,
      attestation: (await client.get<{ id: string }>('/v1/identity/alice')).id,
      issuer: 'telco-fr',
      subscriber: 'alice',
      offer: offerId,
      deposit,
      issuerFeeBps: feeBps,
      feeDeposit: 100_000n,
      stepTimeoutSec: 600,
      lifetimeSec: 3600,
    });
    const signature = bytesToHex(signUnsigned(p.tx, secretOf('alice')));
    return {
      body: { tx: bytesToHex(encode(unsignedTx, p.tx)), subscriber: 'alice', signature },
      p,
      ephemeralSecret: eph.secretKey,
    };
  }

  it('refuses a Request outside the home operator policy', async () => {
    const offers = (await client.offers({ operator: 'telco-de' })).items;
    const big = offers.find((o) => o.terms.title.includes('20 GB'))!;
    const wrongFee = await prepare(big.id, 30n * SDR, 250);
    const r1 = await post(`${fr.url}/v1/countersign`, wrongFee.body);
    expect(r1.status).toBe(403);
    expect(r1.json.code).toBe('POLICY_FEE');
    const tooMuch = await prepare(big.id, 60n * SDR);
    const r2 = await post(`${fr.url}/v1/countersign`, tooMuch.body);
    expect(r2.json.code).toBe('POLICY_DEPOSIT_LIMIT');
    const forged = await prepare(big.id, 30n * SDR);
    const r3 = await post(`${fr.url}/v1/countersign`, { ...forged.body, signature: '00'.repeat(64) });
    expect(r3.status).toBe(401);
    expect(r3.json.code).toBe('SIG_INVALID');
  });

  it("serves a subscriber's request to completion with no human step; replayed usage is not billed twice", async () => {
    const offers = (await client.offers({ operator: 'telco-de' })).items;
    const offer = offers.find((o) => o.terms.title.includes('20 GB'))!;
    expect(BigInt(offer.terms.unitPrice)).toBe(0n);
    const { body, p, ephemeralSecret } = await prepare(offer.id, 30n * SDR);
    const r = await post(`${fr.url}/v1/countersign`, body);
    expect(r.status, JSON.stringify(r.json)).toBe(200);
    expect(r.json.contractId).toBe(p.contractId);
    expect(r.json.status).toBe('included');
    contractId = p.contractId;

    // Identity checked, provisioned through the SM-DP+, the package charged up front.
    const c1 = await until(
      'provisioned and package charged',
      async () => {
        const c = (await client.contract(contractId)).contract;
        return c.chargeCount >= 1 && c;
      },
      30_000,
      () => de.out,
    );
    expect(Number(c1.provisionedAt)).toBeGreaterThan(0);
    expect(c1.charged).toBe(offer.terms.price);
    // What alice's wallet gets: a real activation code of the SM-DP+, bound to her EID.
    const ref = (await client.contract(contractId)).transactions.find((t) => t.type === 'provision')!;
    const op = (await client.tx(ref.txId)).tx!.ops[ref.opIndex] as unknown as { forRequester: string };
    const prov = JSON.parse(
      new TextDecoder().decode(
        openProvisioningAsRequester({
          contractId,
          ephemeralSecret,
          assigneeEncryptionKey: (await client.account('telco-de')).encryptionKey,
          box: hexToBytes(op.forRequester),
        }),
      ),
    ) as { iccid: string; activationCode: string; apn: string };
    const code = parseActivationCode(prov.activationCode);
    const auth = await smdpClient(smdp.url).authenticate({ matchingId: code.matchingId, eid: EID });
    expect(auth.profileMetadata.iccid).toBe(prov.iccid);

    // Usage over HTTP and from a file dropped in the usage folder.
    const rec = (i: number) => ({
      recordId: `tap-${i}`,
      subscriber: 'alice',
      usageType: 'data',
      start: Date.now(),
      durationSec: 600,
      bytesUp: (GB / 2n).toString(),
      bytesDown: (GB * 4n + GB / 2n).toString(),
    });
    const ing = await post(`${de.url}/v1/usage`, { records: [rec(1), rec(2)] }, AUTH);
    expect(ing.json).toMatchObject({ accepted: 2, duplicates: 0 });
    writeFileSync(join(usageDir(), 'batch-3.json'), JSON.stringify([rec(3)]));
    await until('15 GB billed', async () => {
      const c = (await client.contract(contractId)).contract;
      return BigInt(c.volumeUp) + BigInt(c.volumeDown) === 15n * GB && c;
    });

    // Crash the visited agent, restart it, replay every record: nothing is billed twice.
    await de.kill('SIGKILL');
    await de.start();
    const replay = await post(`${de.url}/v1/usage`, { records: [rec(1), rec(2), rec(3)] }, AUTH);
    expect(replay.json).toMatchObject({ accepted: 0, duplicates: 3 });
    await sleep(1000);
    const c2 = (await client.contract(contractId)).contract;
    expect(BigInt(c2.volumeUp) + BigInt(c2.volumeDown)).toBe(15n * GB);
    expect(c2.status).toBe('open');

    // The last 5 GB use the package up: the agent closes the contract (SERVICE_COMPLETE).
    await post(`${de.url}/v1/usage`, [rec(4)], AUTH);
    const done = await until('closed', async () => {
      const c = (await client.contract(contractId)).contract;
      return c.status === 'closed' && c;
    });
    expect(done.closedBy).toBe('telco-de');
    expect(done.reason).toBe(1);
    expect(BigInt(done.volumeUp) + BigInt(done.volumeDown)).toBe(20n * GB);
    expect(done.paidAssignee).toBe(offer.terms.price);
    expect(BigInt(done.paidAssignee) + BigInt(done.paidIssuer) + BigInt(done.paidPayer)).toBe(30n * SDR);
  }, 90_000);

  it('refunds a Request whose disclosed identity does not match the attestation', async () => {
    const offers = (await client.offers({ operator: 'telco-de' })).items;
    const offer = offers.find((o) => o.terms.title.includes('20 GB'))!;
    const forged = makeDisclosures({ given_name: 'Mallory' }).disclosures;
    const { body, p } = await prepare(offer.id, 30n * SDR, 100, forged);
    const r = await post(`${fr.url}/v1/countersign`, body);
    expect(r.status, JSON.stringify(r.json)).toBe(200);
    const c = await until('refunded', async () => {
      const x = (await client.contract(p.contractId)).contract;
      return x.status === 'closed' && x;
    });
    expect(c.reason).toBe(101);
    expect(c.closedBy).toBe('telco-de');
    expect(c.paidAssignee).toBe('0');
  }, 30_000);

  it('delivers every event of its contracts to a webhook that failed 3 times, signed', async () => {
    const events = (await allEvents(client)).filter((e) => e.event.contract === contractId);
    expect(events.length).toBeGreaterThanOrEqual(5);
    await until('webhooks delivered', async () => events.every((e) => received.has(e.cursor)) || undefined);
    expect(hookFailures).toBe(3);
    expect(badSignatures).toBe(0);
    for (const e of events) expect(received.get(e.cursor)?.event).toEqual(e.event);
  }, 30_000);

  it('answers a demand with an offer addressed to it', async () => {
    const alice = { name: 'alice', secretKey: secretOf('alice') };
    const st = await client.status();
    const d = await client.postDemand(
      {
        subscriber: 'alice',
        countries: ['DE'],
        dataBytes: 5n * GB,
        endAt: BigInt(st.time) + 86_400_000n,
        maxPrice: 10n * SDR,
      },
      alice,
    );
    const answer = await until('an offer for the demand', async () => {
      const offers = (await client.offers({ operator: 'telco-de', limit: 200 })).items;
      return offers.find((o) => o.demand === d.demandId);
    });
    // 5 % below its cheapest matching offer (8.50 SDR).
    expect(answer.terms.price).toBe('8075000');
  }, 30_000);

  it('settlement statement equals the sum of the settlements on chain, to the base unit', async () => {
    const settled = (await allEvents(client)).filter((e) => e.event.type === 'contract_settled');
    const sum = (pred: (e: Record<string, unknown>) => boolean, f: string) =>
      settled.filter((e) => pred(e.event)).reduce((s, e) => s + BigInt(String(e.event[f])), 0n);
    const to = Date.now() + 60_000;
    const sDe = (await (
      await fetch(`${de.url}/v1/statement?from=0&to=${to}`, { headers: AUTH })
    ).json()) as Awaited<ReturnType<typeof statement>>;
    expect(BigInt(sDe.served.charged)).toBe(sum((e) => e.assignee === 'telco-de', 'toAssignee'));
    expect(sDe.served.contracts).toBeGreaterThanOrEqual(1);
    const sFr = await statement(client, 'telco-fr', 0, to);
    expect(BigInt(sFr.issuerFees)).toBe(sum((e) => e.issuer === 'telco-fr', 'toIssuer'));
    expect(BigInt(sFr.consumed.charged)).toBe(sum((e) => e.issuer === 'telco-fr', 'toAssignee'));
    expect(sFr.consumed.byCounterparty['telco-de']?.contracts).toBeGreaterThanOrEqual(1);
    const csv = statementCsv(sFr);
    expect(csv.split('\n')[0]).toContain('contract,role,counterparty');
    expect(csv).toContain(contractId);
    // The CLI gives the same statement.
    const cli = await new Promise<string>((res, rej) => {
      const args = [
        '--import',
        'tsx',
        resolve(REPO_ROOT, 'packages/cli/src/main.ts'),
        'operator',
        'statement',
      ];
      args.push('--operator', 'telco-de', '--to', String(to), '--json');
      const p = spawn(process.execPath, args, {
        cwd: REPO_ROOT,
        env: { ...process.env, ROAMCHAIN_API: dn.url },
      });
      let o = '';
      p.stdout?.on('data', (d: Buffer) => {
        o += d.toString();
      });
      p.once('exit', (code) => (code === 0 ? res(o) : rej(new Error(`cli exited ${code}: ${o}`))));
    });
    expect((JSON.parse(cli) as { served: unknown }).served).toEqual(sDe.served);
    const c: ContractJson = (await client.contract(contractId)).contract;
    expect(sFr.contracts.find((x) => x.id === contractId)?.toIssuer).toBe(c.paidIssuer);
  });
});
