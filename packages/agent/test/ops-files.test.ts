/**
 * The operations files read real metrics: every metric the alert rules (ops/prometheus/alerts.yml)
 * and the Grafana dashboard (ops/grafana/roamchain-node.json) name is exported by the node's or the
 * agent's /metrics. The rules pass `promtool check rules` and their unit tests (`promtool test
 * rules`) when promtool is installed (CI installs it: .ci/run).
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Metrics } from '@roamchain/node';
import { describe, expect, it } from 'vitest';
import { Agent } from '../src/agent.js';
import { parseConfig } from '../src/config.js';
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

describe('the agent as a service', () => {
  it('refuses a keystore group or others can read (KEY_FILE_EXPOSED), before asking for its passphrase', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rc-agent-ks-'));
    try {
      const keystore = join(dir, 'keystore.json');
      writeFileSync(keystore, '{}');
      chmodSync(keystore, 0o644);
      const cfg = parseConfig({
        operator: 'op-de',
        api: 'http://127.0.0.1:1',
        stateDir: join(dir, 'state'),
        simulation: true,
        keystore,
        passphraseEnv: 'RC_TEST_NO_SUCH_PASSPHRASE',
        policy: { maxDepositPerSubscriber: '100', feeBps: 100, maxOpenPerSubscriber: 3 },
      });
      await expect(Agent.fromConfig(cfg)).rejects.toMatchObject({ code: 'KEY_FILE_EXPOSED' });
      chmodSync(keystore, 0o600);
      // Past the permission check: now it is the missing passphrase that stops it.
      await expect(Agent.fromConfig(cfg)).rejects.toThrow(/RC_TEST_NO_SUCH_PASSPHRASE/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('systemd units', () => {
  const units = ['roamchain-node.service', 'roamchain-agent.service'];
  it('run as a dedicated user with a restart policy, limits and hardening', () => {
    for (const u of units) {
      const text = readFileSync(join(OPS, 'systemd', u), 'utf8');
      for (const key of [
        /^User=roamchain$/m,
        /^Restart=on-failure$/m,
        /^StartLimitBurst=\d+$/m,
        /^LimitNOFILE=\d+$/m,
        /^UMask=0077$/m,
        /^NoNewPrivileges=true$/m,
        /^ProtectSystem=strict$/m,
        /^ReadWritePaths=\/var\/lib\/roamchain\/\w+$/m,
        /^CapabilityBoundingSet=$/m,
      ])
        expect(text, `${u}: ${key}`).toMatch(key);
    }
  });

  const hasAnalyze = (() => {
    try {
      execFileSync('systemd-analyze', ['--version'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  })();
  it.skipIf(!hasAnalyze)('pass systemd-analyze verify (but for the program not installed here)', () => {
    let out = '';
    try {
      execFileSync('systemd-analyze', ['verify', ...units.map((u) => join(OPS, 'systemd', u))], {
        stdio: 'pipe',
      });
    } catch (e) {
      out = String((e as { stderr?: Buffer }).stderr ?? e);
    }
    const problems = out.split('\n').filter((l) => l.trim() && !/roamchain is not executable/.test(l));
    expect(problems).toEqual([]);
  });
});
