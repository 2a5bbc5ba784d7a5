/**
 * Argument parsers of the CLI. Each throws commander's InvalidArgumentError, which the CLI reports
 * as a usage error (exit 2). Amounts are decimals parsed exactly (no floating point).
 */
import {
  NAME_RE,
  parseAmount,
  SERVICE_KINDS,
  type ServiceKind,
  TOKENS,
  type Token,
} from '@roamchain/protocol';
import { InvalidArgumentError } from 'commander';

/** "10.5" SDR/UMT -> base units (6 decimals). */
export function amountArg(s: string): bigint {
  try {
    return parseAmount(s, 6);
  } catch (e) {
    throw new InvalidArgumentError(
      `${(e as Error).message} (use a decimal such as 10 or 10.5, at most 6 decimals)`,
    );
  }
}

/** Like amountArg but zero is refused. */
export function positiveAmountArg(s: string): bigint {
  const v = amountArg(s);
  if (v === 0n) throw new InvalidArgumentError('amount must be more than 0');
  return v;
}

/** Gigabytes (decimal, 1 GB = 10^9 bytes) -> bytes. */
export function gbArg(s: string): bigint {
  try {
    return parseAmount(s, 9);
  } catch {
    throw new InvalidArgumentError(`"${s}" is not a number of gigabytes (e.g. 5 or 0.5)`);
  }
}

/** Megabytes (decimal, 1 MB = 10^6 bytes) -> bytes. */
export function mbArg(s: string): bigint {
  try {
    return parseAmount(s, 6);
  } catch {
    throw new InvalidArgumentError(`"${s}" is not a number of megabytes (e.g. 1024 or 0.5)`);
  }
}

export function intArg(s: string, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  if (!/^\d+$/.test(s.trim())) throw new InvalidArgumentError(`"${s}" is not a whole number`);
  const n = Number(s.trim());
  if (!Number.isSafeInteger(n) || n < min || n > max)
    throw new InvalidArgumentError(`must be ${min}..${max}`);
  return n;
}

/** Bigint count (e.g. units). */
export function u64Arg(s: string): bigint {
  if (!/^\d{1,20}$/.test(s.trim())) throw new InvalidArgumentError(`"${s}" is not a whole number`);
  return BigInt(s.trim());
}

/** Whole days -> seconds. */
export function daysArg(s: string): number {
  return intArg(s, 1, 36_500) * 86_400;
}

function list(s: string): string[] {
  return s
    .split(',')
    .map((x) => x.trim())
    .filter((x) => x.length > 0);
}

/** "DE,fr" -> ["DE", "FR"] (ISO 3166 alpha-2). */
export function countriesArg(s: string): string[] {
  const out = list(s).map((c) => c.toUpperCase());
  for (const c of out)
    if (!/^[A-Z]{2}$/.test(c)) throw new InvalidArgumentError(`"${c}" is not a 2-letter country code`);
  if (out.length === 0) throw new InvalidArgumentError('no country given');
  return [...new Set(out)];
}

/** "262-01,208-10" (MCC-MNC). */
export function networksArg(s: string): string[] {
  const out = list(s);
  for (const n of out)
    if (!/^\d{3}-\d{2,3}$/.test(n)) throw new InvalidArgumentError(`"${n}" is not an MCC-MNC such as 262-01`);
  if (out.length === 0) throw new InvalidArgumentError('no network given');
  return [...new Set(out)];
}

/** "4G,5G" */
export function techArg(s: string): string[] {
  const out = list(s);
  for (const t of out)
    if (!/^[A-Za-z0-9.+-]{1,8}$/.test(t))
      throw new InvalidArgumentError(`"${t}" is not a technology such as 4G`);
  return [...new Set(out)];
}

export function hex32Arg(s: string): string {
  const h = s.trim().toLowerCase().replace(/^0x/, '');
  if (!/^[0-9a-f]{64}$/.test(h))
    throw new InvalidArgumentError(`"${s}" is not a 32-byte hex id (64 hex characters)`);
  return h;
}

export function nameArg(s: string): string {
  if (!NAME_RE.test(s)) {
    throw new InvalidArgumentError(
      `"${s}" is not an account name (3-32 characters: lowercase letters, digits, '-'; starts with a letter)`,
    );
  }
  return s;
}

export function tokenArg(s: string): Token {
  const t = s.toUpperCase();
  if (!(TOKENS as readonly string[]).includes(t))
    throw new InvalidArgumentError(`token must be ${TOKENS.join(' or ')}`);
  return t as Token;
}

export function kindArg(s: string): ServiceKind {
  if (!(SERVICE_KINDS as readonly string[]).includes(s)) {
    throw new InvalidArgumentError(`kind must be one of ${SERVICE_KINDS.join(', ')}`);
  }
  return s as ServiceKind;
}

export type Preference = 'price' | 'quality' | 'balanced';
export function preferenceArg(s: string): Preference {
  if (s !== 'price' && s !== 'quality' && s !== 'balanced') {
    throw new InvalidArgumentError('preference must be price, quality or balanced');
  }
  return s;
}

export function scoreArg(s: string): number {
  return intArg(s, 1, 5);
}

export function bpsArg(s: string): number {
  return intArg(s, 0, 10_000);
}

export const USAGE_TYPES = ['data', 'voice', 'sms', 'package', 'content'] as const;
export type UsageType = (typeof USAGE_TYPES)[number];
export function usageTypeArg(s: string): UsageType {
  if (!(USAGE_TYPES as readonly string[]).includes(s)) {
    throw new InvalidArgumentError(`usage type must be one of ${USAGE_TYPES.join(', ')}`);
  }
  return s as UsageType;
}

/** 64 hex characters -> 32 bytes. */
export function seedHexArg(s: string): string {
  return hex32Arg(s);
}
