import {
  bytesToHex,
  contractIdOf,
  generateSigningKey,
  generateX25519,
  hexToBytes,
  OP_NAMES,
  type OpName,
  opHash,
  RoamError,
  requiredSigners,
  sha256,
  txId,
  utf8,
  verify,
} from '@roamchain/protocol';
import { describe, expect, it } from 'vitest';
import {
  apiErrorFromResponse,
  assembleTx,
  bondValidatorOp,
  chargeOp,
  evidenceOp,
  objectIdOf,
  offerTerms,
  openProvisioningAsIssuer,
  openProvisioningAsRequester,
  openProvisioningAsSubscriber,
  openRequestOp,
  RoamApiError,
  RoamClient,
  RoamNetworkError,
  type Signer,
  setValidatorOp,
  signUnsigned,
  taposOf,
  transferOp,
  unbondValidatorOp,
  type VoteInput,
} from '../src/index.js';
import { FakeApi } from './fake.js';

const key = (name: string) => generateSigningKey(sha256(utf8(`unit/${name}`)));
const signer = (name: string): Signer => ({ name, secretKey: key(name).secretKey });
const OFFER = '11'.repeat(32);
const VERSION = '22'.repeat(32);
const CONTRACT = '33'.repeat(32);
const HEAD = '44'.repeat(32);
const ENC = '55'.repeat(32);

function verifies(
  env: { id: Uint8Array; tx: { ops: never[] | unknown[]; signatures: Uint8Array[] } },
  names: string[],
) {
  const signers = requiredSigners(env.tx.ops as never);
  expect(signers).toEqual([...names].sort());
  signers.forEach((n, i) => {
    expect(verify(key(n).publicKey, env.id, env.tx.signatures[i]!)).toBe(true);
  });
}

