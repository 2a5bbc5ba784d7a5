/**
 * Prometheus metrics of a node (`GET /metrics`). One `Metrics` per node (its own registry, so that
 * several nodes can live in one process, e.g. in tests):
 *
 *   roamchain_height, roamchain_finalized_height, roamchain_mempool_size   gauges read from node.status()
 *   roamchain_transactions_total                                           counter of committed transactions
 *   roamchain_blocks_total                                                 counter of committed blocks
 *   roamchain_block_apply_seconds                                          histogram of block production/apply time
 *   roamchain_tps                                                          committed tx/s over the last 10 s
 *   roamchain_api_request_seconds{method,route,status}                     histogram of API answers
 *   roamchain_ws_connections                                               open WebSocket connections
 *   roamchain_mempool_capacity                                             the mempool's cap (transactions)
 *   roamchain_data_dir_free_bytes, roamchain_data_dir_size_bytes           the data directory's file system
 *   roamchain_halted{reason}                                               1 once the node halted (UPGRADE_REQUIRED)
 *   (the two set by `watch({ mempoolCapacity, dataDir })`; ops/prometheus/alerts.yml alerts on them)
 *   (roamchain_sync_* come with peer-to-peer sync)
 *
 * The node reports each committed block with `observeBlock(txCount, applySeconds)` (wire it to
 * `NodeConfig.onCommitted`). When nobody does, `createApi` counts blocks from `node.onBlock`
 * (without the apply time), and never both for the same block.
 */
import { statfsSync } from 'node:fs';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { NodeApi } from '../interfaces.js';

const TPS_WINDOW_MS = 10_000;

export class Metrics {
  readonly registry = new Registry();
  private node: NodeApi | null = null;
  private readonly window: [timeMs: number, txs: number][] = [];
  /** Set by observeBlock, cleared by noteBlock: tells the onBlock fallback the node already reported. */
  private reported = false;
  private readonly transactions: Counter;
  private readonly blocks: Counter;
  private readonly applySeconds: Histogram;
  private readonly apiSeconds: Histogram<'method' | 'route' | 'status'>;
  readonly wsConnections: Gauge;
  /** Requests and connections the API limits refused, by reason (docs/API.md, "Limits"). */
  readonly refused: Counter<'reason'>;
  /** Feed index: indexed up to this height (read from `indexHeight` at each scrape). */
  readonly feedIndexHeight: Gauge;
  /** Set by the API when it has a feed index. */
  indexHeight: (() => number) | undefined;
  /** Set by `watch`: the mempool's cap and the data directory whose file system is reported. */
  private mempoolCapacity: number | undefined;
  private dataDir: string | undefined;

