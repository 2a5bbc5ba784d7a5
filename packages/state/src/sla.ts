/**
 * Super Node SLA records and the NDF payout (SPEC §5, docs/GOVERNANCE.md §4–5).
 *
 * Every block counts, deterministically at its application, for the current UTC day (day = block
 * time / 86,400,000): one block for its producer, and — from the commit of the parent it carries
 * (`lastCommit`) — one precommit due from every member of the parent height's active set, signed by
 * those whose precommit the commit contains. The counts live in one record per Super Node per day
 * (`sla/d/<day>/<account>`).
 *
 * The first block of a later day closes the recorded day: a member of the current set met the SLA
 * when it produced at least half its fair share of the day's blocks (blocks ≥ 1 and
 * blocks × setSize × 2 ≥ the day's blocks) AND signed at least `slaVoteBps` of the precommits due
 * from it (votesSigned × 10,000 ≥ votesDue × slaVoteBps); the day joins its SLA record
 * (`sla/r/<account>`, the days of the last 100 on which it met the SLA: its Proof of Importance).
 * The NDF pays P = min(ndfDailyPayout, the fund's spendable UMT) among the day's accounts that are
 * still `active` validators, in proportion to their SLA score = blocks + votesSigned (the
 * signatures of that day the chain carries from it): share_i = floor(P x score_i / Σ score), the
 * remainder to the highest score (ties: first account name). Records of a day are deleted when it
 * is 100 recorded days old, from the index of closed days (never a scan).
 */
import { type Commit, commitCodec, decode, equalBytes, RoamError } from '@roamchain/protocol';
import type { ApplyCtx } from './context.js';
import {
  DAY_MS,
  GK,
  SLA_WINDOW_DAYS,
  type SlaDay,
  type SlaDayRecord,
  type SlaRecord,
} from './gov-objects.js';
import type { StateReader } from './ledger.js';
import { type ChainMeta, K, type SetMember, type Validator } from './objects.js';
import { byName, storedSetAt } from './validators.js';

/** NDF shares of a day: proportional to the scores, remainder to the highest (ties by name). */
export function ndfShares(amount: bigint, scores: readonly [string, number][]): [string, bigint][] {
  const total = scores.reduce((t, [, b]) => t + BigInt(b), 0n);
  if (total === 0n || amount === 0n) return [];
  const shares = scores.map(([a, b]) => [a, (amount * BigInt(b)) / total] as [string, bigint]);
  const paid = shares.reduce((t, [, x]) => t + x, 0n);
  let top = 0;
  scores.forEach(([a, b], i) => {
    const [ta, tb] = scores[top]!;
    if (b > tb || (b === tb && byName(a, ta) < 0)) top = i;
  });
  shares[top]![1] += amount - paid;
  return shares;
}

/** The precommits a block carries for its parent: who was due (the parent's set) and who signed. */
export interface ParentVotes {
  members: readonly SetMember[];
  signed: ReadonlySet<number>;
}

/**
 * Read the signers of the parent commit a block at `height` carries (`lastCommit`, encoded). Block 1
 * carries none; an empty commit counts no vote (the Application refuses a block above 1 without a
 * valid commit — signatures are its business, not the state machine's). A commit that does not
 * decode, names another height or block, or has indices out of order or outside the parent's set is
 * BLOCK_BAD_COMMIT.
 */
export function parentVotes(
  s: StateReader,
  height: bigint,
  prev: Uint8Array,
  lastCommit: Uint8Array,
): ParentVotes | null {
  if (height === 1n) {
    if (lastCommit.length !== 0) throw new RoamError('BLOCK_INVALID', 'block 1 has no parent commit');
    return null;
  }
  if (lastCommit.length === 0) return null;
  let c: Commit;
  try {
    c = decode(commitCodec, lastCommit);
  } catch (e) {
    throw new RoamError('BLOCK_BAD_COMMIT', `commit does not decode: ${(e as Error).message}`);
  }
  if (c.height !== height - 1n) throw new RoamError('BLOCK_BAD_COMMIT', `commit is for height ${c.height}`);
  if (!equalBytes(c.value, prev)) throw new RoamError('BLOCK_BAD_COMMIT', 'commit names another block');
  const members = storedSetAt(s, s.get(K.params)!, height - 1n);
  const signed = new Set<number>();
  let last = -1;
  for (const sig of c.signatures) {
    if (sig.validator <= last || sig.validator >= members.length) {
      throw new RoamError('BLOCK_BAD_COMMIT', `commit signer index ${sig.validator} out of order or range`);
    }
    last = sig.validator;
    signed.add(sig.validator);
  }
  return { members, signed };
}

const EMPTY_DAY: SlaDayRecord = { blocks: 0, votesDue: 0, votesSigned: 0, met: false };

/** A Super Node's record of a day (zeros if none). */
export function slaDayOf(s: StateReader, day: bigint, account: string): SlaDayRecord {
  return s.get<SlaDayRecord>(GK.slaDayRecord(day, account)) ?? EMPTY_DAY;
}