describe('operation builders', () => {
  it('transfer: exact op, memo as UTF-8', () => {
    expect(transferOp({ from: 'alice', to: 'bob-1', token: 'SDR', amount: 10_500_000n, memo: 'hi' })).toEqual(
      {
        type: 'transfer',
        from: 'alice',
        to: 'bob-1',
        token: 'SDR',
        amount: 10_500_000n,
        memo: utf8('hi'),
      },
    );
  });

  it('checks ops with the protocol rules (typed RoamError)', () => {
    expect(() => transferOp({ from: 'alice', to: 'alice', token: 'UMT', amount: 1n })).toThrowError(
      RoamError,
    );
    try {
      transferOp({ from: 'alice', to: 'bob', token: 'UMT', amount: 0n });
    } catch (e) {
      expect((e as RoamError).code).toBe('AMOUNT_INVALID');
    }
  });

  it('offer terms: defaults and validity window', () => {
    const t = offerTerms(
      {
        title: 'DE 5 GB',
        countries: ['DE'],
        dataBytes: 5_000_000_000n,
        durationSec: 7 * 86_400,
        price: 10_000_000n,
      },
      { now: 1000n, encryptionKey: ENC },
    );
    expect(t).toMatchObject({
      kind: 'data',
      category: '',
      networks: [],
      unitPrice: 0n,
      unit: 'mb',
      activation: 'on_provision',
      validFrom: 1000n,
      validUntil: 1000n + 30n * 86_400_000n,
      capacity: 100,
    });
    expect(bytesToHex(t.encryptionKey)).toBe(ENC);
    expect(() => offerTerms({ title: 'x', durationSec: 1, price: 1n }, { now: 0n })).toThrow(
      /encryption key/,
    );
  });

  it('request_open: payer defaults to the subscriber, fixed defaults', () => {
    const op = openRequestOp({
      issuer: 'telco-fr',
      subscriber: 'alice',
      offer: OFFER,
      prev: VERSION,
      deposit: 12_000_000n,
      ephemeralKey: ENC,
    });
    expect(op).toMatchObject({
      type: 'request_open',
      issuer: 'telco-fr',
      payer: 'alice',
      subscriber: 'alice',
      deposit: 12_000_000n,
      issuerFeeBps: 0,
      feeDeposit: 100_000n,
      stepTimeoutSec: 3600,
      lifetimeSec: 604_800,
    });
    expect(op.payload.length).toBe(0);
    expect(requiredSigners([op])).toEqual(['alice', 'telco-fr']);
  });

  it('charge: record fields', () => {
    const op = chargeOp({
      assignee: 'telco-de',
      contract: CONTRACT,
      prev: HEAD,
      seq: 2,
      start: 5n,
      amount: 3n,
      volumeDown: 7n,
    });
    expect(op.record).toEqual({
      seq: 2,
      usageType: 'data',
      start: 5n,
      duration: 0,
      volumeUp: 0n,
      volumeDown: 7n,
      units: 0n,
      amount: 3n,
    });
    expect(() =>
      chargeOp({ assignee: 'telco-de', contract: 'zz', prev: HEAD, seq: 1, start: 0n, amount: 1n }),
    ).toThrow(/hex/);
  });

  it('validator_set: optional node key as hex, status checked', () => {
    expect(
      setValidatorOp({ authority: 'ndf', account: 'node-2', status: 'candidate', nodeKey: ENC }),
    ).toEqual({
      type: 'validator_set',
      authority: 'ndf',
      account: 'node-2',
      status: 'candidate',
      nodeKey: hexToBytes(ENC),
    });
    const op = setValidatorOp({ authority: 'ndf', account: 'node-2', status: 'active' });
    expect('nodeKey' in op).toBe(false);
    expect(requiredSigners([op])).toEqual(['ndf']);
    expect(() =>
      setValidatorOp({ authority: 'ndf', account: 'node-2', status: 'active', nodeKey: '00'.repeat(32) }),
    ).toThrowError(expect.objectContaining({ code: 'VALIDATOR_INVALID' }));
    expect(() =>
      setValidatorOp({ authority: 'ndf', account: 'node-2', status: 'jailed' as never }),
    ).toThrowError(expect.objectContaining({ code: 'VALIDATOR_INVALID' }));
    expect(() =>
      setValidatorOp({ authority: 'ndf', account: 'node-2', status: 'active', nodeKey: 'abcd' }),
    ).toThrow(/32 bytes/);
  });

  it('validator_bond / validator_unbond: exact ops, signed by the owner, positive amounts', () => {
    expect(bondValidatorOp({ account: 'node-1', amount: 5_000_000n })).toEqual({
      type: 'validator_bond',
      account: 'node-1',
      amount: 5_000_000n,
    });
    const u = unbondValidatorOp({ account: 'node-1', amount: 1n });
    expect(u).toEqual({ type: 'validator_unbond', account: 'node-1', amount: 1n });
    expect(requiredSigners([u])).toEqual(['node-1']);
    expect(() => bondValidatorOp({ account: 'node-1', amount: 0n })).toThrowError(
      expect.objectContaining({ code: 'AMOUNT_INVALID' }),
    );
    expect(() => unbondValidatorOp({ account: 'node-1', amount: 0n })).toThrowError(
      expect.objectContaining({ code: 'AMOUNT_INVALID' }),
    );
  });

  it('evidence: votes in canonical order (nil first, then by bytes), no signer', () => {
    const vote = (value: string | null): VoteInput => ({
      type: 'precommit',
      height: 7,
      round: 1,
      value,
      validator: 2,
      signature: 'ee'.repeat(64),
    });
    const op = evidenceOp({ a: vote(HEAD), b: vote(null) });
    expect(op.type).toBe('evidence');
    expect(op.a).toEqual({
      type: 'precommit',
      height: 7n,
      round: 1,
      value: null,
      validator: 2,
      signature: hexToBytes('ee'.repeat(64)),
    });
    expect(op.b.value).toEqual(hexToBytes(HEAD));
    expect(evidenceOp({ a: vote(HEAD), b: vote(CONTRACT) }).a.value).toEqual(hexToBytes(CONTRACT));
    expect(requiredSigners([op])).toEqual([]);
    expect(() => evidenceOp({ a: vote(HEAD), b: vote(HEAD) })).toThrowError(
      expect.objectContaining({ code: 'EVIDENCE_INVALID' }),
    );
    expect(() => evidenceOp({ a: vote(HEAD), b: { ...vote(null), validator: 3 } })).toThrowError(
      expect.objectContaining({ code: 'EVIDENCE_INVALID' }),
    );
    expect(() => evidenceOp({ a: vote(HEAD), b: { ...vote(null), signature: 'ee' } })).toThrow(/64 bytes/);
  });

  it('object ids are opHash(txId, opIndex)', () => {
    const id = 'ef'.repeat(32);
    expect(objectIdOf(id)).toBe(bytesToHex(opHash(hexToBytes(id), 0)));
    expect(objectIdOf(id, 1)).not.toBe(objectIdOf(id));
  });
});

