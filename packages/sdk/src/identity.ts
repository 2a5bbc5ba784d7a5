/**
 * Identity on the contract channel (SPEC §4).
 *
 * The Request's payload carries, encrypted for the assignee, the disclosures the subscriber chose to
 * reveal (each the canonical string `[salt, claim, value]` of an SD-JWT-style disclosure), the device
 * EID and optionally the IMEI:
 *
 *   box = sealForContract(ephemeral secret -> assignee's encryption key, contract id, purpose 'request',
 *                         utf8(JSON.stringify({ v: 1, disclosures, eid, imei? })))
 *
 * The contract id is fixed by the ephemeral key (`contractIdOf(chainId, ephemeralKey)`), so the
 * payload is bound to its contract before the Request is even sent. The assignee opens it, checks every
 * disclosure against the digests of the subscriber's attestation on chain (GET /v1/identity/:subscriber)
 * and, when they do not match or the attestation is revoked or expired, refunds with a reason code of
 * `REFUND_REASONS`. Salts and values never touch the chain.
 */
import {
  type Disclosure,
  encodeDisclosure,
  hexToBytes,
  openForContract,
  openWithKey,
  parseDisclosure,
  RoamError,
  sealForContract,
  sealToKey,
  verifyDisclosures,
} from '@roamchain/protocol';
import { RoamApiError } from './errors.js';
import type { ContractDetailJson, StatusJson, TxStatusJson } from './types.js';

export const REQUEST_PURPOSE = 'request';
/** Longest EID / IMEI accepted in a payload (an SGP.22 EID is 32 digits, an IMEI 15). */
const MAX_DEVICE_ID = 64;
const DEVICE_ID_RE = /^[0-9A-Za-z-]{1,64}$/;

/** What the Request's payload holds, encrypted for the assignee. */
export interface RequestPayload {
  v: 1;
  /** Canonical disclosure strings `[salt, claim, value]` the subscriber chose to reveal. */
  disclosures: string[];
  /** The device's eUICC id (32 digits). */
  eid: string;
  imei?: string;
}

/** Reason codes of a Refund (the `reason` field): 1..99 service, 101.. identity and provisioning. */
export const REFUND_REASONS = {
  SERVICE_COMPLETE: 1,
  LIFETIME_END: 2,
  IDENTITY_MISMATCH: 101,
  ATTESTATION_REVOKED: 102,
  ATTESTATION_EXPIRED: 103,
  PAYLOAD_UNREADABLE: 104,
  NO_ATTESTATION: 105,
  PROVISIONING_FAILED: 106,
} as const;

export type RefundReasonName = keyof typeof REFUND_REASONS;

/**
 * What the identity checks read from the node: a `RoamClient` is one. (A narrow interface, so that
 * this module does not import the client, which imports it.)
 */
export interface IdentityReader {
  get<T>(path: string): Promise<T>;
  contract(id: string): Promise<ContractDetailJson>;
  tx(id: string): Promise<TxStatusJson>;
  status(): Promise<StatusJson>;
}

export type IdentityCheck =
  | { ok: true; claims: Record<string, string>; eid: string }
  | { ok: false; reason: keyof typeof REFUND_REASONS; refundReason: number; message: string };

/** The attestation JSON of GET /v1/identity/:subscriber. */
export interface AttestationJson {
  id: string;
  subscriber: string;
  operator: string;
  /** SHA-256 digests (hex) of the disclosures, sorted. */
  digests: string[];
  level: number;
  issuedAt: string;
  expiresAt: string;
  /** "0" = not revoked. */
  revokedAt: string;
  revokeReason: number;
}

/** Disclosures as canonical strings (accepts objects or already encoded strings; validates both). */
export function disclosureStrings(ds: readonly (Disclosure | string)[]): string[] {
  return ds.map((d) => (typeof d === 'string' ? encodeDisclosure(parseDisclosure(d)) : encodeDisclosure(d)));
}

