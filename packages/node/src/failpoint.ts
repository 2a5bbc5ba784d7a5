/**
 * Named crash points for crash tests: `ROAMCHAIN_FAILPOINT=<name>:<n>[,<name>:<n>…]` kills the
 * process with SIGKILL (no flush, no shutdown hook: a power cut as far as the process can tell) the
 * n-th time the point is reached. Without the variable `failpoint()` is one map lookup.
 *
 * The points, in the order a block goes through them (packages/node/src/consensus.ts):
 *   body-received    a proposal's body is about to be checked (valid(v)), own or received
 *   wal-body         the body is appended to the WAL (written to the OS, not yet fsynced)
 *   wal-synced       bodies are in the WAL; the sign state record is about to be appended and
 *                    fsynced with them for a signature
 *   proposal-signed  the sign state of an own proposal is durable; it has not left yet
 *   prevote-signed   the sign state of a prevote is durable; it has not left yet
 *   precommit-signed the sign state of a precommit (and the lock) is durable; it has not left yet
 *   decided          the core decided; the decision is not in the WAL yet
 *   before-batch     the decision (block id + commit) is fsynced in the WAL; the storage batch has
 *                    not started
 *   batches-pending  a decided block's batch is queued behind two or more unwritten ones (pipelined
 *                    heights: several decided heights live only in memory and in the WAL)
 *   after-batch      the storage batch is durable; the WAL's end-of-height marker is not written
 *   sync-import      block sync is about to import a fetched block
 *   sync-imported    block sync imported a block (durable)
 *
 * Delays (a slow disk, so that crash tests can have several batches pending):
 * `ROAMCHAIN_FAILPOINT_DELAY=<name>:<ms>[,…]`; the one point is `batch-write` (before each storage
 * batch of the write queue).
 */
import { writeSync } from 'node:fs';

export const FAILPOINTS = [
  'body-received',
  'wal-body',
  'wal-synced',
  'proposal-signed',
  'prevote-signed',
  'precommit-signed',
  'decided',
  'before-batch',
  'batches-pending',
  'after-batch',
  'sync-import',
  'sync-imported',
] as const;
export type Failpoint = (typeof FAILPOINTS)[number];

/** Parses `name:n,name:n` (n ≥ 1; `name` alone means 1). Unknown names are an error: a typo must not pass silently. */
export function parseFailpoints(spec: string | undefined): Map<Failpoint, number> {
  const out = new Map<Failpoint, number>();
  if (!spec) return out;
  for (const part of spec.split(',')) {
    const item = part.trim();
    if (!item) continue;
    const [name, count = '1'] = item.split(':');
    if (!(FAILPOINTS as readonly string[]).includes(name ?? '')) {
      throw new Error(`ROAMCHAIN_FAILPOINT: unknown failpoint "${name}" (known: ${FAILPOINTS.join(', ')})`);
    }
    const n = Number(count);
    if (!Number.isInteger(n) || n < 1)
      throw new Error(`ROAMCHAIN_FAILPOINT: bad count "${count}" for ${name}`);
    out.set(name as Failpoint, n);
  }
  return out;
}

const armed = parseFailpoints(process.env.ROAMCHAIN_FAILPOINT);
const reached = new Map<Failpoint, number>();

/** Marks that the process reached `name`; kills it if this is the armed occurrence. */
export function failpoint(name: Failpoint): void {
  if (armed.size === 0) return;
  const want = armed.get(name);
  if (want === undefined) return;
  const n = (reached.get(name) ?? 0) + 1;
  reached.set(name, n);
  if (n !== want) return;
  try {
    writeSync(2, `failpoint ${name} #${n}: SIGKILL\n`);
  } catch {
    // stderr gone: die anyway
  }
  process.kill(process.pid, 'SIGKILL');
}

export const DELAY_POINTS = ['batch-write'] as const;
export type DelayPoint = (typeof DELAY_POINTS)[number];

/** Parses `name:ms,…` for ROAMCHAIN_FAILPOINT_DELAY; unknown names are an error. */
export function parseDelays(spec: string | undefined): Map<DelayPoint, number> {
  const out = new Map<DelayPoint, number>();
  if (!spec) return out;
  for (const part of spec.split(',')) {
    const item = part.trim();
    if (!item) continue;
    const [name, ms = ''] = item.split(':');
    if (!(DELAY_POINTS as readonly string[]).includes(name ?? '')) {
      throw new Error(
        `ROAMCHAIN_FAILPOINT_DELAY: unknown point "${name}" (known: ${DELAY_POINTS.join(', ')})`,
      );
    }
    const n = Number(ms);
    if (!Number.isInteger(n) || n < 0 || n > 60_000)
      throw new Error(`ROAMCHAIN_FAILPOINT_DELAY: bad delay "${ms}" for ${name}`);
    out.set(name as DelayPoint, n);
  }
  return out;
}

const delays = parseDelays(process.env.ROAMCHAIN_FAILPOINT_DELAY);

/** Milliseconds to wait at `name` (0 unless ROAMCHAIN_FAILPOINT_DELAY names it). */
export function failpointDelayMs(name: DelayPoint): number {
  return delays.get(name) ?? 0;
}