describe('errors', () => {
  const req = { method: 'POST', url: 'http://x/v1/tx' };
  it('maps the server body to a typed RoamApiError', () => {
    const e = apiErrorFromResponse(
      409,
      JSON.stringify({ code: 'SSC_NOT_HEAD', message: 'prev is not the head', details: { head: HEAD } }),
      req,
    );
    expect(e).toBeInstanceOf(RoamApiError);
    expect(e).toBeInstanceOf(RoamError);
    expect(e.code).toBe('SSC_NOT_HEAD');
    expect(e.status).toBe(409);
    expect(e.message).toBe('prev is not the head');
    expect(e.details).toEqual({ head: HEAD });
  });
  it('unknown codes and non-JSON bodies still give a typed error', () => {
    const u = apiErrorFromResponse(418, JSON.stringify({ code: 'FUTURE_CODE', message: 'new' }), req);
    expect(u.code).toBe('BAD_REQUEST');
    expect(u.serverCode).toBe('FUTURE_CODE');
    const h = apiErrorFromResponse(502, '<html>Bad Gateway</html>', req);
    expect(h.code).toBe('INTERNAL');
    expect(h.status).toBe(502);
    expect(h.message).toContain('Bad Gateway');
    expect(apiErrorFromResponse(404, '', req).code).toBe('NOT_FOUND');
  });
});

