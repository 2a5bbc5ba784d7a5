/**
 * Sign-up through the home operator: `POST /v1/signup` (public; the new key's signature is the
 * credential). A traveller with a fresh key asks to become a subscriber; the agent
 *
 * 1. bounds the caller: sign-ups per client address per hour, per agent per hour, checks in progress;
 * 2. checks the request's form (names, keys, claims, sizes), that it names this operator and chain,
 *    and that it was made within ±5 minutes;
 * 3. verifies the signature of the new signing key over the request (proof of possession, see
 *    `signupMessage` in the SDK) and refuses a request it has already seen (replay);
 * 4. runs its KYC step: the operator's own (`AgentOptions.kyc`), or in a devnet only a simulated one
 *    that checks the claims' form and says so in its answer (`kyc.simulated`);
 * 5. creates the account (account_create, the operator as creator and home operator) and attests the
 *    identity (identity_attest, salted digests only) in one transaction;
 * 6. answers the disclosures sealed to the new account's encryption key.
 *
 * Refusals are typed: ACCOUNT_EXISTS (name taken), SIG_INVALID, SIGNUP_INVALID, SIGNUP_STALE,
 * SIGNUP_REPLAY, SIGNUP_KYC_REFUSED, SIGNUP_DISABLED, AGENT_RATE_LIMITED (with Retry-After).
 */
import {
  bytesToHex,
  type ErrorCode,
  hexToBytes,
  makeDisclosures,
  NAME_RE,
  RoamError,
} from '@roamchain/protocol';
import {
  attestIdentityOp,
  createAccountOp,
  disclosuresFile,
  RoamApiError,
  type RoamClient,
  type Signer,
  type SignupRequest,
  type SignupResult,
  sealSignupDisclosures,
  signupMessage,
} from '@roamchain/sdk';
import { WindowCounter } from './auth.js';
import type { AgentConfig } from './config.js';
import { verifyEd25519 } from './countersign.js';

/** What a KYC step decides about the claims of a sign-up. */
export type KycResult =
  | { ok: true; level: number; claims: Record<string, string> }
  | { ok: false; reason: string };
export type KycCheck = (claims: Record<string, string>, who: { name: string }) => Promise<KycResult>;

/** The claims the simulated KYC asks for (and the wallet's form shows). */
export const SIMULATED_KYC_CLAIMS = ['given_name', 'family_name', 'birthdate', 'nationality'] as const;
export const SIMULATED_KYC_NOTE =
  'SIMULATED KYC (devnet): the claims were checked for form only; no identity document was seen.';

