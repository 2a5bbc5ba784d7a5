/**
 * Load generator of the node bench (started by run.ts in its own process; usable alone against any
 * devnet node):
 *   node --import tsx packages/node/bench/loadgen.ts --url http://127.0.0.1:8080[,URL2,…] [--seconds 30]
 *     [--rate N] [--inflight 128] [--subscribers 840] [--group 400] [--depth 2] [--node-pid PID[,PID2,…]]
 *     [--presign-rate 3000] [--wait-sample 50] [--flood [--flood-txs 50000] [--flood-workers 4]
 *     [--flood-from 127.0.0.2]]
 *
 * Several APIs (`--url` a comma-separated list, e.g. every validator of a network): the load is spread
 * over them the way operators would submit to their own nodes. Each transaction goes to one node: a
 * contract's request_open and every later step of it to the node of its subscriber (subscriber index
 * mod N), SDR transfers to the sender's node, top-ups to the receiver's, offer operations to the
 * operator's (operator index mod N). The setup waves go to the first node and count as done when every
 * node's feed has delivered them. A WebSocket feed is open on every node; a transaction's latency ends
 * when the feed of the node it was sent to delivers its block, and a dependent step is released when
 * that node (the one it goes to) has committed its predecessor. /metrics sums are over all nodes;
 * thread CPU is of the first --node-pid, process CPU of each.
 *
 * 1. Setup (not measured): creates load subscribers (account_create by their home operators), funds
 *    them (sdr_issue from the gateway, UMT from the home operator) and publishes load offers, in two
 *    waves, each waited for until committed.
 * 2. Pre-signs the contract mix (mix.ts) with libsodium before the clock starts: the ramp plus enough
 *    for --rate (else --presign-rate) tx/s over --seconds; should the node be faster, more rounds are
 *    signed on the way (reported as signedDuringRun).
 * 3. Sends it over HTTP/1.1 keep-alive in binary batches (POST /v1/txs, batch.ts: what the loop hands
 *    over in one turn of the event loop goes as one request, at most 256 per request), with at most
 *    --inflight transactions outstanding and optionally paced to --rate tx/s. A transaction whose
 *    dependency (the contract step before it) is not committed yet is held back until it is. The ramp
 *    rounds (until every kind is in the mix) run first; the measured window starts at the first steady
 *    round and lasts --seconds; then sending stops and what was accepted is waited for (drain).
 *
 * Latency: submit time = when the POST is handed to the socket; inclusion time = when the WebSocket
 * feed (/v1/ws, topics "blocks" and "events") delivers the `block` message of the block whose events
 * name the transaction. The node notifies after the block's storage batch is durable, so this is
 * submit -> committed -> seen by a client. As a cross-check every 50th transaction of the window is
 * sent with ?wait=true (HTTP answer when committed) and timed from send to answer.
 *
 * --flood: the window is two phases of --seconds each, the mix paced to --rate (default 300 tx/s)
 * throughout: first unloaded, then with one more account (created and funded in the setup) flooding
 * the first node at full speed: --flood-workers batch requests of 256 pre-signed transfers always
 * outstanding on connections of its own, refused ones (MEMPOOL_FULL / MEMPOOL_ACCOUNT_LIMIT /
 * ACCOUNT_BUSY / RATE_LIMITED) sent again at once (Retry-After ignored). Against a loopback URL the
 * flooder connects from --flood-from (default 127.0.0.2): another client than the others, as an
 * attacker would be (the node's per-client bounds tell them apart). It runs in a process of its own
 * (flood-proc.ts) at the lowest CPU priority, standing in for an attacker on another machine, so
 * that neither its CPU nor its event loop is counted in the others' latency. The result's `flood` part compares the others' submit-to-inclusion latency of the two phases.
 *
 * Output: progress lines, then one line `RESULT_JSON {…}` (read by run.ts).
 */

import { type ChildProcess, fork } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import { setPriority } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DEMO_OPERATORS, DEVNET_GATEWAY, DEVNET_SEED, EXTRA_OPERATORS } from '@roamchain/devnet';
import { decodeTx, hexToBytes, type Operation, type OpName, opHash, UNIT } from '@roamchain/protocol';
import { derivedKeys } from '@roamchain/state';
import WebSocket from 'ws';
import { sodiumKeyPair } from '../src/crypto/verifier.js';
import { BatchSender, type FloodStats, httpRequest, type TxAnswer } from './batch.js';
import type { FloodJob } from './flood-proc.js';
import {
  ContractMix,
  loadKeys,
  loadOfferTerms,
  type OfferRef,
  type PlannedTx,
  type SignedTxOut,
  Signer,
} from './mix.js';

const { values: args } = parseArgs({
  options: {
    url: { type: 'string' },
    seconds: { type: 'string', default: '30' },
    rate: { type: 'string' },
    inflight: { type: 'string', default: '1024' },
    subscribers: { type: 'string', default: '840' },
    group: { type: 'string', default: '400' },
    depth: { type: 'string', default: '2' },
    'presign-rate': { type: 'string', default: '3000' },
    'node-pid': { type: 'string' },
    'wait-sample': { type: 'string', default: '50' },
    flood: { type: 'boolean', default: false },
    'flood-txs': { type: 'string', default: '50000' },
    'flood-workers': { type: 'string', default: '4' },
    'flood-from': { type: 'string', default: '127.0.0.2' },
  },
});
if (!args.url) throw new Error('--url is required');
const URLS = args.url
  .split(',')
  .map((u) => u.trim())
  .filter(Boolean)
  .map((u) => new URL(u));
