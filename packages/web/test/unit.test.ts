/** Pure parts of the web app, without a browser: demo keys, the encrypted vault, the statement. */
import type { ContractJson } from '@roamchain/sdk';
import { derivedKeys } from '@roamchain/state';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  createVault,
  DEMO_OPERATORS,
  DEMO_SUBSCRIBERS,
  demoKeys,
  freshKeys,
  unlockVault,
} from '../src/keys.js';
import { statementCsv, statementRows } from '../src/statement.js';

beforeAll(() => {
  // The vault lives in localStorage; a Map stands in for it here.
  const m = new Map<string, string>();
  (globalThis as { localStorage?: unknown }).localStorage = {
    getItem: (k: string) => m.get(k) ?? null,
    setItem: (k: string, v: string) => void m.set(k, v),
    removeItem: (k: string) => void m.delete(k),
  };
});

describe('keys', () => {
  it('derives the devnet demo keys exactly like the devnet', () => {
    for (const n of [...DEMO_SUBSCRIBERS, ...DEMO_OPERATORS]) {
      const k = demoKeys(n);
      const d = derivedKeys(n, 'roamchain-devnet');
      expect(k.signingKey).toBe(Buffer.from(d.signing.publicKey).toString('hex'));
      expect(k.encryptionKey).toBe(Buffer.from(d.encryption.publicKey).toString('hex'));
      expect(k.demo).toBe(true);
    }
  });

  it('keeps keys, ephemeral secrets and disclosures encrypted, and opens them with the passphrase only', async () => {
    const keys = freshKeys('zoe');
    const w = await createVault(keys, 'correct horse');
    await w.keepEphemeral('ab'.repeat(32), new Uint8Array(32).fill(7));
    await w.setIdentity({ disclosures: ['["s","name","Zoe"]'], eid: '8904903200000000000000000000001' });
    const raw = localStorage.getItem('roamchain.wallet.v1') ?? '';
    expect(raw).not.toContain(Buffer.from(keys.signingSecret).toString('hex'));
    expect(raw).not.toContain('Zoe');
    await expect(unlockVault('wrong horse')).rejects.toThrow('wrong passphrase');
    const again = await unlockVault('correct horse');
    expect(again.keys.signingKey).toBe(keys.signingKey);
    expect(again.ephemeralSecret('ab'.repeat(32))).toEqual(new Uint8Array(32).fill(7));
    expect(again.identity?.disclosures).toEqual(['["s","name","Zoe"]']);
    await expect(createVault(keys, 'short')).rejects.toThrow('8 characters');
  });
});

describe('settlement statement', () => {
  const base = {
    offer: '00',
    offerVersion: '00',
    payer: 'alice',
    subscriber: 'alice',
    price: '5000000',
    unitPrice: '0',
    unit: 'mb',
    kind: 'data',
    dataBytes: '0',
    durationSec: 1,
    issuerFeeBps: 100,
    feeDeposit: '0',
    ephemeralKey: '00',
    stepTimeoutSec: 1,
    lifetimeSec: 1,
    openedAt: '0',
    lastStepAt: '0',
    expiresAt: '0',
    head: '00',
    chargeCount: 1,
    volumeUp: '0',
    volumeDown: '0',
    closedBy: 'alice',
    badService: false,
    reason: 0,
    feeReturned: '0',
    score: 0,
  } as const;
  const c = (id: string, issuer: string, assignee: string, status: 'open' | 'closed', closedAt: number) =>
    ({
      ...base,
      id,
      issuer,
      assignee,
      status,
      closedAt: String(closedAt),
      deposit: '5050000',
      charged: '3500000',
      paidAssignee: status === 'closed' ? '3500000' : '0',
      paidIssuer: status === 'closed' ? '35000' : '0',
      paidPayer: status === 'closed' ? '1515000' : '0',
    }) as ContractJson;

  it('counts closed contracts of the period, as assignee and as issuer, and writes CSV', () => {
    const t = Date.UTC(2026, 10, 10);
    const items = [
      c('c1', 'telco-fr', 'telco-de', 'closed', t),
      c('c2', 'telco-de', 'telco-tr', 'closed', t + 1000),
      c('c3', 'telco-fr', 'telco-de', 'open', 0),
      c('c4', 'telco-fr', 'telco-de', 'closed', t - 86_400_000 * 40),
    ];
    const rows = statementRows('telco-de', items, t - 86_400_000, t + 86_400_000);
    expect(rows.map((r) => [r.contract, r.role, r.received])).toEqual([
      ['c1', 'assignee', 3_500_000n],
      ['c2', 'issuer', 35_000n],
    ]);
    const csv = statementCsv(rows).trim().split('\n');
    expect(csv[0]).toBe('closed_at_utc,contract,role,subscriber,counterparty,charged_sdr,received_sdr');
    expect(csv[1]).toBe('2026-11-10 00:00:00,c1,assignee,alice,telco-fr,3.5,3.5');
    expect(csv.at(-1)).toBe(',,,,,total,3.535');
  });
});
