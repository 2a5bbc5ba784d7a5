/**
 * Durable agent state in an embedded SQLite database (`<stateDir>/agent.db`, better-sqlite3, WAL,
 * synchronous=FULL). Every change is one small transaction, so the cost of an operation does not
 * depend on how much history the agent has (no whole-state rewrite). What it holds:
 * - `meta.cursor`: the last feed event handled; written in the same transaction as the outbox items
 *   and contract rows that event produced (a crash leaves both or neither);
 * - `usage`: every usage record accepted, by record id (a replayed record is recognised and ignored);
 * - `quarantine`: records that cannot be billed, with the reason (bounded, oldest dropped);
 * - `contracts`: per served contract, the usage ingested so far (what was already billed is read
 *   from the chain: the contract's volume counters and charge count, never from here);
 * - `outbox` / dead letters: webhook deliveries not yet acknowledged (dead letters bounded);
 * - `demands`: demands already answered.
 * Byte counters are u64 and kept as decimal TEXT (SQLite integers are signed 64-bit), computed
 * with bigint. An older JSON state file (`agent-state.json`) is imported once at start.
 */
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '@roamchain/fsutil';
import Database from 'better-sqlite3';

export { writeFileAtomic };

export interface ContractUsage {
  subscriber: string;
  /** Total bytes up / down of the accepted records (decimal strings). */
  bytesUp: string;
  bytesDown: string;
  seconds: number;
  records: number;
  /** Time of the first record not yet billed (ms), for time-based steps. */
  pendingSince?: number;
  provisioned?: boolean;
  closed?: boolean;
  /** A terminal failure (identity refused): nothing more to do. */
  refused?: boolean;
}

export interface OutboxItem {
  id?: number;
  /** Idempotency key: the event cursor. */
  key: string;
  url: string;
  body: string;
  attempts: number;
  nextAt: number;
}

export interface QuarantinedRecord {
  recordId: string;
  contract: string | null;
  reason: string;
  at: number;
}

/** Bounds of the tables that an outside party can make grow. */
export const STORE_LIMITS = { quarantine: 10_000, dead: 10_000 } as const;

interface ContractRow {
  id: string;
  subscriber: string;
  bytes_up: string;
  bytes_down: string;
  seconds: number;
  records: number;
  pending_since: number | null;
  provisioned: number;
  closed: number;
  refused: number;
}