const N = URLS.length;
if (N < 1 || N > 30) throw new Error('--url: 1 to 30 URLs');
/** Bit mask of all nodes (LiveTx.seen). */
const ALL_NODES = 2 ** N - 1;
const label = (k: number) => `node-${k + 1}`;
const SECONDS = Number(args.seconds);
const FLOOD = args.flood;
const FLOOD_TXS = Number(args['flood-txs']);
const FLOOD_WORKERS = Number(args['flood-workers']);
const RATE = args.rate !== undefined ? Number(args.rate) : FLOOD ? 300 : undefined;
/** The measured window: one phase, or with --flood an unloaded phase and a flooded one. */
const PHASES = FLOOD ? 2 : 1;
const INFLIGHT = Number(args.inflight);
const SUBSCRIBERS = Number(args.subscribers);
const GROUP = Number(args.group);
const DEPTH = Number(args.depth);
const PRESIGN_RATE = RATE ?? Number(args['presign-rate']);
const NODE_PIDS = (args['node-pid'] ?? '')
  .split(',')
  .filter(Boolean)
  .map((x) => Number(x));
const NODE_PID = NODE_PIDS[0];
const WAIT_SAMPLE = Number(args['wait-sample']);
const DEP_TIMEOUT_MS = 20_000;
const DRAIN_MS = 15_000;

const log = (s: string) => process.stdout.write(`${s}\n`);
const now = () => performance.now();

// ------------------------------------------------------------------------------------------- HTTP
const agent = new http.Agent({ keepAlive: true, maxSockets: INFLIGHT, maxFreeSockets: INFLIGHT });
const waitAgent = new http.Agent({ keepAlive: true, maxSockets: 1024 });

function request(
  method: 'GET' | 'POST',
  path: string,
  body?: Buffer,
  ag: http.Agent = agent,
  node = 0,
  contentType = 'application/json',
): Promise<{ status: number; text: string }> {
  return httpRequest(URLS[node]!, ag, method, path, body, contentType);
}

const OCTETS = 'application/octet-stream';
const batcher = new BatchSender((node, body) => request('POST', '/v1/txs', body, agent, node, OCTETS), N);
const loopback = /^(127\.|localhost$)/.test(URLS[0]!.hostname);

async function getJson<T>(path: string, node = 0): Promise<T> {
  const r = await request('GET', path, undefined, waitAgent, node);
  if (r.status !== 200) throw new Error(`GET ${path}: ${r.status} ${r.text.slice(0, 200)}`);
  return JSON.parse(r.text) as T;
}

const codeOf = (r: { status: number; text: string }): string => {
  try {
    return String((JSON.parse(r.text) as { code?: unknown }).code ?? `HTTP_${r.status}`);
  } catch {
    return `HTTP_${r.status}`;
  }
};

// ------------------------------------------------------------------------------------------- tracking
const UNSENT = 0;
const INFLIGHT_STATE = 1;
const ACCEPTED = 2;
const INCLUDED = 3;
const REJECTED = 4;
const SKIPPED = 5;

interface LiveTx extends SignedTxOut {
  kind: OpName | 'setup';
  dep: number;
  seq: number;
  state: number;
  submitAt: number;
  includedAt: number;
  /** Answer time of a ?wait=true submission (cross-check), else 0. */
  waitAnswerAt: number;
  /** Index of the node (--url) it is sent to. */
  node: number;
  /** Bit k set: the feed of node k has delivered the block holding it. */
  seen: number;
  waiters?: ((ok: boolean) => void)[] | undefined;
}

const byId = new Map<string, LiveTx>();
const rejectedCodes = new Map<string, number>();
const rejectedByNode = URLS.map(() => new Map<string, number>());
const bump = (m: Map<string, number>, k: string, n = 1) => m.set(k, (m.get(k) ?? 0) + n);

function settle(t: LiveTx, state: number): void {
  if (t.state === INCLUDED) return;
  t.state = state;
  const ws = t.waiters;
  if (ws) {
    t.waiters = undefined;
    for (const w of ws) w(state === INCLUDED);
  }
}

function waitIncluded(t: LiveTx, ms: number): Promise<boolean> {
  if (t.state === INCLUDED) return Promise.resolve(true);
  if (t.state === REJECTED || t.state === SKIPPED) return Promise.resolve(false);
  return new Promise((resolve) => {
    const w = (ok: boolean) => {
      clearTimeout(timer);
      resolve(ok);
    };
    const timer = setTimeout(() => {
      t.waiters = t.waiters?.filter((x) => x !== w);
      resolve(false);
    }, ms);
    if (t.waiters) t.waiters.push(w);
    else t.waiters = [w];
  });
}

// ------------------------------------------------------------------------------------------- feed
interface BlockSeen {
  height: number;
  at: number;
  txCount: number;
}
/** Blocks as each node's feed delivered them; the chain's throughput is counted on the first node's. */
const blocksByNode: BlockSeen[][] = URLS.map(() => []);
const blockAtByNode = URLS.map(() => new Map<number, number>());
const blocks = blocksByNode[0]!;

