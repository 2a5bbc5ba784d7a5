/**
 * The measured service signal's bookkeeping (docs/RATING.md "Service"): deterministic, integer,
 * block time as the only clock. Per visited operator and day (block time / 86,400,000):
 * - request_open counts `opened` and queues the Request on SERVICE_QUEUE at its step timeout;
 * - the assignee's first step (Provision, or a Charge before any Provision), which the evaluators
 *   accept only within the step timeout, counts `provisioned` and its delay (capped);
 * - at block end, a queued Request still not provisioned at its step timeout counts `failed`
 *   (on the day its timeout passed), then day records that left the 30-day window are subtracted
 *   from the operator's window totals and deleted, read from the day index (never a scan).
 * Bounded: one record per operator per day, one window record per operator, one index per day.
 */
import { bytesToHex, U64_MAX } from '@roamchain/protocol';
import type { ApplyCtx } from './context.js';
import type { Drain } from './governance.js';
import type { StateReader } from './ledger.js';
import { type Contract, K } from './objects.js';
import {
  SERVICE_DAY_MS,
  SERVICE_DELAY_CAP_MS,
  SERVICE_WINDOW_DAYS,
  type ServiceDay,
  SK,
} from './service-objects.js';

/** Requests waiting for their first step (Provision), keyed by the second their step timeout passes. */
export const SERVICE_QUEUE = 'svt';

const ZERO: ServiceDay = { opened: 0, provisioned: 0, failed: 0, delayMs: 0n };
const U32_MAX = 0xffff_ffff;

const sat32 = (a: number, b: number): number => Math.max(0, Math.min(U32_MAX, a + b));
function sat64(a: bigint, b: bigint): bigint {
  const s = a + b;
  return s > U64_MAX ? U64_MAX : s < 0n ? 0n : s;
}
function plus(a: ServiceDay, d: ServiceDay, sign: 1 | -1): ServiceDay {
  return {
    opened: sat32(a.opened, sign * d.opened),
    provisioned: sat32(a.provisioned, sign * d.provisioned),
    failed: sat32(a.failed, sign * d.failed),
    delayMs: sat64(a.delayMs, BigInt(sign) * d.delayMs),
  };
}

export const serviceDayOf = (time: bigint): bigint => time / SERVICE_DAY_MS;

/** Add `d` to the operator's record of the block's day and to its window totals. */
function note(ctx: ApplyCtx, operator: string, d: ServiceDay): void {
  const day = serviceDayOf(ctx.time);
  const dk = SK.day(operator, day);
  const rec = ctx.o.get<ServiceDay>(dk);
  if (!rec) {
    const ik = SK.index(day);
    ctx.o.put(ik, [...(ctx.o.get<string[]>(ik) ?? []), operator]);
    if (ctx.o.get<bigint>(SK.cursor) === undefined) ctx.o.put(SK.cursor, day);
  }
  ctx.o.put(dk, plus(rec ?? ZERO, d, 1));
  const wk = SK.window(operator);
  ctx.o.put(wk, plus(ctx.o.get<ServiceDay>(wk) ?? ZERO, d, 1));
}

/** request_open: one more Request on the operator's offers, watched until its step timeout. */
export function noteRequestOpened(ctx: ApplyCtx, c: Contract): void {
  note(ctx, c.assignee, { ...ZERO, opened: 1 });
  // The queue's cursor starts at the first Request (a queue without one drains from the current second).
  if (ctx.o.get(K.queueCursor(SERVICE_QUEUE)) === undefined)
    ctx.o.put(K.queueCursor(SERVICE_QUEUE), { next: ctx.time / 1000n });
  ctx.enqueue(SERVICE_QUEUE, provisionDeadline(c) / 1000n, c.id);
}

/** The assignee's first step, in time (the evaluators refuse a step after the step timeout). */
export function noteProvisioned(ctx: ApplyCtx, c: Contract): void {
  const delay = ctx.time - c.openedAt;
  note(ctx, c.assignee, {
    ...ZERO,
    provisioned: 1,
    delayMs: delay > SERVICE_DELAY_CAP_MS ? SERVICE_DELAY_CAP_MS : delay,
  });
}

/** The last block time at which the Request's Provision is still accepted. */
export const provisionDeadline = (c: Contract): bigint => c.openedAt + BigInt(c.stepTimeoutSec) * 1000n;

/** Block-end: Requests past their step timeout without a Provision fail; old days leave the window. */
export function serviceEnd(ctx: ApplyCtx, drain: Drain): void {
  const contractOf = (id: Uint8Array) => ctx.o.get<Contract>(K.contract(bytesToHex(id)));
  drain(
    SERVICE_QUEUE,
    (id) => {
      const c = contractOf(id);
      return c && c.provisionedAt === 0n && c.chargeCount === 0 ? provisionDeadline(c) : undefined;
    },
    (id) => note(ctx, contractOf(id)!.assignee, { ...ZERO, failed: 1 }),
  );
  const cursor = ctx.o.get<bigint>(SK.cursor);
  if (cursor === undefined) return;
  const today = serviceDayOf(ctx.time);
  let d = cursor;
  for (; d + SERVICE_WINDOW_DAYS <= today; d++) {
    const ik = SK.index(d);
    for (const operator of ctx.o.get<string[]>(ik) ?? []) {
      const dk = SK.day(operator, d);
      const rec = ctx.o.get<ServiceDay>(dk);
      if (!rec) continue;
      const wk = SK.window(operator);
      const left = plus(ctx.o.get<ServiceDay>(wk) ?? ZERO, rec, -1);
      if (left.opened === 0 && left.provisioned === 0 && left.failed === 0 && left.delayMs === 0n)
        ctx.o.del(wk);
      else ctx.o.put(wk, left);
      ctx.o.del(dk);
    }
    ctx.o.del(ik);
  }
  if (d !== cursor) ctx.o.put(SK.cursor, d);
}

/** The operator's counters over the 30-day window (as of the last block). */
export function serviceWindow(state: StateReader, operator: string): ServiceDay {
  return state.get<ServiceDay>(SK.window(operator)) ?? ZERO;
}
