import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { availableToCharge, meteredPrice } from '../src/agent.js';
import { parseConfig } from '../src/config.js';
import { syntheticEid } from '../src/integrations.js';
import { type Statement, statementCsv } from '../src/statement.js';
import { AgentStore } from '../src/store.js';

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

  it('persists the state atomically and reads it back', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rc-agent-store-'));
    try {
      const s = new AgentStore(dir);
      s.data.usage.r1 = { contract: 'c', at: 1 };
      s.data.cursor = '5:0';
      s.save();
      const t = new AgentStore(dir);
      expect(t.data.usage.r1).toEqual({ contract: 'c', at: 1 });
      expect(t.data.cursor).toBe('5:0');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
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
