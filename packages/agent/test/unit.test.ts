import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Statement, statementCsv } from '@roamchain/sdk';
import { describe, expect, it } from 'vitest';
import { availableToCharge, meteredPrice } from '../src/agent.js';
import { Credentials, RateLimiter } from '../src/auth.js';
import { parseConfig } from '../src/config.js';
import { syntheticEid } from '../src/integrations.js';
import { AgentStore } from '../src/store.js';
import { parseUsageRecord, physicalProblem, U64_MAX } from '../src/usage.js';
import { signWebhook, verifyWebhook } from '../src/webhook.js';

describe('billing arithmetic', () => {
  it('never lets charges plus the issuer fee pass the deposit', () => {
    for (const [deposit, bps, charged] of [
      [10_000_000n, 100, 0n],
      [10_000_000n, 100, 8_500_000n],
      [12_345_677n, 333, 1_000_001n],
      [1n, 10_000, 0n],
      [5_000_000n, 0, 5_000_000n],
    ] as const) {
      const a = availableToCharge({ deposit: String(deposit), issuerFeeBps: bps, charged: String(charged) });
      const fee = (x: bigint) => (x * BigInt(bps)) / 10_000n;
      const total = charged + a;
      expect(total + fee(total)).toBeLessThanOrEqual(deposit);
      if (a > 0n || charged === 0n) expect(total + 1n + fee(total + 1n)).toBeGreaterThan(deposit);
    }
  });

  it('prices only the volume beyond the package, per MB', () => {
    const c = { dataBytes: '5000000000', unitPrice: '4000' };
    expect(meteredPrice(c, 4_000_000_000n)).toBe(0n);
    expect(meteredPrice(c, 5_000_000_000n)).toBe(0n);
    expect(meteredPrice(c, 6_000_000_000n)).toBe(4_000_000n);
    expect(meteredPrice(c, 5_000_500_000n)).toBe(2_000n);
  });
});

