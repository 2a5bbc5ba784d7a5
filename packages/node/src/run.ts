/**
 * `roamchain node`: one node of a real network, from a config file, flags and environment; and the
 * pieces a launcher above the node assembles it from (`serveNode`, the logger, signal handling; the
 * devnet of @roamchain/devnet uses them).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { keyFileExposure } from '@roamchain/fsutil';
import { createP2P, type P2P } from '@roamchain/p2p';
import { bytesToHex, genesisFromJSON, hexToBytes, RoamError, randomBytes } from '@roamchain/protocol';
import pino from 'pino';
import { createApi } from './api/server.js';
import { serveAdminSocket } from './backup.js';
import type { SyncProgress } from './consensus.js';
import { CachingVerifier, sodiumVerifier } from './crypto/verifier.js';
import { startMiniAttester } from './mini-attester.js';
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
  /**
   * Reads the `producer`'s signing secret from the encrypted keystore at `keystore` (keystores are
   * the SDK's, above the node: `roamchain node` supplies this; without it a keystore producer is refused).
   */
  loadProducerKey?: ProducerKeyLoader;
  /**
   * The highest protocol version this node implements (default PROTOCOL_VERSION): with less it
   * behaves as older software and halts before a voted upgrade (docs/OPERATIONS.md).
   */
  maxProtocolVersion?: number | string;
  /** Run as a Mini Node of this owner account: a full node that attests state roots (never votes). */
  mini?: string;
  /** The Mini Node's key file ({"nodeKey": hex}, 0600; created if missing); default the node key file. */
  miniKeyFile?: string;
  /** Base URL of the API of the Super Node the Mini Node is attached to. */
  attach?: string;
}

/** Reads an account's signing secret from an encrypted keystore file. */
export type ProducerKeyLoader = (keystorePath: string, account: string) => Promise<Uint8Array>;

export interface RunningNode {
  node: Node;
  url: string;
  close(): Promise<void>;
}

/** Where the built web app is, if it was built (`npm run build -w @roamchain/web`). */
function webDist(): string | undefined {
  const here = dirname(fileURLToPath(import.meta.url));
  // From packages/node/src/ (sources) or packages/node/dist/src/ (compiled).
  const dist = resolve(here, import.meta.url.endsWith('.ts') ? '../../web/dist' : '../../../web/dist');
  return existsSync(join(dist, 'index.html')) ? dist : undefined;
}

/** The node's pino logger at `level`, else ROAMCHAIN_LOG_LEVEL, else info. */
export function makeLogger(level: string | undefined): pino.Logger {
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
  checkKeyFile(path);
  const j = JSON.parse(readFileSync(path, 'utf8')) as { nodeKey?: unknown };
  if (typeof j.nodeKey !== 'string' || !/^[0-9a-f]{64}$/.test(j.nodeKey)) {
    throw new RoamError('KEYSTORE_NO_KEY', `${path}: nodeKey must be 64 lowercase hex characters`);
  }
  return hexToBytes(j.nodeKey);
}

