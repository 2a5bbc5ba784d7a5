/** Disclosures files of identity attestations (request open, identity verify). */
import { readFileSync } from 'node:fs';
import { type Disclosure, RoamError } from '@roamchain/protocol';
import { readDisclosures } from '@roamchain/sdk';
import { UsageError } from './shared.js';

/** Reads a disclosures file (identity attest --out, or the devnet's wallet/<subscriber>.disclosures.json). */
export function loadDisclosures(file: string): Disclosure[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new RoamError('BAD_REQUEST', `cannot read disclosures file ${file}: ${(e as Error).message}`);
  }
  try {
    return readDisclosures(parsed);
  } catch (e) {
    throw new RoamError('BAD_REQUEST', `${file}: ${(e as Error).message}`);
  }
}

/** The disclosures of the claims named in `only` (comma separated; all when undefined). */
export function selectClaims(all: Disclosure[], only: string | undefined): Disclosure[] {
  if (only === undefined) return all;
  const names = only
    .split(',')
    .map((n) => n.trim())
    .filter(Boolean);
  const out: Disclosure[] = [];
  for (const n of names) {
    const d = all.find((x) => x.name === n);
    if (!d)
      throw new UsageError(
        `no claim "${n}" in the disclosures file (has: ${all.map((x) => x.name).join(', ')})`,
      );
    out.push(d);
  }
  return out;
}
