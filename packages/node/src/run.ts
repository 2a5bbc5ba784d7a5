/**
 * Entry points used by the CLI: `roamchain node` (one node of a real network, from a config
 * file, flags and environment) and `roamchain devnet` (`npm start`).
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createP2P, type P2P } from '@roamchain/p2p';
import { bytesToHex, genesisFromJSON, hexToBytes, RoamError, randomBytes } from '@roamchain/protocol';
import { Keystore, passphraseFromEnv } from '@roamchain/sdk/keystore';
import { startSmdp } from '@roamchain/smdp';
import pino from 'pino';
import { createApi } from './api/server.js';
import {
  type ClusterMember,
  type ClusterPlan,
  freePort,
  planCluster,
  spawnMember,
  waitForApi,
} from './cluster.js';
import type { SyncProgress } from './consensus.js';
import { CachingVerifier, sodiumVerifier } from './crypto/verifier.js';
import { DEMO_FEED_INTERVAL_MS, startDemoFeeds } from './demo-feeds.js';
import {
  DEMO_OPERATORS,
  DEMO_SUBSCRIBERS,
  DEVNET_GATEWAY,
  DEVNET_SEED,
  DEVNET_VALIDATOR,
  devnetGenesis,
  devnetNodeKey,
  devnetValidators,
  EXTRA_OPERATORS,
  seedDevnet,
} from './devnet.js';
import { Node, type NodeConfig } from './node.js';
import type { StoreKind } from './store/index.js';

export interface RunNodeOptions {
  config?: string;
  dataDir?: string;
  genesis?: string;
  host?: string;
  port?: number;
  store?: StoreKind;
  producer?: string;
  keystore?: string;
  blockIntervalMs?: number;
  logLevel?: string;
  /** libp2p listen multiaddrs (comma-separated in the environment); default /ip4/0.0.0.0/tcp/26656. */
  p2pListen?: string[] | string;
  /** Peers to connect to and keep connected: multiaddrs ending in /p2p/<peer id>. */
  bootstrap?: string[] | string;
  /**
   * This node's key file ({"nodeKey": "<32-byte seed, hex>"}, mode 0600). A validator's is the node
   * key registered on chain (its peer id derives from it); a full node gets a fresh one if missing.
   */
  nodeKeyFile?: string;
  /** The validator's owner account: with `nodeKeyFile`, this node signs votes and proposes. */
  validator?: string;
  /** Run without a network (a chain whose only validator is this node). */
  solo?: boolean;
}

interface Running {
  node: Node;
  url: string;
  close(): Promise<void>;
}

/** Where the built web app is, if it was built (`npm run build -w @roamchain/web`). */
function webDist(): string | undefined {
  const here = dirname(fileURLToPath(import.meta.url));
  const dist = resolve(here, '../../web/dist');
  return existsSync(join(dist, 'index.html')) ? dist : undefined;
}

function makeLogger(level: string | undefined) {
  return pino({ level: level ?? process.env.ROAMCHAIN_LOG_LEVEL ?? 'info' });
}

export interface NetworkConfig {
  nodeKey: Uint8Array;
  listen: string[];
  bootstrap: string[];
}

/** Reads a node key file, or creates one (fresh random key, mode 0600) if `create`. */
export function loadNodeKey(path: string, create: boolean): Uint8Array {
  if (!existsSync(path)) {
    if (!create) throw new RoamError('KEYSTORE_NO_KEY', `no node key file at ${path}`);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, `${JSON.stringify({ nodeKey: bytesToHex(randomBytes(32)) })}\n`, { mode: 0o600 });
  }
  const j = JSON.parse(readFileSync(path, 'utf8')) as { nodeKey?: unknown };
  if (typeof j.nodeKey !== 'string' || !/^[0-9a-f]{64}$/.test(j.nodeKey)) {
    throw new RoamError('KEYSTORE_NO_KEY', `${path}: nodeKey must be 64 lowercase hex characters`);
  }
  return hexToBytes(j.nodeKey);
}

