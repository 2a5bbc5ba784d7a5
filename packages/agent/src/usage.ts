/**
 * Usage records (TAP-like) as they arrive from the operator's systems, validated before anything is
 * stored: byte counts are integers (decimal strings, or JSON numbers only while exactly
 * representable) within u64, never passed through a float; the duration is a whole number of
 * seconds; the volume is bounded by the duration and the fastest line (`maxLineRateBps`).
 */
export const U64_MAX = (1n << 64n) - 1n;
/** Longest single record (a TAP record covers a session, at most a month). */
export const MAX_RECORD_SECONDS = 31 * 86_400;

/** A TAP-like usage record as posted (JSON). */
export interface UsageRecordInput {
  recordId: string;
  /** The served contract, or the subscriber (then its open contract with this operator). */
  contractId?: string;
  subscriber?: string;
  usageType?: string;
  /** Start of the usage, ms or ISO time. */
  start?: number | string;
  durationSec?: number;
  bytesUp?: number | string;
  bytesDown?: number | string;
}

export interface UsageRecord {
  recordId: string;
  contractId?: string;
  subscriber?: string;
  durationSec: number;
  bytesUp: bigint;
  bytesDown: bigint;
}

export class UsageError extends Error {}

/** A byte count: a decimal string of digits or a safe integer, 0..2^64-1. */
export function parseBytes(v: unknown, what: string): bigint {
  if (v === undefined || v === null) return 0n;
  let b: bigint;
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v))
      throw new UsageError(`${what} must be an integer below 2^53 or a decimal string`);
    b = BigInt(v);
  } else if (typeof v === 'string') {
    if (!/^\d{1,20}$/.test(v)) throw new UsageError(`${what} must be a decimal integer string`);
    b = BigInt(v);
  } else throw new UsageError(`${what} must be an integer`);
  if (b < 0n) throw new UsageError(`${what} must not be negative`);
  if (b > U64_MAX) throw new UsageError(`${what} exceeds 2^64-1`);
  return b;
}

/** Shape checks of one record (a failure is a rejection: nothing is stored). */
export function parseUsageRecord(r: unknown): UsageRecord {
  if (typeof r !== 'object' || r === null || Array.isArray(r))
    throw new UsageError('a record is a JSON object');
  const o = r as Record<string, unknown>;
  const rid = o.recordId;
  if (typeof rid !== 'string' || !/^[\x21-\x7e]{1,128}$/.test(rid))
    throw new UsageError('recordId is required: 1 to 128 printable ASCII characters');
  const out: UsageRecord = {
    recordId: rid,
    durationSec: 0,
    bytesUp: parseBytes(o.bytesUp, 'bytesUp'),
    bytesDown: parseBytes(o.bytesDown, 'bytesDown'),
  };
  if (o.contractId !== undefined) {
    if (typeof o.contractId !== 'string' || !/^[0-9a-fA-F]{64}$/.test(o.contractId))
      throw new UsageError('contractId must be 64 hex digits');
    out.contractId = o.contractId.toLowerCase();
  }
  if (o.subscriber !== undefined) {
    if (typeof o.subscriber !== 'string' || !/^[a-z0-9.-]{1,32}$/.test(o.subscriber))
      throw new UsageError('subscriber must be an account name');
    out.subscriber = o.subscriber;
  }
  if (o.durationSec !== undefined) {
    const d = o.durationSec;
    if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0 || d > MAX_RECORD_SECONDS)
      throw new UsageError(`durationSec must be an integer 0..${MAX_RECORD_SECONDS}`);
    out.durationSec = d;
  }
  return out;
}

/** Why a well-formed record cannot be billed on physical grounds, or undefined. */
export function physicalProblem(r: UsageRecord, maxLineRateBps: bigint): string | undefined {
  const bits = (r.bytesUp + r.bytesDown) * 8n;
  const most = BigInt(r.durationSec) * maxLineRateBps;
  if (bits > most)
    return `volume ${r.bytesUp + r.bytesDown} bytes in ${r.durationSec} s exceeds the line rate ${maxLineRateBps} bit/s`;
  return undefined;
}
