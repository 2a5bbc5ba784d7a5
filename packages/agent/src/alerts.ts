/**
 * Traveller alerts as signed webhooks (issue 14 item 2): 75 % and 90 % of the package used, and the
 * contract ending within `alertBeforeExpiryMs`. Each is sent once per threshold per contract: the
 * `alert_sent` row is written in the same transaction as its outbox items, and its webhook id
 * (`alert:<contract>:<kind>`) is the idempotency key, so a receiver dedupes a redelivery.
 *
 * Watched: the open contracts this operator issued or serves (`alert_watch`, at most MAX_WATCHED;
 * a row leaves when the contract is settled). "Used" is the data volume against the package's
 * `dataBytes`, or for a package without a volume, the charges plus the issuer fee against the
 * deposit (a top-up lowers it; an alert already sent is not sent again).
 */
import type { ContractJson } from '@roamchain/sdk';
import type { WebhookTarget } from './config.js';
import type { AgentStore } from './store.js';

export const USAGE_THRESHOLDS_BPS = [7500, 9000] as const;
export type AlertKind = 'usage_75' | 'usage_90' | 'expiry';
/** Bound of the watch list (rows are ~100 bytes). */
export const MAX_WATCHED = 100_000;

export const ALERT_SCHEMA = `
CREATE TABLE IF NOT EXISTS alert_watch (contract TEXT PRIMARY KEY, expires_at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS alert_watch_exp ON alert_watch (expires_at);
CREATE TABLE IF NOT EXISTS alert_sent (contract TEXT NOT NULL, kind TEXT NOT NULL, at INTEGER NOT NULL,
  PRIMARY KEY (contract, kind));
`;

/** Share of the package used, basis points (may pass 10,000). */
export function usedBps(c: ContractJson): number {
  const pkg = BigInt(c.dataBytes);
  if (pkg > 0n) return Number(((BigInt(c.volumeUp) + BigInt(c.volumeDown)) * 10_000n) / pkg);
  const deposit = BigInt(c.deposit);
  if (deposit === 0n) return 0;
  const charged = BigInt(c.charged);
  const spent = charged + (charged * BigInt(c.issuerFeeBps)) / 10_000n;
  return Number((spent * 10_000n) / deposit);
}

/** The alerts `c` has reached at `now` (ms), sent or not. */
export function reachedAlerts(c: ContractJson, now: number, beforeExpiryMs: number): AlertKind[] {
  if (c.status !== 'open') return [];
  const out: AlertKind[] = [];
  const u = usedBps(c);
  if (u >= USAGE_THRESHOLDS_BPS[0]) out.push('usage_75');
  if (u >= USAGE_THRESHOLDS_BPS[1]) out.push('usage_90');
  if (Number(c.expiresAt) - now <= beforeExpiryMs) out.push('expiry');
  return out;
}

export class Alerts {
  constructor(
    readonly store: AgentStore,
    readonly operator: string,
    readonly webhooks: () => WebhookTarget[],
    readonly beforeExpiryMs: number,
  ) {
    store.db.exec(ALERT_SCHEMA);
  }

  /** Starts watching a contract this operator issued or serves (ignored past the bound). */
  watch(contract: string, expiresAt: number): boolean {
    const n = (this.store.db.prepare('SELECT count(*) n FROM alert_watch').get() as { n: number }).n;
    if (n >= MAX_WATCHED) return false;
    this.store.db
      .prepare('INSERT OR IGNORE INTO alert_watch (contract, expires_at) VALUES (?, ?)')
      .run(contract, expiresAt);
    return true;
  }

  /** A settled contract: no more alerts; its rows go. */
  unwatch(contract: string): void {
    this.store.tx(() => {
      this.store.db.prepare('DELETE FROM alert_watch WHERE contract = ?').run(contract);
      this.store.db.prepare('DELETE FROM alert_sent WHERE contract = ?').run(contract);
    });
  }

  watching(contract: string): boolean {
    return this.store.db.prepare('SELECT 1 FROM alert_watch WHERE contract = ?').get(contract) !== undefined;
  }

  /** Watched contracts whose expiry alert is due at `now` and not sent yet (oldest first, bounded). */
  dueForExpiry(now: number, limit = 100): string[] {
    return (
      this.store.db
        .prepare(
          `SELECT w.contract c FROM alert_watch w WHERE w.expires_at - ? <= ? AND NOT EXISTS
           (SELECT 1 FROM alert_sent s WHERE s.contract = w.contract AND s.kind = 'expiry')
           ORDER BY w.expires_at LIMIT ?`,
        )
        .all(now, this.beforeExpiryMs, limit) as { c: string }[]
    ).map((r) => r.c);
  }

  /** Enqueues the alerts `c` reached and had not been sent; returns those sent now. */
  check(c: ContractJson, now: number): AlertKind[] {
    if (!this.watching(c.id)) return [];
    const kinds = reachedAlerts(c, now, this.beforeExpiryMs);
    const sent: AlertKind[] = [];
    this.store.tx(() => {
      for (const kind of kinds) {
        const r = this.store.db
          .prepare('INSERT OR IGNORE INTO alert_sent (contract, kind, at) VALUES (?, ?, ?)')
          .run(c.id, kind, now);
        if (r.changes === 0) continue;
        sent.push(kind);
        const id = `alert:${c.id}:${kind}`;
        const body = JSON.stringify({
          id,
          operator: this.operator,
          alert: {
            kind,
            contract: c.id,
            subscriber: c.subscriber,
            issuer: c.issuer,
            assignee: c.assignee,
            usedBps: usedBps(c),
            dataBytes: c.dataBytes,
            volumeUsed: (BigInt(c.volumeUp) + BigInt(c.volumeDown)).toString(),
            deposit: c.deposit,
            charged: c.charged,
            expiresAt: c.expiresAt,
          },
        });
        for (const w of this.webhooks())
          this.store.enqueue({ key: id, url: w.url, body, attempts: 0, nextAt: 0 });
      }
    });
    return sent;
  }
}
