/** Pure parts of the web app, without a browser: demo keys, the encrypted vault, the statement. */
import { type ContractJson, type RoamClient, statement, statementCsv, statementOf } from '@roamchain/sdk';
import { derivedKeys } from '@roamchain/state';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseLpa } from '../src/contract-view.js';
import {
  createVault,
  DEMO_OPERATORS,
  DEMO_SUBSCRIBERS,
  demoKeys,
  exportVault,
  forgetVault,
  freshKeys,
  importBackup,
  KDF_ITERATIONS,
  storedVaults,
  unlockVault,
  VaultExistsError,
} from '../src/keys.js';
import { humanUnits } from '../src/lib.js';
import {
  currencyForLanguage,
  destinationsOf,
  inCurrency,
  issuerFee,
  matchesDestination,
  pricesFrom,
  priceText,
  totalOf,
} from '../src/pricing.js';

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
    const raw = localStorage.getItem('roamchain.wallet.v2') ?? '';
    expect(raw).not.toContain(Buffer.from(keys.signingSecret).toString('hex'));
    expect(raw).not.toContain('Zoe');
    await expect(unlockVault('wrong horse')).rejects.toThrow('wrong passphrase');
    const again = await unlockVault('correct horse');
    expect(again.keys.signingKey).toBe(keys.signingKey);
    expect(again.ephemeralSecret('ab'.repeat(32))).toEqual(new Uint8Array(32).fill(7));
    expect(again.identity?.disclosures).toEqual(['["s","name","Zoe"]']);
    await expect(createVault(keys, 'short')).rejects.toThrow('8 characters');
    forgetVault('zoe');
  });

  const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
  /** A vault exactly as the old wallet wrote it: roamchain.wallet.v1, PBKDF2 with 310,000 rounds. */
  async function writeV1Vault(name: string, signingSecret: Uint8Array, passphrase: string) {
    const salt = crypto.getRandomValues(new Uint8Array(16));
    const iv = crypto.getRandomValues(new Uint8Array(12));
    const base = await crypto.subtle.importKey('raw', new TextEncoder().encode(passphrase), 'PBKDF2', false, [
      'deriveKey',
    ]);
    const key = await crypto.subtle.deriveKey(
      { name: 'PBKDF2', hash: 'SHA-256', salt, iterations: 310_000 },
      base,
      { name: 'AES-GCM', length: 256 },
      false,
      ['encrypt'],
    );
    const data = {
      name,
      signingSecret: hex(signingSecret),
      encryptionSecret: hex(new Uint8Array(32).fill(3)),
      ephemeral: { ['cd'.repeat(32)]: hex(new Uint8Array(32).fill(9)) },
    };
    const ct = new Uint8Array(
      await crypto.subtle.encrypt(
        { name: 'AES-GCM', iv },
        key,
        new TextEncoder().encode(JSON.stringify(data)),
      ),
    );
    localStorage.setItem(
      'roamchain.wallet.v1',
      JSON.stringify({
        kdf: 'PBKDF2-SHA256',
        iterations: 310_000,
        salt: hex(salt),
        iv: hex(iv),
        ct: hex(ct),
        name,
      }),
    );
  }

  it('migrates an old vault: re-derives with the current KDF parameters, and still opens after later saves', async () => {
    expect(KDF_ITERATIONS).toBeGreaterThanOrEqual(600_000);
    const secret = new Uint8Array(32).fill(5);
    await writeV1Vault('old-one', secret, 'old passphrase');
    expect(storedVaults()).toEqual([{ name: 'old-one', iterations: 310_000 }]);
    const w = await unlockVault('old passphrase', 'old-one');
    expect(hex(w.keys.signingSecret)).toBe(hex(secret));
    expect(w.ephemeralSecret('cd'.repeat(32))).toEqual(new Uint8Array(32).fill(9));
    // Moved to v2 with the current parameters stored beside the ciphertext.
    expect(localStorage.getItem('roamchain.wallet.v1')).toBeNull();
    const v2 = JSON.parse(localStorage.getItem('roamchain.wallet.v2') ?? '{}') as {
      entries: { name: string; kdf: { iterations: number } }[];
    };
    expect(v2.entries.find((e) => e.name === 'old-one')?.kdf.iterations).toBe(KDF_ITERATIONS);
    // The bug this guards against: a save after unlocking made the vault undecryptable.
    await w.keepEphemeral('ef'.repeat(32), new Uint8Array(32).fill(1));
    const again = await unlockVault('old passphrase', 'old-one');
    expect(again.ephemeralSecret('ef'.repeat(32))).toEqual(new Uint8Array(32).fill(1));
    expect(again.ephemeralSecret('cd'.repeat(32))).toEqual(new Uint8Array(32).fill(9));
    forgetVault('old-one');
  });

  it('keeps several keys side by side; never replaces one without `replace`; backups restore', async () => {
    const a = freshKeys('first-key');
    const b = freshKeys('second-key');
    const wa = await createVault(a, 'passphrase A');
    await wa.keepEphemeral('aa'.repeat(32), new Uint8Array(32).fill(4));
    await createVault(b, 'passphrase B');
    expect(storedVaults().map((s) => s.name)).toEqual(['first-key', 'second-key']);
    // A second key with the first one's name is refused and the stored one is untouched.
    await expect(createVault(freshKeys('first-key'), 'passphrase C')).rejects.toBeInstanceOf(
      VaultExistsError,
    );
    const stillA = await unlockVault('passphrase A', 'first-key');
    expect(stillA.keys.signingKey).toBe(a.signingKey);
    expect(stillA.ephemeralSecret('aa'.repeat(32))).toEqual(new Uint8Array(32).fill(4));
    expect((await unlockVault('passphrase B', 'second-key')).keys.signingKey).toBe(b.signingKey);
    // Encrypted backup: no secret in it; restores only with its passphrase.
    const backup = exportVault('first-key');
    expect(backup).not.toContain(hex(a.signingSecret));
    forgetVault('first-key');
    expect(storedVaults().map((s) => s.name)).toEqual(['second-key']);
    await expect(importBackup(backup, 'wrong one')).rejects.toThrow('wrong passphrase');
    expect(storedVaults().map((s) => s.name)).toEqual(['second-key']);
    const restored = await importBackup(backup, 'passphrase A');
    expect(restored.ephemeralSecret('aa'.repeat(32))).toEqual(new Uint8Array(32).fill(4));
    await expect(importBackup(backup, 'passphrase A')).rejects.toBeInstanceOf(VaultExistsError);
    // A crafted backup that would make unlocking run for ages is refused before any derivation.
    const crafted = JSON.parse(backup) as { kdf: { iterations: number } };
    crafted.kdf.iterations = 2_000_000_000;
    await expect(importBackup(JSON.stringify(crafted), 'passphrase A')).rejects.toThrow('kdf iterations');
    // Replacing needs the explicit flag.
    const replaced = await createVault(freshKeys('second-key'), 'passphrase D', { replace: true });
    expect((await unlockVault('passphrase D', 'second-key')).keys.signingKey).toBe(replaced.keys.signingKey);
    forgetVault('first-key');
    forgetVault('second-key');
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

  it('counts closed contracts of the period, as assignee and as issuer, exactly as the agent does (JSON and CSV)', async () => {
    const t = Date.UTC(2026, 10, 10);
    const items = [
      c('c1', 'telco-fr', 'telco-de', 'closed', t),
      c('c2', 'telco-de', 'telco-tr', 'closed', t + 1000),
      c('c3', 'telco-fr', 'telco-de', 'open', 0),
      c('c4', 'telco-fr', 'telco-de', 'closed', t - 86_400_000 * 40),
    ];
    const from = t - 86_400_000;
    const to = t + 86_400_000;
    const s = statementOf('telco-de', items, from, to);
    expect(s.contracts.map((r) => [r.id, r.role, r.charged])).toEqual([
      ['c1', 'assignee', '3500000'],
      ['c2', 'issuer', '3500000'],
    ]);
    expect(s.totals).toEqual({ received: '3535000', settledContracts: 3 });
    // One format: what the agent serves (GET /v1/statement: `statement` over the paged contracts,
    // here in two pages) is what the console computes from its list, byte for byte.
    const fake = {
      contracts: async (q: { before?: string }) =>
        q.before === undefined
          ? { items: items.slice(0, 2), next: 'c2' }
          : { items: items.slice(2), next: null },
    } as unknown as RoamClient;
    const agent = await statement(fake, 'telco-de', from, to);
    expect(s).toEqual(agent);
    expect(statementCsv(s)).toBe(statementCsv(agent));
    // No "total" text in a numeric column: the summary is its own header and line.
    const csv = statementCsv(s).trim().split('\n');
    expect(csv[0]).toBe(
      'contract,role,counterparty,closedAt,charged,toAssignee,toIssuer,toPayer,badService,reason',
    );
  });
});

