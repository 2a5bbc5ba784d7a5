/**
 * The agent's metrics (what ops/prometheus/alerts.yml alerts on) and its request ids: the id of a
 * request to the agent is echoed, logged and sent on the agent's calls to the node's API.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent } from '../src/agent.js';
import { parseConfig } from '../src/config.js';
import { AgentMetrics } from '../src/metrics.js';
import { logWithRequestId, withRequestId } from '../src/request-id.js';
import { AgentStore } from '../src/store.js';

const KEY = 'k'.repeat(40);
const AUTH = { authorization: `Bearer ${KEY}` };
let dir = '';
let fakeNode: Server;
const seen: (string | undefined)[] = [];
const logs: Record<string, unknown>[] = [];
let agent: Agent;

const gauge = (text: string, name: string): number | undefined => {
  const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : undefined;
};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'rc-agent-obs-'));
  // A stand-in for the node's API: records the request id of every call, answers 404.
  fakeNode = createServer((req, res) => {
    seen.push(req.headers['x-request-id'] as string | undefined);
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ code: 'NOT_FOUND', message: 'nothing here', details: {} }));
  });
  await new Promise<void>((r) => fakeNode.listen(0, '127.0.0.1', r));
  const cfg = parseConfig({
    operator: 'op-de',
    api: `http://127.0.0.1:${(fakeNode.address() as AddressInfo).port}`,
    stateDir: join(dir, 'agent'),
    port: 0,
    tickMs: 60_000,
    simulation: true,
    clients: [
      { id: 'billing', keys: [KEY], scopes: ['usage', 'statement', 'admin'] },
      { id: 'reader', keys: [`${KEY}-reader`], scopes: ['statement'] },
    ],
    policy: { maxDepositPerSubscriber: '100', feeBps: 100, maxOpenPerSubscriber: 3 },
  });
  agent = await new Agent(
    cfg,
    { signingSecret: randomBytes(32), encryptionSecret: randomBytes(32) },
    { log: (msg, data) => logs.push({ msg, ...data }) },
  ).start();
});

afterAll(async () => {
  await agent?.stop();
  await new Promise((r) => fakeNode?.close(r));
  rmSync(dir, { recursive: true, force: true });
});

describe('agent metrics', () => {
  it('counts the backlog, the outbox, dead letters and quarantine from the database', async () => {
    const dir2 = mkdtempSync(join(tmpdir(), 'rc-agent-m-'));
    const store = new AgentStore(dir2);
    try {
      let now = 1_000_000;
      const m = new AgentMetrics(store, () => now);
      let text = await m.text();
      expect(gauge(text, 'roamchain_agent_usage_backlog')).toBe(0);
      expect(gauge(text, 'roamchain_agent_usage_backlog_oldest_seconds')).toBe(0);
      store.addContract('c1', 'alice');
      store.addContract('c2', 'bob');
      store.addUsage('r1', 'c1', { bytesUp: 1n, bytesDown: 2n, seconds: 3 }, 990_000);
      store.addUsage('r2', 'c2', { bytesUp: 1n, bytesDown: 2n, seconds: 3 }, 995_000);
      store.enqueue({ key: '1:0', url: 'http://127.0.0.1:1/h', body: '{}', attempts: 0, nextAt: 0 });
      store.quarantine('r3', 'c1', 'too fast', 990_000);
      m.provisioningFailures.inc();
      text = await m.text();
      expect(gauge(text, 'roamchain_agent_usage_backlog')).toBe(2);
      expect(gauge(text, 'roamchain_agent_usage_backlog_oldest_seconds')).toBe(10);
      expect(gauge(text, 'roamchain_agent_webhook_outbox')).toBe(1);
      expect(gauge(text, 'roamchain_agent_webhook_dead')).toBe(0);
      expect(gauge(text, 'roamchain_agent_quarantined_records')).toBe(1);
      expect(gauge(text, 'roamchain_agent_provisioning_failures_total')).toBe(1);
      // Charged usage and closed contracts leave the backlog.
      store.clearPending('c1');
      store.markContract('c2', { closed: true });
      now = 2_000_000;
      text = await m.text();
      expect(gauge(text, 'roamchain_agent_usage_backlog')).toBe(0);
      expect(gauge(text, 'roamchain_agent_usage_backlog_oldest_seconds')).toBe(0);
    } finally {
      store.close();
      rmSync(dir2, { recursive: true, force: true });
    }
  });

  it('serves /metrics to the admin scope only', async () => {
    expect((await fetch(`${agent.url}/metrics`)).status).toBe(401);
    const reader = await fetch(`${agent.url}/metrics`, {
      headers: { authorization: `Bearer ${KEY}-reader` },
    });
    expect(reader.status).toBe(403);
    const res = await fetch(`${agent.url}/metrics`, { headers: AUTH });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await res.text();
    expect(gauge(text, 'roamchain_agent_webhook_outbox')).toBe(0);
    expect(text).toMatch(/roamchain_agent_http_requests_total\{route="\/metrics",status="401"\} 1/);
  });
});

describe('x-request-id through the agent', () => {
  it("is echoed, logged and sent on the agent's calls to the node", async () => {
    const id = 'wallet-req-7';
    const res = await fetch(`${agent.url}/v1/statement?from=0&to=1`, {
      headers: { ...AUTH, 'x-request-id': id },
    });
    expect(res.headers.get('x-request-id')).toBe(id);
    expect(res.status).toBe(404);
    expect(seen).toContain(id);
  });

  it('replaces a hostile id, and calls outside a request carry none', async () => {
    const res = await fetch(`${agent.url}/healthz`, { headers: { 'x-request-id': 'a\tb'.repeat(50) } });
    expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const before = seen.length;
    await agent.client.status().catch(() => {});
    expect(seen.length).toBe(before + 1);
    expect(seen.at(-1)).toBeUndefined();
  });

  it("adds the request's id to the log lines written while handling it", async () => {
    const lines: Record<string, unknown>[] = [];
    const log = logWithRequestId((msg, data) => lines.push({ msg, ...data }));
    await withRequestId('wallet-req-8', async () => {
      await Promise.resolve();
      log('inside', { contract: 'c1' });
    });
    log('outside');
    expect(lines).toEqual([{ msg: 'inside', contract: 'c1', requestId: 'wallet-req-8' }, { msg: 'outside' }]);
    // The agent's own log is wrapped the same way.
    agent.log('outside any request');
    expect(logs.at(-1)).toEqual({ msg: 'outside any request' });
  });
});
