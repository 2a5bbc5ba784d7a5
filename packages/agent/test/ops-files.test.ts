/**
 * The operations files read real metrics: every metric the alert rules (ops/prometheus/alerts.yml)
 * and the Grafana dashboard (ops/grafana/roamchain-node.json) name is exported by the node's or the
 * agent's /metrics. The rules pass `promtool check rules` and their unit tests (`promtool test
 * rules`) when promtool is installed (CI installs it: .ci/run).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Metrics } from '@roamchain/node';
import { describe, expect, it } from 'vitest';
import { AgentMetrics } from '../src/metrics.js';
import { AgentStore } from '../src/store.js';

const OPS = resolve(dirname(fileURLToPath(import.meta.url)), '../../../ops');
const rules = readFileSync(join(OPS, 'prometheus/alerts.yml'), 'utf8');
const dashboard = JSON.parse(readFileSync(join(OPS, 'grafana/roamchain-node.json'), 'utf8')) as {
  uid: string;
  panels: { id: number; type: string; title: string; targets?: { expr: string }[] }[];
};

const hasPromtool = (() => {
  try {
    execFileSync('promtool', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

/** Names of the metric families exported by a node and an agent. */
async function exported(): Promise<Set<string>> {
  const dir = mkdtempSync(join(tmpdir(), 'rc-ops-files-'));
  const store = new AgentStore(dir);
  try {
    const text = (await new Metrics().text()) + (await new AgentMetrics(store).text());
    return new Set([...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]!));
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const named = (expr: string) =>
  [...expr.matchAll(/\b(roamchain_[a-z_]+)/g)].map((m) => m[1]!.replace(/_(bucket|count|sum)$/, ''));

describe('ops files', () => {
  it('the alert rules name exported metrics only, each rule with a severity and a summary', async () => {
    const have = await exported();
    const exprs = [...rules.matchAll(/expr: (>\n(?: {10}.*\n)+|.*\n)/g)].map((m) => m[1]!);
    const alerts = [...rules.matchAll(/- alert: (\w+)/g)].map((m) => m[1]!);
    expect(alerts.length).toBeGreaterThanOrEqual(11);
    expect(exprs.length).toBe(alerts.length);
    expect([...rules.matchAll(/severity: (critical|warning)/g)].length).toBe(alerts.length);
    expect([...rules.matchAll(/summary: /g)].length).toBe(alerts.length);
    const names = exprs.flatMap(named);
    expect(names.length).toBeGreaterThan(0);
    for (const n of names) expect(have, `${n} is not exported`).toContain(n);
    for (const want of [
      'roamchain_height',
      'roamchain_consensus_round',
      'roamchain_peers',
      'roamchain_mempool_capacity',
      'roamchain_sync_target_height',
      'roamchain_data_dir_free_bytes',
      'roamchain_agent_usage_backlog_oldest_seconds',
      'roamchain_agent_webhook_outbox',
      'roamchain_agent_provisioning_failures_total',
    ])
      expect(names).toContain(want);
  });

  it('the dashboard is valid JSON whose panels query exported metrics', async () => {
    const have = await exported();
    expect(dashboard.uid).toBe('roamchain-node');
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    const graphs = dashboard.panels.filter((p) => p.type !== 'row');
    expect(graphs.length).toBeGreaterThan(15);
    for (const p of graphs) {
      expect(p.targets?.length, p.title).toBeGreaterThan(0);
      for (const t of p.targets ?? []) {
        expect(named(t.expr).length, t.expr).toBeGreaterThan(0);
        for (const n of named(t.expr)) expect(have, `${p.title}: ${n}`).toContain(n);
      }
    }
  });

  it.skipIf(!hasPromtool)('promtool checks the rules and runs their unit tests', () => {
    execFileSync('promtool', ['check', 'rules', join(OPS, 'prometheus/alerts.yml')], { stdio: 'pipe' });
    execFileSync('promtool', ['test', 'rules', 'alerts.test.yml'], {
      cwd: join(OPS, 'prometheus'),
      stdio: 'pipe',
    });
  });
});