async function openFeed(node: number): Promise<WebSocket> {
  const blocks = blocksByNode[node]!;
  const blockAt = blockAtByNode[node]!;
  const bit = 2 ** node;
  const wsUrl = new URL('/v1/ws', URLS[node]!);
  wsUrl.protocol = 'ws:';
  const ws = new WebSocket(wsUrl);
  let subscribed = 0;
  await new Promise<void>((resolve, reject) => {
    ws.on('error', reject);
    ws.on('open', () => {
      ws.send(JSON.stringify({ op: 'subscribe', topic: 'blocks' }));
      ws.send(JSON.stringify({ op: 'subscribe', topic: 'events' }));
    });
    ws.on('message', (data: Buffer) => {
      const at = now();
      const m = JSON.parse(data.toString()) as {
        type: string;
        height?: number;
        txCount?: number;
        txId?: string | null;
      };
      if (m.type === 'event') {
        if (!m.txId) return;
        const t = byId.get(m.txId);
        if (!t || t.seen & bit) return;
        t.seen |= bit;
        // Latency and dependencies count on the node the transaction was sent to.
        if (t.node === node && t.state !== INCLUDED) {
          t.includedAt = blockAt.get(m.height!) ?? at;
          settle(t, INCLUDED);
        }
      } else if (m.type === 'block') {
        blocks.push({ height: m.height!, at, txCount: m.txCount! });
        blockAt.set(m.height!, at);
      } else if (m.type === 'subscribed') {
        if (++subscribed === 2) resolve();
      } else if (m.type === 'error') {
        log(`feed error: ${data.toString()}`);
      }
    });
  });
  ws.on('close', () => {
    if (!closingFeed) log(`feed: WebSocket closed by ${label(node)} (client too slow?)`);
  });
  return ws;
}
let closingFeed = false;

// ------------------------------------------------------------------------------------------- sending
let inflight = 0;
const slotWaiters: (() => void)[] = [];
let waitInflight = 0;

function release(): void {
  inflight--;
  slotWaiters.shift()?.();
}

async function slot(): Promise<void> {
  if (inflight < INFLIGHT) {
    inflight++;
    return;
  }
  await new Promise<void>((r) => slotWaiters.push(r));
  inflight++;
}

/**
 * 409 TX_DUPLICATE answers to ?wait=true for transactions that are in fact committed: a node that
 * rebuilds its pending block while the block holding them is being written (their ids still in the
 * mempool) drops them as duplicates and fails their waiters. Counted apart, not as rejections.
 */
let waitFalseDuplicates = 0;

function onAnswer(t: LiveTx, r: { status: number; text: string }, wait: boolean): void {
  if (r.status === 202 || r.status === 200) {
    if (t.state === INFLIGHT_STATE) t.state = ACCEPTED;
    if (r.status === 200) t.waitAnswerAt = now();
    return;
  }
  const code = codeOf(r);
  if (wait && code === 'TX_DUPLICATE') {
    waitFalseDuplicates++;
    if (t.state === INFLIGHT_STATE) t.state = ACCEPTED;
    return;
  }
  if (!rejectedCodes.has(code))
    log(
      `first ${code} rejection (${t.kind} #${t.seq}${N > 1 ? ` by ${label(t.node)}` : ''}): ${r.text.slice(0, 300)}`,
    );
  bump(rejectedCodes, code);
  bump(rejectedByNode[t.node]!, code);
  settle(t, REJECTED);
}

/** Sends without waiting for the answer; the caller must hold a slot (unless `wait`). */
function send(t: LiveTx, wait = false): void {
  t.state = INFLIGHT_STATE;
  t.submitAt = now();
  if (wait) {
    waitInflight++;
    request('POST', '/v1/tx?wait=true&timeoutMs=30000', t.body, waitAgent, t.node)
      .then((r) => onAnswer(t, r, true))
      .catch((e: unknown) => {
        bump(rejectedCodes, `NETWORK: ${(e as Error).message}`);
        bump(rejectedByNode[t.node]!, 'NETWORK');
        settle(t, REJECTED);
      })
      .finally(() => waitInflight--);
    return;
  }
  batcher
    .send(t.node, t.bytes)
    .then((a: TxAnswer) =>
      onAnswer(t, a.ok ? { status: 202, text: '' } : { status: 400, text: JSON.stringify(a) }, false),
    )
    .catch((e: unknown) => {
      bump(rejectedCodes, `NETWORK: ${(e as Error).message}`);
      bump(rejectedByNode[t.node]!, 'NETWORK');
      settle(t, REJECTED);
    })
    .finally(release);
}

async function until(cond: () => boolean, ms: number, step = 20): Promise<boolean> {
  const end = now() + ms;
  while (!cond()) {
    if (now() > end) return false;
    await new Promise((r) => setTimeout(r, step));
  }
  return true;
}

/** Setup wave: send everything (to the first node), then wait until every node's feed has delivered all of it. */
async function wave(name: string, txs: SignedTxOut[]): Promise<void> {
  const t0 = now();
  const live = txs.map((s, i) => track({ ...s, kind: 'setup' as const, dep: -1, seq: -1 - i }));
  for (const t of live) {
    await slot();
    send(t);
  }
  await until(() => inflight === 0, 30_000);
  const bad = live.filter((t) => t.state === REJECTED);
  if (bad.length > 0)
    throw new Error(`setup ${name}: ${bad.length} rejected (${[...rejectedCodes].join(', ')})`);
  const ok = await until(() => live.every((t) => t.seen === ALL_NODES), 30_000);
  if (!ok) {
    const missing = URLS.map((_, k) => live.filter((t) => !(t.seen & (2 ** k))).length);
    throw new Error(
      `setup ${name}: not all committed within 30 s (missing per node: ${missing.join(' / ')})`,
    );
  }
  log(`setup ${name}: ${live.length} txs committed in ${((now() - t0) / 1000).toFixed(1)} s`);
}