/** A console progress bar for block sync (a line per 10 % when stderr is not a terminal). */
export function syncProgressPrinter(out: NodeJS.WriteStream = process.stderr): (p: SyncProgress) => void {
  let start = 0;
  let lastDecile = -1;
  return (p) => {
    if (start === 0) start = p.height;
    // A node a block or two behind catches up by sync in a moment: no bar for that.
    if (p.target - start < 10) {
      if (p.done) start = 0;
      return;
    }
    const total = Math.max(1, p.target - start);
    const done = Math.min(total, p.height - start);
    const pct = Math.floor((done * 100) / total);
    if (out.isTTY) {
      const w = 30;
      const fill = Math.round((done * w) / total);
      out.write(`\rsync [${'#'.repeat(fill)}${'.'.repeat(w - fill)}] ${p.height}/${p.target} ${pct}%`);
      if (p.done) out.write('\n');
    } else if (Math.floor(pct / 10) !== lastDecile || p.done) {
      lastDecile = Math.floor(pct / 10);
      out.write(`sync ${p.height}/${p.target} ${pct}%${p.done ? ' done' : ''}\n`);
    }
    if (p.done) start = 0;
  };
}

async function serve(
  config: NodeConfig,
  host: string,
  port: number,
  logger: pino.Logger,
  agents?: () => Record<string, string>,
  network?: NetworkConfig,
): Promise<Running & { p2p: P2P | null }> {
  let observe: (txs: number, seconds: number) => void = () => {};
  const node = await Node.open({ ...config, onCommitted: (b, s) => observe(b.envelopes.length, s) });
  let p2p: P2P | null = null;
  if (network) {
    p2p = await createP2P({
      nodeSecretKey: network.nodeKey,
      listen: network.listen,
      bootstrap: network.bootstrap,
      chainId: node.chainId,
      log: (level, msg, data) => logger[level === 'debug' ? 'debug' : level](data ?? {}, msg),
    });
    logger.info({ peerId: p2p.peerId, addrs: p2p.addrs() }, 'p2p listening');
  }
  const staticDir = webDist();
  const api = await createApi(node, {
    host,
    port,
    logger,
    ...(staticDir ? { staticDir } : {}),
    ...(agents ? { agents } : {}),
  });
  observe = (txs, seconds) => api.metrics.observeBlock(txs, seconds);
  const close = async () => {
    await api.close();
    await node.close();
    await p2p?.stop();
  };
  return { node, url: api.url, close, p2p };
}

function onSignals(close: () => Promise<void>): void {
  let closing = false;
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.on(sig, () => {
      if (closing) return;
      closing = true;
      void close().finally(() => process.exit(0));
    });
  }
}