  constructor(opts: { defaultMetrics?: boolean } = {}) {
    const registers = [this.registry];
    const status = () => {
      try {
        return this.node?.status();
      } catch {
        return undefined;
      }
    };
    new Gauge({
      name: 'roamchain_height',
      help: 'Height of the last committed block',
      registers,
      collect() {
        const s = status();
        if (s) this.set(s.height);
      },
    });
    new Gauge({
      name: 'roamchain_finalized_height',
      help: 'Height of the last final block',
      registers,
      collect() {
        const s = status();
        if (s) this.set(s.finalizedHeight);
      },
    });
    new Gauge({
      name: 'roamchain_mempool_size',
      help: 'Transactions waiting in the mempool',
      registers,
      collect() {
        const s = status();
        if (s) this.set(s.mempool);
      },
    });
    // Consensus and block sync (a lagging node shows its sync progress here and on the console).
    const consensusGauges: [
      string,
      string,
      (c: NonNullable<ReturnType<NodeApi['status']>['consensus']>) => number,
    ][] = [
      ['roamchain_consensus_round', 'Consensus round of the current height', (c) => c.round],
      ['roamchain_consensus_max_round', 'Highest round any height needed since start', (c) => c.maxRound],
      ['roamchain_peers', 'Connected peers', (c) => c.peers],
      ['roamchain_validators', 'Active validators of the next height', (c) => c.validators],
      ['roamchain_is_validator', '1 if this node is in the active set', (c) => (c.validator ? 1 : 0)],
      ['roamchain_syncing', '1 while block sync runs', (c) => (c.syncing ? 1 : 0)],
      ['roamchain_sync_height', 'Height reached by block sync', (c) => c.syncHeight],
      ['roamchain_sync_target_height', 'Height block sync is catching up to', (c) => c.syncTarget],
      ['roamchain_evidence_total', 'Equivocations this node has seen', (c) => c.evidence],
    ];
    for (const [name, help, get] of consensusGauges) {
      new Gauge({
        name,
        help,
        registers,
        collect() {
          const c = status()?.consensus;
          if (c) this.set(get(c));
        },
      });
    }
    new Gauge({
      name: 'roamchain_halted',
      help: '1 if the node halted for this reason (UPGRADE_REQUIRED: a voted protocol version it does not implement is in force at the next height)',
      labelNames: ['reason'],
      registers,
      collect() {
        const h = status()?.halted;
        this.set({ reason: 'UPGRADE_REQUIRED' }, h?.reason === 'UPGRADE_REQUIRED' ? 1 : 0);
      },
    });
    const self = this;
    new Gauge({
      name: 'roamchain_tps',
      help: 'Committed transactions per second over the last 10 seconds',
      registers,
      collect() {
        this.set(self.tps());
      },
    });
    this.transactions = new Counter({
      name: 'roamchain_transactions_total',
      help: 'Transactions committed in blocks',
      registers,
    });
    this.blocks = new Counter({ name: 'roamchain_blocks_total', help: 'Blocks committed', registers });
    this.applySeconds = new Histogram({
      name: 'roamchain_block_apply_seconds',
      help: 'Time to build or apply and commit one block',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    });
    this.apiSeconds = new Histogram({
      name: 'roamchain_api_request_seconds',
      help: 'Web-API answer time by method, route and HTTP status',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5],
      registers,
    });
    this.wsConnections = new Gauge({
      name: 'roamchain_ws_connections',
      help: 'Open WebSocket connections',
      registers,
    });
    this.refused = new Counter({
      name: 'roamchain_api_refused_total',
      help: 'Requests and WebSocket connections refused by the per-client limits, by reason',
      labelNames: ['reason'],
      registers,
    });
    const indexHeight = () => this.indexHeight?.();
    this.feedIndexHeight = new Gauge({
      name: 'roamchain_feed_index_height',
      help: 'Height the feed index (filtered WebSocket replays) is complete up to',
      registers,
      collect() {
        const h = indexHeight();
        if (h !== undefined) this.set(h);
      },
    });
    new Gauge({
      name: 'roamchain_mempool_capacity',
      help: 'Most transactions the mempool holds (MEMPOOL_FULL beyond)',
      registers,
      collect() {
        if (self.mempoolCapacity !== undefined) this.set(self.mempoolCapacity);
      },
    });
    const disk = () => {
      if (self.dataDir === undefined) return undefined;
      try {
        const s = statfsSync(self.dataDir);
        return { free: s.bavail * s.bsize, size: s.blocks * s.bsize };
      } catch {
        return undefined;
      }
    };
    new Gauge({
      name: 'roamchain_data_dir_free_bytes',
      help: "Bytes available to the node on its data directory's file system",
      registers,
      collect() {
        const d = disk();
        if (d) this.set(d.free);
      },
    });
    new Gauge({
      name: 'roamchain_data_dir_size_bytes',
      help: "Size of the data directory's file system",
      registers,
      collect() {
        const d = disk();
        if (d) this.set(d.size);
      },
    });
    if (opts.defaultMetrics) collectDefaultMetrics({ register: this.registry, prefix: 'roamchain_process_' });
  }

  /** The node whose status the gauges report. */
  bind(node: NodeApi): this {
    this.node = node;
    return this;
  }

  /** What the node's process knows beyond `status()`: its mempool's cap and its data directory. */
  watch(w: { mempoolCapacity?: number; dataDir?: string }): this {
    if (w.mempoolCapacity !== undefined) this.mempoolCapacity = w.mempoolCapacity;
    if (w.dataDir !== undefined) this.dataDir = w.dataDir;
    return this;
  }

  /** Called by the node for each committed block. */
  observeBlock(txCount: number, applySeconds?: number): void {
    this.reported = true;
    this.count(txCount);
    if (applySeconds !== undefined && Number.isFinite(applySeconds)) this.applySeconds.observe(applySeconds);
  }

  /** Fallback from `node.onBlock` (runs right after the node's own report, if any). */
  noteBlock(txCount: number): void {
    if (this.reported) this.reported = false;
    else this.count(txCount);
  }

  observeRequest(method: string, route: string, status: number, seconds: number): void {
    this.apiSeconds.observe({ method, route, status: String(status) }, seconds);
  }

  tps(now = Date.now()): number {
    while (this.window.length > 0 && this.window[0]![0] < now - TPS_WINDOW_MS) this.window.shift();
    let n = 0;
    for (const [, c] of this.window) n += c;
    return n / (TPS_WINDOW_MS / 1000);
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  private count(txCount: number): void {
    this.blocks.inc();
    if (txCount > 0) this.transactions.inc(txCount);
    const now = Date.now();
    this.window.push([now, txCount]);
    this.tps(now);
  }
}
