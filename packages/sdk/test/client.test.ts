/**
 * End-to-end: the SDK against a real node (Node + Web-API on a free port). A full service smart
 * contract (offer, multi-party Request, three Charges, Refund, Rate) and every invalid transition
 * answered with its typed code.
 */
import { bytesToHex, hexToBytes } from '@roamchain/protocol';
import { derivedKeys } from '@roamchain/state';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  assembleTx,
  type FeedEventJson,
  makeDisclosures,
  openProvisioningAsRequester,
  RoamApiError,
  RoamClient,
  RoamError,
  RoamNetworkError,
  signUnsigned,
} from '../src/index.js';
import { ACCOUNTS as A, startTestNode, type TestNode } from './testnode.js';

const SDR = (n: number) => BigInt(Math.round(n * 1_000_000));

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(RoamApiError);
    expect(e).toBeInstanceOf(RoamError);
    return (e as RoamApiError).code;
  }
  throw new Error('expected a rejection');
}

function until(cond: () => boolean, ms = 10_000): Promise<void> {
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const tick = () => {
      if (cond()) resolve();
      else if (Date.now() - t0 > ms) reject(new Error('timed out waiting'));
      else setTimeout(tick, 20);
    };
    tick();
  });
}

describe('RoamClient against a real node', () => {
  let tn: TestNode;
  let c: RoamClient;
  beforeAll(async () => {
    tn = await startTestNode();
    c = new RoamClient({ url: tn.url });
  });
  afterAll(async () => {
    await tn?.close();
  });

  it('reads status, params, health and accounts', async () => {
    const st = await c.status();
    expect(st.chainName).toBe('roamchain-e2e');
    expect(st.chainId).toMatch(/^[0-9a-f]{64}$/);
    expect(typeof st.time).toBe('number');
    const p = await c.params();
    expect(p.maxTxExpirationMs).toBeGreaterThanOrEqual(600_000);
    expect((await c.health()).ok).toBe(true);
    const alice = await c.account(A.subscriber);
    expect(alice.roles).toEqual(['subscriber']);
    expect(alice.homeOperator).toBe(A.home);
    expect(await codeOf(c.account('nobody-here'))).toBe('ACCOUNT_UNKNOWN');
  });

  it('runs a full contract: offer, two-party request, 3 charges, refund, rate; invalid transitions are typed', async () => {
    const sig = (n: string) => tn.signer(n);
    const issued = await c.issueSdr(
      { gateway: A.gateway, to: A.subscriber, amount: SDR(100), paymentRef: 'wire-0001' },
      sig(A.gateway),
    );
    expect(issued.status).toBe('included');
    if (issued.status === 'included')
      expect(issued.receipt.events[0]).toMatchObject({ type: 'sdr_issued', to: A.subscriber });
    expect(
      await codeOf(
        c.issueSdr(
          { gateway: A.gateway, to: A.subscriber, amount: 1n, paymentRef: 'wire-0001' },
          sig(A.gateway),
        ),
      ),
    ).toBe('SDR_REF_USED');

    // Offer: the encryption key comes from the operator's account on chain.
    const pub = await c.publishOffer(
      {
        operator: A.visited,
        terms: {
          title: 'Germany 5 GB / 7 days',
          countries: ['DE'],
          networks: ['262-01'],
          technologies: ['4G', '5G'],
          dataBytes: 5_000_000_000n,
          durationSec: 7 * 86_400,
          price: SDR(10),
          unitPrice: SDR(0.01),
          capacity: 10,
        },
      },
      sig(A.visited),
    );
    const offer = await c.offer(pub.offerId);
    expect(offer.operator).toBe(A.visited);
    expect(offer.terms.encryptionKey).toBe((await c.account(A.visited)).encryptionKey);
    expect((await c.offers({ country: 'DE' })).items.map((o) => o.id)).toContain(pub.offerId);
    const ranked = await c.rankOffers({ country: 'DE', volume: 5_000_000_000n, preference: 'price' });
    expect(ranked.items[0]!.offerId).toBe(pub.offerId);
    expect(ranked.items[0]!.reasons.length).toBeGreaterThan(0);

    // Request: the subscriber signs (wallet), the home operator countersigns and submits.
    const prepared = await c.prepareOpenRequest({
      issuer: A.home,
      subscriber: A.subscriber,
      offer: pub.offerId,
      deposit: SDR(20),
      issuerFeeBps: 100,
      feeDeposit: SDR(1),
    });
    const cid = prepared.contractId;

    const live: FeedEventJson[] = [];
    const sub = c.subscribe({ events: { contract: cid }, onEvent: (e) => live.push(e) });
    await until(() => sub.cursor !== undefined);

    const walletSig = signUnsigned(prepared.tx, sig(A.subscriber).secretKey);
    const issuerSig = signUnsigned(prepared.tx, sig(A.home).secretKey);
    const opened = await c.submitTx(
      assembleTx(prepared.tx, { [A.subscriber]: walletSig, [A.home]: issuerSig }),
    );
    expect(opened.status).toBe('included');
    if (opened.status === 'included') {
      expect(opened.receipt.events[0]).toMatchObject({
        type: 'contract_opened',
        contract: cid,
        assignee: A.visited,
      });
    }
    const afterOpen = (await c.contract(cid)).contract.head;

    for (const amount of [4, 3, 2]) {
      const r = await c.charge(
        { assignee: A.visited, contract: cid, amount: SDR(amount), volumeDown: 1_000_000_000n },
        sig(A.visited),
      );
      if (r.status === 'included') expect(r.receipt.events[0]).toMatchObject({ type: 'contract_charged' });
    }
    const mid = (await c.contract(cid)).contract;
    expect(mid.chargeCount).toBe(3);
    expect(mid.charged).toBe(SDR(9).toString());

    // Invalid transitions, each with its code.
    expect(await codeOf(c.charge({ assignee: A.home, contract: cid, amount: 1n }, sig(A.home)))).toBe(
      'SSC_NOT_PARTY',
    );
    const notHead = await c
      .charge({ assignee: A.visited, contract: cid, amount: 1n, prev: afterOpen }, sig(A.visited))
      .catch((e: unknown) => e);
    expect(notHead).toBeInstanceOf(RoamApiError);
    expect((notHead as RoamApiError).code).toBe('SSC_NOT_HEAD');
    expect((notHead as RoamApiError).status).toBe(409);
    expect((notHead as RoamApiError).details?.head).toBe(mid.head);
    const over = await c
      .charge({ assignee: A.visited, contract: cid, amount: SDR(100) }, sig(A.visited))
      .catch((e) => e);
    expect((over as RoamApiError).code).toBe('SSC_OVERCHARGE');
    expect((over as RoamApiError).status).toBe(422);
    expect(await codeOf(c.refund({ by: A.stranger, contract: cid }, sig(A.stranger)))).toBe('SSC_NOT_PARTY');
    expect(
      await codeOf(c.rate({ subscriber: A.subscriber, contract: cid, score: 5 }, sig(A.subscriber))),
    ).toBe('RATE_NOT_CLOSED');

    // Refund by the subscriber settles everyone at once.
    const before = BigInt((await c.account(A.subscriber)).balances.SDR);
    const refund = await c.refund({ by: A.subscriber, contract: cid }, sig(A.subscriber));
    expect(refund.status).toBe('included');
    if (refund.status === 'included') {
      expect(refund.receipt.events[0]).toMatchObject({
        type: 'contract_settled',
        toAssignee: SDR(9).toString(),
        toIssuer: SDR(0.09).toString(),
        toPayer: SDR(10.91).toString(),
      });
    }
    expect(BigInt((await c.account(A.subscriber)).balances.SDR)).toBe(before + SDR(10.91));

    expect(await codeOf(c.charge({ assignee: A.visited, contract: cid, amount: 1n }, sig(A.visited)))).toBe(
      'SSC_CLOSED',
    );
    expect(await codeOf(c.refund({ by: A.home, contract: cid }, sig(A.home)))).toBe('SSC_CLOSED');

    const rated = await c.rate({ subscriber: A.subscriber, contract: cid, score: 5 }, sig(A.subscriber));
    expect(rated.status).toBe('included');
    expect(
      await codeOf(c.rate({ subscriber: A.subscriber, contract: cid, score: 4 }, sig(A.subscriber))),
    ).toBe('RATE_DUPLICATE');

    const done = await c.contract(cid);
    expect(done.contract).toMatchObject({
      status: 'closed',
      closedBy: A.subscriber,
      score: 5,
      paidPayer: SDR(10.91).toString(),
    });
    expect(done.transactions.map((t) => t.type)).toEqual(
      expect.arrayContaining(['request_open', 'charge', 'refund']),
    );
    expect(done.transactions.filter((t) => t.type === 'charge')).toHaveLength(3);
    expect((await c.contracts({ party: A.subscriber })).items.map((x) => x.id)).toContain(cid);
    const rating = await c.operatorRating(A.visited);
    expect(rating).toMatchObject({ operator: A.visited, ratingCount: 1, closed: 1 });
    // The 30-day service window (docs/RATING.md): its first step (a Charge) came within the timeout.
    expect(rating).toMatchObject({ opened30d: 1, provisioned30d: 1, failed30d: 0, service: 'serving' });
    expect((await c.ratings()).items.map((r) => r.operator)).toContain(A.visited);

    // The live feed saw the whole contract, in order.
    await until(() => live.some((e) => e.event.type === 'contract_rated'));
    expect(live.map((e) => e.event.type)).toEqual([
      'contract_opened',
      'contract_charged',
      'contract_charged',
      'contract_charged',
      'contract_settled',
      'contract_rated',
    ]);
    sub.close();

    // Resuming from a cursor replays exactly what came after it.
    const replayed: FeedEventJson[] = [];
    const again = c.subscribe({
      events: { contract: cid, cursor: live[1]!.cursor },
      onEvent: (e) => replayed.push(e),
    });
    await until(() => replayed.length === 4);
    await new Promise((r) => setTimeout(r, 200));
    again.close();
    expect(replayed.map((e) => e.cursor)).toEqual(live.slice(2).map((e) => e.cursor));

    // The same through the paged REST feed, and the transaction / block lookups.
    const tx = await c.tx(refund.txId);
    expect(tx.status).toBe('included');
    const block = await c.block(tx.height!);
    expect(block.txs.map((t) => t.id)).toContain(refund.txId);
    expect((await c.blocks({ limit: 3 })).items.length).toBeGreaterThan(0);
    const page = await c.events({ limit: 1000 });
    expect(page.items.some((e) => e.event.type === 'contract_settled' && e.event.contract === cid)).toBe(
      true,
    );
  });

  it('every other action: identity, provisioning, offers, demands, accounts, transfers, SDR burn', async () => {
    const sig = (n: string) => tn.signer(n);
    await c.issueSdr(
      { gateway: A.gateway, to: A.subscriber, amount: SDR(50), paymentRef: 'wire-0002' },
      sig(A.gateway),
    );
    await c.issueSdr(
      { gateway: A.gateway, to: A.gateway, amount: SDR(5), paymentRef: 'wire-0003' },
      sig(A.gateway),
    );
    const burn = await c.burnSdr(
      { gateway: A.gateway, amount: SDR(5), redemptionRef: 'red-0001' },
      sig(A.gateway),
    );
    if (burn.status === 'included') expect(burn.receipt.events[0]).toMatchObject({ type: 'sdr_burned' });

    // Identity: the home operator attests with salted digests; the Request names the attestation.
    const { disclosures, digests } = makeDisclosures({ given_name: 'Alice', nationality: 'FR' });
    const st = await c.status();
    const att = await c.attestIdentity(
      {
        operator: A.home,
        subscriber: A.subscriber,
        digests,
        level: 2,
        expiresAt: BigInt(st.time) + 86_400_000n,
      },
      sig(A.home),
    );
    expect(disclosures).toHaveLength(2);
    expect(
      await codeOf(
        c.attestIdentity(
          {
            operator: A.visited,
            subscriber: A.subscriber,
            digests,
            level: 1,
            expiresAt: BigInt(st.time) + 86_400_000n,
          },
          sig(A.visited),
        ),
      ),
    ).toBe('IDENTITY_NOT_HOME');

    const pub = await c.publishOffer(
      {
        operator: A.visited,
        terms: {
          title: 'DE 1 GB',
          countries: ['DE'],
          dataBytes: 1_000_000_000n,
          durationSec: 86_400,
          price: SDR(2),
        },
      },
      sig(A.visited),
    );
    // Replacing the terms makes the old version stale for new Requests.
    const oldVersion = (await c.offer(pub.offerId)).version;
    await c.replaceOffer(
      {
        operator: A.visited,
        offer: pub.offerId,
        terms: { title: 'DE 1 GB (new)', countries: ['DE'], durationSec: 86_400, price: SDR(3) },
      },
      sig(A.visited),
    );
    expect((await c.offer(pub.offerId)).terms.title).toBe('DE 1 GB (new)');
    const stale = c.openRequest(
      { issuer: A.home, subscriber: A.subscriber, offer: pub.offerId, prev: oldVersion, deposit: SDR(5) },
      [sig(A.home), sig(A.subscriber)],
    );
    expect(await codeOf(stale)).toBe('OFFER_VERSION_STALE');

    const opened = await c.openRequest(
      {
        issuer: A.home,
        subscriber: A.subscriber,
        offer: pub.offerId,
        deposit: SDR(5),
        attestation: att.attestationId,
        feeDeposit: SDR(1),
      },
      [sig(A.home), sig(A.subscriber)],
    );
    expect((await c.contract(opened.contractId)).contract.attestation).toBe(att.attestationId);

    // Provisioning: sealed by the SDK, opened by the requester's ephemeral secret.
    const plaintext = new TextEncoder().encode('LPA:1$smdp.example$XYZ');
    await c.provision(
      {
        assignee: A.visited,
        contract: opened.contractId,
        iccid: '8949000000000000009',
        plaintext,
        encryptionSecret: derivedKeys(A.visited).encryption.secretKey,
      },
      sig(A.visited),
    );
    const provRef = (await c.contract(opened.contractId)).transactions.find((t) => t.type === 'provision')!;
    const provTx = await c.tx(provRef.txId);
    const provOp = provTx.tx!.ops[provRef.opIndex] as unknown as { forRequester: string };
    const opened2 = openProvisioningAsRequester({
      contractId: opened.contractId,
      ephemeralSecret: opened.ephemeralSecret!,
      assigneeEncryptionKey: (await c.account(A.visited)).encryptionKey,
      box: hexToBytes(provOp.forRequester),
    });
    expect(opened2).toEqual(plaintext);
    await c.refund({ by: A.home, contract: opened.contractId, badService: true, reason: 2 }, sig(A.home));

    await c.revokeIdentity({ operator: A.home, subscriber: A.subscriber, reason: 1 }, sig(A.home));
    const revoked = c.openRequest(
      {
        issuer: A.home,
        subscriber: A.subscriber,
        offer: pub.offerId,
        deposit: SDR(5),
        attestation: att.attestationId,
      },
      [sig(A.home), sig(A.subscriber)],
    );
    expect(await codeOf(revoked)).toBe('IDENTITY_INVALID');
    await c.withdrawOffer({ operator: A.visited, offer: pub.offerId }, sig(A.visited));
    expect((await c.offer(pub.offerId)).status).toBe('withdrawn');
    expect(await codeOf(c.withdrawOffer({ operator: A.visited, offer: pub.offerId }, sig(A.visited)))).toBe(
      'OFFER_INACTIVE',
    );

    // Demands, answered by an offer addressed to them.
    const dem = await c.postDemand(
      {
        subscriber: A.subscriber,
        countries: ['DE'],
        endAt: BigInt(st.time) + 7n * 86_400_000n,
        maxPrice: SDR(9),
        note: 'a week in Berlin',
      },
      sig(A.subscriber),
    );
    const answer = await c.publishOffer(
      {
        operator: A.visited,
        demand: dem.demandId,
        // An answer is valid no longer than its demand.
        terms: {
          title: 'for you',
          countries: ['DE'],
          durationSec: 86_400,
          price: SDR(8),
          validUntil: BigInt(st.time) + 7n * 86_400_000n,
        },
      },
      sig(A.visited),
    );
    expect((await c.offer(answer.offerId)).demand).toBe(dem.demandId);
    expect((await c.demand(dem.demandId)).answers).toBe(1);
    await c.cancelDemand({ subscriber: A.subscriber, demand: dem.demandId }, sig(A.subscriber));
    expect((await c.demand(dem.demandId)).status).toBe('cancelled');

    // Accounts: an operator creates its subscriber; the subscriber rotates its keys.
    const dave = derivedKeys('dave-sub');
    await c.createAccount(
      {
        creator: A.home,
        name: 'dave-sub',
        signingKey: dave.signing.publicKey,
        encryptionKey: dave.encryption.publicKey,
        homeOperator: A.home,
      },
      sig(A.home),
    );
    expect((await c.account('dave-sub')).roles).toEqual(['subscriber']);
    const next = derivedKeys('dave-sub-2');
    // dave has no UMT for the fee yet
    const poor = c.updateKeys({ account: 'dave-sub', signingKey: next.signing.publicKey }, sig('dave-sub'));
    expect(await codeOf(poor)).toBe('BALANCE_LOW');
    await c.transfer(
      { from: A.home, to: 'dave-sub', token: 'UMT', amount: SDR(1), memo: 'welcome' },
      sig(A.home),
    );
    await c.updateKeys({ account: 'dave-sub', signingKey: next.signing.publicKey }, sig('dave-sub'));
    expect((await c.account('dave-sub')).signingKey).toBe(bytesToHex(next.signing.publicKey));
    const oldKey = c.transfer({ from: 'dave-sub', to: A.home, token: 'UMT', amount: 1n }, sig('dave-sub'));
    expect(await codeOf(oldKey)).toBe('SIG_INVALID');
  });

  it('rejects a tampered signature and unknown signers with typed codes', async () => {
    const u = await c.prepareTx([
      {
        type: 'transfer',
        from: A.stranger,
        to: A.subscriber,
        token: 'UMT',
        amount: 1n,
        memo: new Uint8Array(),
      },
    ]);
    const wrongKey = derivedKeys('someone-else').signing.secretKey;
    const forged = assembleTx(u, { [A.stranger]: signUnsigned(u, wrongKey) });
    expect(await codeOf(c.submitTx(forged))).toBe('SIG_INVALID');
    const ghost = c.transfer(
      { from: 'ghost-acct', to: A.subscriber, token: 'UMT', amount: 1n },
      tn.signer('ghost-acct'),
    );
    expect(await codeOf(ghost)).toBe('ACCOUNT_UNKNOWN');
  });

  it('a node that is not there is a RoamNetworkError', async () => {
    const down = new RoamClient({ url: 'http://127.0.0.1:9', timeoutMs: 2000 });
    await expect(down.status()).rejects.toBeInstanceOf(RoamNetworkError);
  });
});
