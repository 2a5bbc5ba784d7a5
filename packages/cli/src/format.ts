/** Human-readable output of the CLI (the `--json` output is the API's JSON as is). */
import { formatAmount } from '@roamchain/protocol';
import type {
  AccountJson,
  ContractDetailJson,
  ContractJson,
  DemandJson,
  FeedEventJson,
  LedgerEventJson,
  OfferJson,
  OperatorRatingJson,
  RankedOfferJson,
  StatusJson,
  TxResult,
} from '@roamchain/sdk';

/** Base-unit decimal string -> "12.5". */
export function amt(v: string | bigint | number | undefined | null): string {
  if (v === undefined || v === null) return '-';
  try {
    return formatAmount(BigInt(v));
  } catch {
    return String(v);
  }
}

/** Bytes -> "5 GB" / "512 MB". */
export function volume(v: string | bigint | undefined): string {
  if (v === undefined) return '-';
  const b = BigInt(v);
  if (b >= 1_000_000_000n) return `${formatAmount(b, 9)} GB`;
  return `${formatAmount(b, 6)} MB`;
}

export function time(ms: string | number | bigint | undefined): string {
  if (ms === undefined) return '-';
  const n = Number(ms);
  if (!Number.isFinite(n) || n <= 0) return '-';
  return new Date(n).toISOString();
}

function table(rows: [string, string][]): string {
  const w = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(w)}  ${v}`).join('\n');
}

const AMOUNT_FIELDS = new Set([
  'amount',
  'deposit',
  'charged',
  'toAssignee',
  'toIssuer',
  'toPayer',
  'feeReturned',
  'fee',
  'price',
  'maxPrice',
]);

export function event(e: LedgerEventJson): string {
  const parts = Object.entries(e)
    .filter(([k]) => k !== 'type')
    .map(([k, v]) => {
      if (AMOUNT_FIELDS.has(k) && (typeof v === 'string' || typeof v === 'number')) return `${k}=${amt(v)}`;
      if (k === 'expiresAt' && (typeof v === 'string' || typeof v === 'number')) return `${k}=${time(v)}`;
      return `${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`;
    });
  return `${e.type}${parts.length ? ` ${parts.join(' ')}` : ''}`;
}

export function feedEvent(f: FeedEventJson): string {
  return `[${f.cursor}] ${event(f.event)}`;
}

export function txResult(r: TxResult, extra: [string, string][] = []): string {
  if (r.status === 'pending') return table([['tx', r.txId], ['status', 'pending (not waiting)'], ...extra]);
  const lines = table([
    ['tx', r.txId],
    ['status', `included in block ${r.height} (#${r.index})`],
    ['fee', `${amt(r.receipt.fee)} UMT`],
    ...extra,
  ]);
  const evs = r.receipt.events.map((e) => `  ${event(e)}`);
  return evs.length ? `${lines}\nevents:\n${evs.join('\n')}` : lines;
}

export function status(s: StatusJson): string {
  return table([
    ['chain', `${s.chainName} (${s.chainId})`],
    ['height', `${s.height} (finalized ${s.finalizedHeight})`],
    ['head', `${s.headId} at ${time(s.headTime)}`],
    ['node time', time(s.time)],
    ['mempool', String(s.mempool)],
    ['producer', s.producer ?? '-'],
  ]);
}

export function account(a: AccountJson): string {
  return table([
    ['name', a.name],
    ['roles', a.roles.length ? a.roles.join(', ') : '-'],
    ['home operator', a.homeOperator ?? '-'],
    ['SDR', amt(a.balances.SDR)],
    [
      'UMT',
      `${amt(a.balances.UMT)}${BigInt(a.lockedUMT ?? '0') > 0n ? ` (${amt(a.lockedUMT)} locked)` : ''}`,
    ],
    ['signing key', a.signingKey],
    ['encryption key', a.encryptionKey],
    ['created', time(a.createdAt)],
  ]);
}

function coverage(o: { countries: string[]; networks: string[] }): string {
  return [...o.countries, ...o.networks].join(',') || '-';
}

export function offerLine(o: OfferJson): string {
  const t = o.terms;
  return `${o.id}  ${o.operator.padEnd(14)} ${coverage(t).padEnd(12)} ${volume(t.dataBytes)}/${Math.round(
    t.durationSec / 86_400,
  )}d  ${amt(t.price)} SDR  ${o.status}  "${t.title}"`;
}