/** Whether a day's counts meet the SLA (docs/GOVERNANCE.md §5), for a member of a set of `setSize`. */
export function meetsSla(r: SlaDayRecord, dayBlocks: number, setSize: number, slaVoteBps: number): boolean {
  const produced = r.blocks >= 1 && r.blocks * setSize * 2 >= dayBlocks;
  const voted = BigInt(r.votesSigned) * 10_000n >= BigInt(r.votesDue) * BigInt(slaVoteBps);
  return produced && voted;
}

/** Delete the records of closed days that are 100 recorded days old (from the index, oldest first). */
function pruneDays(ctx: ApplyCtx, closed: bigint): void {
  const days = [...(ctx.o.get<bigint[]>(GK.slaClosed) ?? []), closed];
  while (days.length > 0 && days[0]! + SLA_WINDOW_DAYS <= closed) {
    const d = days.shift()!;
    for (const a of ctx.o.get<string[]>(GK.slaDayIndex(d)) ?? []) ctx.o.del(GK.slaDayRecord(d, a));
    ctx.o.del(GK.slaDayIndex(d));
  }
  ctx.o.put(GK.slaClosed, days);
}

/** Close a recorded day: SLA met or not per Super Node, SLA records, the NDF payout, pruning. */
function closeDay(ctx: ApplyCtx, rec: SlaDay): void {
  const p = ctx.params;
  const set = storedSetAt(ctx.o, p, ctx.height);
  const recs = rec.accounts.map((a) => [a, slaDayOf(ctx.o, rec.day, a)] as const);
  const dayBlocks = recs.reduce((t, [, r]) => t + r.blocks, 0);
  const scores: [string, number][] = [];
  for (const [a, r] of recs) {
    const met = set.some((m) => m.account === a) && meetsSla(r, dayBlocks, set.length, p.slaVoteBps);
    if (met) {
      ctx.o.put(GK.slaDayRecord(rec.day, a), { ...r, met } satisfies SlaDayRecord);
      const prev = ctx.o.get<SlaRecord>(GK.slaRecord(a))?.days ?? [];
      const days = [...prev.filter((d) => d + SLA_WINDOW_DAYS > rec.day), rec.day];
      ctx.o.put(GK.slaRecord(a), { account: a, days } satisfies SlaRecord);
    }
    const score = r.blocks + r.votesSigned;
    if (score > 0 && ctx.o.get<Validator>(K.validator(a))?.status === 'active') scores.push([a, score]);
  }
  ctx.o.put(GK.slaDayIndex(rec.day), rec.accounts);
  pruneDays(ctx, rec.day);
  const available = ctx.o.get<{ name: string }>(K.account(p.ndfFund)) ? ctx.spendable(p.ndfFund, 'UMT') : 0n;
  const amount = p.ndfDailyPayout < available ? p.ndfDailyPayout : available;
  const shares = ndfShares(amount, scores);
  for (const [a, x] of shares) {
    ctx.debit(p.ndfFund, 'UMT', x);
    ctx.credit(a, 'UMT', x);
  }
  const of = new Map(recs);
  ctx.emit({
    type: 'ndf_payout',
    day: rec.day,
    amount: shares.reduce((t, [, x]) => t + x, 0n),
    shares: shares.map(([account, x]) => {
      const r = of.get(account)!;
      return { account, amount: x, blocks: r.blocks, votesDue: r.votesDue, votesSigned: r.votesSigned };
    }),
  });
}

/**
 * Block-end: on a new day close the recorded one; then count this block for its producer and the
 * parent commit's precommits for the parent's set (one record per Super Node per day).
 */
export function slaEnd(ctx: ApplyCtx, producer: string, votes: ParentVotes | null): void {
  const day = ctx.time / DAY_MS;
  let rec = ctx.o.get<SlaDay>(GK.slaDay);
  if (rec && rec.day !== day) {
    closeDay(ctx, rec);
    rec = undefined;
  }
  const counts = new Map<string, SlaDayRecord>();
  const bump = (a: string, blocks: number, due: number, signed: number) => {
    const r = counts.get(a) ?? slaDayOf(ctx.o, day, a);
    counts.set(a, {
      ...r,
      blocks: r.blocks + blocks,
      votesDue: r.votesDue + due,
      votesSigned: r.votesSigned + signed,
    });
  };
  bump(producer, 1, 0, 0);
  if (votes) {
    for (const [i, m] of votes.members.entries()) bump(m.account, 0, 1, votes.signed.has(i) ? 1 : 0);
  }
  for (const [a, r] of counts) ctx.o.put(GK.slaDayRecord(day, a), r);
  const known = new Set(rec?.accounts ?? []);
  const added = [...counts.keys()].filter((a) => !known.has(a));
  if (!rec || added.length > 0) {
    ctx.o.put(GK.slaDay, { day, accounts: [...known, ...added].sort(byName) } satisfies SlaDay);
  }
}

/** The current day of a state (its head's block time), for readers. */
export function slaToday(s: StateReader): bigint {
  return (s.get<ChainMeta>(K.meta)?.time ?? 0n) / DAY_MS;
}
