#!/usr/bin/env node
/**
 * Smoke test of the compiled output, under plain `node` (no tsx): `npm run build` first. CI runs it on
 * every supported Node.js version (.ci/run).
 *
 * Starts a devnet of two validators with the compiled CLI: node-1 in the CLI's process, node-2 a
 * member process running `packages/node/dist/bin/node.js`; both admit transactions through their
 * worker-thread verifier pool (`dist/src/crypto/verify-worker.js`: admission fails if a worker does
 * not start). Submits a transfer with the compiled CLI, waits until it is in a block both validators
 * signed (final) and in the list index (the compiled index worker thread,
 * `dist/src/indexer/worker.js`), and checks that node-2 runs the compiled entry point without tsx.
 *
 *   node scripts/smoke-compiled.mjs [--cli <file>] [--agents]   (default packages/cli/dist/src/main.js)
 *
 * --agents: the devnet runs the demo operators' agents too (the compiled @roamchain/agent, its SQLite
 * store: better-sqlite3 must be built for this node), and each must answer GET /healthz.
 *
 * Bounded: gives up after ROAMCHAIN_SMOKE_TIMEOUT_S seconds (default 240) with the devnet's log.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({
  options: { cli: { type: 'string' }, agents: { type: 'boolean', default: false } },
});
const cli = resolve(values.cli ?? join(root, 'packages/cli/dist/src/main.js'));
if (!existsSync(cli)) {
  process.stderr.write(`${cli} does not exist: run \`npm run build\` first\n`);
  process.exit(2);
}
const deadline = Date.now() + Number(process.env.ROAMCHAIN_SMOKE_TIMEOUT_S ?? 240) * 1000;
const dir = mkdtempSync(join(tmpdir(), 'roamchain-smoke-'));
const dataDir = join(dir, 'devnet');
const t0 = Date.now();
const say = (s) => process.stdout.write(`[smoke ${((Date.now() - t0) / 1000).toFixed(1)}s] ${s}\n`);

/** A free port whose `span - 1` successors are free too. */
async function freePorts(span) {
  for (;;) {
    const p = await new Promise((res, rej) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const { port } = s.address();
        s.close(() => res(port));
      });
      s.on('error', rej);
    });
    if (p + span >= 65_535) continue;
    let ok = true;
    for (let i = 1; i < span && ok; i++) {
      ok = await new Promise((res) => {
        const t = createServer().listen(p + i, '127.0.0.1', () => t.close(() => res(true)));
        t.on('error', () => res(false));
      });
    }
    if (ok) return p;
  }
}

const port = await freePorts(2); // the API and the simulated SM-DP+ on port + 1
const p2pPort = await freePorts(2); // one libp2p port per validator
const env = {
  ...process.env,
  ROAMCHAIN_API: `http://127.0.0.1:${port}`,
  ROAMCHAIN_KEYSTORE: join(dataDir, 'keystore.json'),
  ROAMCHAIN_KEYSTORE_PASSPHRASE: 'devnet',
  // Nothing may reach the sources: no condition, no loader inherited from the caller.
  NODE_OPTIONS: '',
};

/** The compiled CLI, synchronously, bounded; its parsed --json output. */
function roam(...args) {
  const r = spawnSync(process.execPath, [cli, '--json', ...args], {
    env,
    encoding: 'utf8',
    timeout: Math.max(1000, deadline - Date.now()),
  });
  if (r.status !== 0)
    throw new Error(`roamchain ${args.join(' ')}: exit ${r.status}\n${r.stdout}${r.stderr}`);
  return JSON.parse(r.stdout);
}

say(`${process.version}: devnet of 2 validators from ${cli} (API :${port}, p2p :${p2pPort})`);
const devnet = spawn(
  process.execPath,
  [
    cli,
    'devnet',
    '--data-dir',
    dataDir,
    '--port',
    String(port),
    '--validators',
    '2',
    '--p2p-port',
    String(p2pPort),
    ...(values.agents ? [] : ['--no-agents']),
    '--quiet',
  ],
  { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true },
);
let log = '';
devnet.stdout.on('data', (b) => (log += b));
devnet.stderr.on('data', (b) => (log += b));
let exited = null;
devnet.on('exit', (code, signal) => (exited = { code, signal }));

