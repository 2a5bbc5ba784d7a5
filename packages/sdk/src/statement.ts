/**
 * The operator's settlement statement, in the one format of the agent (`GET /v1/statement`, JSON or
 * CSV), the CLI (`roamchain operator statement`) and the web console: computed from the chain alone,
 * the operator's contracts (GET /v1/contracts?party=) settled in [from, to) (by a Refund or by the
 * chain at the end of their lifetime), with the amounts of their settlement. Amounts are decimal
 * strings of SDR base units. Browser-safe.
 *
 * - served: contracts where the operator is the assignee (visited operator): what it was paid;
 * - consumed: contracts where it is the issuer (home operator): what its subscribers consumed
 *   elsewhere (paid to the assignee by the payer), and the issuer fees it earned on them;
 * - badServiceRefunds: served contracts closed with the bad-service flag.
 */
import type { RoamClient } from './client.js';
import type { ContractJson } from './types.js';

export interface CounterpartyTotals {
  contracts: number;
  charged: string;
  issuerFees: string;
}

export interface StatementSide {
  contracts: number;
  charged: string;
  byCounterparty: Record<string, CounterpartyTotals>;
}

export interface Statement {
  operator: string;
  period: { from: number; to: number };
  served: StatementSide;
  consumed: StatementSide;
  issuerFees: string;
  badServiceRefunds: { contracts: number; refunded: string };
  totals: { received: string; settledContracts: number };
  contracts: {
    id: string;
    role: 'assignee' | 'issuer';
    counterparty: string;
    closedAt: number;
    charged: string;
    toAssignee: string;
    toIssuer: string;
    toPayer: string;
    badService: boolean;
    reason: number;
  }[];
}

/** Every contract of `party` (all pages). */
export async function allContracts(
  client: Pick<RoamClient, 'contracts'>,
  party: string,
): Promise<ContractJson[]> {
  const out: ContractJson[] = [];
  let before: string | undefined;
  for (;;) {
    const page = await client.contracts({ party, limit: 200, ...(before ? { before } : {}) });
    out.push(...page.items);
    if (!page.next) return out;
    before = page.next;
  }
}

/** The statement of `operator` for [fromMs, toMs) from its contracts (any order, duplicates ignored). */
export function statementOf(
  operator: string,
  contracts: ContractJson[],
  fromMs: number,
  toMs: number,
): Statement {
  const side = (): {
    contracts: number;
    charged: bigint;
    by: Map<string, { n: number; c: bigint; f: bigint }>;
  } => ({
    contracts: 0,
    charged: 0n,
    by: new Map(),
  });
  const served = side();
  const consumed = side();
  let issuerFees = 0n;
  let badN = 0;
  let badAmount = 0n;
  const rows: Statement['contracts'] = [];
  const seen = new Set<string>();
  for (const c of contracts) {
    if (seen.has(c.id) || c.status !== 'closed') continue;
    seen.add(c.id);
    const closedAt = Number(c.closedAt);
    if (closedAt < fromMs || closedAt >= toMs) continue;
    const toAssignee = BigInt(c.paidAssignee);
    const toIssuer = BigInt(c.paidIssuer);
    const add = (s: ReturnType<typeof side>, cp: string) => {
      s.contracts += 1;
      s.charged += toAssignee;
      const e = s.by.get(cp) ?? { n: 0, c: 0n, f: 0n };
      e.n += 1;
      e.c += toAssignee;
      e.f += toIssuer;
      s.by.set(cp, e);
    };
    const base = {
      id: c.id,
      closedAt,
      charged: c.charged,
      toAssignee: c.paidAssignee,
      toIssuer: c.paidIssuer,
      toPayer: c.paidPayer,
      badService: c.badService,
      reason: c.reason,
    };
    if (c.assignee === operator) {
      add(served, c.issuer);
      if (c.badService) {
        badN += 1;
        badAmount += BigInt(c.paidPayer);
      }
      rows.push({ ...base, role: 'assignee', counterparty: c.issuer });
    }
    if (c.issuer === operator) {
      add(consumed, c.assignee);
      issuerFees += toIssuer;
      if (c.assignee !== operator) rows.push({ ...base, role: 'issuer', counterparty: c.assignee });
    }
  }
  const out = (s: ReturnType<typeof side>): StatementSide => ({
    contracts: s.contracts,
    charged: s.charged.toString(),
    byCounterparty: Object.fromEntries(
      [...s.by.entries()]
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([k, v]) => [k, { contracts: v.n, charged: v.c.toString(), issuerFees: v.f.toString() }]),
    ),
  });
  rows.sort((a, b) => a.closedAt - b.closedAt || (a.id < b.id ? -1 : 1));
  return {
    operator,
    period: { from: fromMs, to: toMs },
    served: out(served),
    consumed: out(consumed),
    issuerFees: issuerFees.toString(),
    badServiceRefunds: { contracts: badN, refunded: badAmount.toString() },
    totals: { received: (served.charged + issuerFees).toString(), settledContracts: seen.size },
    contracts: rows,
  };
}

/** The statement of `operator` for [fromMs, toMs), from all its contracts on the chain. */
export async function statement(
  client: Pick<RoamClient, 'contracts'>,
  operator: string,
  fromMs: number,
  toMs: number,
): Promise<Statement> {
  return statementOf(operator, await allContracts(client, operator), fromMs, toMs);
}

/** CSV: one line per settled contract, then summary lines. */
export function statementCsv(s: Statement): string {
  const lines = ['contract,role,counterparty,closedAt,charged,toAssignee,toIssuer,toPayer,badService,reason'];
  for (const r of s.contracts) {
    lines.push(
      [
        r.id,
        r.role,
        r.counterparty,
        new Date(r.closedAt).toISOString(),
        r.charged,
        r.toAssignee,
        r.toIssuer,
        r.toPayer,
        r.badService,
        r.reason,
      ].join(','),
    );
  }
  lines.push('');
  lines.push(
    'summary,operator,from,to,servedContracts,servedCharged,consumedContracts,consumedCharged,issuerFees,badServiceRefunds,received',
  );
  lines.push(
    [
      'total',
      s.operator,
      new Date(s.period.from).toISOString(),
      new Date(s.period.to).toISOString(),
      s.served.contracts,
      s.served.charged,
      s.consumed.contracts,
      s.consumed.charged,
      s.issuerFees,
      s.badServiceRefunds.refunded,
      s.totals.received,
    ].join(','),
  );
  return `${lines.join('\n')}\n`;
}
