/**
 * Sign-up through the home operator's agent (issue 14 item 4), against a real node and real agents:
 * a traveller with a fresh key becomes a subscriber (account_create + identity_attest by the
 * operator, KYC simulated and labelled so), buys, and opens the activation code with its account key
 * alone (the box sealed to the subscriber, no ephemeral secret). Each attack is performed and asserted
 * refused with its typed code and no account created: a wrong key, altered claims, a replay (same
 * agent, another operator), a stale request, another chain, oversized and unknown fields, a taken
 * name, a refused KYC, a flood from one address, the agent-wide hourly cap.
 */
import {
  bytesToHex,
  encode,
  generateEncryptionKey,
  generateSigningKey,
  hexToBytes,
  randomBytes,
  UNIT,
  unsignedTx,
  verifyDisclosures,
} from '@roamchain/protocol';
import {
  openProvisioningForSubscriber,
  openSignupDisclosures,
  postSignup,
  RoamApiError,
  type RoamClient,
  readDisclosures,
  type Signer,
  signUnsigned,
  signupBody,
} from '@roamchain/sdk';
import { type RunningSmdp, startSmdp } from '@roamchain/smdp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent } from '../src/agent.js';
import { parseConfig } from '../src/config.js';
import { SIMULATED_KYC_NOTE, simulatedKyc } from '../src/signup.js';
import { type AgentChain, postJson, startAgentChain, until } from './support/chain.js';

const EID = '89049032004008882600003579861234';
const CLAIMS = { given_name: 'Ada', family_name: 'Lovelace', birthdate: '1990-12-10', nationality: 'GB' };

let chain: AgentChain;
let client: RoamClient;
let chainId = '';
let smdp: RunningSmdp;
let de: Agent;
let fr: Agent;
let offerId = '';
const signer = (name: string): Signer => chain.signer(name);
const agentKeys = (name: string) => chain.agentKeys(name);

const agentConfig = (operator: string, over: Record<string, unknown> = {}) =>
  chain.agentConfig(operator, {
    smdpUrl: smdp.url,
    simulation: true,
    signup: { enabled: true, kyc: 'simulated', perAddressPerHour: 1000 },
    ...over,
  });

function traveller(name: string) {
  const s = randomBytes(32);
  const e = randomBytes(32);
  return {
    name,
    signingSecret: s,
    encryptionSecret: e,
    signingKey: bytesToHex(generateSigningKey(s).publicKey),
    encryptionKey: bytesToHex(generateEncryptionKey(e).publicKey),
  };
}
type Traveller = ReturnType<typeof traveller>;

function body(t: Traveller, over: Record<string, unknown> = {}, operator = 'op-fr') {
  return signupBody(
    {
      operator,
      chainId,
      name: t.name,
      signingKey: t.signingKey,
      encryptionKey: t.encryptionKey,
      claims: CLAIMS,
      ...over,
    },
    t.signingSecret,
  );
}

const post = (url: string, b: unknown) => postJson(`${url}/v1/signup`, b);

const exists = async (name: string) =>
  client.account(name).then(
    () => true,
    (e) => {
      if (e instanceof RoamApiError && e.httpStatus === 404) return false;
      throw e;
    },
  );

beforeAll(async () => {
  chain = await startAgentChain({ tag: 'signup', subscribers: { alice: 10n * UNIT }, unitPrice: 0n });
  ({ client, offerId } = chain);
  chainId = (await client.status()).chainId;
  smdp = await startSmdp();
  de = await new Agent(agentConfig('op-de'), agentKeys('op-de'), {
    identity: async () => ({ ok: true, claims: {}, eid: EID }),
  }).start();
  fr = await new Agent(agentConfig('op-fr'), agentKeys('op-fr')).start();
}, 120_000);

afterAll(async () => {
  await de?.stop();
  await fr?.stop();
  await chain?.close();
  await smdp?.close();
});