function stop() {
  try {
    process.kill(-devnet.pid, 'SIGTERM');
  } catch {}
}
function fail(msg) {
  process.stderr.write(`smoke FAILED: ${msg}\n--- devnet output ---\n${log.slice(-8000)}\n`);
  for (const f of findLogs(dataDir))
    process.stderr.write(`--- ${f} ---\n${readFileSync(f, 'utf8').slice(-4000)}\n`);
  stop();
  process.exit(1);
}
function findLogs(d) {
  if (!existsSync(d)) return [];
  return readdirSync(d, { recursive: true })
    .map(String)
    .filter((f) => f.endsWith('node.log'))
    .map((f) => join(d, f));
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function until(what, check) {
  for (;;) {
    if (exited) fail(`the devnet exited (${JSON.stringify(exited)}) while waiting for ${what}`);
    try {
      const v = await check();
      if (v) return v;
    } catch {}
    if (Date.now() > deadline) fail(`timed out waiting for ${what}`);
    await sleep(500);
  }
}
async function get(url) {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: ${r.status}`);
  return r.json();
}

try {
  const status = await until('the devnet to serve with 2 validators and blocks', async () => {
    const v = await get(`${env.ROAMCHAIN_API}/v1/validators`);
    const st = await get(`${env.ROAMCHAIN_API}/v1/status`);
    return st.height >= 2 && v.active.length === 2 ? st : null;
  });
  say(`serving at height ${status.height}`);

  if (values.agents) {
    const agents = await until('the demo agents', async () => {
      const a = await get(`${env.ROAMCHAIN_API}/v1/agents`);
      return Object.keys(a).length > 0 ? a : null;
    });
    for (const [operator, url] of Object.entries(agents)) {
      const h = await until(`${operator}'s agent`, () => get(`${url}/healthz`));
      if (h.operator !== operator) fail(`${url}/healthz answered ${JSON.stringify(h)}`);
    }
    say(`agents serving: ${Object.keys(agents).join(', ')}`);
  }

  // node-2: the compiled node entry point under plain node.
  const members = existsSync('/proc')
    ? readdirSync('/proc')
        .filter((p) => /^\d+$/.test(p))
        .map((p) => {
          try {
            return readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0');
          } catch {
            return [];
          }
        })
        .filter((argv) => argv.some((a) => a.startsWith(dataDir)) && argv.includes('--config'))
    : [];
  if (existsSync('/proc')) {
    if (members.length === 0) fail('no member node process found');
    for (const argv of members) {
      if (!argv.some((a) => a.endsWith('/packages/node/dist/bin/node.js') || a.endsWith('/dist/bin/node.js')))
        fail(`member not from dist: ${argv.join(' ')}`);
      if (argv.some((a) => a.includes('tsx') || a.includes('@roamchain/source')))
        fail(`member uses tsx: ${argv.join(' ')}`);
    }
    say(`member process: ${members[0].filter(Boolean).join(' ')}`);
  }

  const before = roam('account', 'show', 'bob');
  const sent = roam('transfer', 'alice', 'bob', '1.25');
  const id = sent.txId;
  if (typeof id !== 'string') fail(`no transaction id in ${JSON.stringify(sent)}`);
  say(`transfer ${id} submitted`);
  const tx = await until(`transaction ${id} in a block`, async () => {
    const t = roam('tx', id);
    return t.status === 'included' ? t : null;
  });
  const height = tx.height;
  // Final: the block holding it has a commit of both validators (the next block carries it) and
  // node-2 serves it too.
  await until(
    'the block after it (its commit)',
    async () => (await get(`${env.ROAMCHAIN_API}/v1/status`)).height > height,
  );
  const after = roam('account', 'show', 'bob');
  const bal = (a) => BigInt(a.balances.SDR);
  say(`bob: ${before.balances?.SDR} -> ${after.balances?.SDR}`);
  if (bal(after) - bal(before) !== 1_250_000n)
    fail(`bob's balance moved by ${bal(after) - bal(before)}, not 1250000`);
  // The explorer's list index, written by the compiled index worker (dist/src/indexer/worker.js).
  await until(`transaction ${id} in bob's list (index worker)`, async () => {
    const page = await get(`${env.ROAMCHAIN_API}/v1/accounts/bob/transactions?limit=100`);
    return page.items.some((r) => r.txId === id);
  });
  say(`OK: transfer final at height ${height} (${((Date.now() - t0) / 1000).toFixed(1)}s)`);
} catch (e) {
  fail(e instanceof Error ? (e.stack ?? e.message) : String(e));
} finally {
  stop();
  const t1 = Date.now();
  await Promise.race([
    new Promise((r) => (exited ? r() : devnet.on('exit', r))),
    new Promise((r) => setTimeout(r, 30_000).unref()),
  ]);
  say(`devnet stopped in ${((Date.now() - t1) / 1000).toFixed(1)}s`);
  rmSync(dir, { recursive: true, force: true });
}
