export interface ScoringOptions {
  /** Strikes (rejected messages + penalize calls) within `windowMs` that get a peer banned. Default 5. */
  threshold: number;
  /** Sliding window for counting strikes, ms. Default 60_000. */
  windowMs: number;
  /** How long a banned peer is disconnected and refused (inbound and outbound), ms. Default 300_000. */
  banMs: number;
}

export const DEFAULT_SCORING: ScoringOptions = { threshold: 5, windowMs: 60_000, banMs: 300_000 };

/**
 * Per-peer strike counter with a sliding window and timed bans. Pure bookkeeping (clock injected);
 * the P2P layer turns a ban into a disconnect plus a connection-gater refusal.
 */
export class StrikeBook {
  readonly #strikes = new Map<string, number[]>();
  readonly #bans = new Map<string, number>();
  constructor(
    private readonly opts: ScoringOptions,
    private readonly now: () => number = Date.now,
  ) {}

  /** Records a strike; returns true when this strike crosses the threshold (the peer is now banned). */
  strike(peer: string): boolean {
    const t = this.now();
    const list = this.#live(peer, t);
    list.push(t);
    this.#strikes.set(peer, list);
    if (list.length >= this.opts.threshold && !this.isBanned(peer)) {
      this.#bans.set(peer, t + this.opts.banMs);
      this.#strikes.delete(peer);
      return true;
    }
    return false;
  }

  /** Strikes currently inside the window. */
  count(peer: string): number {
    const list = this.#live(peer, this.now());
    if (list.length === 0) this.#strikes.delete(peer);
    else this.#strikes.set(peer, list);
    return list.length;
  }

  isBanned(peer: string): boolean {
    const until = this.#bans.get(peer);
    if (until === undefined) return false;
    if (this.now() >= until) {
      this.#bans.delete(peer);
      return false;
    }
    return true;
  }

  /** Ban expiry (epoch ms) or undefined. */
  bannedUntil(peer: string): number | undefined {
    return this.isBanned(peer) ? this.#bans.get(peer) : undefined;
  }

  #live(peer: string, t: number): number[] {
    const from = t - this.opts.windowMs;
    return (this.#strikes.get(peer) ?? []).filter((x) => x > from);
  }
}