const WINDOW_MS = 5 * 60_000;
const MAX_SEEN = 10_000;
const MAX_CLAIMS = 8;
const MAX_IN_PROGRESS = 8;
const HEX32 = /^[0-9a-f]{64}$/;
const CLAIM_NAME = /^[a-z][a-z_]{0,31}$/;
// Printable, no control characters; letters of any script.
const CLAIM_VALUE = /^[\p{L}\p{M}\p{N}\p{Zs}.,'@+\-/()]{1,100}$/u;

/** A refusal that carries a Retry-After (seconds). */
export class RetryLater extends RoamError {
  constructor(
    message: string,
    readonly retryAfter: number,
  ) {
    super('AGENT_RATE_LIMITED', message);
  }
}

const refuse = (code: ErrorCode, message: string): never => {
  throw new RoamError(code, message);
};

/** The devnet's stand-in for a KYC provider: checks the claims' form, never a document. */
export async function simulatedKyc(claims: Record<string, string>): Promise<KycResult> {
  const keys = Object.keys(claims).sort();
  const want = [...SIMULATED_KYC_CLAIMS].sort();
  if (keys.join() !== want.join()) return { ok: false, reason: `the claims must be ${want.join(', ')}` };
  const name = /^[\p{L}\p{M}' -]{1,64}$/u;
  if (!name.test(claims.given_name!) || !name.test(claims.family_name!))
    return { ok: false, reason: 'names are letters, spaces, apostrophes and hyphens' };
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(claims.birthdate!);
  const d = m ? new Date(`${claims.birthdate}T00:00:00Z`) : undefined;
  if (!m || !d || Number.isNaN(d.getTime()) || d.toISOString().slice(0, 10) !== claims.birthdate)
    return { ok: false, reason: 'birthdate is a date YYYY-MM-DD' };
  const age = (Date.now() - d.getTime()) / (365.25 * 86_400_000);
  if (age < 18 || age > 120) return { ok: false, reason: 'a subscriber is 18 to 120 years old' };
  if (!/^[A-Z]{2}$/.test(claims.nationality!))
    return { ok: false, reason: 'nationality is an ISO country code' };
  return { ok: true, level: 1, claims };
}

/** Checks the body's form; returns the request and the signature bytes. */
export function parseSignupBody(body: unknown): { request: SignupRequest; signature: Uint8Array } {
  const b = body as { request?: unknown; signature?: unknown } | null;
  if (typeof b !== 'object' || b === null || Array.isArray(b))
    return refuse('SIGNUP_INVALID', 'body is an object');
  if (Object.keys(b).some((k) => k !== 'request' && k !== 'signature'))
    refuse('SIGNUP_INVALID', 'body has request and signature only');
  if (typeof b.signature !== 'string' || !/^[0-9a-f]{128}$/.test(b.signature))
    refuse('SIGNUP_INVALID', 'signature is 64 bytes of hex');
  const r = b.request as Record<string, unknown> | null;
  if (typeof r !== 'object' || r === null || Array.isArray(r))
    return refuse('SIGNUP_INVALID', 'request is an object');
  const fields = [
    'operator',
    'chainId',
    'name',
    'signingKey',
    'encryptionKey',
    'issuedAt',
    'nonce',
    'claims',
  ];
  for (const k of Object.keys(r))
    if (!fields.includes(k)) refuse('SIGNUP_INVALID', `unknown field ${k.slice(0, 32)}`);
  const s = (k: string, re: RegExp, what: string) => {
    const v = r[k];
    if (typeof v !== 'string' || !re.test(v)) refuse('SIGNUP_INVALID', `${k}: ${what}`);
    return v as string;
  };
  const request: SignupRequest = {
    operator: s('operator', NAME_RE, 'an account name'),
    chainId: s('chainId', HEX32, '32 bytes of hex'),
    name: s('name', NAME_RE, 'an account name: 3 to 32 of a-z, 0-9 and -'),
    signingKey: s('signingKey', HEX32, '32 bytes of hex'),
    encryptionKey: s('encryptionKey', HEX32, '32 bytes of hex'),
    issuedAt: 0,
    nonce: s('nonce', /^[0-9a-f]{32}$/, '16 bytes of hex'),
    claims: {},
  };
  if (typeof r.issuedAt !== 'number' || !Number.isSafeInteger(r.issuedAt) || r.issuedAt < 0)
    refuse('SIGNUP_INVALID', 'issuedAt is unix ms');
  request.issuedAt = r.issuedAt as number;
  const c = r.claims as Record<string, unknown> | null;
  if (typeof c !== 'object' || c === null || Array.isArray(c))
    return refuse('SIGNUP_INVALID', 'claims is an object');
  const entries = Object.entries(c);
  if (entries.length === 0 || entries.length > MAX_CLAIMS)
    refuse('SIGNUP_INVALID', `1 to ${MAX_CLAIMS} claims`);
  for (const [k, v] of entries) {
    if (!CLAIM_NAME.test(k)) refuse('SIGNUP_INVALID', 'a claim name is 1 to 32 of a-z and _');
    if (typeof v !== 'string' || !CLAIM_VALUE.test(v))
      refuse('SIGNUP_INVALID', `claim ${k}: 1 to 100 printable characters`);
    request.claims[k] = v as string;
  }
  return { request, signature: hexToBytes(b.signature as string) };
}

export class Signup {
  readonly #perAddress: WindowCounter;
  readonly #perAgent: WindowCounter;
  readonly #seen = new Map<string, number>();
  #inProgress = 0;
  #queue: Promise<unknown> = Promise.resolve();
  #chainId: string | undefined;

  constructor(
    readonly cfg: AgentConfig,
    readonly client: RoamClient,
    readonly signer: Signer,
    readonly kyc: KycCheck | undefined,
    readonly log: (msg: string, data?: Record<string, unknown>) => void = () => {},
  ) {
    this.#perAddress = new WindowCounter(cfg.signup.perAddressPerHour, 3_600_000);
    this.#perAgent = new WindowCounter(cfg.signup.perHour, 3_600_000, 1);
  }

  /** What GET /v1/policy says about sign-up (the wallet lists operators that offer it). */
  describe(): { enabled: boolean; kyc?: 'simulated' | 'external'; claims?: string[] } {
    const s = this.cfg.signup;
    if (!s.enabled || (s.kyc === 'external' && !this.kyc)) return { enabled: false };
    return {
      enabled: true,
      kyc: s.kyc,
      ...(s.kyc === 'simulated' ? { claims: [...SIMULATED_KYC_CLAIMS] } : {}),
    };
  }

  async signup(body: unknown, address: string, now = Date.now()): Promise<SignupResult> {
    const sc = this.cfg.signup;
    const kyc = sc.kyc === 'simulated' ? simulatedKyc : this.kyc;
    if (!sc.enabled || !kyc) return refuse('SIGNUP_DISABLED', `${this.cfg.operator} offers no sign-up here`);
    // Every attempt counts against its address (a flood is cut before any work).
    if (!this.#perAddress.allows(address, now))
      throw new RetryLater(`at most ${sc.perAddressPerHour} sign-ups an hour from one address`, 600);
    this.#perAddress.hit(address, now);
    if (this.#inProgress >= MAX_IN_PROGRESS) throw new RetryLater('too many sign-ups in progress', 1);
    this.#inProgress += 1;
    try {
      const { request: r, signature } = parseSignupBody(body);
      if (r.operator !== this.cfg.operator)
        refuse(
          'SIGNUP_INVALID',
          `this agent signs up subscribers of ${this.cfg.operator}, not ${r.operator}`,
        );
      this.#chainId ??= (await this.client.status()).chainId;
      if (r.chainId !== this.#chainId) refuse('TX_WRONG_CHAIN', 'the request is for another chain');
      if (Math.abs(now - r.issuedAt) > WINDOW_MS)
        refuse('SIGNUP_STALE', 'the request must be made within 5 minutes of now (check the clock)');
      const msg = signupMessage(r);
      if (!verifyEd25519(r.signingKey, msg, signature))
        refuse('SIG_INVALID', 'the signature of the new signing key does not verify');
      // Seen requests are kept for their window (then SIGNUP_STALE refuses them anyway).
      const digest = bytesToHex(msg);
      for (const [k, until] of this.#seen) if (until <= now) this.#seen.delete(k);
      if (this.#seen.has(digest)) refuse('SIGNUP_REPLAY', 'this sign-up request was already received');
      if (this.#seen.size >= MAX_SEEN) throw new RetryLater('too many sign-ups in the last minutes', 60);
      this.#seen.set(digest, r.issuedAt + WINDOW_MS + 1);
      if (!this.#perAgent.allows('all', now))
        throw new RetryLater(`${this.cfg.operator} takes at most ${sc.perHour} sign-ups an hour`, 300);
      const k = await kyc(r.claims, { name: r.name });
      if (!k.ok) return refuse('SIGNUP_KYC_REFUSED', k.reason);
      // One sign-up on chain at a time (rare; keeps the name check and the creation together).
      const run = this.#queue.then(() => this.#create(r, k, now));
      this.#queue = run.catch(() => {});
      return await run;
    } finally {
      this.#inProgress -= 1;
    }
  }

  async #create(r: SignupRequest, k: Extract<KycResult, { ok: true }>, now: number): Promise<SignupResult> {
    const me = this.cfg.operator;
    try {
      await this.client.account(r.name);
      return refuse('ACCOUNT_EXISTS', `the name ${r.name} is taken`);
    } catch (e) {
      if (!(e instanceof RoamApiError) || e.httpStatus !== 404) throw e;
    }
    this.#perAgent.hit('all', now);
    const status = await this.client.status();
    const expiresAt = BigInt(status.time) + BigInt(this.cfg.signup.attestationDays) * 86_400_000n;
    const { disclosures, digests } = makeDisclosures(k.claims);
    const res = await this.client.send(
      [
        createAccountOp({
          creator: me,
          name: r.name,
          signingKey: r.signingKey,
          encryptionKey: r.encryptionKey,
          homeOperator: me,
        }),
        attestIdentityOp({ operator: me, subscriber: r.name, digests, level: k.level, expiresAt }),
      ],
      this.signer,
      { status, wait: true, timeoutMs: 10_000 },
    );
    // The attestation's id is that of its operation (the second of the transaction).
    const attestation = (await this.client.identity(r.name)).id;
    const simulated = this.cfg.signup.kyc === 'simulated';
    this.log('signed up a subscriber', { account: r.name, txId: res.txId, simulatedKyc: simulated });
    return {
      account: r.name,
      homeOperator: me,
      txId: res.txId,
      ...(res.status === 'included' ? { height: res.height } : {}),
      attestation,
      expiresAt: expiresAt.toString(),
      kyc: {
        simulated,
        level: k.level,
        note: simulated ? SIMULATED_KYC_NOTE : `identity checked by ${me}`,
      },
      disclosuresSealed: sealSignupDisclosures(
        hexToBytes(r.encryptionKey),
        r.name,
        disclosuresFile(disclosures, { subscriber: r.name, operator: me, attestation }),
      ),
    };
  }
}
