/** Alert thresholds and their once-per-contract bookkeeping (alerts.ts), on a real agent store. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ContractJson } from '@roamchain/sdk';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Alerts, reachedAlerts, usedBps } from '../src/alerts.js';
import { AgentStore } from '../src/store.js';

const GB = 1_000_000_000n;
const DAY = 86_400_000;
const NOW = 1_800_000_000_000;

function contract(over: Partial<ContractJson> = {}): ContractJson {
  return {
    id: 'ab'.repeat(32),
    subscriber: 'alice',
    issuer: 'op-fr',
    assignee: 'op-de',
    dataBytes: String(10n * GB),
    volumeUp: '0',
    volumeDown: '0',
    deposit: '20000000',
    charged: '0',
    issuerFeeBps: 100,
    status: 'open',
    expiresAt: String(NOW + 7 * DAY),
    ...over,
  } as ContractJson;
}

let dir = '';
let store: AgentStore;
let alerts: Alerts;
const hooks = [
  { url: 'http://127.0.0.1:1/a', secret: 'whsec-0123456789abcdef' },
  { url: 'http://127.0.0.1:1/b', secret: 'whsec-0123456789abcdef' },
];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'rc-alerts-'));
  store = new AgentStore(dir);
  alerts = new Alerts(store, 'op-fr', () => hooks, DAY);
});
afterEach(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('alert thresholds', () => {
  it('used share: data volume against the package, else charges plus fee against the deposit', () => {
    expect(usedBps(contract({ volumeDown: String(7n * GB), volumeUp: String(GB / 2n) }))).toBe(7500);
    expect(usedBps(contract({ dataBytes: '0', charged: '18000000' }))).toBe(9090);
    expect(reachedAlerts(contract({ volumeDown: String(9n * GB) }), NOW, DAY)).toEqual([
      'usage_75',
      'usage_90',
    ]);
    expect(reachedAlerts(contract({ expiresAt: String(NOW + DAY) }), NOW, DAY)).toEqual(['expiry']);
    expect(reachedAlerts(contract({ status: 'closed', volumeDown: String(10n * GB) }), NOW, DAY)).toEqual([]);
  });
});

describe('each alert once per threshold per contract', () => {
  it('75 %, then 90 %, then nothing more; one outbox item per webhook with the alert id as key', () => {
    const c = contract();
    alerts.watch(c.id, Number(c.expiresAt));
    expect(alerts.check(contract({ volumeDown: String(5n * GB) }), NOW)).toEqual([]);
    expect(alerts.check(contract({ volumeDown: String(8n * GB) }), NOW)).toEqual(['usage_75']);
    expect(alerts.check(contract({ volumeDown: String(8n * GB) }), NOW)).toEqual([]);
    expect(alerts.check(contract({ volumeDown: String((95n * GB) / 10n) }), NOW)).toEqual(['usage_90']);
    expect(alerts.check(contract({ volumeDown: String(10n * GB) }), NOW)).toEqual([]);
    const items = store.outbox();
    expect(items.map((i) => i.key)).toEqual([
      `alert:${c.id}:usage_75`,
      `alert:${c.id}:usage_75`,
      `alert:${c.id}:usage_90`,
      `alert:${c.id}:usage_90`,
    ]);
    expect(new Set(items.map((i) => i.url))).toEqual(new Set(hooks.map((h) => h.url)));
    const body = JSON.parse(items[0]!.body) as { id: string; alert: { kind: string; usedBps: number } };
    expect(body).toMatchObject({ id: items[0]!.key, alert: { kind: 'usage_75', usedBps: 8000 } });
  });

  it('the expiry alert is due once, within the window; unwatched contracts get none', () => {
    const c = contract({ expiresAt: String(NOW + 2 * DAY) });
    expect(alerts.check(contract({ volumeDown: String(10n * GB) }), NOW)).toEqual([]); // not watched
    alerts.watch(c.id, Number(c.expiresAt));
    expect(alerts.dueForExpiry(NOW)).toEqual([]);
    expect(alerts.dueForExpiry(NOW + DAY)).toEqual([c.id]);
    expect(alerts.check(c, NOW + DAY)).toEqual(['expiry']);
    expect(alerts.dueForExpiry(NOW + DAY + 1)).toEqual([]);
    expect(alerts.check(c, NOW + DAY + 1)).toEqual([]);
    alerts.unwatch(c.id);
    expect(alerts.watching(c.id)).toBe(false);
  });

  it('sent alerts survive a restart of the agent (no second alert)', () => {
    const c = contract({ volumeDown: String(8n * GB) });
    alerts.watch(c.id, Number(c.expiresAt));
    expect(alerts.check(c, NOW)).toEqual(['usage_75']);
    store.close();
    store = new AgentStore(dir);
    alerts = new Alerts(store, 'op-fr', () => hooks, DAY);
    expect(alerts.check(c, NOW)).toEqual([]);
  });
});
