/**
 * Sign-up through a home operator (docs/AGENT.md, "Sign-up"): a traveller with a fresh key asks the
 * operator's agent (`POST {agent}/v1/signup`) to become its subscriber.
 *
 * The request names the operator, the chain, the account name and both public keys, a time and a
 * random nonce, and the KYC claims; it is signed by the new signing key (proof of possession) over
 *
 *   sha256(utf8(JSON.stringify(["roamchain/signup/v1", operator, chainId, name, signingKey,
 *                               encryptionKey, issuedAt, nonce, [[claim, value], …sorted by claim]])))
 *
 * so it cannot be replayed to another operator or chain, nor after its window, nor with other claims.
 * The agent answers the identity disclosures (salts and values) sealed to the new account's encryption
 * key: only the holder of the wallet's key opens them.
 */
import {
  bytesToHex,
  hexToBytes,
  openWithKey,
  randomBytes,
  sealToKey,
  sha256,
  sign,
  utf8,
} from '@roamchain/protocol';
import { apiErrorFromResponse, RoamNetworkError } from './errors.js';
import { type DisclosuresFile, readDisclosures } from './identity.js';

export const SIGNUP_DOMAIN = 'roamchain/signup/v1';
const DISCLOSURES_CONTEXT = 'roamchain/signup/disclosures/v1/';

/** What the traveller signs (all strings hex lower-case; `issuedAt` unix ms). */
export interface SignupRequest {
  operator: string;
  chainId: string;
  name: string;
  signingKey: string;
  encryptionKey: string;
  issuedAt: number;
  nonce: string;
  /** KYC data for the operator (e.g. given_name, family_name, birthdate, nationality). */
  claims: Record<string, string>;
}

/** The agent's answer to a successful sign-up. */
export interface SignupResult {
  account: string;
  homeOperator: string;
  txId: string;
  height?: number;
  attestation: string;
  /** Unix ms (chain time) when the attestation expires. */
  expiresAt: string;
  kyc: { simulated: boolean; level: number; note: string };
  /** The disclosures file (JSON), sealed to the account's encryption key (hex). */
  disclosuresSealed: string;
}

/** The bytes the new signing key signs. */
export function signupMessage(r: SignupRequest): Uint8Array {
  const claims = Object.entries(r.claims).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return sha256(
    utf8(
      JSON.stringify([
        SIGNUP_DOMAIN,
        r.operator,
        r.chainId,
        r.name,
        r.signingKey,
        r.encryptionKey,
        r.issuedAt,
        r.nonce,
        claims,
      ]),
    ),
  );
}

/** A signed sign-up body for `POST {agent}/v1/signup`. */
export function signupBody(
  a: Omit<SignupRequest, 'issuedAt' | 'nonce'> & { issuedAt?: number; nonce?: string },
  signingSecret: Uint8Array,
): { request: SignupRequest; signature: string } {
  const request: SignupRequest = {
    operator: a.operator,
    chainId: a.chainId,
    name: a.name,
    signingKey: a.signingKey,
    encryptionKey: a.encryptionKey,
    issuedAt: a.issuedAt ?? Date.now(),
    nonce: a.nonce ?? bytesToHex(randomBytes(16)),
    claims: { ...a.claims },
  };
  return { request, signature: bytesToHex(sign(signingSecret, signupMessage(request))) };
}

const disclosuresContext = (name: string) => utf8(`${DISCLOSURES_CONTEXT}${name}`);

/** The agent seals the disclosures file to the new account's encryption key. */
export function sealSignupDisclosures(
  encryptionKey: Uint8Array,
  name: string,
  file: DisclosuresFile,
): string {
  return bytesToHex(sealToKey(encryptionKey, utf8(JSON.stringify(file)), disclosuresContext(name)));
}

/** The wallet opens them with its encryption secret; throws on a wrong key or an altered box. */
export function openSignupDisclosures(
  encryptionSecret: Uint8Array,
  name: string,
  sealedHex: string,
): DisclosuresFile {
  const plain = openWithKey(encryptionSecret, hexToBytes(sealedHex), disclosuresContext(name));
  const file = JSON.parse(new TextDecoder().decode(plain)) as DisclosuresFile;
  readDisclosures(file); // throws on a malformed file
  return file;
}

/** Posts a signed sign-up to an agent; a refusal is a typed RoamApiError (code, HTTP status). */
export async function postSignup(
  agentUrl: string,
  body: { request: SignupRequest; signature: string },
  fetchImpl: typeof fetch = fetch,
): Promise<SignupResult> {
  const url = `${agentUrl.replace(/\/+$/, '')}/v1/signup`;
  let res: Response;
  try {
    res = await fetchImpl(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  } catch (e) {
    throw new RoamNetworkError(`sign-up: ${String(e)}`, { method: 'POST', url, cause: e });
  }
  const text = await res.text();
  if (!res.ok) throw apiErrorFromResponse(res.status, text, { method: 'POST', url });
  return JSON.parse(text) as SignupResult;
}
