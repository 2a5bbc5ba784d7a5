/**
 * Durable agent state: one JSON file written atomically (temp file + fsync + rename), so a crash
 * leaves either the old or the new state. What it holds:
 * - `cursor`: the last feed event handled (the WebSocket subscription resumes after it);
 * - `usage`: every usage record ingested, by record id (a replayed record is recognised and ignored);
 * - `contracts`: per served contract, the usage ingested so far (what was already billed is read
 *   from the chain: the contract's volume counters and charge count, never from memory);
 * - `outbox`: webhook deliveries not yet acknowledged;
 * - `demands`: demands already answered.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '@roamchain/fsutil';

export { writeFileAtomic };

export interface ContractUsage {
  subscriber: string;
  /** Total bytes up / down of the ingested records (decimal strings). */
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
  /** Idempotency key: the event cursor. */
  key: string;
  url: string;
  body: string;
  attempts: number;
  nextAt: number;
}

export interface AgentStateData {
  version: 1;
  cursor?: string;
  usage: Record<string, { contract: string; at: number }>;
  contracts: Record<string, ContractUsage>;
  outbox: OutboxItem[];
  demands: string[];
  /** Webhook deliveries that gave up after the attempt limit. */
  dead: OutboxItem[];
}

export class AgentStore {
  readonly path: string;
  data: AgentStateData;

  constructor(dir: string) {
    mkdirSync(dir, { recursive: true });
    this.path = join(dir, 'agent-state.json');
    this.data = existsSync(this.path)
      ? (JSON.parse(readFileSync(this.path, 'utf8')) as AgentStateData)
      : { version: 1, usage: {}, contracts: {}, outbox: [], demands: [], dead: [] };
    this.data.dead ??= [];
  }

  save(): void {
    writeFileAtomic(this.path, JSON.stringify(this.data));
  }
}