function track(
  t: Omit<LiveTx, 'state' | 'submitAt' | 'includedAt' | 'waitAnswerAt' | 'node' | 'seen'>,
  node = 0,
): LiveTx {
  const live: LiveTx = { ...t, state: UNSENT, submitAt: 0, includedAt: 0, waitAnswerAt: 0, node, seen: 0 };
  byId.set(live.idHex, live);
  return live;
}

// ------------------------------------------------------------------------------------------- CPU
const CLK_TCK = 100;
function threadTicks(pid: number): Map<string, number> | undefined {
  try {
    const out = new Map<string, number>();
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const s = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const comm = tid === String(pid) ? 'main' : s.slice(s.indexOf('(') + 1, s.lastIndexOf(')'));
      const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
      bump(out, comm, Number(f[11]) + Number(f[12]));
    }
    return out;
  } catch {
    return undefined;
  }
}

const totalTicks = (m: Map<string, number> | undefined) =>
  m ? [...m.values()].reduce((a, b) => a + b, 0) : undefined;

/** The block and POST /v1/tx timing sums of /metrics, summed over all nodes. */
async function metricSums(): Promise<Record<string, number>> {
  const texts = await Promise.all(
    URLS.map((_, k) => request('GET', '/metrics', undefined, waitAgent, k).then((r) => r.text)),
  );
  const out: Record<string, number> = {};
  for (const line of texts.join('\n').split('\n')) {
    const m =
      /^(roamchain_block_apply_seconds_(?:sum|count)|roamchain_api_request_seconds_(?:sum|count)\{[^}]*route="\/v1\/txs?"[^}]*\}) ([0-9.e+-]+)$/.exec(
        line,
      );
    if (m) {
      const route = m[1]!.includes('route="/v1/txs"') ? 'txs' : 'tx';
      const key = m[1]!.startsWith('roamchain_api')
        ? `${route}_api_${m[1]!.includes('_sum') ? 'sum' : 'count'}`
        : m[1]!;
      out[key] = (out[key] ?? 0) + Number(m[2]);
    }
  }
  return out;
}

// ------------------------------------------------------------------------------------------- main
const tStart = now();
const status = await getJson<{ chainId: string; height: number }>('/v1/status');
const chainId = hexToBytes(status.chainId);
const runTag = Date.now().toString(36);
const operators = [...DEMO_OPERATORS, ...EXTRA_OPERATORS].map((o) => o.name);
const secrets = new Map<string, Uint8Array>();
const encKeys = new Map<string, Uint8Array>();
for (const n of [...operators, DEVNET_GATEWAY]) {
  const k = derivedKeys(n, DEVNET_SEED);
  secrets.set(n, sodiumKeyPair(k.signing.secretKey).secretKey);
  encKeys.set(n, k.encryption.publicKey);
}
const subscribers = Array.from({ length: SUBSCRIBERS }, (_, i) => ({
  name: `lg-${runTag}-${String(i).padStart(5, '0')}`,
  home: operators[i % operators.length]!,
}));
const subKeys = subscribers.map((s) => loadKeys(s.name));
for (let i = 0; i < subscribers.length; i++) secrets.set(subscribers[i]!.name, subKeys[i]!.secretKey);
/** --flood: the flooding account, a subscriber of the first operator. */
const flooder = { name: `lg-${runTag}-flood`, home: operators[0]!, keys: loadKeys(`lg-${runTag}-flood`) };
if (FLOOD) secrets.set(flooder.name, flooder.keys.secretKey);
const signer = new Signer(chainId, secrets, BigInt(Date.now()) + 50n * 60_000n);
const chunk = <T>(xs: T[], n: number): T[][] =>
  Array.from({ length: Math.ceil(xs.length / n) }, (_, i) => xs.slice(i * n, (i + 1) * n));

const feeds = await Promise.all(URLS.map((_, k) => openFeed(k)));
log(
  `loadgen: ${SUBSCRIBERS} load subscribers of ${operators.length} operators; chain ${status.chainId.slice(0, 16)}… height ${status.height}` +
    (N > 1 ? `; ${N} APIs (${URLS.map((u) => u.host).join(', ')}), load round-robin by subscriber` : ''),
);

// Wave 1: accounts (16 operations per transaction, by each home operator).
const w1: SignedTxOut[] = [];
for (const op of operators) {
  const mine = subscribers.map((s, i) => ({ s, i })).filter((x) => x.s.home === op);
  for (const part of chunk(mine, 16)) {
    w1.push(
      signer.sign(
        part.map(({ s, i }) => ({
          type: 'account_create' as const,
          creator: op,
          name: s.name,
          signingKey: subKeys[i]!.publicKey,
          encryptionKey: subKeys[i]!.enc,
          homeOperator: op,
        })),
      ),
    );
  }
}
if (FLOOD) {
  w1.push(
    signer.sign([
      {
        type: 'account_create',
        creator: flooder.home,
        name: flooder.name,
        signingKey: flooder.keys.publicKey,
        encryptionKey: flooder.keys.enc,
        homeOperator: flooder.home,
      },
    ]),
  );
}
await wave('accounts', w1);