describe('what a traveller pays', () => {
  it('adds the home operator fee (rounded up) to the package price', () => {
    expect(issuerFee(5_000_000n)).toBe(50_000n);
    expect(issuerFee(1n)).toBe(1n);
    expect(totalOf(8_500_000n)).toBe(8_585_000n);
  });

  it('uses /v1/prices only when fresh and well-formed; converts with integers', () => {
    expect(pricesFrom({ fresh: false, sdr: { USD: '1.35' } })).toEqual({});
    expect(pricesFrom({ fresh: true, height: 1, time: 1, usdPerSdr: '1.35', sdr: {}, feeds: [] })).toEqual(
      {},
    );
    expect(pricesFrom(null)).toEqual({});
    const p = pricesFrom({
      fresh: true,
      sdr: { USD: '1.351234', EUR: '1.25', JPY: '210.5', GBP: 'NaN', CNY: '-1', XXX: '2' },
    });
    expect(p).toEqual({ USD: 1_351_234n, EUR: 1_250_000n, JPY: 210_500_000n });
    expect(inCurrency(8_585_000n, p.USD!, 'USD')).toBe('11.60 USD');
    expect(inCurrency(8_585_000n, p.JPY!, 'JPY')).toBe('1807 JPY');
    expect(priceText(8_585_000n, p, 'EUR')).toBe('8.585 SDR ≈ 10.73 EUR');
    expect(priceText(8_585_000n, p, 'GBP')).toBe('8.585 SDR');
    expect(currencyForLanguage('en-GB')).toBe('GBP');
    expect(currencyForLanguage('de-DE')).toBe('EUR');
    expect(currencyForLanguage('en-US')).toBe('USD');
  });

  it('lists destinations from the offers on chain, searchable by name in any case and accents', () => {
    const d = destinationsOf([
      { terms: { countries: ['DE', 'FR'] } },
      { terms: { countries: ['ES'] } },
      { terms: { countries: ['DE'] } },
      { terms: { countries: ['xx'] } },
    ]);
    expect(d.map((x) => [x.code, x.offers])).toEqual([
      ['FR', 1],
      ['DE', 2],
      ['ES', 1],
    ]);
    expect(d.filter((x) => matchesDestination(x, 'GERM')).map((x) => x.code)).toEqual(['DE']);
    expect(d.filter((x) => matchesDestination(x, 'es')).map((x) => x.code)).toEqual(['ES']);
    const tr = { code: 'TR', name: 'Türkiye', offers: 1 };
    expect(matchesDestination(tr, 'turk')).toBe(true);
  });

  it('splits an activation code into SM-DP+ address and matching id; amounts in words', () => {
    expect(parseLpa('LPA:1$smdp.example.com$ABC-123')).toEqual({
      smdp: 'smdp.example.com',
      matchingId: 'ABC-123',
    });
    expect(parseLpa('LPA:1$127.0.0.1:9000$X$1.2.3')).toEqual({ smdp: '127.0.0.1:9000', matchingId: 'X' });
    expect(parseLpa('nonsense')).toBeUndefined();
    expect(humanUnits('alice has 77275000 SDR base units, needs 81810000 SDR base units')).toBe(
      'alice has 77.275 SDR, needs 81.81 SDR',
    );
  });
});

