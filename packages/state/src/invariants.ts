import { UMT_SUPPLY } from '@roamchain/protocol';
import type { LedgerState } from './ledger.js';
import type { MiniNode, MiniUnbonding } from './mini-objects.js';
import { type Contract, K, type Supply, type Unbonding, type Validator } from './objects.js';

export interface SupplyReport {
  umt: {
    balances: bigint;
    feeDeposits: bigint;
    /** Validator bonds (slashable, not spendable). */
    bonded: bigint;
    /** Unbonded UMT waiting for its release time. */
    unbonding: bigint;
    total: bigint;
    expected: bigint;
  };
  sdr: { balances: bigint; escrow: bigint; total: bigint; expected: bigint };
  problems: string[];
}

/**
 * SPEC §2 invariants: total UMT is constant (free balances + contract fee deposits + validator bonds
 * + unbonding UMT); SDR in circulation = minted − burned; balances plus escrow add up to each token's
 * supply. A full scan: for tests and audits, never per block.
 */
export function supplyReport(state: LedgerState): SupplyReport {
  let umt = 0n;
  let sdr = 0n;
  for (const [k, v] of state.entries<bigint>('bal/')) {
    if (v <= 0n) throw new Error(`non-positive balance stored at ${k}`);
    if (k.endsWith('/UMT')) umt += v;
    else sdr += v;
  }
  let escrow = 0n;
  let feeDeposits = 0n;
  for (const [, c] of state.entries<Contract>('ssc/')) {
    if (c.status === 'open') {
      escrow += c.deposit;
      feeDeposits += c.feeDeposit;
    } else if (c.feeDeposit !== 0n) throw new Error('closed contract still holds a fee deposit');
  }
  let bonded = 0n;
  let owedUnbonding = 0n;
  for (const [, v] of state.entries<Validator>('val/')) {
    bonded += v.bond;
    owedUnbonding += v.unbonding;
  }
  let unbonding = 0n;
  for (const [, u] of state.entries<Unbonding>('unb/')) unbonding += u.amount;
  // Mini Node bonds and their unbonding entries (mini-objects.ts).
  for (const [, m] of state.entries<MiniNode>('mini/n/')) {
    bonded += m.bond;
    owedUnbonding += m.unbonding;
  }
  for (const [, u] of state.entries<MiniUnbonding>('mini/u/')) unbonding += u.amount;
  const s = state.get<Supply>(K.supply)!;
  const r: SupplyReport = {
    umt: {
      balances: umt,
      feeDeposits,
      bonded,
      unbonding,
      total: umt + feeDeposits + bonded + unbonding,
      expected: UMT_SUPPLY,
    },
    sdr: { balances: sdr, escrow, total: sdr + escrow, expected: s.sdrMinted - s.sdrBurned },
    problems: [],
  };
  if (r.umt.total !== r.umt.expected) r.problems.push(`UMT total ${r.umt.total} != ${r.umt.expected}`);
  if (owedUnbonding !== unbonding)
    r.problems.push(`validators await ${owedUnbonding} UMT unbonding, queue holds ${unbonding}`);
  if (r.sdr.total !== r.sdr.expected) r.problems.push(`SDR total ${r.sdr.total} != ${r.sdr.expected}`);
  return r;
}
