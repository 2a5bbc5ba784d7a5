/**
 * Fees and NDF payouts (SPEC §5, docs/GOVERNANCE.md).
 *
 * Each block's fees F: community = floor(F x communityFeeBps / 10,000) to the community fund;
 * miniNodes = floor(F x miniNodeFeeBps / 10,000) to the Mini Nodes of the producing Super Node —
 * there are no Mini Nodes yet, so this share goes to the producer (its owner account), which the
 * SPEC lets share bonuses with its Mini Nodes; superNodes = F − community − miniNodes (so every
 * rounding remainder) to the producer.
 *
 * NDF: each block counts for its producer on the current UTC day (day = block time / 86,400,000).
 * The first block of a later day pays the recorded day: P = min(ndfDailyPayout, the fund's
 * spendable UMT) among that day's producers that are still `active` validators, share_i =
 * floor(P x blocks_i / total), the remainder to the one with most blocks (ties: account name).
 */
import { BPS } from '@roamchain/protocol';
import type { ApplyCtx } from './context.js';
import { DAY_MS, GK, SLA_WINDOW_DAYS, type SlaDay, type SlaRecord } from './gov-objects.js';
import { miniShares } from './mini-importance.js';
import { K, type Validator } from './objects.js';
import { byName, storedSetAt } from './validators.js';

/** The split of a block's fees. */
export function feeSplit(
  fees: bigint,
  communityBps: number,
  miniBps: number,
): { community: bigint; miniNodes: bigint; superNodes: bigint } {
  const community = (fees * BigInt(communityBps)) / BPS;
  let miniNodes = (fees * BigInt(miniBps)) / BPS;
  if (community + miniNodes > fees) miniNodes = fees - community;
  return { community, miniNodes, superNodes: fees - community - miniNodes };
}

export function payFees(ctx: ApplyCtx, fees: bigint, producer: string): void {
  if (fees === 0n) return;
  const p = ctx.params;
  const s = feeSplit(fees, p.communityFeeBps, p.miniNodeFeeBps);
  ctx.credit(p.communityFund, 'UMT', s.community);
  // The producer's attesting Mini Nodes by importance (mini-importance.ts); none: the producer.
  const minis = miniShares(ctx, producer, s.miniNodes);
  for (const [owner, x] of minis) ctx.credit(owner, 'UMT', x);
  const toProducer = s.superNodes + (minis.length > 0 ? 0n : s.miniNodes);
  ctx.credit(producer, 'UMT', toProducer);
  ctx.emit({
    type: 'fees_paid',
    total: fees,
    community: s.community,
    producer,
    superNodes: s.superNodes,
    miniNodes: s.miniNodes,
    miniNodesTo: minis.length > 0 ? 'mini_nodes' : producer,
    miniShares: minis.map(([account, amount, importance]) => ({ account, amount, importance })),
    toProducer,
  });
}

/** NDF shares of a day: proportional to blocks, remainder to the most blocks (ties by name). */
export function ndfShares(amount: bigint, blocks: readonly [string, number][]): [string, bigint][] {
  const total = blocks.reduce((t, [, b]) => t + BigInt(b), 0n);
  if (total === 0n || amount === 0n) return [];
  const shares = blocks.map(([a, b]) => [a, (amount * BigInt(b)) / total] as [string, bigint]);
  const paid = shares.reduce((t, [, x]) => t + x, 0n);
  let top = 0;
  blocks.forEach(([a, b], i) => {
    const [ta, tb] = blocks[top]!;
    if (b > tb || (b === tb && byName(a, ta) < 0)) top = i;
  });
  shares[top]![1] += amount - paid;
  return shares;
}

/**
 * SLA of a day: a Super Node of the current set met it when it produced at least half its fair
 * share of the day's blocks: blocks x setSize x 2 >= the day's blocks. The day joins its SLA record
 * (`sla/r/<account>`: the days of the last 100 on which it met the SLA), its Proof of Importance.
 */
function recordSla(ctx: ApplyCtx, day: bigint, blocks: readonly [string, number][]): void {
  const set = storedSetAt(ctx.o, ctx.params, ctx.height);
  const total = blocks.reduce((t, [, b]) => t + b, 0);
  for (const m of set) {
    const b = blocks.find(([a]) => a === m.account)?.[1] ?? 0;
    if (b === 0 || b * set.length * 2 < total) continue;
    const key = GK.slaRecord(m.account);
    const prev = ctx.o.get<SlaRecord>(key)?.days ?? [];
    const days = [...prev.filter((d) => d + SLA_WINDOW_DAYS > day), day];
    ctx.o.put(key, { account: m.account, days } satisfies SlaRecord);
  }
}

function payDay(ctx: ApplyCtx, rec: SlaDay): void {
  const p = ctx.params;
  const blocks: [string, number][] = [];
  const produced: [string, number][] = [];
  for (const a of rec.producers) {
    const n = ctx.o.get<number>(GK.slaBlocks(a)) ?? 0;
    ctx.o.del(GK.slaBlocks(a));
    produced.push([a, n]);
    const v = ctx.o.get<Validator>(K.validator(a));
    if (v?.status === 'active' && n > 0) blocks.push([a, n]);
  }
  recordSla(ctx, rec.day, produced);
  const available = ctx.o.get<{ name: string }>(K.account(p.ndfFund)) ? ctx.spendable(p.ndfFund, 'UMT') : 0n;
  const amount = p.ndfDailyPayout < available ? p.ndfDailyPayout : available;
  const shares = ndfShares(amount, blocks);
  for (const [a, x] of shares) {
    ctx.debit(p.ndfFund, 'UMT', x);
    ctx.credit(a, 'UMT', x);
  }
  ctx.emit({
    type: 'ndf_payout',
    day: rec.day,
    amount: shares.reduce((t, [, x]) => t + x, 0n),
    shares: shares.map(([account, x]) => ({
      account,
      amount: x,
      blocks: blocks.find((b) => b[0] === account)![1],
    })),
  });
}

/** Block-end: count the block for its producer; on a new day pay the previous one. */
export function slaEnd(ctx: ApplyCtx, producer: string): void {
  const day = ctx.time / DAY_MS;
  let rec = ctx.o.get<SlaDay>(GK.slaDay);
  if (rec && rec.day !== day) {
    payDay(ctx, rec);
    rec = undefined;
  }
  const producers = rec?.producers ?? [];
  if (!producers.includes(producer) || !rec) {
    ctx.o.put(GK.slaDay, {
      day,
      producers: producers.includes(producer) ? producers : [...producers, producer].sort(byName),
    });
  }
  const k = GK.slaBlocks(producer);
  ctx.o.put(k, (ctx.o.get<number>(k) ?? 0) + 1);
}