describe('sign-up through the home operator', () => {
  const ada = traveller('ada-lovelace');
  let signed: ReturnType<typeof body>;

  it('the policy says the agent offers sign-up, with a simulated KYC', async () => {
    const p = (await (await fetch(`${fr.url}/v1/policy`)).json()) as { signup: Record<string, unknown> };
    expect(p.signup).toMatchObject({ enabled: true, kyc: 'simulated' });
    expect(p.signup.claims).toEqual(['given_name', 'family_name', 'birthdate', 'nationality']);
  });

  it('creates the subscriber and attests its identity; the disclosures open only with its key', async () => {
    signed = body(ada);
    const r = await postSignup(fr.url, signed);
    expect(r.account).toBe(ada.name);
    expect(r.kyc).toEqual({ simulated: true, level: 1, note: SIMULATED_KYC_NOTE });
    const a = await client.account(ada.name);
    expect(a.homeOperator).toBe('op-fr');
    expect(a.roles).toContain('subscriber');
    expect(a.signingKey).toBe(ada.signingKey);
    expect(a.encryptionKey).toBe(ada.encryptionKey);
    const att = await client.identity(ada.name);
    expect(att.operator).toBe('op-fr');
    expect(att.id).toBe(r.attestation);
    const file = openSignupDisclosures(ada.encryptionSecret, ada.name, r.disclosuresSealed);
    const ds = readDisclosures(file);
    expect(Object.fromEntries(ds.map((d) => [d.name, d.value]))).toEqual(CLAIMS);
    expect(verifyDisclosures(att.digests.map(hexToBytes), ds)).toMatchObject({ ok: true });
    expect(() => openSignupDisclosures(randomBytes(32), ada.name, r.disclosuresSealed)).toThrow();
  }, 60_000);

  it('refuses a replay of the same request, to the same or another operator', async () => {
    const again = await post(fr.url, signed);
    expect(again.status).toBe(409);
    expect(again.json.code).toBe('SIGNUP_REPLAY');
    // Sent to another operator's agent: it names op-fr.
    const other = await post(de.url, signed);
    expect(other.status).toBe(400);
    expect(other.json.code).toBe('SIGNUP_INVALID');
  });

  it('refuses a wrong key and altered claims, creating nothing', async () => {
    const t = traveller('mallory-one');
    const wrong = signupBody({ ...body(t).request }, randomBytes(32));
    const r1 = await post(fr.url, wrong);
    expect([r1.status, r1.json.code]).toEqual([401, 'SIG_INVALID']);
    const b = body(t);
    const altered = { ...b, request: { ...b.request, claims: { ...CLAIMS, given_name: 'Eve' } } };
    const r2 = await post(fr.url, altered);
    expect([r2.status, r2.json.code]).toEqual([401, 'SIG_INVALID']);
    // Someone else's key named for a new account: the signature is by the key holder only.
    const hijack = { ...b, request: { ...b.request, signingKey: ada.signingKey } };
    expect((await post(fr.url, hijack)).json.code).toBe('SIG_INVALID');
    expect(await exists('mallory-one')).toBe(false);
  });

  it('refuses a taken name with ACCOUNT_EXISTS (typed in the SDK)', async () => {
    const t = traveller('alice');
    const e = await postSignup(fr.url, body(t)).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(RoamApiError);
    expect((e as RoamApiError).code).toBe('ACCOUNT_EXISTS');
    expect((e as RoamApiError).httpStatus).toBe(409);
    expect((await client.account('alice')).signingKey).not.toBe(t.signingKey);
  });

  it('refuses stale, future, wrong-chain, oversized and malformed requests', async () => {
    const t = traveller('mallory-two');
    const cases: [unknown, number, string][] = [
      [body(t, { issuedAt: Date.now() - 10 * 60_000 }), 400, 'SIGNUP_STALE'],
      [body(t, { issuedAt: Date.now() + 10 * 60_000 }), 400, 'SIGNUP_STALE'],
      [body(t, { chainId: 'ab'.repeat(32) }), 400, 'TX_WRONG_CHAIN'],
      [body(t, { claims: { ...CLAIMS, given_name: 'A'.repeat(101) } }), 400, 'SIGNUP_INVALID'],
      [
        body(t, {
          claims: Object.fromEntries(Array.from({ length: 9 }, (_, i) => [`c${'x'.repeat(i)}`, 'v'])),
        }),
        400,
        'SIGNUP_INVALID',
      ],
      [body(t, { claims: { ...CLAIMS, nationality: 'GB\u0000' } }), 400, 'SIGNUP_INVALID'],
      [body(t, { name: 'Not_A_Name' }), 400, 'SIGNUP_INVALID'],
      [{ ...body(t), extra: 1 }, 400, 'SIGNUP_INVALID'],
      [{ ...body(t), request: { ...body(t).request, admin: true } }, 400, 'SIGNUP_INVALID'],
      [{ request: body(t).request, signature: 'zz' }, 400, 'SIGNUP_INVALID'],
      [[1, 2, 3], 400, 'SIGNUP_INVALID'],
      [{ ...body(t), pad: 'x'.repeat(9000) }, 413, 'AGENT_BODY_TOO_LARGE'],
      ['{not json', 400, 'BAD_REQUEST'],
    ];
    for (const [b, status, code] of cases) {
      const r = await post(fr.url, b);
      expect([r.status, r.json.code], JSON.stringify(b).slice(0, 120)).toEqual([status, code]);
    }
    const text = await fetch(`${fr.url}/v1/signup`, { method: 'POST', body: JSON.stringify(body(t)) });
    expect(text.status).toBe(415);
    expect(await exists('mallory-two')).toBe(false);
  });

  it('refuses what the KYC refuses (the simulated one checks the form)', async () => {
    const t = traveller('mallory-three');
    const r = await post(fr.url, body(t, { claims: { ...CLAIMS, birthdate: '2020-02-30' } }));
    expect([r.status, r.json.code]).toEqual([403, 'SIGNUP_KYC_REFUSED']);
    expect(await exists('mallory-three')).toBe(false);
    expect((await simulatedKyc({ ...CLAIMS, birthdate: '2015-01-01' })).ok).toBe(false);
    expect((await simulatedKyc({ ...CLAIMS, extra: 'x' })).ok).toBe(false);
    expect((await simulatedKyc(CLAIMS)).ok).toBe(true);
  });

  it('the new subscriber buys; the activation code opens with its account key alone', async () => {
    await client.issueSdr(
      { gateway: 'gateway-1', to: ada.name, amount: 50n * UNIT, paymentRef: 'p-ada' },
      signer('gateway-1'),
    );
    const p = await client.prepareOpenRequest({
      issuer: 'op-fr',
      subscriber: ada.name,
      offer: offerId,
      deposit: 20n * UNIT,
      issuerFeeBps: 100,
      feeDeposit: 100_000n,
      lifetimeSec: 3600,
      stepTimeoutSec: 600,
    });
    const res = await fetch(`${fr.url}/v1/countersign`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        tx: bytesToHex(encode(unsignedTx, p.tx)),
        subscriber: ada.name,
        signature: bytesToHex(signUnsigned(p.tx, ada.signingSecret)),
      }),
    });
    expect(res.status).toBe(200);
    const ref = await until(
      'provisioning',
      async () => (await client.contract(p.contractId)).transactions.find((t) => t.type === 'provision'),
      60_000,
    );
    const op = (await client.tx(ref.txId)).tx!.ops[ref.opIndex] as unknown as {
      forRequester: string;
      forSubscriber: string;
    };
    expect(op.forSubscriber.length).toBeGreaterThan(0);
    const assignee = (await client.account('op-de')).encryptionKey;
    // A second device: the wallet's key, no ephemeral secret of the Request.
    const plain = openProvisioningForSubscriber({
      contractId: p.contractId,
      assigneeEncryptionKey: assignee,
      subscriberEncryptionSecret: ada.encryptionSecret,
      forRequester: hexToBytes(op.forRequester),
      forSubscriber: hexToBytes(op.forSubscriber),
    });
    const j = JSON.parse(new TextDecoder().decode(plain)) as { activationCode: string };
    expect(j.activationCode).toMatch(/^LPA:1\$/);
    // The device that made the Request opens the same with the ephemeral secret.
    const viaEphemeral = openProvisioningForSubscriber({
      contractId: p.contractId,
      assigneeEncryptionKey: assignee,
      ephemeralSecret: p.ephemeralSecret,
      forRequester: hexToBytes(op.forRequester),
    });
    expect(new TextDecoder().decode(viaEphemeral)).toBe(new TextDecoder().decode(plain));
    // Another key opens nothing.
    expect(() =>
      openProvisioningForSubscriber({
        contractId: p.contractId,
        assigneeEncryptionKey: assignee,
        subscriberEncryptionSecret: randomBytes(32),
        forSubscriber: hexToBytes(op.forSubscriber),
      }),
    ).toThrow();
  }, 90_000);
});

