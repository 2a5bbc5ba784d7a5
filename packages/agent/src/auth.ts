/**
 * Credentials of the agent's authenticated routes and per-client limits.
 *
 * - API keys: `Authorization: Bearer <key>`. The agent keeps only SHA-256 digests (a config may give
 *   `sha256:<hex>` instead of the key) and compares digests in constant time. A client may hold
 *   several keys at once, so a key is rotated without downtime: add the new key, reload (SIGHUP),
 *   move the caller to it, remove the old key, reload.
 * - Token buckets per client (address), in a map bounded by LRU eviction.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { AgentClient, AgentScope } from './config.js';

const digest = (key: string): Buffer => createHash('sha256').update(key, 'utf8').digest();

export class Credentials {
  #entries: { digest: Buffer; client: string; scopes: Set<AgentScope> }[] = [];

  constructor(clients: AgentClient[]) {
    this.set(clients);
  }

  /** Replaces the accepted keys (a reload): requests already admitted are not affected. */
  set(clients: AgentClient[]): void {
    this.#entries = clients.flatMap((c) =>
      c.keys.map((k) => ({
        digest: k.startsWith('sha256:') ? Buffer.from(k.slice(7), 'hex') : digest(k),
        client: c.id,
        scopes: new Set(c.scopes),
      })),
    );
  }

  get size(): number {
    return this.#entries.length;
  }

  /** The client of an `Authorization` header, or undefined. */
  check(header: string | undefined): { client: string; scopes: Set<AgentScope> } | undefined {
    if (!header) return undefined;
    const m = /^Bearer ([\x21-\x7e]{1,512})$/.exec(header);
    if (!m) return undefined;
    const d = digest(m[1]!);
    let found: { client: string; scopes: Set<AgentScope> } | undefined;
    // Every entry is compared (no early exit): the time does not tell which key matched.
    for (const e of this.#entries) if (timingSafeEqual(e.digest, d) && !found) found = e;
    return found;
  }
}

/** Token bucket per key: `perMinute` tokens a minute, burst `perMinute`; at most `maxKeys` keys (LRU). */
export class RateLimiter {
  readonly #buckets = new Map<string, { tokens: number; at: number }>();
  constructor(
    readonly perMinute: number,
    readonly maxKeys = 10_000,
  ) {}

  /** 0 when allowed (a token is taken), else the seconds until a token is back. */
  take(key: string, now = Date.now()): number {
    if (this.perMinute <= 0) return 0;
    let b = this.#buckets.get(key);
    if (b) this.#buckets.delete(key);
    else {
      b = { tokens: this.perMinute, at: now };
      if (this.#buckets.size >= this.maxKeys) {
        const oldest = this.#buckets.keys().next().value;
        if (oldest !== undefined) this.#buckets.delete(oldest);
      }
    }
    b.tokens = Math.min(this.perMinute, b.tokens + ((now - b.at) * this.perMinute) / 60_000);
    b.at = now;
    this.#buckets.set(key, b);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil(((1 - b.tokens) * 60) / this.perMinute));
  }
}

/** Sliding-window counter per key (e.g. Requests per subscriber per hour), bounded in keys (LRU). */
export class WindowCounter {
  readonly #hits = new Map<string, number[]>();
  constructor(
    readonly max: number,
    readonly windowMs: number,
    readonly maxKeys = 10_000,
  ) {}

  /** Whether one more hit fits the window (does not count it). */
  allows(key: string, now = Date.now()): boolean {
    const h = (this.#hits.get(key) ?? []).filter((t) => t > now - this.windowMs);
    return h.length < this.max;
  }

  hit(key: string, now = Date.now()): void {
    const h = (this.#hits.get(key) ?? []).filter((t) => t > now - this.windowMs);
    h.push(now);
    this.#hits.delete(key);
    if (this.#hits.size >= this.maxKeys) {
      const oldest = this.#hits.keys().next().value;
      if (oldest !== undefined) this.#hits.delete(oldest);
    }
    this.#hits.set(key, h.slice(-this.max));
  }
}