/** Checks the shape of a decoded payload; throws a TypeError when it is not a RequestPayload. */
export function checkRequestPayload(p: unknown): RequestPayload {
  if (typeof p !== 'object' || p === null || Array.isArray(p))
    throw new TypeError('payload is not an object');
  const o = p as Record<string, unknown>;
  if (o.v !== 1) throw new TypeError('unknown payload version');
  if (!Array.isArray(o.disclosures) || !o.disclosures.every((d) => typeof d === 'string'))
    throw new TypeError('disclosures must be an array of strings');
  if (typeof o.eid !== 'string' || !DEVICE_ID_RE.test(o.eid))
    throw new TypeError('eid is missing or malformed');
  if (o.imei !== undefined && (typeof o.imei !== 'string' || !DEVICE_ID_RE.test(o.imei)))
    throw new TypeError('imei is malformed');
  const out: RequestPayload = { v: 1, disclosures: [...(o.disclosures as string[])], eid: o.eid };
  if (o.imei !== undefined) out.imei = o.imei as string;
  return out;
}

/** Seals a Request payload on the contract channel (purpose 'request') for the assignee. */
export function sealRequestPayload(a: {
  ephemeralSecret: Uint8Array;
  assigneeEncryptionKey: Uint8Array;
  contractId: Uint8Array;
  payload: RequestPayload;
}): Uint8Array {
  const payload = checkRequestPayload(a.payload);
  if (payload.eid.length > MAX_DEVICE_ID) throw new TypeError('eid too long');
  return sealForContract({
    senderSecret: a.ephemeralSecret,
    recipientPublic: a.assigneeEncryptionKey,
    contractId: a.contractId,
    purpose: REQUEST_PURPOSE,
    plaintext: new TextEncoder().encode(JSON.stringify(payload)),
  });
}

/**
 * Opens a Request payload with the assignee's encryption secret. Throws when authentication fails
 * (wrong key, wrong contract id, altered byte) or the plaintext is not a RequestPayload.
 */
export function openRequestPayload(a: {
  assigneeEncryptionSecret: Uint8Array;
  ephemeralKey: Uint8Array;
  contractId: Uint8Array;
  box: Uint8Array;
}): RequestPayload {
  const plain = openForContract({
    recipientSecret: a.assigneeEncryptionSecret,
    senderPublic: a.ephemeralKey,
    contractId: a.contractId,
    purpose: REQUEST_PURPOSE,
    box: a.box,
  });
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(plain));
  } catch {
    throw new TypeError('request payload is not JSON');
  }
  return checkRequestPayload(parsed);
}

type IdentityFailure = Extract<IdentityCheck, { ok: false }>;

function fail(reason: RefundReasonName, message: string): IdentityFailure {
  return { ok: false, reason, refundReason: REFUND_REASONS[reason], message };
}

/** The subscriber's current attestation, or undefined when it has none (404). */
export async function fetchAttestation(
  client: IdentityReader,
  subscriber: string,
): Promise<AttestationJson | undefined> {
  try {
    return await client.get<AttestationJson>(`/v1/identity/${encodeURIComponent(subscriber)}`);
  } catch (e) {
    if (e instanceof RoamApiError && e.status === 404) return undefined;
    throw e;
  }
}

/**
 * Checks revealed disclosures against an attestation at time `now` (ms): not revoked, not expired,
 * every disclosure hashing to one of its digests, every required claim revealed.
 */
export function checkDisclosures(
  att: AttestationJson | undefined,
  disclosures: readonly string[],
  now: bigint,
  requiredClaims: readonly string[] = [],
): { ok: true; claims: Record<string, string> } | IdentityFailure {
  if (!att) return fail('NO_ATTESTATION', 'the subscriber has no identity attestation');
  if (BigInt(att.revokedAt) !== 0n)
    return fail('ATTESTATION_REVOKED', `attestation revoked (reason ${att.revokeReason})`);
  if (BigInt(att.expiresAt) <= now) return fail('ATTESTATION_EXPIRED', 'attestation expired');
  let parsed: Disclosure[];
  try {
    parsed = disclosures.map(parseDisclosure);
  } catch (e) {
    return fail('IDENTITY_MISMATCH', `malformed disclosure: ${(e as Error).message}`);
  }
  const r = verifyDisclosures(
    att.digests.map((d) => hexToBytes(d)),
    parsed,
  );
  if (!r.ok) return fail('IDENTITY_MISMATCH', `disclosures do not match the attestation: ${r.reason}`);
  const missing = requiredClaims.filter((n) => !Object.hasOwn(r.claims, n));
  if (missing.length) return fail('IDENTITY_MISMATCH', `claims not disclosed: ${missing.join(', ')}`);
  return { ok: true, claims: r.claims };
}