describe('sign-up limits and configuration', () => {
  it('cuts a flood from one address (429 + Retry-After); nothing is created', async () => {
    const a = await new Agent(
      agentConfig('op-fr', { port: 0, signup: { enabled: true, kyc: 'simulated', perAddressPerHour: 3 } }),
      agentKeys('op-fr'),
    ).start();
    try {
      const t = traveller('flood-victim');
      const wrong = () => signupBody({ ...body(t).request }, randomBytes(32));
      const codes: unknown[] = [];
      for (let i = 0; i < 50; i++) codes.push((await post(a.url, wrong())).json.code);
      expect(codes.slice(0, 3)).toEqual(['SIG_INVALID', 'SIG_INVALID', 'SIG_INVALID']);
      expect(new Set(codes.slice(3))).toEqual(new Set(['AGENT_RATE_LIMITED']));
      const r = await post(a.url, body(t));
      expect(r.status).toBe(429);
      expect(Number(r.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(await exists('flood-victim')).toBe(false);
    } finally {
      await a.stop();
    }
  }, 60_000);

  it('caps the sign-ups of the whole agent per hour', async () => {
    const a = await new Agent(
      agentConfig('op-fr', { signup: { enabled: true, kyc: 'simulated', perHour: 1 } }),
      agentKeys('op-fr'),
    ).start();
    try {
      expect((await postSignup(a.url, body(traveller('cap-one')))).account).toBe('cap-one');
      const r = await post(a.url, body(traveller('cap-two')));
      expect([r.status, r.json.code]).toEqual([429, 'AGENT_RATE_LIMITED']);
      expect(await exists('cap-two')).toBe(false);
    } finally {
      await a.stop();
    }
  }, 60_000);

  it('is off unless configured; a simulated KYC needs an explicit simulation', async () => {
    const a = await new Agent(agentConfig('op-fr', { signup: undefined }), agentKeys('op-fr')).start();
    try {
      const r = await post(a.url, body(traveller('nobody-here')));
      expect([r.status, r.json.code]).toEqual([404, 'SIGNUP_DISABLED']);
      const p = (await (await fetch(`${a.url}/v1/policy`)).json()) as { signup: unknown };
      expect(p.signup).toEqual({ enabled: false });
    } finally {
      await a.stop();
    }
    expect(() =>
      parseConfig({ operator: 'op-fr', simulation: false, signup: { enabled: true, kyc: 'simulated' } }),
    ).toThrow(/simulation/);
  }, 60_000);
});