const rowToUsage = (r: ContractRow): ContractUsage => ({
  subscriber: r.subscriber,
  bytesUp: r.bytes_up,
  bytesDown: r.bytes_down,
  seconds: r.seconds,
  records: r.records,
  ...(r.pending_since !== null ? { pendingSince: r.pending_since } : {}),
  ...(r.provisioned ? { provisioned: true } : {}),
  ...(r.closed ? { closed: true } : {}),
  ...(r.refused ? { refused: true } : {}),
});

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS contracts (
  id TEXT PRIMARY KEY, subscriber TEXT NOT NULL, bytes_up TEXT NOT NULL DEFAULT '0',
  bytes_down TEXT NOT NULL DEFAULT '0', seconds INTEGER NOT NULL DEFAULT 0,
  records INTEGER NOT NULL DEFAULT 0, pending_since INTEGER, provisioned INTEGER NOT NULL DEFAULT 0,
  closed INTEGER NOT NULL DEFAULT 0, refused INTEGER NOT NULL DEFAULT 0, seq INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS contracts_sub ON contracts (subscriber, closed, seq);
CREATE INDEX IF NOT EXISTS contracts_open ON contracts (closed);
CREATE TABLE IF NOT EXISTS usage (record_id TEXT PRIMARY KEY, contract TEXT NOT NULL, at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS quarantine (n INTEGER PRIMARY KEY AUTOINCREMENT, record_id TEXT NOT NULL UNIQUE,
  contract TEXT, reason TEXT NOT NULL, at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS outbox (id INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT NOT NULL, url TEXT NOT NULL,
  body TEXT NOT NULL, attempts INTEGER NOT NULL, next_at INTEGER NOT NULL, dead INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS outbox_live ON outbox (dead, id);
CREATE TABLE IF NOT EXISTS demands (id TEXT PRIMARY KEY);
`;

export class AgentStore {
  readonly path: string;
  readonly db: Database.Database;
  #seq = 0;

  constructor(dir: string) {
    mkdirSync(dir, { recursive: true });
    this.path = join(dir, 'agent.db');
    this.db = new Database(this.path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.exec(SCHEMA);
    this.#seq = (this.db.prepare('SELECT max(seq) m FROM contracts').get() as { m: number | null }).m ?? 0;
    this.#migrateJson(join(dir, 'agent-state.json'));
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  /** Runs `fn` in one transaction (nested calls join the outer one). */
  tx<T>(fn: () => T): T {
    return this.db.inTransaction ? fn() : this.db.transaction(fn)();
  }

  // ------------------------------------------------------------------ cursor

  get cursor(): string | undefined {
    const r = this.db.prepare('SELECT v FROM meta WHERE k = ?').get('cursor') as { v: string } | undefined;
    return r?.v;
  }

  setCursor(cursor: string): void {
    this.db
      .prepare('INSERT INTO meta (k, v) VALUES (?, ?) ON CONFLICT(k) DO UPDATE SET v = excluded.v')
      .run('cursor', cursor);
  }

  // ------------------------------------------------------------------ contracts

  contract(id: string): ContractUsage | undefined {
    const r = this.db.prepare('SELECT * FROM contracts WHERE id = ?').get(id) as ContractRow | undefined;
    return r && rowToUsage(r);
  }

  /** Contracts still to serve (not closed), oldest first. */
  activeContracts(): [string, ContractUsage][] {
    const rows = this.db
      .prepare('SELECT * FROM contracts WHERE closed = 0 ORDER BY seq')
      .all() as ContractRow[];
    return rows.map((r) => [r.id, rowToUsage(r)]);
  }

  /** Every contract row (for the admin listing), newest first, bounded. */
  contracts(limit = 200): [string, ContractUsage][] {
    const rows = this.db
      .prepare('SELECT * FROM contracts ORDER BY seq DESC LIMIT ?')
      .all(limit) as ContractRow[];
    return rows.map((r) => [r.id, rowToUsage(r)]);
  }

  /** The subscriber's newest open contract with this operator. */
  openContractOf(subscriber: string): string | undefined {
    const r = this.db
      .prepare(
        'SELECT id FROM contracts WHERE subscriber = ? AND closed = 0 AND refused = 0 ORDER BY seq DESC LIMIT 1',
      )
      .get(subscriber) as { id: string } | undefined;
    return r?.id;
  }

  addContract(id: string, subscriber: string): void {
    this.#seq += 1;
    this.db
      .prepare('INSERT OR IGNORE INTO contracts (id, subscriber, seq) VALUES (?, ?, ?)')
      .run(id, subscriber, this.#seq);
  }

  markContract(id: string, flags: { provisioned?: true; closed?: true; refused?: true }): void {
    const sets = Object.keys(flags).map((k) => `${k} = 1`);
    if (sets.length) this.db.prepare(`UPDATE contracts SET ${sets.join(', ')} WHERE id = ?`).run(id);
  }

  clearPending(id: string): void {
    this.db.prepare('UPDATE contracts SET pending_since = NULL WHERE id = ?').run(id);
  }

  // ------------------------------------------------------------------ usage

  hasRecord(recordId: string): boolean {
    return (
      this.db.prepare('SELECT 1 FROM usage WHERE record_id = ?').get(recordId) !== undefined ||
      this.db.prepare('SELECT 1 FROM quarantine WHERE record_id = ?').get(recordId) !== undefined
    );
  }

  /** One accepted record: its id and the contract's new totals, in one transaction. */
  addUsage(
    recordId: string,
    contract: string,
    totals: { bytesUp: bigint; bytesDown: bigint; seconds: number },
    now: number,
  ): void {
    this.tx(() => {
      this.db
        .prepare('INSERT INTO usage (record_id, contract, at) VALUES (?, ?, ?)')
        .run(recordId, contract, now);
      this.db
        .prepare(
          `UPDATE contracts SET bytes_up = ?, bytes_down = ?, seconds = ?, records = records + 1,
           pending_since = coalesce(pending_since, ?) WHERE id = ?`,
        )
        .run(totals.bytesUp.toString(), totals.bytesDown.toString(), totals.seconds, now, contract);
    });
  }

  /** A record that cannot be billed, kept with its reason (its id counts as seen); bounded. */
  quarantine(recordId: string, contract: string | undefined, reason: string, now: number): void {
    this.tx(() => {
      this.db
        .prepare('INSERT OR IGNORE INTO quarantine (record_id, contract, reason, at) VALUES (?, ?, ?, ?)')
        .run(recordId, contract ?? null, reason.slice(0, 300), now);
      this.db
        .prepare('DELETE FROM quarantine WHERE n <= (SELECT max(n) FROM quarantine) - ?')
        .run(STORE_LIMITS.quarantine);
    });
  }

  quarantined(limit = 100): QuarantinedRecord[] {
    const rows = this.db
      .prepare('SELECT record_id, contract, reason, at FROM quarantine ORDER BY n DESC LIMIT ?')
      .all(limit) as { record_id: string; contract: string | null; reason: string; at: number }[];
    return rows.map((r) => ({ recordId: r.record_id, contract: r.contract, reason: r.reason, at: r.at }));
  }

  /** Contracts with usage not yet charged, and the oldest such usage's arrival (unix ms). */
  backlog(): { contracts: number; oldestSince: number | undefined } {
    const r = this.db
      .prepare(
        'SELECT count(*) n, min(pending_since) m FROM contracts WHERE pending_since IS NOT NULL AND closed = 0',
      )
      .get() as { n: number; m: number | null };
    return { contracts: r.n, oldestSince: r.m ?? undefined };
  }

  counts(): { usage: number; quarantine: number; outbox: number; dead: number; contracts: number } {
    const n = (sql: string) => (this.db.prepare(sql).get() as { n: number }).n;
    return {
      usage: n('SELECT count(*) n FROM usage'),
      quarantine: n('SELECT count(*) n FROM quarantine'),
      outbox: n('SELECT count(*) n FROM outbox WHERE dead = 0'),
      dead: n('SELECT count(*) n FROM outbox WHERE dead = 1'),
      contracts: n('SELECT count(*) n FROM contracts'),
    };
  }

  // ------------------------------------------------------------------ outbox

  enqueue(item: OutboxItem): void {
    this.db
      .prepare('INSERT INTO outbox (key, url, body, attempts, next_at) VALUES (?, ?, ?, ?, ?)')
      .run(item.key, item.url, item.body, item.attempts, item.nextAt);
  }

  /** Live deliveries in order (bounded page). */
  outbox(limit = 500): (OutboxItem & { id: number })[] {
    const rows = this.db
      .prepare('SELECT id, key, url, body, attempts, next_at FROM outbox WHERE dead = 0 ORDER BY id LIMIT ?')
      .all(limit) as {
      id: number;
      key: string;
      url: string;
      body: string;
      attempts: number;
      next_at: number;
    }[];
    return rows.map((r) => ({
      id: r.id,
      key: r.key,
      url: r.url,
      body: r.body,
      attempts: r.attempts,
      nextAt: r.next_at,
    }));
  }

  delivered(id: number): void {
    this.db.prepare('DELETE FROM outbox WHERE id = ?').run(id);
  }

  retryLater(id: number, attempts: number, nextAt: number): void {
    this.db.prepare('UPDATE outbox SET attempts = ?, next_at = ? WHERE id = ?').run(attempts, nextAt, id);
  }

  giveUp(id: number, attempts: number): void {
    this.tx(() => {
      this.db.prepare('UPDATE outbox SET attempts = ?, dead = 1 WHERE id = ?').run(attempts, id);
      this.db
        .prepare(
          'DELETE FROM outbox WHERE dead = 1 AND id NOT IN (SELECT id FROM outbox WHERE dead = 1 ORDER BY id DESC LIMIT ?)',
        )
        .run(STORE_LIMITS.dead);
    });
  }

  // ------------------------------------------------------------------ demands

  answered(demand: string): boolean {
    return this.db.prepare('SELECT 1 FROM demands WHERE id = ?').get(demand) !== undefined;
  }

  markAnswered(demand: string): void {
    this.db.prepare('INSERT OR IGNORE INTO demands (id) VALUES (?)').run(demand);
  }

  // ------------------------------------------------------------------ migration

  /** Imports a JSON state file of an older agent once, then renames it `*.migrated`. */
  #migrateJson(file: string): void {
    if (!existsSync(file)) return;
    const d = JSON.parse(readFileSync(file, 'utf8')) as {
      cursor?: string;
      usage?: Record<string, { contract: string; at: number }>;
      contracts?: Record<string, ContractUsage>;
      outbox?: OutboxItem[];
      dead?: OutboxItem[];
      demands?: string[];
    };
    this.tx(() => {
      if (d.cursor !== undefined) this.setCursor(d.cursor);
      for (const [id, c] of Object.entries(d.contracts ?? {})) {
        this.addContract(id, c.subscriber);
        this.db
          .prepare(
            `UPDATE contracts SET bytes_up = ?, bytes_down = ?, seconds = ?, records = ?, pending_since = ?,
             provisioned = ?, closed = ?, refused = ? WHERE id = ?`,
          )
          .run(
            BigInt(c.bytesUp).toString(),
            BigInt(c.bytesDown).toString(),
            Math.trunc(c.seconds),
            Math.trunc(c.records),
            c.pendingSince ?? null,
            c.provisioned ? 1 : 0,
            c.closed ? 1 : 0,
            c.refused ? 1 : 0,
            id,
          );
      }
      const ins = this.db.prepare('INSERT OR IGNORE INTO usage (record_id, contract, at) VALUES (?, ?, ?)');
      for (const [rid, u] of Object.entries(d.usage ?? {})) ins.run(rid, u.contract, u.at);
      for (const o of d.outbox ?? []) this.enqueue(o);
      for (const o of d.dead ?? []) {
        this.db
          .prepare('INSERT INTO outbox (key, url, body, attempts, next_at, dead) VALUES (?, ?, ?, ?, ?, 1)')
          .run(o.key, o.url, o.body, o.attempts, o.nextAt);
      }
      for (const id of d.demands ?? []) this.markAnswered(id);
    });
    renameSync(file, `${file}.migrated`);
  }
}