// Wave 2: SDR and UMT for every load subscriber, and the load offers.
const nowMs = BigInt(Date.now());
const w2: SignedTxOut[] = [];
for (const part of chunk(
  subscribers.map((s, i) => ({ s, i })),
  16,
)) {
  w2.push(
    signer.sign(
      part.map(({ s, i }) => ({
        type: 'sdr_issue' as const,
        gateway: DEVNET_GATEWAY,
        to: s.name,
        amount: 10_000n * UNIT,
        paymentRef: `${runTag}-fund-${i}`,
      })),
    ),
  );
}
for (const op of operators) {
  const mine = subscribers.filter((s) => s.home === op);
  for (const part of chunk(mine, 16)) {
    w2.push(
      signer.sign(
        part.map((s) => ({
          type: 'transfer' as const,
          from: op,
          to: s.name,
          token: 'UMT' as const,
          amount: 5n * UNIT,
          memo: new Uint8Array(),
        })),
      ),
    );
  }
}
const requestOffers: OfferRef[] = [];
const churnOffers: { id: Uint8Array; operator: string; k: number }[] = [];
const REQUEST_OFFERS = 3;
const CHURN_OFFERS = 4;
for (const op of operators) {
  const ops: Operation[] = [];
  for (let k = 0; k < REQUEST_OFFERS + CHURN_OFFERS; k++) {
    ops.push({
      type: 'offer_publish',
      operator: op,
      terms: loadOfferTerms(op, k, 0, encKeys.get(op)!, nowMs),
    });
  }
  const s = signer.sign(ops);
  ops.forEach((o, k) => {
    const id = opHash(s.id, k);
    const price = o.type === 'offer_publish' ? o.terms.price : 0n;
    if (k < REQUEST_OFFERS) requestOffers.push({ id, operator: op, price });
    else churnOffers.push({ id, operator: op, k });
  });
  w2.push(s);
}
if (FLOOD) {
  // Each flood transfer costs 1 base unit and the 0.001 UMT fee: 1,000 UMT pays for ~1M of them.
  w2.push(
    signer.sign([
      {
        type: 'transfer',
        from: flooder.home,
        to: flooder.name,
        token: 'UMT',
        amount: 1000n * UNIT,
        memo: new Uint8Array(),
      },
    ]),
  );
}
await wave('funding + offers', w2);
const setupSeconds = (now() - tStart) / 1000;

// Pre-sign the mix.
const mix = new ContractMix({
  signer,
  operators,
  gateway: DEVNET_GATEWAY,
  subscribers,
  requestOffers,
  churnOffers,
  encryptionKeys: encKeys,
  group: GROUP,
  depth: DEPTH,
  now: nowMs,
  runTag,
});
const txs: LiveTx[] = [];
const subscriberIndex = new Map(subscribers.map((s, i) => [s.name, i]));
const operatorIndex = new Map(operators.map((o, i) => [o, i]));
let roundRobin = 0;
/**
 * The node a planned transaction goes to: a contract step to the node of its predecessor (so the steps
 * of one contract all go to its subscriber's node), anything else to the node of the account it is
 * about (subscriber or operator index mod N).
 */
function nodeOf(p: PlannedTx): number {
  if (N === 1) return 0;
  if (p.dep >= 0) return txs[p.dep]!.node;
  const hex = p.body.toString('latin1', '{"tx":"'.length, p.body.length - '"}'.length);
  const op = decodeTx(hexToBytes(hex)).tx.ops[0]!;
  const sub = (name: string) => subscriberIndex.get(name);
  const i =
    op.type === 'request_open'
      ? sub(op.subscriber)
      : op.type === 'transfer'
        ? sub(op.from)
        : op.type === 'sdr_issue'
          ? sub(op.to)
          : op.type === 'offer_publish' || op.type === 'offer_replace'
            ? operatorIndex.get(op.operator)
            : undefined;
  return (i ?? roundRobin++) % N;
}
const addRound = () => {
  for (const p of mix.nextRound()) {
    const planned = p as PlannedTx;
    txs.push(track(planned, nodeOf(planned)));
  }
};
const steadyRounds = Math.ceil((SECONDS * PRESIGN_RATE) / mix.steadyRoundTxs) + 1;
const tSign = now();
const sig0 = signer.signatures;
for (let r = 0; r < mix.steadyRound + steadyRounds; r++) addRound();
const signSeconds = (now() - tSign) / 1000;
const presigned = txs.length;
const presignedSigs = signer.signatures - sig0;
const firstSteady = txs.findIndex((t) => (t as unknown as PlannedTx).round === mix.steadyRound);
// --flood: the flooder's transfers, pre-signed too (distinct by their memo).
const tFloodSign = now();
const floodTxs: Uint8Array[] = [];
for (let i = 0; FLOOD && i < FLOOD_TXS; i++) {
  const memo = new Uint8Array(4);
  new DataView(memo.buffer).setUint32(0, i);
  floodTxs.push(
    signer.sign([{ type: 'transfer', from: flooder.name, to: flooder.home, token: 'UMT', amount: 1n, memo }])
      .bytes,
  );
}
if (FLOOD)
  log(`pre-signed ${floodTxs.length} flood transfers in ${((now() - tFloodSign) / 1000).toFixed(1)} s`);
/**
 * The flooder runs in its own process (flood-proc.ts), at the lowest CPU priority: in this process
 * it delayed the loop that timestamps the others' inclusions, and an attacker's CPU is not the
 * node's. Started at the flooded phase, stopped at the window's end; its counts come back then.
 */
