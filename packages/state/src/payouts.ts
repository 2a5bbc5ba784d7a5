/**
 * Fees and NDF payouts (SPEC §5, docs/GOVERNANCE.md).
 *
 * Each block's fees F: community = floor(F x communityFeeBps / 10,000) to the community fund;
 * miniNodes = floor(F x miniNodeFeeBps / 10,000) to the Mini Nodes of the producing Super Node —
 * there are no Mini Nodes yet, so this share goes to the producer (its owner account), which the
 * SPEC lets share bonuses with its Mini Nodes; superNodes = F − community − miniNodes (so every
 * rounding remainder) to the producer.
 *
 * The NDF payout and the SLA records of Super Nodes are in sla.ts.
 */
import { BPS } from '@roamchain/protocol';
import type { ApplyCtx } from './context.js';
import { miniShares } from './mini-importance.js';

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