/** Refuses a secret key file that group or others can access (KEY_FILE_EXPOSED), before it is read. */
export function checkKeyFile(path: string): void {
  if (!existsSync(path)) return;
  const problem = keyFileExposure(path);
  if (problem) throw new RoamError('KEY_FILE_EXPOSED', problem, { path });
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

/**
 * Opens a node, its libp2p host when `network` is given, and its Web-API (with the web app if built);
 * `agents` lists the operator agents GET /v1/agents shows. Not started: the caller starts it.
 */
export async function serveNode(
  config: NodeConfig,
  host: string,
  port: number,
  logger: pino.Logger,
  agents?: () => Record<string, string>,
  network?: NetworkConfig,
): Promise<RunningNode & { p2p: P2P | null }> {
  let observe: (txs: number, seconds: number) => void = () => {};
  const node = await Node.open({
    ...config,
    onCommitted: (b, s) => observe(b.envelopes.length, s),
    // A storage batch failed: memory is ahead of disk. Exit loudly; a restart recovers from the WAL.
    onFatal:
      config.onFatal ??
      ((e) => {
        logger.fatal({ err: String(e) }, 'storage failed: exiting');
        process.exit(70);
      }),
  });
  // `roamchain node backup` asks this socket for a consistent snapshot while the node runs.
  const admin = await serveAdminSocket(config.dataDir, node.store, bytesToHex(node.chainId), (msg, data) =>
    logger.info(data ?? {}, msg),
  );
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
  api.metrics.watch({ mempoolCapacity: node.mempool.limits.maxTotal, dataDir: config.dataDir });
  const close = async () => {
    await new Promise((r) => (admin ? admin.close(r) : r(undefined)));
    await api.close();
    await node.close();
    await p2p?.stop();
  };
  return { node, url: api.url, close, p2p };
}

/** SIGINT / SIGTERM close once, then the process exits. */
export function onSignals(close: () => Promise<void>): void {
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
export async function runNode(opts: RunNodeOptions): Promise<RunningNode> {
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
  const miniOwner = pick('mini', 'ROAMCHAIN_MINI');
  const attachUrl = pick('attach', 'ROAMCHAIN_MINI_ATTACH');
  if (miniOwner !== undefined && (validatorName || producerName || solo || !attachUrl)) {
    throw new RoamError(
      'BAD_REQUEST',
      'a Mini Node (--mini) joins a network as a full node, never votes or produces, and needs --attach <Super Node API URL>',
    );
  }
  if (validatorName) {
    producer = { account: validatorName, secretKey: loadNodeKey(nodeKeyFile, false) };
  } else if (producerName) {
    const ksPath = pick('keystore', 'ROAMCHAIN_KEYSTORE');
    if (!ksPath || !opts.loadProducerKey) {
      throw new RoamError(
        'KEYSTORE_NO_KEY',
        'a producer needs --keystore and ROAMCHAIN_KEYSTORE_PASSPHRASE (with `roamchain node`)',
      );
    }
    checkKeyFile(ksPath);
    producer = { account: producerName, secretKey: await opts.loadProducerKey(ksPath, producerName) };
  }
  const logger = makeLogger(pick('logLevel', 'ROAMCHAIN_LOG_LEVEL'));
  const host = pick('host', 'ROAMCHAIN_API_HOST') ?? '127.0.0.1';
  const port = Number(pick('port', 'ROAMCHAIN_API_PORT') ?? 8080);
  const interval = pick('blockIntervalMs', 'ROAMCHAIN_BLOCK_INTERVAL_MS');
  const maxVersion = pick('maxProtocolVersion', 'ROAMCHAIN_MAX_PROTOCOL_VERSION');
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
  const running = await serveNode(
    {
      dataDir,
      genesis,
      producer,
      store: pick('store', 'ROAMCHAIN_STORE') ?? 'level',
      verifier: new CachingVerifier(sodiumVerifier()),
      ...(interval !== undefined ? { blockIntervalMs: Number(interval) } : {}),
      ...(maxVersion !== undefined ? { maxProtocolVersion: Number(maxVersion) } : {}),
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
      protocolVersion: running.node.protocolVersion,
      halted: running.node.halted,
      dataDir,
      peerId: running.p2p?.peerId,
      addrs: running.p2p?.addrs(),
    },
    'roamchain node running',
  );
  if (miniOwner !== undefined && attachUrl) {
    const keyFile = pick('miniKeyFile', 'ROAMCHAIN_MINI_KEY_FILE') ?? nodeKeyFile;
    const attester = startMiniAttester(running.node, {
      owner: miniOwner,
      secretKey: loadNodeKey(keyFile, true),
      superUrl: attachUrl,
      log: (level, msg, data) => logger[level](data ?? {}, msg),
    });
    logger.info(
      { owner: miniOwner, nodeKey: bytesToHex(attester.publicKey), attach: attachUrl },
      'Mini Node attesting',
    );
    const close = running.close;
    running.close = async () => {
      attester.stop();
      await close();
    };
  }
  onSignals(running.close);
  return running;
}