/**
 * What the assignee does on a new Request: fetches the contract, the Request's payload (its
 * transaction), the subscriber's attestation, opens the payload and verifies the disclosures. On
 * failure, `refundReason` is the code to refund with.
 */
export async function verifyRequestIdentity(
  client: IdentityReader,
  a: { contractId: string; assigneeEncryptionSecret: Uint8Array; requiredClaims?: string[] },
): Promise<IdentityCheck> {
  const detail = await client.contract(a.contractId);
  const c = detail.contract;
  const ref = detail.transactions.find((t) => t.type === 'request_open');
  if (!ref) throw new RoamError('NOT_FOUND', `the Request of contract ${a.contractId} was not found`);
  const t = await client.tx(ref.txId);
  const op = t.tx?.ops[ref.opIndex] as { type?: string; payload?: string; ephemeralKey?: string } | undefined;
  if (op?.type !== 'request_open' || typeof op.payload !== 'string')
    throw new RoamError('INTERNAL', `transaction ${ref.txId} is not the Request`);
  if (op.payload.length === 0) return fail('PAYLOAD_UNREADABLE', 'the Request carries no payload');
  let payload: RequestPayload;
  try {
    payload = openRequestPayload({
      assigneeEncryptionSecret: a.assigneeEncryptionSecret,
      ephemeralKey: hexToBytes(op.ephemeralKey ?? c.ephemeralKey),
      contractId: hexToBytes(c.id),
      box: hexToBytes(op.payload),
    });
  } catch (e) {
    return fail('PAYLOAD_UNREADABLE', `cannot open the Request payload: ${(e as Error).message}`);
  }
  const att = await fetchAttestation(client, c.subscriber);
  if (att && att.operator !== c.issuer)
    return fail('IDENTITY_MISMATCH', `attested by ${att.operator}, not by the issuer ${c.issuer}`);
  const now = BigInt((await client.status()).time);
  const r = checkDisclosures(att, payload.disclosures, now, a.requiredClaims ?? []);
  if (!r.ok) return r;
  return { ok: true, claims: r.claims, eid: payload.eid };
}

/** Context of encrypted transfer memos (sealToKey to the recipient's account encryption key). */
export const MEMO_CONTEXT = new TextEncoder().encode('roamchain/memo/v1');

/** Seals a memo text to the recipient's account encryption key (only its holder can read it). */
export function sealMemo(recipientEncryptionKey: Uint8Array, text: string): Uint8Array {
  return sealToKey(recipientEncryptionKey, new TextEncoder().encode(text), MEMO_CONTEXT);
}

/** Opens an encrypted memo with the recipient's encryption secret; throws when it is not for this key. */
export function openMemo(secret: Uint8Array, bytes: Uint8Array): string {
  return new TextDecoder().decode(openWithKey(secret, bytes, MEMO_CONTEXT));
}

/** A subscriber's wallet file of disclosures (written by `identity attest --out` and by the devnet). */
export interface DisclosuresFile {
  subscriber?: string;
  operator?: string;
  attestation?: string;
  /** Each disclosure as the SD-JWT array [salt, claim name, value]. */
  disclosures: [string, string, string][];
}

/** The file form of disclosures. */
export function disclosuresFile(
  disclosures: readonly Disclosure[],
  meta: { subscriber?: string; operator?: string; attestation?: string } = {},
): DisclosuresFile {
  return { ...meta, disclosures: disclosures.map((d) => [d.salt, d.name, d.value]) };
}

/**
 * Reads disclosures from a parsed wallet file: `{ disclosures: [...] }` or a bare array, each entry an
 * array [salt, name, value], a canonical string, or an object {salt, name, value}. Throws a TypeError
 * on anything malformed.
 */
export function readDisclosures(file: unknown): Disclosure[] {
  const list = Array.isArray(file) ? file : (file as { disclosures?: unknown } | null)?.disclosures;
  if (!Array.isArray(list)) throw new TypeError('no "disclosures" array');
  return list.map((e: unknown) => {
    if (typeof e === 'string') return parseDisclosure(e);
    if (Array.isArray(e)) return parseDisclosure(JSON.stringify(e));
    return parseDisclosure(encodeDisclosure(e as Disclosure));
  });
}
