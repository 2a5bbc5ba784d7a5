/**
 * A user-space TCP relay that plays a wide-area link between network namespaces (the kernel of the
 * test machines has no `netem` qdisc; `tc qdisc add … netem` answers "qdisc kind is unknown").
 *
 * One `Link` per ordered pair of nodes (a → b): it listens on an address a can reach and connects
 * each accepted socket to b's real address. Every chunk is forwarded after the link's one-way delay
 * (plus jitter), in order. Loss: TCP never shows a lost segment to the application, it shows the
 * retransmission; so with probability `loss` a chunk (and, TCP being in order, everything behind it
 * on that connection) is held back one retransmission timeout more — which is what 1 % packet loss
 * does to a TCP stream. `cut()` severs the link (open connections reset, new ones refused) and
 * `heal()` restores it: a partition.
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net';

export interface LinkOptions {
  /** Where the relay listens (reachable from the dialling node). */
  listenHost: string;
  /** The destination node's real address. */
  toHost: string;
  toPort: number;
  /** One-way delay (ms) each direction. */
  delayMs: number;
  /** Added uniformly in [0, jitterMs) per chunk; order is kept. */
  jitterMs: number;
  /** Probability that a chunk needs a retransmission (held back `rtoMs` more). */
  loss: number;
  rtoMs: number;
  /** Deterministic randomness for reproducible runs. */
  random: () => number;
}

export class Link {
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  private severed = false;
  port = 0;
  /** Chunks forwarded and chunks held back as "lost" (for the test's report). */
  readonly stats = { chunks: 0, lost: 0 };

  constructor(private readonly o: LinkOptions) {}

  async listen(): Promise<number> {
    const server = createServer({ allowHalfOpen: true }, (client) => this.accept(client));
    this.server = server;
    await new Promise<void>((res, rej) => {
      server.once('error', rej);
      server.listen(0, this.o.listenHost, () => res());
    });
    const a = server.address();
    this.port = typeof a === 'object' && a ? a.port : 0;
    return this.port;
  }

  cut(): void {
    this.severed = true;
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
  }

  heal(): void {
    this.severed = false;
  }

  async close(): Promise<void> {
    this.cut();
    const s = this.server;
    this.server = null;
    if (s) await new Promise<void>((res) => s.close(() => res()));
  }

  private accept(client: Socket): void {
    if (this.severed) {
      client.destroy();
      return;
    }
    const upstream = createConnection({ host: this.o.toHost, port: this.o.toPort, allowHalfOpen: true });
    for (const s of [client, upstream]) {
      this.sockets.add(s);
      s.setNoDelay(true);
      s.on('error', () => {});
      s.on('close', () => {
        this.sockets.delete(s);
        // What is still in the delay line goes out first (a half-close arrives as 'end' above).
        setTimeout(
          () => {
            client.destroy();
            upstream.destroy();
          },
          this.o.delayMs + this.o.rtoMs + this.o.jitterMs,
        );
      });
    }
    this.pipe(client, upstream);
    this.pipe(upstream, client);
  }

  /**
   * Forwards `from` → `to` through the delay line. One queue and one timer per direction: separate
   * timers per chunk could fire out of order (timer granularity) and corrupt the stream.
   */
  private pipe(from: Socket, to: Socket): void {
    const queue: { due: number; chunk: Buffer | null }[] = [];
    let timer: NodeJS.Timeout | null = null;
    let last = 0;
    const drain = () => {
      timer = null;
      const now = Date.now();
      while (queue.length > 0 && queue[0]!.due <= now) {
        const { chunk } = queue.shift()!;
        if (to.destroyed) continue;
        if (chunk) to.write(chunk);
        else to.end();
      }
      if (queue.length > 0) timer = setTimeout(drain, queue[0]!.due - now);
    };
    const push = (due: number, chunk: Buffer | null) => {
      last = Math.max(due, last);
      queue.push({ due: last, chunk });
      if (!timer) timer = setTimeout(drain, Math.max(0, last - Date.now()));
    };
    from.on('data', (chunk: Buffer) => {
      this.stats.chunks++;
      let due = Date.now() + this.o.delayMs + Math.floor(this.o.random() * this.o.jitterMs);
      if (this.o.random() < this.o.loss) {
        this.stats.lost++;
        due += this.o.rtoMs;
      }
      push(due, chunk);
    });
    from.on('end', () => push(Date.now() + this.o.delayMs, null));
  }
}

/** A small deterministic PRNG (mulberry32). */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