/** `roamchain node`: precedence flags > environment > config file > defaults. */
export async function runNode(opts: RunNodeOptions): Promise<Running> {
  const file = opts.config ? (JSON.parse(readFileSync(opts.config, 'utf8')) as RunNodeOptions) : {};
  const env = process.env;
  const pick = <K extends keyof RunNodeOptions>(k: K, envName: string): RunNodeOptions[K] | undefined =>
    opts[k] ?? (env[envName] as RunNodeOptions[K] | undefined) ?? file[k];
  const dataDir = pick('dataDir', 'ROAMCHAIN_DATA_DIR') ?? './roamchain-data';
  const genesisPath = pick('genesis', 'ROAMCHAIN_GENESIS');
  if (!genesisPath)
    throw new RoamError('GENESIS_INVALID', 'a genesis file is required (--genesis or ROAMCHAIN_GENESIS)');
  const genesis = genesisFromJSON(JSON.parse(readFileSync(genesisPath, 'utf8')));
  const producerName = pick('producer', 'ROAMCHAIN_PRODUCER');
  const validatorName = pick('validator', 'ROAMCHAIN_VALIDATOR');
  const nodeKeyFile = pick('nodeKeyFile', 'ROAMCHAIN_NODE_KEY_FILE') ?? join(dataDir, 'node-key.json');
  // A keystore producer is a solo validator (single-node setups); otherwise the node joins a network.
  const solo = Boolean(pick('solo', 'ROAMCHAIN_SOLO')) || (producerName !== undefined && !validatorName);
  let producer: NodeConfig['producer'] = null;
  if (validatorName) {
    producer = { account: validatorName, secretKey: loadNodeKey(nodeKeyFile, false) };
  } else if (producerName) {
    const ksPath = pick('keystore', 'ROAMCHAIN_KEYSTORE');
    const pass = passphraseFromEnv();
    if (!ksPath || !pass) {
      throw new RoamError('KEYSTORE_NO_KEY', 'a producer needs --keystore and ROAMCHAIN_KEYSTORE_PASSPHRASE');
    }
    const ks = await Keystore.open(ksPath, pass);
    producer = { account: producerName, secretKey: ks.get(producerName).signingSecret };
    ks.close();
  }
  const logger = makeLogger(pick('logLevel', 'ROAMCHAIN_LOG_LEVEL'));
  const host = pick('host', 'ROAMCHAIN_API_HOST') ?? '127.0.0.1';
  const port = Number(pick('port', 'ROAMCHAIN_API_PORT') ?? 8080);
  const interval = pick('blockIntervalMs', 'ROAMCHAIN_BLOCK_INTERVAL_MS');
  const list = (v: string[] | string | undefined): string[] =>
    v === undefined
      ? []
      : Array.isArray(v)
        ? v
        : v
            .split(',')
            .map((x) => x.trim())
            .filter(Boolean);
  const listen = list(pick('p2pListen', 'ROAMCHAIN_P2P_LISTEN'));
  const network: NetworkConfig | undefined = solo
    ? undefined
    : {
        nodeKey: producer?.secretKey ?? loadNodeKey(nodeKeyFile, true),
        listen: listen.length > 0 ? listen : ['/ip4/0.0.0.0/tcp/26656'],
        bootstrap: list(pick('bootstrap', 'ROAMCHAIN_BOOTSTRAP')),
      };
  const running = await serve(
    {
      dataDir,
      genesis,
      producer,
      store: pick('store', 'ROAMCHAIN_STORE') ?? 'level',
      verifier: new CachingVerifier(sodiumVerifier()),
      ...(interval !== undefined ? { blockIntervalMs: Number(interval) } : {}),
      log: (level, msg, data) => logger[level](data ?? {}, msg),
    },
    host,
    port,
    logger,
    undefined,
    network,
  );
  if (running.p2p) {
    running.node.start(running.p2p, { onSync: syncProgressPrinter() });
    // Fault drill: SIGUSR2 cuts this node off from its peers for ROAMCHAIN_ISOLATE_MS (default 10 s).
    const p2p = running.p2p;
    process.on('SIGUSR2', () => p2p.isolate(Number(process.env.ROAMCHAIN_ISOLATE_MS ?? 10_000)));
  } else if (producer) running.node.start();
  logger.info(
    {
      url: running.url,
      height: running.node.height,
      dataDir,
      peerId: running.p2p?.peerId,
      addrs: running.p2p?.addrs(),
    },
    'roamchain node running',
  );
  onSignals(running.close);
  return running;
}

export interface DevnetOptions {
  dataDir?: string;
  host?: string;
  port?: number;
  quiet?: boolean;
  blockIntervalMs?: number;
  /**
   * Run the operator agents of the demo operators in-process (default true): countersigning at
   * GET /v1/agents, provisioning through a simulated SM-DP+, charging from simulated usage, closing.
   */
  agents?: boolean;
  /**
   * Super Nodes (default 1). With more than one, node-1 runs in this process and node-2 … node-N
   * as `roamchain node` child processes, all on loopback, finalising blocks by BFT vote over libp2p.
   */
  validators?: number;
  /** First libp2p port (node-i listens on p2pPort + i - 1; default 26656). */
  p2pPort?: number;
}

export const DEVNET_PASSPHRASE = 'devnet';