export function offer(o: OfferJson): string {
  const t = o.terms;
  return table([
    ['id', o.id],
    ['version', o.version],
    ['operator', o.operator],
    ['status', `${o.status} (${o.openContracts} open / ${t.capacity} capacity, ${o.totalContracts} total)`],
    ['title', t.title],
    ['kind', t.kind + (t.category ? ` (${t.category})` : '')],
    ['coverage', coverage(t)],
    ['technologies', t.technologies.join(',') || '-'],
    ['package', `${volume(t.dataBytes)} for ${Math.round(t.durationSec / 86_400)} day(s)`],
    ['price', `${amt(t.price)} SDR`],
    ['unit price', BigInt(t.unitPrice) > 0n ? `${amt(t.unitPrice)} SDR per ${t.unit}` : '-'],
    ['valid', `${time(t.validFrom)} .. ${time(t.validUntil)}`],
    ['demand', o.demand ?? '-'],
  ]);
}

export function ranked(items: RankedOfferJson[]): string {
  if (items.length === 0) return 'no matching offers';
  return items
    .map((r, i) =>
      [
        `${i + 1}. ${r.offerId}  ${r.offer.operator}  "${r.offer.terms.title}"  cost ${amt(r.cost)} SDR  score ${(
          r.score / 100
        ).toFixed(2)}`,
        ...r.reasons.map((x) => `     - ${x}`),
      ].join('\n'),
    )
    .join('\n');
}

export function contract(
  d: ContractDetailJson | { contract: ContractJson; transactions?: unknown[] },
): string {
  const c = d.contract;
  const rows: [string, string][] = [
    ['id', c.id],
    [
      'status',
      c.status + (c.status === 'closed' ? ` by ${c.closedBy || 'chain'} at ${time(c.closedAt)}` : ''),
    ],
    ['offer', c.offer],
    ['issuer', `${c.issuer} (fee ${(c.issuerFeeBps / 100).toFixed(2)}%)`],
    ['assignee', c.assignee],
    ['subscriber', c.subscriber],
    ['payer', c.payer],
    ['deposit', `${amt(c.deposit)} SDR`],
    ['charged', `${amt(c.charged)} SDR in ${c.chargeCount} charge(s)`],
    ['volume', `${volume(c.volumeDown)} down / ${volume(c.volumeUp)} up`],
    ['fee deposit', `${amt(c.feeDeposit)} UMT`],
    ['head', c.head],
    ['opened', time(c.openedAt)],
    ['expires', time(c.expiresAt)],
  ];
  if (c.status === 'closed') {
    rows.push([
      'settled',
      `assignee ${amt(c.paidAssignee)}, issuer ${amt(c.paidIssuer)}, payer ${amt(c.paidPayer)} SDR; fee returned ${amt(
        c.feeReturned,
      )} UMT`,
    ]);
    if (c.badService) rows.push(['bad service', `yes (reason ${c.reason})`]);
    rows.push(['score', c.score ? `${c.score}/5` : 'not rated']);
  }
  const txs = Array.isArray(d.transactions) ? (d as ContractDetailJson).transactions : [];
  const out = table(rows);
  if (txs.length === 0) return out;
  return `${out}\ntransactions:\n${txs.map((t) => `  ${t.type.padEnd(13)} ${t.txId} block ${t.height}`).join('\n')}`;
}

export function contractLine(c: ContractJson): string {
  return `${c.id}  ${c.status.padEnd(6)} ${c.issuer} -> ${c.assignee}  ${c.subscriber}  charged ${amt(c.charged)} / ${amt(
    c.deposit,
  )} SDR`;
}

export function demand(d: DemandJson): string {
  return table([
    ['id', d.id],
    ['subscriber', d.subscriber],
    ['status', `${d.status} (${d.answers} answer(s))`],
    ['kind', d.kind],
    ['where', coverage(d)],
    ['volume', volume(d.dataBytes)],
    ['when', `${time(d.startAt)} .. ${time(d.endAt)}`],
    ['max price', `${amt(d.maxPrice)} SDR`],
    ['note', d.note || '-'],
  ]);
}

export function rating(r: OperatorRatingJson): string {
  return `${r.operator.padEnd(16)} ${(r.ratingBps / 100).toFixed(2)}%  ${(r.starsX100 / 100).toFixed(2)}★ from ${
    r.ratingCount
  } rating(s), ${r.badService} bad-service refund(s) in ${r.closed} closed of ${r.contracts} contract(s)`;
}

export { table };
