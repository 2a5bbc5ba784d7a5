/**
 * Prometheus metrics of an operator agent (`GET /metrics`, admin scope). Its own registry; the
 * gauges are read from the agent's database at each scrape (ops/prometheus/alerts.yml alerts on them):
 *
 *   roamchain_agent_usage_backlog                 contracts with usage received but not yet charged
 *   roamchain_agent_usage_backlog_oldest_seconds  age of the oldest uncharged usage (0 when none)
 *   roamchain_agent_webhook_outbox                webhook deliveries not yet acknowledged
 *   roamchain_agent_webhook_dead                  deliveries given up on (dead letters)
 *   roamchain_agent_quarantined_records           usage records that could not be billed
 *   roamchain_agent_provisioning_failures_total   provisionings that failed (the Request refunded)
 *   roamchain_agent_http_requests_total{route,status}
 */
import { Counter, Gauge, Registry } from 'prom-client';
import type { AgentStore } from './store.js';

export class AgentMetrics {
  readonly registry = new Registry();
  readonly provisioningFailures: Counter;
  readonly httpRequests: Counter<'route' | 'status'>;

  constructor(store: AgentStore, now: () => number = Date.now) {
    const registers = [this.registry];
    const read = <T>(f: () => T): T | undefined => {
      try {
        return f();
      } catch {
        return undefined; // a closed database: the gauge keeps its last value
      }
    };
    const gauges: [string, string, () => number | undefined][] = [
      [
        'roamchain_agent_usage_backlog',
        'Contracts with usage received but not yet charged on chain',
        () => read(() => store.backlog().contracts),
      ],
      [
        'roamchain_agent_usage_backlog_oldest_seconds',
        'Age of the oldest usage not yet charged (0 when none)',
        () =>
          read(() => {
            const since = store.backlog().oldestSince;
            return since === undefined ? 0 : Math.max(0, (now() - since) / 1000);
          }),
      ],
      [
        'roamchain_agent_webhook_outbox',
        'Webhook deliveries not yet acknowledged',
        () => read(() => store.counts().outbox),
      ],
      [
        'roamchain_agent_webhook_dead',
        'Webhook deliveries given up on (dead letters)',
        () => read(() => store.counts().dead),
      ],
      [
        'roamchain_agent_quarantined_records',
        'Usage records that could not be billed',
        () => read(() => store.counts().quarantine),
      ],
    ];
    for (const [name, help, get] of gauges) {
      new Gauge({
        name,
        help,
        registers,
        collect() {
          const v = get();
          if (v !== undefined) this.set(v);
        },
      });
    }
    this.provisioningFailures = new Counter({
      name: 'roamchain_agent_provisioning_failures_total',
      help: 'Provisionings that failed (no EID, SM-DP+ error); the Request was refunded',
      registers,
    });
    this.httpRequests = new Counter({
      name: 'roamchain_agent_http_requests_total',
      help: 'Requests answered by the agent, by route and HTTP status',
      labelNames: ['route', 'status'],
      registers,
    });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }
}