/** `npm start`: an embedded single-node devnet with funded demo accounts, and the API + web app. */
export async function runDevnet(
  opts: DevnetOptions = {},
): Promise<Running & { keystore: string; smdpUrl: string; members: ClusterMember[] }> {
  const dataDir = resolve(opts.dataDir ?? process.env.ROAMCHAIN_DEVNET_DIR ?? '.devnet');
  const n = opts.validators ?? 1;
  if (!Number.isInteger(n) || n < 1 || n > 32)
    throw new RoamError('BAD_REQUEST', '--validators must be 1 to 32');
  const { genesis, keys } = devnetGenesis(dataDir, n);
  const logger = makeLogger(opts.quiet ? 'warn' : (process.env.ROAMCHAIN_LOG_LEVEL ?? 'warn'));
  const apiPort0 = opts.port ?? Number(process.env.ROAMCHAIN_API_PORT ?? 8080);
  let agentUrls: Record<string, string> = {};
  let network: NetworkConfig | undefined;
  let chainDir = join(dataDir, 'chain');
  const children: ChildProcess[] = [];
  let plan: ClusterPlan | undefined;
  if (n > 1) {
    const p2p0 = opts.p2pPort ?? 26656;
    const apiPorts: number[] = [apiPort0];
    const p2pPorts: number[] = [p2p0 === 0 ? await freePort() : p2p0];
    for (let i = 1; i < n; i++) {
      apiPorts.push(apiPort0 === 0 ? await freePort() : apiPort0 + 100 * i);
      p2pPorts.push(p2p0 === 0 ? await freePort() : p2p0 + i);
    }
    plan = planCluster({
      dir: join(dataDir, 'nodes'),
      genesis,
      genesisPath: join(dataDir, 'genesis.json'),
      members: devnetValidators(n).map((name) => ({ name, nodeKey: devnetNodeKey(name) })),
      host: opts.host ?? '127.0.0.1',
      apiPorts,
      p2pPorts,
      ...(opts.blockIntervalMs !== undefined ? { blockIntervalMs: opts.blockIntervalMs } : {}),
    });
    for (const m of plan.members.slice(1)) children.push(spawnMember(m));
    const killAll = () => {
      for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    };
    process.once('exit', killAll);
    const me = plan.members[0]!;
    chainDir = join(me.dir, 'chain');
    network = {
      nodeKey: devnetNodeKey(DEVNET_VALIDATOR),
      listen: me.listen,
      bootstrap: me.bootstrap,
    };
  }
  const running = await serve(
    {
      dataDir: chainDir,
      genesis,
      producer: { account: DEVNET_VALIDATOR, secretKey: devnetNodeKey(DEVNET_VALIDATOR) },
      verifier: new CachingVerifier(sodiumVerifier()),
      ...(opts.blockIntervalMs !== undefined ? { blockIntervalMs: opts.blockIntervalMs } : {}),
      log: (level, msg, data) => logger[level](data ?? {}, msg),
    },
    opts.host ?? '127.0.0.1',
    apiPort0,
    logger,
    () => agentUrls,
    network,
  );
  if (children.length > 0) {
    const closeNode = running.close;
    running.close = async () => {
      await closeNode();
      await Promise.all(
        children.map(
          (c) =>
            new Promise<void>((res) => {
              if (c.exitCode !== null) return res();
              c.once('exit', () => res());
              c.kill('SIGTERM');
              setTimeout(() => c.kill('SIGKILL'), 5000).unref();
            }),
        ),
      );
    };
  }
  const fresh = running.node.height === 0;
  if (running.p2p) {
    running.node.start(running.p2p, { onSync: syncProgressPrinter() });
    // The others need a few seconds to start; seeding waits for the network to finalise blocks.
    await Promise.all(plan!.members.slice(1).map((m) => waitForApi(m.url, 120_000)));
  } else {
    running.node.start();
  }
  const keystore = join(dataDir, 'keystore.json');
  if (!existsSync(keystore)) {
    const ks = await Keystore.create(keystore, DEVNET_PASSPHRASE, { scrypt: { N: 2 ** 14 } });
    for (const [name, k] of keys)
      ks.add(name, { signingSecret: k.signing.secretKey, encryptionSecret: k.encryption.secretKey });
    ks.save();
    ks.close();
  }
  if (fresh) await seedDevnet(running.node, keys, { walletDir: join(dataDir, 'wallet') });
  // DEMO exchange rates (not market data) from every devnet Super Node, so that /v1/prices works.
  const stopFeeds = startDemoFeeds(
    running.node,
    devnetValidators(n).map((account) => ({ account, secretKey: keys.get(account)!.signing.secretKey })),
    (msg, data) => logger.warn(data, msg),
  );
  logger.info(
    { everyMs: DEMO_FEED_INTERVAL_MS },
    'devnet validators publish DEMO exchange rates (not market data)',
  );
  {
    const closeFeeds = running.close;
    running.close = async () => {
      stopFeeds();
      await closeFeeds();
    };
  }
  // A simulated SM-DP+ (GSMA ES2+ DownloadOrder / ConfirmOrder, ES9+ authenticateClient) on the API port + 1.
  // If that port is taken, a free one (the banner shows which).
  const apiPortNum = Number(new URL(running.url).port);
  const smdpHost = opts.host ?? '127.0.0.1';
  const smdpPort = (opts.port ?? apiPortNum) === 0 ? 0 : apiPortNum + 1;
  const smdp = await startSmdp({ host: smdpHost, port: smdpPort }).catch((e: unknown) => {
    logger.warn({ port: smdpPort, err: String(e) }, 'SM-DP+ port taken; using a free port');
    return startSmdp({ host: smdpHost, port: 0 });
  });
  {
    const closeRest = running.close;
    running.close = async () => {
      await smdp.close();
      await closeRest();
    };
  }
  if (opts.agents ?? true) {
    // The demo operators' agents (@roamchain/agent), on the API port + 10, + 11, …
    const { startDevnetAgents } = await import('@roamchain/agent');
    const apiPort = Number(new URL(running.url).port);
    const da = await startDevnetAgents({
      api: running.url,
      dataDir: join(dataDir, 'agents'),
      host: opts.host ?? '127.0.0.1',
      basePort: (opts.port ?? apiPort) === 0 ? 0 : apiPort + 10,
      operators: DEMO_OPERATORS.map((o) => {
        const k = keys.get(o.name)!;
        return {
          name: o.name,
          keys: { signingSecret: k.signing.secretKey, encryptionSecret: k.encryption.secretKey },
        };
      }),
      log: (msg, data) => logger.info(data ?? {}, msg),
    });
    agentUrls = da.urls;
    const closeNode = running.close;
    running.close = async () => {
      await da.close();
      await closeNode();
    };
  }
  if (!opts.quiet)
    printBanner(running.url, keystore, running.node.height, agentUrls, smdp.url, plan?.members.slice(1));
  onSignals(running.close);
  return { ...running, keystore, smdpUrl: smdp.url, members: plan?.members ?? [] };
}

