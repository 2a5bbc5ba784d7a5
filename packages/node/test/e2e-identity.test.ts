/**
 * End-to-end: identity, private data channels and eSIM provisioning against a real node (Node +
 * Web-API in-process, LevelDB store) and the simulated SM-DP+.
 *
 * telco-fr attests alice (four salted claims) -> alice's Request discloses two of them and her EID,
 * sealed to telco-de -> telco-de verifies them against the chain -> orders a profile for the EID at the
 * SM-DP+ (DownloadOrder / ConfirmOrder) -> provisions with the real activation code -> alice opens
 * `forRequester` and her LPA authenticates at the SM-DP+; telco-fr opens `forIssuer`; telco-tr (another
 * operator) opens neither. Revoked and expired attestations make telco-de refund with the reason code.
 * Finally the whole block store is scanned: no salt, no claim value, no EID, no ICCID, no activation
 * code, as UTF-8 or as hex.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bytesToHex, sha256, UNIT, utf8 } from '@roamchain/protocol';
import {
  type Disclosure,
  encodeDisclosure,
  makeDisclosures,
  openProvisioningAsIssuer,
  openProvisioningAsRequester,
  REFUND_REASONS,
  RoamClient,
  type Signer,
  verifyRequestIdentity,
} from '@roamchain/sdk';
import {
  activationCode,
  parseActivationCode,
  type RunningSmdp,
  smdpClient,
  startSmdp,
} from '@roamchain/smdp';
import { buildGenesis, derivedKeys } from '@roamchain/state';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Api, createApi } from '../src/api/server.js';
import { Node } from '../src/node.js';
import { openStore } from '../src/store/index.js';

const EID = '89049032000001000000001234567890';
const OTHER_EID = '89049032000001000000005555555555';
const CLAIMS = {
  name: 'Alice Marguerite Martin',
  nationality: 'French Republic',
  birthdate: '1990-04-01',
  document: 'FR-PASSPORT-12AB34567',
};
const DISCLOSED = ['name', 'nationality'];

const enc = (n: string) => derivedKeys(n).encryption;
const signer = (n: string): Signer => ({ name: n, secretKey: derivedKeys(n).signing.secretKey });

describe('e2e: identity, encrypted channels and eSIM provisioning', () => {
  let dir: string;
  let node: Node;
  let api: Api;
  let smdp: RunningSmdp;
  let c: RoamClient;
  let offerId: string;
  let disclosures: Disclosure[];
  let attestationId: string;
  /** Every secret that must never reach the chain. */
  const secrets: string[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'roam-identity-'));
    const { genesis, keys } = buildGenesis({
      chainName: 'roamchain-identity',
      genesisTime: BigInt(Date.now() - 60_000),
      accounts: [
        { name: 'node-1', roles: ['node_owner'] },
        { name: 'telco-fr', roles: ['operator'] },
        { name: 'telco-de', roles: ['operator'] },
        { name: 'telco-tr', roles: ['operator'] },
        { name: 'gateway-1', roles: ['gateway'] },
        { name: 'alice', roles: ['subscriber'], homeOperator: 'telco-fr' },
      ],
      umt: {
        'telco-fr': 1000n * UNIT,
        'telco-de': 1000n * UNIT,
        'telco-tr': 1000n * UNIT,
        'gateway-1': 100n * UNIT,
        alice: 10n * UNIT,
      },
      validators: ['node-1'],
    });
    node = await Node.open({
      dataDir: join(dir, 'chain'),
      genesis,
      store: 'level',
      producer: { account: 'node-1', secretKey: keys.get('node-1')!.signing.secretKey },
      blockIntervalMs: 50,
    });
    api = await createApi(node, { port: 0 });
    node.start();
    smdp = await startSmdp({ address: 'smdp.telco-de.test' });
    c = new RoamClient({ url: api.url });
    await c.issueSdr(
      { gateway: 'gateway-1', to: 'alice', amount: 100n * UNIT, paymentRef: 'wire-1' },
      signer('gateway-1'),
    );
    offerId = (
      await c.publishOffer(
        {
          operator: 'telco-de',
          terms: {
            title: 'Germany 5 GB / 7 days',
            countries: ['DE'],
            dataBytes: 5_000_000_000n,
            durationSec: 7 * 86_400,
            price: 8n * UNIT,
          },
        },
        signer('telco-de'),
      )
    ).offerId;
  });

  afterAll(async () => {
    await smdp?.close();
    await api?.close();
    await node?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const openFor = (disclose: { disclosures: Disclosure[]; eid: string }, attestation?: string) =>
    c.openRequest(
      {
        issuer: 'telco-fr',
        subscriber: 'alice',
        offer: offerId,
        deposit: 10n * UNIT,
        issuerFeeBps: 100,
        feeDeposit: UNIT,
        disclose,
        ...(attestation !== undefined ? { attestation } : {}),
      },
      [signer('telco-fr'), signer('alice')],
    );

  it('only the home operator attests its own subscriber', async () => {
    const { digests } = makeDisclosures({ name: 'x' });
    const st = await c.status();
    const args = { subscriber: 'alice', digests, level: 1, expiresAt: BigInt(st.time) + 86_400_000n };
    await expect(
      c.attestIdentity({ ...args, operator: 'telco-de' }, signer('telco-de')),
    ).rejects.toMatchObject({
      code: 'IDENTITY_NOT_HOME',
    });
    await expect(c.identity('alice')).rejects.toMatchObject({ code: 'IDENTITY_UNKNOWN' });
  });

  it('a full roaming flow with real encryption and a real activation code', async () => {
    // 1. KYC at home: telco-fr attests alice; only the digests go on chain.
    const made = makeDisclosures(CLAIMS);
    disclosures = made.disclosures;
    for (const d of disclosures) secrets.push(d.salt, d.value);
    const st = await c.status();
    const att = await c.attestIdentity(
      {
        operator: 'telco-fr',
        subscriber: 'alice',
        digests: made.digests,
        level: 2,
        expiresAt: BigInt(st.time) + 365n * 86_400_000n,
      },
      signer('telco-fr'),
    );
    attestationId = att.attestationId;
    expect((await c.identity('alice')).digests).toHaveLength(4);

    // 2. Alice's Request discloses name and nationality and her EID, sealed to telco-de.
    const chosen = disclosures.filter((d) => DISCLOSED.includes(d.name));
    const req = await openFor({ disclosures: chosen, eid: EID }, attestationId);
    expect(req.ephemeralSecret).toBeInstanceOf(Uint8Array);
    const detail = await c.contract(req.contractId);
    expect(detail.contract.attestation).toBe(attestationId);

    // 3. telco-de verifies them against the chain; a non-party cannot.
    const check = await verifyRequestIdentity(c, {
      contractId: req.contractId,
      assigneeEncryptionSecret: enc('telco-de').secretKey,
      requiredClaims: DISCLOSED,
    });
    expect(check).toEqual({
      ok: true,
      claims: { name: CLAIMS.name, nationality: CLAIMS.nationality },
      eid: EID,
    });
    for (const who of ['telco-tr', 'telco-fr']) {
      const other = await verifyRequestIdentity(c, {
        contractId: req.contractId,
        assigneeEncryptionSecret: enc(who).secretKey,
      });
      expect(other).toMatchObject({ ok: false, reason: 'PAYLOAD_UNREADABLE' });
    }

    // 4. telco-de orders a profile for alice's EID at its SM-DP+ (ES2+).
    const es2 = smdpClient(smdp.url);
    const { iccid } = await es2.downloadOrder({
      eid: check.ok ? check.eid : '',
      profileType: 'roaming-data',
    });
    const confirmationCode = '4321';
    const conf = await es2.confirmOrder({ iccid, eid: EID, confirmationCode, releaseFlag: true });
    const lpa = activationCode(conf.smdpAddress, conf.matchingId, true);
    expect(lpa).toMatch(/^LPA:1\$smdp\.telco-de\.test\$[0-9A-Z-]+\$\$1$/);
    secrets.push(EID, iccid, lpa, conf.matchingId);

    // 5. Provision: sealed for the requester (contract channel) and for the issuer; the ICCID's hash on chain.
    const plaintext = utf8(
      JSON.stringify({ activationCode: lpa, confirmationCode, apn: 'internet.de', iccid }),
    );
    await c.provision(
      {
        assignee: 'telco-de',
        contract: req.contractId,
        iccid,
        plaintext,
        encryptionSecret: enc('telco-de').secretKey,
      },
      signer('telco-de'),
    );
    const after = await c.contract(req.contractId);
    expect(after.contract.iccidHash).toBe(bytesToHex(sha256(utf8(iccid))));
    const ref = after.transactions.find((t) => t.type === 'provision')!;
    const op = (await c.tx(ref.txId)).tx!.ops[ref.opIndex] as unknown as {
      forRequester: string;
      forIssuer: string;
    };
    const forRequester = Buffer.from(op.forRequester, 'hex');
    const forIssuer = Buffer.from(op.forIssuer, 'hex');

    // 6. Alice (the requester's ephemeral key) opens it and her device downloads the profile.
    const mine = JSON.parse(
      new TextDecoder().decode(
        openProvisioningAsRequester({
          contractId: req.contractId,
          ephemeralSecret: req.ephemeralSecret!,
          assigneeEncryptionKey: enc('telco-de').publicKey,
          box: forRequester,
        }),
      ),
    ) as { activationCode: string; confirmationCode: string; apn: string; iccid: string };
    expect(mine).toEqual({ activationCode: lpa, confirmationCode, apn: 'internet.de', iccid });
    const parsed = parseActivationCode(mine.activationCode);
    expect(parsed.confirmationRequired).toBe(true);
    await expect(
      es2.authenticate({ matchingId: parsed.matchingId, eid: OTHER_EID, confirmationCode }),
    ).rejects.toThrow(/another EID/);
    const dl = await es2.authenticate({ matchingId: parsed.matchingId, eid: EID, confirmationCode });
    expect(dl.profileMetadata.iccid).toBe(iccid);

    // 7. The issuer opens its copy.
    const issuerCopy = openProvisioningAsIssuer({
      contractId: req.contractId,
      issuerEncryptionSecret: enc('telco-fr').secretKey,
      box: forIssuer,
    });
    expect(JSON.parse(new TextDecoder().decode(issuerCopy)).activationCode).toBe(lpa);

    // 8. Another operator opens neither; nor does a wrong contract id.
    expect(() =>
      openProvisioningAsRequester({
        contractId: req.contractId,
        ephemeralSecret: enc('telco-tr').secretKey,
        assigneeEncryptionKey: enc('telco-de').publicKey,
        box: forRequester,
      }),
    ).toThrow();
    expect(() =>
      openProvisioningAsIssuer({
        contractId: req.contractId,
        issuerEncryptionSecret: enc('telco-tr').secretKey,
        box: forIssuer,
      }),
    ).toThrow();
    expect(() =>
      openProvisioningAsIssuer({
        contractId: offerId,
        issuerEncryptionSecret: enc('telco-fr').secretKey,
        box: forIssuer,
      }),
    ).toThrow();
    const tampered = Buffer.from(forRequester);
    tampered[tampered.length - 5]! ^= 0x40;
    expect(() =>
      openProvisioningAsRequester({
        contractId: req.contractId,
        ephemeralSecret: req.ephemeralSecret!,
        assigneeEncryptionKey: enc('telco-de').publicKey,
        box: tampered,
      }),
    ).toThrow();

    // 9. Service, then settlement.
    await c.charge(
      { assignee: 'telco-de', contract: req.contractId, amount: 8n * UNIT, usageType: 'package' },
      signer('telco-de'),
    );
    await c.refund(
      { by: 'telco-de', contract: req.contractId, reason: REFUND_REASONS.SERVICE_COMPLETE },
      signer('telco-de'),
    );
    const closed = (await c.contract(req.contractId)).contract;
    expect(closed.status).toBe('closed');
    expect(closed.reason).toBe(REFUND_REASONS.SERVICE_COMPLETE);
  });

  it('an altered disclosure is refunded as an identity mismatch', async () => {
    const forged = { ...disclosures.find((d) => d.name === 'nationality')!, value: 'Kingdom of Ruritania' };
    const req = await openFor({ disclosures: [forged], eid: EID });
    const check = await verifyRequestIdentity(c, {
      contractId: req.contractId,
      assigneeEncryptionSecret: enc('telco-de').secretKey,
    });
    expect(check).toMatchObject({ ok: false, reason: 'IDENTITY_MISMATCH', refundReason: 101 });
    if (!check.ok)
      await c.refund(
        { by: 'telco-de', contract: req.contractId, reason: check.refundReason },
        signer('telco-de'),
      );
    expect((await c.contract(req.contractId)).contract.reason).toBe(101);
    expect(encodeDisclosure(forged)).toContain('Ruritania');
  });

  it('a revoked attestation is refused by the chain when referenced, and refunded by the assignee', async () => {
    const chosen = disclosures.filter((d) => d.name === 'name');
    const req = await openFor({ disclosures: chosen, eid: EID }, attestationId);
    await c.revokeIdentity({ operator: 'telco-fr', subscriber: 'alice', reason: 9 }, signer('telco-fr'));
    const check = await verifyRequestIdentity(c, {
      contractId: req.contractId,
      assigneeEncryptionSecret: enc('telco-de').secretKey,
    });
    expect(check).toMatchObject({ ok: false, reason: 'ATTESTATION_REVOKED', refundReason: 102 });
    if (!check.ok)
      await c.refund(
        { by: 'telco-de', contract: req.contractId, reason: check.refundReason },
        signer('telco-de'),
      );
    expect((await c.contract(req.contractId)).contract.reason).toBe(102);
    await expect(openFor({ disclosures: chosen, eid: EID }, attestationId)).rejects.toMatchObject({
      code: 'IDENTITY_INVALID',
    });
  });

  it('re-attesting replaces the old attestation; an expired one fails verification', async () => {
    const fresh = makeDisclosures(CLAIMS);
    for (const d of fresh.disclosures) secrets.push(d.salt);
    const st = await c.status();
    const att = await c.attestIdentity(
      {
        operator: 'telco-fr',
        subscriber: 'alice',
        digests: fresh.digests,
        level: 1,
        expiresAt: BigInt(st.time) + 1500n,
      },
      signer('telco-fr'),
    );
    const shown = await c.identity('alice');
    expect(shown.id).toBe(att.attestationId);
    expect(shown.revokedAt).toBe('0');
    const req = await openFor({ disclosures: fresh.disclosures.slice(0, 1), eid: EID });
    await new Promise((r) => setTimeout(r, 1800));
    const check = await verifyRequestIdentity(c, {
      contractId: req.contractId,
      assigneeEncryptionSecret: enc('telco-de').secretKey,
    });
    expect(check).toMatchObject({ ok: false, reason: 'ATTESTATION_EXPIRED', refundReason: 103 });
  });

  it('a scan of the whole block store finds no salt, claim value, EID, ICCID or activation code', async () => {
    expect(secrets.length).toBeGreaterThan(10);
    await api.close();
    await node.close();
    const store = await openStore('level', join(dir, 'chain'));
    const needles = secrets.flatMap((s) => [
      { s, b: Buffer.from(s, 'utf8') },
      { s, b: Buffer.from(Buffer.from(s, 'utf8').toString('hex'), 'utf8') },
      { s, b: Buffer.from(Buffer.from(s, 'utf8').toString('hex').toUpperCase(), 'utf8') },
    ]);
    // Positive control: public data of the same flow is found by the same scan.
    const control = Buffer.from('Germany 5 GB / 7 days', 'utf8');
    let controlFound = false;
    let entries = 0;
    const found: string[] = [];
    try {
      for await (const [k, v] of store.range('')) {
        entries++;
        const key = Buffer.from(k, 'utf8');
        const val = Buffer.from(v);
        if (val.includes(control)) controlFound = true;
        for (const n of needles) {
          if (key.includes(n.b) || val.includes(n.b)) found.push(`${n.s} in ${k}`);
        }
      }
    } finally {
      await store.close();
    }
    expect(entries).toBeGreaterThan(20);
    expect(controlFound).toBe(true);
    expect(found).toEqual([]);
  });
});