const flood = {
  proc: undefined as ChildProcess | undefined,
  stats: { sent: 0, admitted: 0, refusedForRoom: 0, rejected: {}, requests: 0 } as FloodStats,
  start(): void {
    const p = fork(fileURLToPath(new URL('./flood-proc.ts', import.meta.url)), [], {
      serialization: 'advanced',
      execArgv: process.execArgv,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.proc = p;
    try {
      if (p.pid !== undefined) setPriority(p.pid, 19);
    } catch {
      log('flood: could not lower the flooder process priority');
    }
    const job: FloodJob = {
      url: URLS[0]!.href,
      ...(loopback && args['flood-from'] ? { localAddress: args['flood-from'] } : {}),
      workers: FLOOD_WORKERS,
      batch: 256,
      txs: floodTxs,
    };
    p.send({ start: job });
  },
  async stop(): Promise<void> {
    const p = this.proc;
    if (!p) return;
    const got = new Promise<void>((resolve) => {
      p.on('message', (m: { stats?: FloodStats }) => {
        if (m.stats) this.stats = m.stats;
        resolve();
      });
      p.once('exit', () => resolve());
    });
    p.send('stop');
    await got;
  },
};
let floodStartedAt = 0;
log(
  `pre-signed ${presigned} txs (${presignedSigs} signatures) in ${signSeconds.toFixed(1)} s: ` +
    `${mix.steadyRound} ramp rounds (${firstSteady} txs) + ${steadyRounds} rounds of ${mix.steadyRoundTxs} ` +
    `(enough for ${PRESIGN_RATE} tx/s over ${SECONDS} s)`,
);

// Run.
let windowStart = 0;
let windowEnd = 0;
let signedDuringRun = 0;
let skipped = 0;
let sent = 0;
let progress: NodeJS.Timeout | undefined;
let cpu0:
  | {
      self: NodeJS.CpuUsage;
      node: Map<string, number> | undefined;
      procs: (number | undefined)[];
      at: number;
    }
  | undefined;
let metrics0: Record<string, number> = {};
const paceStart = now();
let nextDue = paceStart;

let blockedOnDep = false;

function startWindow(): void {
  windowStart = now();
  if (FLOOD) {
    setTimeout(() => {
      floodStartedAt = now();
      log('flood: starting');
      flood.start();
    }, SECONDS * 1000);
  }
  cpu0 = {
    self: process.cpuUsage(),
    node: NODE_PID !== undefined ? threadTicks(NODE_PID) : undefined,
    procs: NODE_PIDS.map((pid) => totalTicks(threadTicks(pid))),
    at: windowStart,
  };
  void metricSums().then((m) => {
    metrics0 = m;
  });
}

function startProgress(): void {
  let lastAt = now();
  let lastBlocks = blocks.length;
  let lastSent = 0;
  progress = setInterval(() => {
    const t = now();
    let committed = 0;
    for (let i = lastBlocks; i < blocks.length; i++) committed += blocks[i]!.txCount;
    const dt = (t - lastAt) / 1000;
    type St = { mempool: number; height: number; consensus?: { round: number; maxRound: number } | null };
    const mp =
      N === 1
        ? getJson<St>('/v1/status').catch(() => undefined)
        : Promise.all(URLS.map((_, k) => getJson<St>('/v1/status', k).catch(() => undefined))).then((ss) => {
            const f = (g: (s: St) => number | undefined) =>
              ss.map((s) => (s ? (g(s) ?? '?') : '?')).join('/');
            return {
              text:
                `mempool ${f((s) => s.mempool)}, height ${f((s) => s.height)}, ` +
                `round ${f((s) => s.consensus?.round)} (max ${f((s) => s.consensus?.maxRound)})`,
            };
          });
    const phase = windowStart ? `${((t - windowStart) / 1000).toFixed(0).padStart(3)} s` : 'ramp ';
    const line =
      `[${phase}] sent ${Math.round((sent - lastSent) / dt)} tx/s, ` +
      `committed ${Math.round(committed / dt)} tx/s in ${blocks.length - lastBlocks} blocks, ` +
      `in flight ${inflight}${blockedOnDep ? ', waiting for a dependency' : ''}` +
      `${skipped ? `, skipped ${skipped}` : ''}${rejectedCodes.size ? `, rejected ${[...rejectedCodes].join(' ')}` : ''}`;
    void mp.then((s) =>
      log(
        !s ? line : 'text' in s ? `${line}; ${s.text}` : `${line}; mempool ${s.mempool}, height ${s.height}`,
      ),
    );
    lastAt = t;
    lastBlocks = blocks.length;
    lastSent = sent;
  }, 5_000);
}

log(
  `sending: in-flight <= ${INFLIGHT}, ${RATE ? `paced to ${RATE} tx/s` : 'unpaced'}; ramp first, then ${SECONDS} s measured`,
);
startProgress();
for (let i = 0; ; i++) {
  if (windowStart && now() >= windowStart + PHASES * SECONDS * 1000) break;
  if (i >= txs.length) {
    const before = txs.length;
    addRound();
    signedDuringRun += txs.length - before;
  }
  const t = txs[i]!;
  if (t.dep >= 0) {
    // INCLUDED = committed on the node the predecessor was sent to, which is the node `t` goes to.
    const d = txs[t.dep]!;
    if (d.state !== INCLUDED) {
      blockedOnDep = true;
      const ok = await waitIncluded(d, DEP_TIMEOUT_MS);
      blockedOnDep = false;
      if (!ok) {
        settle(t, SKIPPED);
        skipped++;
        continue;
      }
    }
  }
  if (FLOOD && i === firstSteady) {
    // The unloaded phase starts on a settled chain: the ramp's backlog committed first.
    const settled = await until(
      () => txs.slice(0, i).every((x) => x.state !== ACCEPTED && x.state !== INFLIGHT_STATE),
      60_000,
      100,
    );
    log(`flood: ramp ${settled ? 'committed' : 'not committed within 60 s'}; unloaded phase starts`);
    nextDue = now();
  }
  await slot();
  if (RATE && !(FLOOD && i < firstSteady)) {
    // With --flood the ramp goes unpaced (it is committed before the window) and the window at a
    // steady rate (no catch-up burst after waiting for a dependency); else the schedule from the start.
    const due = FLOOD ? nextDue : paceStart + (sent * 1000) / RATE;
    const wait = due - now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    nextDue = Math.max(nextDue, now()) + 1000 / RATE;
  }
  if (i === firstSteady) startWindow();
  if (windowStart && WAIT_SAMPLE > 0 && sent % WAIT_SAMPLE === 0) {
    release(); // a ?wait=true request does not hold one of the --inflight slots
    send(t, true);
  } else {
    send(t);
  }
  sent++;
}
windowEnd = now();
clearInterval(progress);
if (FLOOD) await flood.stop();
const cpuSelf = process.cpuUsage(cpu0?.self);
const nodeTicks = NODE_PID !== undefined ? threadTicks(NODE_PID) : undefined;
const procTicks = NODE_PIDS.map((pid) => totalTicks(threadTicks(pid)));
const metrics1 = await metricSums();
log(`window over after ${((windowEnd - windowStart) / 1000).toFixed(1)} s; draining`);

// Drain: answers, then inclusion of everything accepted.
await until(() => inflight === 0 && waitInflight === 0, DRAIN_MS);
const drained = await until(
  () => txs.every((t) => t.state !== ACCEPTED && t.state !== INFLIGHT_STATE),
  DRAIN_MS,
);
const drainSeconds = (now() - windowEnd) / 1000;

// ------------------------------------------------------------------------------------------- results
const W = (windowEnd - windowStart) / 1000;
const inWindow = (x: number) => x >= windowStart && x <= windowEnd;
let committedAll = 0;
let blocksInWindow = 0;
let maxBlock = 0;
for (const b of blocks) {
  if (!inWindow(b.at)) continue;
  committedAll += b.txCount;
  blocksInWindow++;
  maxBlock = Math.max(maxBlock, b.txCount);
}
const submitted = txs.filter((t) => t.submitAt > 0 && inWindow(t.submitAt));
const ours = txs.filter((t) => t.state === INCLUDED && inWindow(t.includedAt)).length;
const lat = Float64Array.from(
  submitted.filter((t) => t.state === INCLUDED).map((t) => t.includedAt - t.submitAt),
).sort();
const sample = Float64Array.from(
  submitted.filter((t) => t.waitAnswerAt > 0).map((t) => t.waitAnswerAt - t.submitAt),
).sort();
const pct = (a: Float64Array, p: number) =>
  a.length === 0 ? 0 : Math.round(a[Math.min(a.length - 1, Math.floor((p / 100) * a.length))]! * 10) / 10;
const mixCount: Record<string, number> = {};
let sigs = 0;
for (const t of submitted) {
  mixCount[t.kind] = (mixCount[t.kind] ?? 0) + 1;
  sigs += t.signatures;
}
const notIncluded = submitted.filter((t) => t.state === ACCEPTED || t.state === INFLIGHT_STATE);
const lostCodes = new Map<string, number>();
for (const t of notIncluded.slice(0, 30)) {
  const r = await request('GET', `/v1/tx/${t.idHex}`, undefined, waitAgent, t.node);
  const s = r.status === 200 ? (JSON.parse(r.text) as { status: string; code?: string }) : undefined;
  bump(lostCodes, s ? (s.code ?? s.status) : `HTTP_${r.status}`);
}
let nodeCpu: Record<string, number> | undefined;
if (cpu0?.node && nodeTicks) {
  nodeCpu = {};
  for (const [k, v] of nodeTicks) {
    const pctOfCore = ((v - (cpu0.node.get(k) ?? 0)) / CLK_TCK / W) * 100;
    if (pctOfCore >= 0.5) nodeCpu[k] = Math.round(pctOfCore);
  }
}
const d = (k: string) => (metrics1[k] ?? 0) - (metrics0[k] ?? 0);
const procPct = NODE_PIDS.map((_, k) => {
  const a = cpu0?.procs[k];
  const b = procTicks[k];
  return a !== undefined && b !== undefined ? Math.round(((b - a) / CLK_TCK / W) * 100) : null;
});
// Per node (several APIs): what was sent there and how it fared, how far its feed trailed the first
// node to deliver each block of the window, and its consensus counters at the end.
let perNode: Record<string, unknown>[] | undefined;
if (N > 1) {
  const heights = blocks.filter((b) => inWindow(b.at)).map((b) => b.height);
  const lags: number[][] = URLS.map(() => []);
  for (const h of heights) {
    const ats = blockAtByNode.map((m) => m.get(h));
    if (ats.some((a) => a === undefined)) continue;
    const first = Math.min(...(ats as number[]));
    for (let k = 0; k < N; k++) lags[k]!.push(ats[k]! - first);
  }
  const statuses = await Promise.all(
    URLS.map((_, k) =>
      getJson<{ height: number; consensus?: { round: number; maxRound: number; decisions: number } | null }>(
        '/v1/status',
        k,
      ).catch(() => undefined),
    ),
  );
  perNode = URLS.map((u, k) => {
    const mine = submitted.filter((t) => t.node === k);
    const l = Float64Array.from(
      mine.filter((t) => t.state === INCLUDED).map((t) => t.includedAt - t.submitAt),
    ).sort();
    const lag = Float64Array.from(lags[k]!).sort();
    const st = statuses[k];
    return {
      url: u.origin,
      submitted: mine.length,
      accepted: mine.filter((t) => t.state === ACCEPTED || t.state === INCLUDED).length,
      included: l.length,
      rejected: Object.fromEntries(rejectedByNode[k]!),
      latencyP50: pct(l, 50),
      latencyP99: pct(l, 99),
      feedLagP50: pct(lag, 50),
      feedLagMax: pct(lag, 100),
      blocksSeen: blocksByNode[k]!.filter((b) => inWindow(b.at)).length,
      height: st?.height ?? null,
      maxRound: st?.consensus?.maxRound ?? null,
      decisions: st?.consensus?.decisions ?? null,
      cpuPct: procPct[k] ?? null,
    };
  });
}
// --flood: the others' latency and the chain's throughput in the unloaded and the flooded phase.
let floodResult: Record<string, unknown> | undefined;
if (FLOOD) {
  const split = floodStartedAt || windowStart + SECONDS * 1000;
  const phase = (from: number, to: number) => {
    const mine = submitted.filter((t) => t.submitAt >= from && t.submitAt < to);
    const l = Float64Array.from(
      mine.filter((t) => t.state === INCLUDED).map((t) => t.includedAt - t.submitAt),
    ).sort();
    let committed = 0;
    for (const b of blocks) if (b.at >= from && b.at < to) committed += b.txCount;
    const sec = (to - from) / 1000;
    return {
      seconds: Math.round(sec * 10) / 10,
      submitted: mine.length,
      included: l.length,
      p50: pct(l, 50),
      p99: pct(l, 99),
      max: pct(l, 100),
      committedTps: Math.round(committed / sec),
    };
  };
  const unloaded = phase(windowStart, split);
  const loaded = phase(split, windowEnd);
  floodResult = {
    unloaded,
    loaded,
    p99Ratio: unloaded.p99 > 0 ? Math.round((loaded.p99 / unloaded.p99) * 100) / 100 : null,
    flooder: {
      ...flood.stats,
      sendTps: Math.round(flood.stats.sent / ((windowEnd - split) / 1000)),
      admittedTps: Math.round(flood.stats.admitted / ((windowEnd - split) / 1000)),
      presigned: floodTxs.length,
    },
  };
}
const result = {
  config: {
    seconds: SECONDS,
    rate: RATE ?? null,
    inflight: INFLIGHT,
    subscribers: SUBSCRIBERS,
    group: GROUP,
    depth: DEPTH,
    waitSample: WAIT_SAMPLE,
    flood: FLOOD,
    batches: { requests: batcher.requests, txs: batcher.txs },
  },
  setup: {
    seconds: Math.round(setupSeconds * 10) / 10,
    operators: operators.length,
    offers: requestOffers.length + churnOffers.length,
    presigned,
    presignedSigs,
    signSeconds: Math.round(signSeconds * 10) / 10,
    rampTxs: firstSteady,
    signedDuringRun,
  },
  window: {
    seconds: Math.round(W * 100) / 100,
    submitted: submitted.length,
    committed: committedAll,
    committedOurs: ours,
    tps: Math.round(committedAll / W),
    sendRate: Math.round(submitted.length / W),
    blocks: blocksInWindow,
    avgBlockTxs: blocksInWindow ? Math.round(committedAll / blocksInWindow) : 0,
    maxBlockTxs: maxBlock,
    sigsPerTx: submitted.length ? Math.round((sigs / submitted.length) * 100) / 100 : 0,
    mix: mixCount,
  },
  latency: {
    n: lat.length,
    p50: pct(lat, 50),
    p90: pct(lat, 90),
    p99: pct(lat, 99),
    max: pct(lat, 100),
    mean: lat.length ? Math.round((lat.reduce((a, b) => a + b, 0) / lat.length) * 10) / 10 : 0,
  },
  waitSample: {
    n: sample.length,
    p50: pct(sample, 50),
    p99: pct(sample, 99),
    falseDuplicates: waitFalseDuplicates,
  },
  rejected: Object.fromEntries(rejectedCodes),
  skipped,
  notIncluded: notIncluded.length,
  notIncludedCodes: Object.fromEntries(lostCodes),
  drained,
  drainSeconds: Math.round(drainSeconds * 10) / 10,
  cpu: {
    loadgenPct: Math.round(((cpuSelf.user + cpuSelf.system) / 1e6 / W) * 100),
    nodeThreadsPct: nodeCpu ?? null,
    ...(NODE_PIDS.length > 1 ? { nodesPct: procPct } : {}),
  },
  node: {
    blockBuildCommitSeconds: Math.round(d('roamchain_block_apply_seconds_sum') * 100) / 100,
    blocks: d('roamchain_block_apply_seconds_count'),
    txApiSeconds: Math.round(d('tx_api_sum') * 100) / 100,
    txApiRequests: d('tx_api_count'),
    txsApiSeconds: Math.round(d('txs_api_sum') * 100) / 100,
    txsApiRequests: d('txs_api_count'),
    ...(N > 1 ? { nodes: N } : {}),
  },
  ...(perNode ? { perNode } : {}),
  ...(floodResult ? { flood: floodResult } : {}),
};
closingFeed = true;
for (const f of feeds) f.close();
agent.destroy();
waitAgent.destroy();
log(`RESULT_JSON ${JSON.stringify(result)}`);
