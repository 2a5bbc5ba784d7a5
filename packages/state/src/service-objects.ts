/**
 * Ledger objects of the measured service signal (rating.ts `serviceSignal`, docs/RATING.md): per
 * visited operator and UTC day, what happened to the Requests opened on its offers. objects.ts
 * registers `SERVICE_CODECS`; this module imports only the protocol.
 */
import { type Codec, type Infer, name, struct, u32, u64, vec } from '@roamchain/protocol';

/** One day, in block-time milliseconds. */
export const SERVICE_DAY_MS = 86_400_000n;
/** Days kept: the window is the block's day and the 29 before it. */
export const SERVICE_WINDOW_DAYS = 30n;
/** A provisioning delay counts at most this much (ms): one slow Request cannot dominate the mean. */
export const SERVICE_DELAY_CAP_MS = 86_400_000n;

/**
 * Counters of one operator for one day (or, under `SK.window`, summed over the window):
 * `opened` Requests opened on its offers that day; `provisioned` provisioned (a Provision can only
 * land within the step timeout); `failed` still not provisioned when their step timeout passed;
 * `delayMs` the sum of the provisioned ones' delays (provision time − request time, each capped).
 */
export const serviceDay = struct({ opened: u32, provisioned: u32, failed: u32, delayMs: u64 });
export type ServiceDay = Infer<typeof serviceDay>;

export const SK = {
  day: (operator: string, day: bigint) => `svc/d/${operator}/${day}`,
  window: (operator: string) => `svc/w/${operator}`,
  /** Operators with a day record for that day: what pruning reads (never a scan). */
  index: (day: bigint) => `svc/i/${day}`,
  /** The oldest day that may still hold records. */
  cursor: 'svc/c',
} as const;

export const SERVICE_CODECS: [string, Codec<any>][] = [
  ['svc/d/', serviceDay],
  ['svc/w/', serviceDay],
  ['svc/i/', vec(name, 65_535)],
  ['svc/c', u64],
];
