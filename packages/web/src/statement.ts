/** The operator's settlement statement, computed from its contracts (GET /v1/contracts?party=). */
import { formatAmount } from '@roamchain/protocol';
import type { ContractJson } from '@roamchain/sdk';

const amt = (v: bigint) => formatAmount(v);
const time = (ms: string) => new Date(Number(ms)).toISOString().replace('T', ' ').slice(0, 19);

export interface StatementRow {
  contract: string;
  role: 'assignee' | 'issuer';
  subscriber: string;
  counterparty: string;
  closedAt: string;
  charged: bigint;
  received: bigint;
}

/** Closed contracts of `operator` settled in [fromMs, toMs): what it received as assignee and as issuer. */
export function statementRows(
  operator: string,
  items: ContractJson[],
  fromMs: number,
  toMs: number,
): StatementRow[] {
  const rows: StatementRow[] = [];
  for (const c of items) {
    if (c.status !== 'closed') continue;
    const t = Number(c.closedAt);
    if (t < fromMs || t >= toMs) continue;
    if (c.assignee === operator)
      rows.push({
        contract: c.id,
        role: 'assignee',
        subscriber: c.subscriber,
        counterparty: c.issuer,
        closedAt: c.closedAt,
        charged: BigInt(c.charged),
        received: BigInt(c.paidAssignee),
      });
    if (c.issuer === operator)
      rows.push({
        contract: c.id,
        role: 'issuer',
        subscriber: c.subscriber,
        counterparty: c.assignee,
        closedAt: c.closedAt,
        charged: BigInt(c.charged),
        received: BigInt(c.paidIssuer),
      });
  }
  return rows.sort((a, b) => Number(a.closedAt) - Number(b.closedAt));
}

export function statementCsv(rows: StatementRow[]): string {
  const head = 'closed_at_utc,contract,role,subscriber,counterparty,charged_sdr,received_sdr';
  const lines = rows.map((r) =>
    [
      time(r.closedAt),
      r.contract,
      r.role,
      r.subscriber,
      r.counterparty,
      amt(r.charged),
      amt(r.received),
    ].join(','),
  );
  const total = rows.reduce((s, r) => s + r.received, 0n);
  return `${[head, ...lines, `,,,,,total,${amt(total)}`].join('\n')}\n`;
}