describe('config and state', () => {
  it('fills defaults and parses SDR amounts', () => {
    const c = parseConfig({ operator: 'telco-de', policy: { maxDepositPerSubscriber: '12.5' } }, '/tmp');
    expect(c.policy.maxDepositPerSubscriber).toBe(12_500_000n);
    expect(c.stateDir).toBe('/tmp/agent-telco-de');
    expect(c.requireIdentity).toBe(true);
    expect(() => parseConfig({})).toThrow(/operator/);
  });

  it('persists the state in SQLite, one small transaction per record, and reads it back', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rc-agent-store-'));
    try {
      const s = new AgentStore(dir);
      s.tx(() => {
        s.addContract('c', 'alice');
        s.setCursor('5:0');
      });
      s.addUsage('r1', 'c', { bytesUp: 1n, bytesDown: U64_MAX, seconds: 10 }, 1);
      s.close();
      const t = new AgentStore(dir);
      expect(t.hasRecord('r1')).toBe(true);
      expect(t.contract('c')).toMatchObject({ bytesUp: '1', bytesDown: U64_MAX.toString(), records: 1 });
      expect(t.cursor).toBe('5:0');
      expect(t.openContractOf('alice')).toBe('c');
      t.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('migrates an existing JSON state file at start, once', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rc-agent-store-'));
    try {
      writeFileSync(
        join(dir, 'agent-state.json'),
        JSON.stringify({
          version: 1,
          cursor: '9:2',
          usage: { 'tap-1': { contract: 'c1', at: 5 } },
          contracts: {
            c1: {
              subscriber: 'alice',
              bytesUp: '10',
              bytesDown: '20',
              seconds: 3,
              records: 1,
              provisioned: true,
            },
          },
          outbox: [{ key: '9:1', url: 'http://x/h', body: '{}', attempts: 2, nextAt: 0 }],
          demands: ['d1'],
          dead: [],
        }),
      );
      const s = new AgentStore(dir);
      expect(s.cursor).toBe('9:2');
      expect(s.hasRecord('tap-1')).toBe(true);
      expect(s.contract('c1')).toMatchObject({ bytesUp: '10', bytesDown: '20', provisioned: true });
      expect(s.outbox()).toHaveLength(1);
      expect(s.answered('d1')).toBe(true);
      s.close();
      expect(existsSync(join(dir, 'agent-state.json'))).toBe(false);
      expect(existsSync(join(dir, 'agent-state.json.migrated'))).toBe(true);
      const t = new AgentStore(dir);
      expect(t.outbox()).toHaveLength(1);
      t.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a webhook without a secret, and bad API keys, at configuration', () => {
    expect(() => parseConfig({ operator: 'x', webhooks: [{ url: 'http://h/x' }] })).toThrow(/secret/);
    expect(() => parseConfig({ operator: 'x', webhooks: [{ url: 'http://h/x', secret: '' }] })).toThrow(
      /secret/,
    );
    expect(() => parseConfig({ operator: 'x', clients: [{ id: 'a', keys: ['short'] }] })).toThrow(/24/);
    expect(() =>
      parseConfig({ operator: 'x', clients: [{ id: 'a', keys: ['k'.repeat(30)], scopes: ['root'] }] }),
    ).toThrow(/scope/);
  });

  it('makes a 32-digit EID when none was disclosed', () => {
    expect(syntheticEid('ab'.repeat(32))).toMatch(/^[0-9]{32}$/);
  });
});

it('statement CSV has one line per contract and a total line', () => {
  const s: Statement = {
    operator: 'telco-de',
    period: { from: 0, to: 1000 },
    served: { contracts: 1, charged: '5', byCounterparty: {} },
    consumed: { contracts: 0, charged: '0', byCounterparty: {} },
    issuerFees: '0',
    badServiceRefunds: { contracts: 0, refunded: '0' },
    totals: { received: '5', settledContracts: 1 },
    contracts: [
      {
        id: 'aa',
        role: 'assignee',
        counterparty: 'telco-fr',
        closedAt: 500,
        charged: '5',
        toAssignee: '5',
        toIssuer: '0',
        toPayer: '1',
        badService: false,
        reason: 1,
      },
    ],
  };
  const lines = statementCsv(s).trim().split('\n');
  expect(lines[1]).toBe('aa,assignee,telco-fr,1970-01-01T00:00:00.500Z,5,5,0,1,false,1');
  expect(lines.at(-1)).toContain('total,telco-de');
});

describe('usage records', () => {
  it('accepts integer byte counts within u64, never through a float', () => {
    const r = parseUsageRecord({
      recordId: 'a',
      bytesUp: '18446744073709551615',
      bytesDown: 5,
      durationSec: 1,
    });
    expect(r.bytesUp).toBe(U64_MAX);
    expect(r.bytesDown).toBe(5n);
    for (const bad of [
      { recordId: 'a', bytesDown: (2n ** 70n).toString() },
      { recordId: 'a', bytesDown: 2 ** 60 },
      { recordId: 'a', bytesDown: 1.5 },
      { recordId: 'a', bytesDown: '-1' },
      { recordId: 'a', bytesDown: '1e9' },
      { recordId: 'a', durationSec: -1 },
      { recordId: '' },
      { recordId: 'x'.repeat(129) },
      { recordId: 'a', contractId: 'zz' },
    ])
      expect(() => parseUsageRecord(bad), JSON.stringify(bad)).toThrow();
  });

  it('bounds a record by its duration and the line rate', () => {
    const r = parseUsageRecord({ recordId: 'a', bytesDown: '1250000000', durationSec: 1 });
    expect(physicalProblem(r, 10_000_000_000n)).toBeUndefined();
    expect(physicalProblem({ ...r, bytesDown: 1_250_000_001n }, 10_000_000_000n)).toMatch(/line rate/);
    expect(physicalProblem({ ...r, durationSec: 0 }, 10_000_000_000n)).toMatch(/line rate/);
  });
});

describe('credentials and limits', () => {
  it('accepts a key or its sha256, several at once (rotation), with scopes', () => {
    const k1 = 'key-one-0123456789abcdefghij';
    const k2 = 'key-two-0123456789abcdefghij';
    const c = new Credentials([
      {
        id: 'billing',
        keys: [k1, `sha256:${createHash('sha256').update(k2).digest('hex')}`],
        scopes: ['usage'],
      },
    ]);
    expect(c.check(`Bearer ${k1}`)?.client).toBe('billing');
    expect(c.check(`Bearer ${k2}`)?.scopes.has('usage')).toBe(true);
    expect(c.check(`Bearer ${k1}x`)).toBeUndefined();
    expect(c.check(k1)).toBeUndefined();
    expect(c.check(undefined)).toBeUndefined();
    c.set([{ id: 'billing', keys: [k2], scopes: ['usage'] }]);
    expect(c.check(`Bearer ${k1}`)).toBeUndefined();
    expect(c.check(`Bearer ${k2}`)?.client).toBe('billing');
  });

  it('token bucket refuses past the burst and refills with time', () => {
    const r = new RateLimiter(3, 2);
    expect([r.take('a', 0), r.take('a', 0), r.take('a', 0)]).toEqual([0, 0, 0]);
    expect(r.take('a', 0)).toBeGreaterThan(0);
    expect(r.take('a', 20_000)).toBe(0);
    r.take('b', 0);
    r.take('c', 0); // evicts a (bounded)
    expect(r.take('a', 20_000)).toBe(0);
  });
});

describe('webhook signatures', () => {
  const body = JSON.stringify({ id: '7:1', event: { type: 'x' } });
  const secret = 'whsec-0123456789abcdef';
  const headers = (ts: number, key = '7:1') => ({
    'x-roamchain-timestamp': String(ts),
    'x-roamchain-signature': signWebhook(secret, ts, body),
    'x-roamchain-idempotency-key': key,
  });
  it('verifies signature, window and the signed idempotency key', () => {
    expect(verifyWebhook({ secret, body, headers: headers(1000), now: 2000 })).toEqual({
      ok: true,
      id: '7:1',
      timestamp: 1000,
    });
    // A captured delivery replayed later than the window.
    expect(verifyWebhook({ secret, body, headers: headers(1000), now: 1000 + 300_001 })).toMatchObject({
      ok: false,
      reason: 'stale',
    });
    // A new timestamp without the secret cannot be signed.
    const h = { ...headers(1000), 'x-roamchain-timestamp': '5000' };
    expect(verifyWebhook({ secret, body, headers: h, now: 5000 })).toMatchObject({ reason: 'bad-signature' });
    // The idempotency key is the signed body's id.
    expect(verifyWebhook({ secret, body, headers: headers(1000, '8:0'), now: 1000 })).toMatchObject({
      reason: 'bad-body',
    });
    expect(() => signWebhook('', 1, body)).toThrow();
  });
});

describe('countersign signature check', () => {
  it('native Ed25519 agrees with the protocol signatures', async () => {
    const { bytesToHex, generateSigningKey, sha256, sign, utf8 } = await import('@roamchain/protocol');
    const { verifyEd25519 } = await import('../src/countersign.js');
    const k = generateSigningKey(sha256(utf8('k')));
    const m = sha256(utf8('m'));
    const s = sign(k.secretKey, m);
    expect(verifyEd25519(bytesToHex(k.publicKey), m, s)).toBe(true);
    const t = Uint8Array.from(s);
    t[0] = (t[0] ?? 0) ^ 1;
    expect(verifyEd25519(bytesToHex(k.publicKey), m, t)).toBe(false);
    expect(verifyEd25519('zz', m, s)).toBe(false);
  });
});
