/**
 * What the operations team's dashboard and alerts read (ops/grafana, ops/prometheus): the mempool's
 * cap and the data directory's free space as gauges, and the `x-request-id` a request carries from
 * the caller onto the node's log lines and back in the answer.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { buildGenesis } from '@roamchain/state';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Metrics } from '../src/api/metrics.js';
import { acceptRequestId } from '../src/api/request-id.js';
import { serveNode } from '../src/run.js';

const dirs: string[] = [];
const lines: string[] = [];
let running: Awaited<ReturnType<typeof serveNode>>;

const gauge = (text: string, name: string): number | undefined => {
  const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : undefined;
};

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rc-ops-'));
  dirs.push(dir);
  const { genesis, keys } = buildGenesis({
    accounts: [{ name: 'node-1', roles: ['node_owner'] }],
    validators: ['node-1'],
  });
  const sink = new Writable({
    write(chunk, _enc, cb) {
      lines.push(String(chunk));
      cb();
    },
  });
  running = await serveNode(
    {
      dataDir: dir,
      genesis,
      producer: { account: 'node-1', secretKey: keys.get('node-1')!.signing.secretKey },
      mempool: { maxTotal: 1234 },
    },
    '127.0.0.1',
    0,
    pino({ level: 'debug' }, sink),
  );
});

afterAll(async () => {
  await running?.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('node metrics for the alerts', () => {
  it('reports the mempool cap and the data directory file system', async () => {
    const text = await (await fetch(`${running.url}/metrics`)).text();
    expect(gauge(text, 'roamchain_mempool_capacity')).toBe(1234);
    expect(gauge(text, 'roamchain_mempool_size')).toBe(0);
    const free = gauge(text, 'roamchain_data_dir_free_bytes');
    const size = gauge(text, 'roamchain_data_dir_size_bytes');
    expect(free).toBeGreaterThan(0);
    expect(size).toBeGreaterThanOrEqual(free!);
  });

  it('reports 0 while nothing is watched, and survives a vanished data directory', async () => {
    const m = new Metrics();
    expect(gauge(await m.text(), 'roamchain_mempool_capacity')).toBe(0);
    m.watch({ mempoolCapacity: 7, dataDir: join(tmpdir(), 'rc-ops-does-not-exist', 'x') });
    const text = await m.text();
    expect(gauge(text, 'roamchain_mempool_capacity')).toBe(7);
    expect(gauge(text, 'roamchain_data_dir_size_bytes')).toBe(0);
  });
});

describe('x-request-id', () => {
  it("honours the caller's id: echoed and on the request's log lines", async () => {
    const res = await fetch(`${running.url}/v1/accounts/nobody-here`, {
      headers: { 'x-request-id': 'wallet-42.a:b' },
    });
    expect(res.status).toBe(404);
    expect(res.headers.get('x-request-id')).toBe('wallet-42.a:b');
    const line = lines.find((l) => l.includes('request rejected') && l.includes('wallet-42.a:b'));
    expect(line).toBeDefined();
    expect(JSON.parse(line!).reqId).toBe('wallet-42.a:b');
  });

  it('replaces a hostile or missing id with a fresh one', async () => {
    for (const bad of ['x'.repeat(129), 'a b', '{"inject":1}', '']) {
      const res = await fetch(`${running.url}/v1/status`, { headers: { 'x-request-id': bad } });
      const id = res.headers.get('x-request-id');
      expect(id).toMatch(/^[0-9a-f-]{36}$/);
    }
    const none = await fetch(`${running.url}/v1/status`);
    expect(none.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(acceptRequestId(['ok-1', 'ok-2'])).toBe('ok-1');
    expect(acceptRequestId(42)).toBeUndefined();
  });
});
