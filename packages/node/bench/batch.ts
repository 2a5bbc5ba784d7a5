/**
 * The load generator's transport: transactions go to the node in binary batches (`POST /v1/txs`,
 * the codec of @roamchain/protocol), and the flooder of `--flood`.
 *
 * `BatchSender` queues what the load loop hands it per node and sends the queue as one batch on the
 * next turn of the event loop (so a burst goes as one request, a paced trickle as small ones), at
 * most `maxBatch` transactions per request. `Flooder` is one account sending pre-signed
 * transactions at full speed on its own connections: `workers` batch requests always outstanding;
 * what the node refuses for lack of room or its bounds (MEMPOOL_FULL, MEMPOOL_ACCOUNT_LIMIT, ACCOUNT_BUSY,
 * RATE_LIMITED) is sent again, Retry-After ignored.
 */
import http from 'node:http';
import { encodeTxBatch } from '@roamchain/protocol';

export type TxAnswer = { ok: true; txId: string } | { ok: false; code: string; message: string };

/** POSTs a body to a node's path; resolves with the HTTP status and the text of the answer. */
/**
 * One HTTP request, its answer as text. A kept-alive socket the server closed while idle (its
 * keep-alive timeout) fails the next request with ECONNRESET before the server read anything: it is
 * sent again once on a new socket (Node's documented pattern, `request.reusedSocket`), not counted
 * as a refusal.
 */
export function httpRequest(
  base: URL,
  agent: http.Agent,
  method: 'GET' | 'POST',
  path: string,
  body?: Buffer,
  contentType = 'application/json',
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    let retried = false;
    const send = (): void => {
      const req = http.request(
        {
          host: base.hostname,
          port: base.port,
          method,
          path,
          agent,
          headers: body ? { 'content-type': contentType, 'content-length': body.length } : {},
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }),
          );
          res.on('error', reject);
        },
      );
      req.on('error', (e: NodeJS.ErrnoException) => {
        if (!retried && req.reusedSocket && e.code === 'ECONNRESET') {
          retried = true;
          send();
        } else reject(e);
      });
      req.end(body);
    };
    send();
  });
}

export type Post = (node: number, body: Buffer) => Promise<{ status: number; text: string }>;

/** One batch request: one answer per transaction (a failed request gives its code to each). */
export async function postBatch(post: Post, node: number, txs: readonly Uint8Array[]): Promise<TxAnswer[]> {
  const body = encodeTxBatch(txs, 65_536);
  let r: { status: number; text: string };
  try {
    r = await post(node, Buffer.from(body.buffer, body.byteOffset, body.byteLength));
  } catch (e) {
    return txs.map(() => ({ ok: false, code: 'NETWORK', message: (e as Error).message }));
  }
  let parsed: { results?: TxAnswer[]; code?: string; message?: string } = {};
  try {
    parsed = JSON.parse(r.text);
  } catch {
    // not JSON: the status says it
  }
  if (r.status === 200 && Array.isArray(parsed.results) && parsed.results.length === txs.length)
    return parsed.results;
  const code = parsed.code ?? `HTTP_${r.status}`;
  return txs.map(() => ({ ok: false, code, message: parsed.message ?? r.text.slice(0, 200) }));
}

export class BatchSender {
  private readonly queues: { bytes: Uint8Array; done: (a: TxAnswer) => void }[][];
  private readonly scheduled: boolean[];
  /** Batch requests sent, and transactions in them. */
  requests = 0;
  txs = 0;

  constructor(
    private readonly post: Post,
    nodes: number,
    private readonly maxBatch = 256,
  ) {
    this.queues = Array.from({ length: nodes }, () => []);
    this.scheduled = Array.from({ length: nodes }, () => false);
  }

  send(node: number, bytes: Uint8Array): Promise<TxAnswer> {
    return new Promise((done) => {
      this.queues[node]!.push({ bytes, done });
      if (!this.scheduled[node]) {
        this.scheduled[node] = true;
        setImmediate(() => this.flush(node));
      }
    });
  }

  private flush(node: number): void {
    this.scheduled[node] = false;
    const q = this.queues[node]!;
    while (q.length > 0) {
      const part = q.splice(0, this.maxBatch);
      this.requests++;
      this.txs += part.length;
      void postBatch(
        this.post,
        node,
        part.map((p) => p.bytes),
      ).then((answers) => {
        for (let i = 0; i < part.length; i++) part[i]!.done(answers[i]!);
      });
    }
  }
}

export interface FloodStats {
  sent: number;
  admitted: number;
  refusedForRoom: number;
  rejected: Record<string, number>;
  requests: number;
}

/** Refusals that say "later": the flooder sends those transactions again. */
const REFUSED_FOR_NOW = new Set(['MEMPOOL_FULL', 'MEMPOOL_ACCOUNT_LIMIT', 'ACCOUNT_BUSY', 'RATE_LIMITED']);

export class Flooder {
  private next = 0;
  private readonly retry: Uint8Array[] = [];
  private running = false;
  private workers: Promise<void>[] = [];
  readonly stats: FloodStats = { sent: 0, admitted: 0, refusedForRoom: 0, rejected: {}, requests: 0 };

  constructor(
    private readonly post: Post,
    private readonly node: number,
    private readonly txs: readonly Uint8Array[],
    private readonly opts: { workers: number; batch: number },
  ) {}

  start(): void {
    this.running = true;
    this.workers = Array.from({ length: this.opts.workers }, () => this.work());
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.workers);
  }

  private take(): Uint8Array[] {
    const out = this.retry.splice(0, this.opts.batch);
    while (out.length < this.opts.batch && this.next < this.txs.length) out.push(this.txs[this.next++]!);
    return out;
  }

  private async work(): Promise<void> {
    while (this.running) {
      const batch = this.take();
      if (batch.length === 0) {
        await new Promise((r) => setTimeout(r, 10));
        continue;
      }
      this.stats.requests++;
      this.stats.sent += batch.length;
      const answers = await postBatch(this.post, this.node, batch);
      let admitted = 0;
      answers.forEach((a, i) => {
        if (a.ok) admitted++;
        else if (REFUSED_FOR_NOW.has(a.code)) {
          this.stats.refusedForRoom++;
          this.retry.push(batch[i]!);
        } else this.stats.rejected[a.code] = (this.stats.rejected[a.code] ?? 0) + 1;
      });
      this.stats.admitted += admitted;
      // A flooder ignores Retry-After; it only avoids spinning on a refusal (the CPU is shared).
      if (admitted === 0) await new Promise((r) => setTimeout(r, 5));
    }
  }
}