describe('top-up and offer editing (issue 14 items 2 and 5)', () => {
  it('the least top-up is one unit of the terms plus the home operator fee; the reason when it cannot be sent', async () => {
    const { topupMinimum, topupProblem } = await import('../src/topup.js');
    const c = { price: '8000000', unitPrice: '4000', issuerFeeBps: 100 } as ContractJson;
    expect(topupMinimum(c)).toBe(4040n);
    expect(topupMinimum({ ...c, unitPrice: '0' })).toBe(8_080_000n);
    expect(topupProblem(undefined, 4040n, 10n)).toMatch(/Enter an amount/);
    expect(topupProblem(1000n, 4040n, 10_000_000n)).toMatch(/least you can add is 0.00404 SDR/);
    expect(topupProblem(20_000_000n, 4040n, 10_000_000n)).toMatch(/balance is 10.00 SDR/);
    expect(topupProblem(5_000_000n, 4040n, 10_000_000n)).toBeUndefined();
  });

  it('an offer as an edit draft keeps every term; the draft gives the same terms back', async () => {
    const { draftOf, termsOf } = await import('../src/console-offers.js');
    const now = 1_800_000_000_000;
    const o = {
      id: 'aa'.repeat(32),
      terms: {
        title: 'DE 5 GB',
        kind: 'data',
        category: '',
        countries: ['DE', 'AT'],
        networks: ['262-01'],
        technologies: ['4G', '5G'],
        dataBytes: '5000000000',
        voiceSeconds: '0',
        smsCount: 0,
        durationSec: 7 * 86_400,
        price: '6000000',
        unitPrice: '4000',
        capacity: 50,
        validFrom: String(now - 86_400_000),
        validUntil: String(now + 10 * 86_400_000),
      },
    } as unknown as import('@roamchain/sdk').OfferJson;
    const edit = draftOf(o, false, now);
    expect(edit).toMatchObject({
      title: 'DE 5 GB',
      country: 'DE,AT',
      networks: '262-01',
      unitPrice: '0.004',
      capacity: '50',
      validDays: '10',
    });
    expect(draftOf(o, true, now).title).toBe('DE 5 GB (copy)');
    const t = termsOf(edit, o, now);
    expect(t).toMatchObject({
      countries: ['DE', 'AT'],
      networks: ['262-01'],
      dataBytes: 5_000_000_000n,
      price: 6_000_000n,
      unitPrice: 4000n,
      capacity: 50,
      validFrom: BigInt(now - 86_400_000),
      validUntil: BigInt(now + 10 * 86_400_000),
    });
  });
});