function printBanner(
  url: string,
  keystore: string,
  height: number,
  agents: Record<string, string> = {},
  smdpUrl?: string,
  others: ClusterMember[] = [],
): void {
  const ops = [...DEMO_OPERATORS, ...EXTRA_OPERATORS]
    .map((o) => `${o.name} (${o.country}, ${o.network})`)
    .join(', ');
  const subs = DEMO_SUBSCRIBERS.map((s) => `${s.name}@${s.home}`).join(', ');
  const lines = [
    '',
    'roamchain devnet is running',
    `  API        ${url}   (OpenAPI: ${url}/openapi.json, metrics: ${url}/metrics)`,
    `  web app    ${url}/`,
    `  height     ${height} and growing (a block every 500 ms when idle, at once when busy)`,
    ...(others.length
      ? [
          `  validators ${DEVNET_VALIDATOR} (this process, API above) and ${others.length} more processes, BFT over libp2p:`,
          ...others.map(
            (m) => `             ${m.name}  API ${m.url}  p2p ${m.addr}  log ${join(m.dir, 'node.log')}`,
          ),
        ]
      : []),
    `  keystore   ${keystore}  passphrase "${DEVNET_PASSPHRASE}" (public demo keys, seed "${DEVNET_SEED}")`,
    `  operators  ${ops}`,
    `  gateway    ${DEVNET_GATEWAY};  validator ${DEVNET_VALIDATOR}`,
    `  prices     DEMO exchange rates (not market data) published by the validators every ${DEMO_FEED_INTERVAL_MS / 1000} s: ${url}/v1/prices`,
    `  subscribers ${subs} (100 SDR each; identities attested by their home operators,`,
    `             disclosures in ${join(dirname(keystore), 'wallet')}/<subscriber>.disclosures.json)`,
    ...(smdpUrl
      ? [
          `  SM-DP+     ${smdpUrl}  (simulated GSMA ES2+ downloadOrder / confirmOrder, ES9+ authenticateClient)`,
        ]
      : []),
    ...(Object.keys(agents).length
      ? [
          `  agents     ${Object.entries(agents)
            .map(([o, u]) => `${o} ${u}`)
            .join(', ')} (GET ${url}/v1/agents)`,
          '             purchases are countersigned, provisioned, charged from simulated usage and closed by them',
        ]
      : []),
    '',
    'Try it (another terminal):',
    `  export ROAMCHAIN_API=${url} ROAMCHAIN_KEYSTORE=${keystore} ROAMCHAIN_KEYSTORE_PASSPHRASE=${DEVNET_PASSPHRASE}`,
    '  npx roamchain status',
    '  npx roamchain offer rank --country DE --volume-gb 5 --preference balanced',
    '  npx roamchain request open --issuer telco-fr --subscriber alice --offer <offer id> --deposit 12',
    '  npx roamchain charge <contract id> --assignee telco-de --amount 4',
    '  npx roamchain refund <contract id> --by alice',
    '  npx roamchain contract show <contract id>',
    '(The README has the whole walkthrough.)  Ctrl-C stops; the chain resumes from .devnet next time.',
    '',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}
