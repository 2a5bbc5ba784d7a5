/** Buying: the subscriber's Request, countersigned by the home operator's agent. */
import {
  bytesToHex,
  contractIdOf,
  encode,
  generateX25519,
  hexToBytes,
  unsignedTx,
} from '@roamchain/protocol';
import {
  type AccountJson,
  fetchAttestation,
  type OpenRequestArgs,
  type RankedOfferJson,
  sealRequestPayload,
  signerFromSecret,
  signUnsigned,
  signWith,
} from '@roamchain/sdk';
import { demoKeys, type Wallet } from './keys.js';
import { agentPolicy, apiPaths, client, listedAgentUrls } from './lib.js';

const FEE_DEPOSIT_UMT = 1_000_000n;

/** The countersign endpoint of an operator's agent, as listed by the node (GET /v1/agents). */
export async function agentUrlOf(operator: string): Promise<string | undefined> {
  return (await listedAgentUrls())?.[operator];
}

/**
 * The home operator's fee in basis points, from its agent's policy (`GET /v1/policy`): its agent
 * refuses to countersign any other. Undefined when the operator lists no agent or the answer is not
 * a whole number of basis points within 0..10,000 (hostile until checked).
 */
export async function issuerFeeBpsOf(operator: string): Promise<number | undefined> {
  const agent = await agentUrlOf(operator);
  const bps = agent ? (await agentPolicy(agent))?.feeBps : undefined;
  return typeof bps === 'number' && Number.isInteger(bps) && bps >= 0 && bps <= 10_000 ? bps : undefined;
}

/**
 * Opens a Request for `offer`: the wallet signs the subscriber's consent locally; the home operator's
 * agent countersigns (or, on the devnet only and when asked, the home operator's public demo key).
 */
export async function buy(
  w: Wallet,
  account: AccountJson,
  offer: RankedOfferJson,
  deposit: bigint,
  allowDemoIssuer: boolean,
  issuerFeeBps: number,
): Promise<string> {
  const issuer = account.homeOperator;
  if (!issuer) throw new Error('this account has no home operator');
  const args: OpenRequestArgs = {
    issuer,
    subscriber: w.keys.name,
    offer: offer.offerId,
    deposit,
    issuerFeeBps,
    feeDeposit: FEE_DEPOSIT_UMT,
  };
  const status = await client.status();
  let ephemeralSecret: Uint8Array | undefined;
  const id = w.identity;
  if (id && id.disclosures.length > 0) {
    // The identity payload is sealed for the visited operator on the contract channel, which the
    // ephemeral key fixes: so the key is made here, before the Request.
    const kp = generateX25519();
    const contractId = contractIdOf(hexToBytes(status.chainId), kp.publicKey);
    const assignee = await client.account(offer.offer.operator);
    args.ephemeralKey = kp.publicKey;
    args.payload = sealRequestPayload({
      ephemeralSecret: kp.secretKey,
      assigneeEncryptionKey: hexToBytes(assignee.encryptionKey),
      contractId,
      payload: { v: 1, disclosures: id.disclosures, eid: id.eid },
    });
    const paths = await apiPaths();
    if ([...paths].some((x) => x.startsWith('/v1/identity/'))) {
      const att = await fetchAttestation(client, w.keys.name);
      if (att) args.attestation = att.id;
    }
    ephemeralSecret = kp.secretKey;
  }
  const prepared = await client.prepareOpenRequest(args, { status });
  const p = { ...prepared, ephemeralSecret: ephemeralSecret ?? prepared.ephemeralSecret };
  if (!p.ephemeralSecret) throw new Error('no ephemeral key generated');
  // Keep the ephemeral secret before anything is sent: it opens the provisioning data later.
  await w.keepEphemeral(p.contractId, p.ephemeralSecret);
  const signature = signUnsigned(p.tx, w.keys.signingSecret);
  const agent = await agentUrlOf(issuer);
  if (agent) {
    const res = await fetch(`${agent.replace(/\/+$/, '')}/v1/countersign`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        tx: bytesToHex(encode(unsignedTx, p.tx)),
        subscriber: w.keys.name,
        signature: bytesToHex(signature),
      }),
    });
    const j = (await res.json().catch(() => ({}))) as {
      code?: string;
      message?: string;
      contractId?: string;
    };
    if (!res.ok) throw new Error(`${j.code ?? res.status}: ${j.message ?? 'the home operator refused'}`);
    await client.waitForTx(p.txId, 15_000);
    return j.contractId ?? p.contractId;
  }
  if (!allowDemoIssuer) {
    throw new Error(`no agent of ${issuer} is listed by the node (GET /v1/agents); it cannot countersign`);
  }
  const signed = signWith(p.tx, [
    signerFromSecret(w.keys.name, w.keys.signingSecret),
    signerFromSecret(issuer, demoKeys(issuer).signingSecret),
  ]);
  await client.submitTx(signed);
  return p.contractId;
}