describe('RoamClient against a fake API', () => {
  it('prepareTx: TaPoS from /v1/status and expiration = time + 10 min', async () => {
    const api = new FakeApi();
    const c = new RoamClient({ url: 'http://node.test/', fetch: api.fetch });
    const u = await c.prepareTx([transferOp({ from: 'alice', to: 'bob', token: 'SDR', amount: 1n })]);
    expect(u.refBlockNum).toBe(41);
    expect(u.refBlockPrefix).toBe(0xdeadbeef);
    expect(taposOf(api.status).refBlockPrefix).toBe(0xdeadbeef);
    expect(u.expiration).toBe(BigInt(api.status.time) + 600_000n);
    expect(bytesToHex(u.chainId)).toBe(api.status.chainId);
    expect(api.calls[0]!.url.href).toBe('http://node.test/v1/status');
  });

  it('transfer: signs locally, posts hex bytes with wait, returns the receipt', async () => {
    const api = new FakeApi();
    const c = new RoamClient({ url: 'http://node.test', fetch: api.fetch });
    const r = await c.transfer(
      { from: 'alice', to: 'bob', token: 'UMT', amount: 2_000_000n, memo: 'x' },
      signer('alice'),
    );
    const post = api.calls.find((x) => x.method === 'POST')!;
    expect(post.url.searchParams.get('wait')).toBe('true');
    expect(post.url.searchParams.get('timeoutMs')).toBe('5000');
    const env = api.last();
    expect(env.tx.ops).toEqual([
      { type: 'transfer', from: 'alice', to: 'bob', token: 'UMT', amount: 2_000_000n, memo: utf8('x') },
    ]);
    verifies(env, ['alice']);
    expect(r.status).toBe('included');
    if (r.status === 'included') expect(r.receipt.events[0]!.type).toBe('transfer');
    expect(r.txId).toBe(env.idHex);
    await c.transfer({ from: 'alice', to: 'bob', token: 'UMT', amount: 1n }, signer('alice'), {
      timeoutMs: 1234,
    });
    expect(api.calls.at(-1)!.url.searchParams.get('timeoutMs')).toBe('1234');
  });

  it('wait: false posts without waiting', async () => {
    const api = new FakeApi();
    api.onSubmit = (env) => ({ status: 202, body: { txId: env.idHex, status: 'pending' } });
    const c = new RoamClient({ url: 'http://node.test', fetch: api.fetch });
    const r = await c.rate({ subscriber: 'alice', contract: CONTRACT, score: 5 }, signer('alice'), {
      wait: false,
    });
    expect(r.status).toBe('pending');
    expect(api.calls.find((x) => x.method === 'POST')!.url.search).toBe('');
  });

  it('a missing signer is SIG_MISSING before anything is sent', async () => {
    const api = new FakeApi();
    const c = new RoamClient({ url: 'http://node.test', fetch: api.fetch });
    await expect(
      c.transfer({ from: 'alice', to: 'bob', token: 'SDR', amount: 1n }, signer('bob')),
    ).rejects.toMatchObject({
      code: 'SIG_MISSING',
    });
    expect(api.submitted).toHaveLength(0);
  });

  it('publishOffer: takes the encryption key from the operator account and returns the offer id', async () => {
    const api = new FakeApi().on('GET', '/v1/accounts/telco-de', () => ({
      body: { name: 'telco-de', encryptionKey: ENC, signingKey: '00'.repeat(32) },
    }));
    const c = new RoamClient({ url: 'http://node.test', fetch: api.fetch });
    const r = await c.publishOffer(
      {
        operator: 'telco-de',
        terms: { title: 'DE', countries: ['DE'], durationSec: 86_400, price: 10_000_000n },
      },
      signer('telco-de'),
    );
    const op = api.last().tx.ops[0]!;
    expect(op.type).toBe('offer_publish');
    if (op.type === 'offer_publish') {
      expect(bytesToHex(op.terms.encryptionKey)).toBe(ENC);
      expect(op.terms.validFrom).toBe(BigInt(api.status.time));
    }
    expect(r.offerId).toBe(objectIdOf(api.last().idHex));
  });

  it('openRequest: prev = current offer version, fresh ephemeral key, two signatures', async () => {
    const api = new FakeApi().on('GET', `/v1/offers/${OFFER}`, () => ({
      body: { id: OFFER, version: VERSION },
    }));
    const c = new RoamClient({ url: 'http://node.test', fetch: api.fetch });
    const r = await c.openRequest(
      {
        issuer: 'telco-fr',
        subscriber: 'alice',
        offer: OFFER,
        deposit: 12_000_000n,
        issuerFeeBps: 100,
        feeDeposit: 1_000_000n,
      },
      [signer('telco-fr'), signer('alice')],
    );
    const env = api.last();
    const op = env.tx.ops[0]!;
    expect(op.type).toBe('request_open');
    if (op.type === 'request_open') {
      expect(bytesToHex(op.prev)).toBe(VERSION);
      expect(op.payer).toBe('alice');
      expect(op.issuerFeeBps).toBe(100);
      expect(op.ephemeralKey).toHaveLength(32);
    }
    verifies(env, ['alice', 'telco-fr']);
    if (op.type === 'request_open')
      expect(r.contractId).toBe(bytesToHex(contractIdOf(env.tx.chainId, op.ephemeralKey)));
    expect(r.ephemeralSecret).toHaveLength(32);
  });

  it('multi-party: each party signs the prepared tx, assembleTx orders the signatures', async () => {
    const api = new FakeApi();
    const c = new RoamClient({ url: 'http://node.test', fetch: api.fetch });
    const p = await c.prepareOpenRequest({
      issuer: 'telco-fr',
      subscriber: 'alice',
      offer: OFFER,
      prev: VERSION,
      deposit: 12_000_000n,
      ephemeralKey: ENC,
    });
    expect(p.txId).toBe(bytesToHex(txId(p.tx)));
    const subscriberSig = signUnsigned(p.tx, signer('alice').secretKey); // in the wallet
    const issuerSig = signUnsigned(p.tx, signer('telco-fr').secretKey); // at the home operator
    const signed = assembleTx(p.tx, { 'telco-fr': issuerSig, alice: subscriberSig });
    const r = await c.submitTx(signed);
    expect(r.txId).toBe(p.txId);
    verifies(api.last(), ['alice', 'telco-fr']);
    expect(() => assembleTx(p.tx, { alice: subscriberSig })).toThrowError(/telco-fr/);
  });

  it('charge and refund: head and next sequence fetched from the contract', async () => {
    const api = new FakeApi().on('GET', `/v1/contracts/${CONTRACT}`, () => ({
      body: { contract: { id: CONTRACT, head: HEAD, chargeCount: 2 }, transactions: [] },
    }));
    const c = new RoamClient({ url: 'http://node.test', fetch: api.fetch });
    await c.charge(
      { assignee: 'telco-de', contract: CONTRACT, amount: 4_000_000n, volumeDown: 1_000_000n },
      signer('telco-de'),
    );
    const ch = api.last().tx.ops[0]!;
    expect(ch).toMatchObject({ type: 'charge', assignee: 'telco-de' });
    if (ch.type === 'charge') {
      expect(bytesToHex(ch.prev)).toBe(HEAD);
      expect(ch.record).toMatchObject({
        seq: 3,
        amount: 4_000_000n,
        volumeDown: 1_000_000n,
        start: BigInt(api.status.time),
      });
    }
    await c.refund({ by: 'alice', contract: CONTRACT, badService: true, reason: 7 }, signer('alice'));
    expect(api.last().tx.ops[0]).toEqual({
      type: 'refund',
      by: 'alice',
      contract: hexToBytes(CONTRACT),
      prev: hexToBytes(HEAD),
      badService: true,
      reason: 7,
    });
  });

  it('other actions build their exact op', async () => {
    const api = new FakeApi();
    const c = new RoamClient({ url: 'http://node.test', fetch: api.fetch });
    await c.issueSdr(
      { gateway: 'sdr-gateway', to: 'alice', amount: 5n, paymentRef: 'wire-1' },
      signer('sdr-gateway'),
    );
    expect(api.last().tx.ops[0]).toEqual({
      type: 'sdr_issue',
      gateway: 'sdr-gateway',
      to: 'alice',
      amount: 5n,
      paymentRef: 'wire-1',
    });
    await c.burnSdr({ gateway: 'sdr-gateway', amount: 5n, redemptionRef: 'red-1' }, signer('sdr-gateway'));
    expect(api.last().tx.ops[0]).toEqual({
      type: 'sdr_burn',
      gateway: 'sdr-gateway',
      amount: 5n,
      redemptionRef: 'red-1',
    });
    await c.withdrawOffer({ operator: 'telco-de', offer: OFFER }, signer('telco-de'));
    expect(api.last().tx.ops[0]).toEqual({
      type: 'offer_withdraw',
      operator: 'telco-de',
      offer: hexToBytes(OFFER),
    });
    await c.createAccount(
      { creator: 'telco-fr', name: 'carol', signingKey: ENC, encryptionKey: ENC, homeOperator: 'telco-fr' },
      signer('telco-fr'),
    );
    expect(api.last().tx.ops[0]).toMatchObject({
      type: 'account_create',
      name: 'carol',
      homeOperator: 'telco-fr',
    });
    await c.updateKeys({ account: 'carol', encryptionKey: ENC }, signer('carol'));
    expect(api.last().tx.ops[0]).toEqual({
      type: 'account_update_keys',
      account: 'carol',
      encryptionKey: hexToBytes(ENC),
    });
    const d = await c.postDemand(
      { subscriber: 'alice', countries: ['DE'], endAt: BigInt(api.status.time) + 86_400_000n, maxPrice: 9n },
      signer('alice'),
    );
    expect(api.last().tx.ops[0]).toMatchObject({
      type: 'demand_post',
      startAt: BigInt(api.status.time),
      kind: 'data',
    });
    expect(d.demandId).toBe(objectIdOf(api.last().idHex));
    await c.cancelDemand({ subscriber: 'alice', demand: d.demandId }, signer('alice'));
    expect(api.last().tx.ops[0]).toEqual({
      type: 'demand_cancel',
      subscriber: 'alice',
      demand: hexToBytes(d.demandId),
    });
    const att = await c.attestIdentity(
      { operator: 'telco-fr', subscriber: 'alice', digests: [HEAD, ENC], level: 2, expiresAt: 99n },
      signer('telco-fr'),
    );
    expect(api.last().tx.ops[0]).toEqual({
      type: 'identity_attest',
      operator: 'telco-fr',
      subscriber: 'alice',
      digests: [hexToBytes(HEAD), hexToBytes(ENC)],
      level: 2,
      expiresAt: 99n,
    });
    expect(att.attestationId).toBe(objectIdOf(api.last().idHex));
    await c.revokeIdentity({ operator: 'telco-fr', subscriber: 'alice', reason: 3 }, signer('telco-fr'));
    expect(api.last().tx.ops[0]).toEqual({
      type: 'identity_revoke',
      operator: 'telco-fr',
      subscriber: 'alice',
      reason: 3,
    });
  });

  it('validator actions: owner-signed bond/unbond, governance set, evidence with no signature', async () => {
    const api = new FakeApi();
    const c = new RoamClient({ url: 'http://node.test', fetch: api.fetch });
    await c.setValidator(
      { authority: 'ndf', account: 'node-2', status: 'candidate', nodeKey: ENC },
      signer('ndf'),
    );
    expect(api.last().tx.ops[0]).toEqual({
      type: 'validator_set',
      authority: 'ndf',
      account: 'node-2',
      status: 'candidate',
      nodeKey: hexToBytes(ENC),
    });
    verifies(api.last(), ['ndf']);
    await c.bondValidator({ account: 'node-2', amount: 3n }, signer('node-2'));
    expect(api.last().tx.ops[0]).toEqual({ type: 'validator_bond', account: 'node-2', amount: 3n });
    verifies(api.last(), ['node-2']);
    const u = await c.unbondValidator({ account: 'node-2', amount: 2n }, signer('node-2'));
    expect(api.last().tx.ops[0]).toEqual({ type: 'validator_unbond', account: 'node-2', amount: 2n });
    expect(u.unbondingId).toBe(objectIdOf(api.last().idHex));
    await expect(c.bondValidator({ account: 'node-2', amount: 3n }, signer('ndf'))).rejects.toMatchObject({
      code: 'SIG_MISSING',
    });

    const vote = (value: string | null): VoteInput => ({
      type: 'prevote',
      height: 3n,
      round: 0,
      value,
      validator: 0,
      signature: 'ab'.repeat(64),
    });
    const r = await c.submitEvidence({ a: vote(HEAD), b: vote(null) });
    const env = api.last();
    expect(env.tx.ops[0]!.type).toBe('evidence');
    expect(env.tx.signatures).toEqual([]);
    expect(r.txId).toBe(env.idHex);
    expect(r.txId).toBe(bytesToHex(txId(env.tx)));
    // `send` without signers works for operations that need none, and still refuses the others.
    await c.send([evidenceOp({ a: vote(CONTRACT), b: vote(HEAD) })]);
    expect(api.last().tx.signatures).toHaveLength(0);
    await expect(c.send([bondValidatorOp({ account: 'node-2', amount: 1n })])).rejects.toMatchObject({
      code: 'SIG_MISSING',
    });
  });

  it('validators() and validator(account): GET routes, typed 404', async () => {
    const rec = {
      account: 'node-1',
      nodeKey: ENC,
      bond: '1000000000000',
      status: 'active',
      slashed: '0',
      jailedAt: '0',
      unbonding: '0',
      createdAt: '0',
      updatedAt: '0',
    };
    const api = new FakeApi()
      .on('GET', '/v1/validators', () => ({
        body: {
          epoch: 0,
          height: 42,
          active: [{ index: 0, account: 'node-1', nodeKey: ENC, bond: rec.bond, peerId: '12D3KooW' }],
          records: [rec],
        },
      }))
      .on('GET', '/v1/validators/node-1', () => ({
        body: { ...rec, inSet: true, index: 0, epoch: 0, height: 42 },
      }))
      .on('GET', '/v1/validators/bob', () => ({
        status: 404,
        body: { code: 'VALIDATOR_UNKNOWN', message: 'bob has no validator record', details: {} },
      }));
    const c = new RoamClient({ url: 'http://node.test', fetch: api.fetch });
    const set = await c.validators();
    expect(set.active[0]!.account).toBe('node-1');
    expect(set.records).toHaveLength(1);
    expect((await c.validator('node-1')).inSet).toBe(true);
    await expect(c.validator('bob')).rejects.toMatchObject({ code: 'VALIDATOR_UNKNOWN', status: 404 });
  });

  it('has a typed action for every operation', () => {
    const ACTION: Record<OpName, keyof RoamClient> = {
      transfer: 'transfer',
      account_create: 'createAccount',
      account_update_keys: 'updateKeys',
      sdr_issue: 'issueSdr',
      sdr_burn: 'burnSdr',
      offer_publish: 'publishOffer',
      offer_replace: 'replaceOffer',
      offer_withdraw: 'withdrawOffer',
      request_open: 'openRequest',
      charge: 'charge',
      provision: 'provision',
      refund: 'refund',
      rate: 'rate',
      demand_post: 'postDemand',
      demand_cancel: 'cancelDemand',
      identity_attest: 'attestIdentity',
      identity_revoke: 'revokeIdentity',
      validator_set: 'setValidator',
      evidence: 'submitEvidence',
      validator_bond: 'bondValidator',
      validator_unbond: 'unbondValidator',
      proposal_create: 'propose',
      proposal_vote: 'vote',
      price_feed: 'publishPriceFeed',
      contract_topup: 'topUp',
      offer_pause: 'pauseOffer',
    };
    const c = new RoamClient({ url: 'http://node.test', fetch: new FakeApi().fetch });
    for (const n of OP_NAMES) expect(typeof c[ACTION[n]]).toBe('function');
  });

  it('provision: seals for the requester (ephemeral key), the issuer and the subscriber, all open again', async () => {
    const assigneeEnc = generateX25519();
    const issuerEnc = generateX25519();
    const subscriberEnc = generateX25519();
    const eph = generateX25519();
    const api = new FakeApi()
      .on('GET', `/v1/contracts/${CONTRACT}`, () => ({
        body: {
          contract: {
            id: CONTRACT,
            head: HEAD,
            issuer: 'telco-fr',
            subscriber: 'alice',
            ephemeralKey: bytesToHex(eph.publicKey),
          },
          transactions: [],
        },
      }))
      .on('GET', '/v1/accounts/telco-fr', () => ({
        body: { name: 'telco-fr', encryptionKey: bytesToHex(issuerEnc.publicKey) },
      }))
      .on('GET', '/v1/accounts/alice', () => ({
        body: { name: 'alice', encryptionKey: bytesToHex(subscriberEnc.publicKey) },
      }));
    const c = new RoamClient({ url: 'http://node.test', fetch: api.fetch });
    const plaintext = utf8('LPA:1$smdp.example$CODE');
    await c.provision(
      {
        assignee: 'telco-de',
        contract: CONTRACT,
        iccid: '8949000000000000001',
        plaintext,
        encryptionSecret: assigneeEnc.secretKey,
      },
      signer('telco-de'),
    );
    const op = api.last().tx.ops[0]!;
    expect(op.type).toBe('provision');
    if (op.type !== 'provision') return;
    expect(bytesToHex(op.prev)).toBe(HEAD);
    expect(op.iccidHash).toEqual(sha256(utf8('8949000000000000001')));
    const a = openProvisioningAsRequester({
      contractId: CONTRACT,
      ephemeralSecret: eph.secretKey,
      assigneeEncryptionKey: assigneeEnc.publicKey,
      box: op.forRequester,
    });
    expect(a).toEqual(plaintext);
    const b = openProvisioningAsIssuer({
      contractId: CONTRACT,
      issuerEncryptionSecret: issuerEnc.secretKey,
      box: op.forIssuer,
    });
    expect(b).toEqual(plaintext);
    const s = openProvisioningAsSubscriber({
      contractId: CONTRACT,
      subscriberEncryptionSecret: subscriberEnc.secretKey,
      box: op.forSubscriber,
    });
    expect(s).toEqual(plaintext);
    await expect(
      c.provision({ assignee: 'telco-de', contract: CONTRACT, iccid: 'x' }, signer('telco-de')),
    ).rejects.toMatchObject({
      code: 'BAD_REQUEST',
    });
  });

  it('server errors become RoamApiError with the code; network failures RoamNetworkError', async () => {
    const api = new FakeApi();
    api.onSubmit = () => ({
      status: 422,
      body: { code: 'SSC_OVERCHARGE', message: 'too much', details: { available: '5' } },
    });
    const c = new RoamClient({ url: 'http://node.test', fetch: api.fetch });
    const err = await c
      .rate({ subscriber: 'alice', contract: CONTRACT, score: 3 }, signer('alice'))
      .catch((e) => e);
    expect(err).toBeInstanceOf(RoamApiError);
    expect(err.code).toBe('SSC_OVERCHARGE');
    expect(err.status).toBe(422);
    expect(err.details).toEqual({ available: '5' });

    await expect(c.account('nobody')).rejects.toMatchObject({ code: 'NOT_FOUND', status: 404 });

    const down = new RoamClient({
      url: 'http://node.test',
      fetch: () =>
        Promise.reject(new TypeError('fetch failed', { cause: new Error('connect ECONNREFUSED') })),
    });
    const ne = await down.status().catch((e) => e);
    expect(ne).toBeInstanceOf(RoamNetworkError);
    expect(ne).not.toBeInstanceOf(RoamError);
    expect(ne.code).toBe('NETWORK');
    expect(ne.message).toContain('ECONNREFUSED');

    const slow = new RoamClient({
      url: 'http://node.test',
      timeoutMs: 50,
      fetch: (_u, init) =>
        new Promise((_, reject) =>
          init?.signal?.addEventListener('abort', () => reject(init.signal!.reason)),
        ),
    });
    const te = await slow.status().catch((e) => e);
    expect(te).toBeInstanceOf(RoamNetworkError);
    expect(te.timedOut).toBe(true);
  });

  it('query strings: only given parameters, bigints as decimals', async () => {
    const api = new FakeApi()
      .on('GET', '/v1/offers/rank', () => ({ body: { items: [] } }))
      .on('GET', '/v1/offers', () => ({ body: { items: [], next: null } }));
    const c = new RoamClient({ url: 'http://node.test', fetch: api.fetch });
    await c.rankOffers({ country: 'DE', volume: 5_000_000_000n, budget: 20_000_000n, preference: 'price' });
    expect(api.calls.at(-1)!.url.search).toBe(
      '?country=DE&volume=5000000000&budget=20000000&preference=price',
    );
    await c.offers({ country: 'FR', limit: 5 });
    expect(api.calls.at(-1)!.url.search).toBe('?country=FR&limit=5');
  });
});
