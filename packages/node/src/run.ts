/**
 * Entry points used by the CLI: `roamchain node` (one node of a real network, from a config
 * file, flags and environment) and `roamchain devnet` (`npm start`).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { genesisFromJSON, RoamError } from '@roamchain/protocol';
import { Keystore, passphraseFromEnv } from '@roamchain/sdk/keystore';
import { startSmdp } from '@roamchain/smdp';
import pino from 'pino';
import { createApi } from './api/server.js';
import { CachingVerifier, sodiumVerifier } from './crypto/verifier.js';
import {
  DEMO_OPERATORS,
  DEMO_SUBSCRIBERS,
  DEVNET_GATEWAY,
  DEVNET_SEED,
  DEVNET_VALIDATOR,
  devnetGenesis,
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

async function serve(
  config: NodeConfig,
  host: string,
  port: number,
  logger: pino.Logger,
  agents?: () => Record<string, string>,
): Promise<Running> {
  let observe: (txs: number, seconds: number) => void = () => {};
  const node = await Node.open({ ...config, onCommitted: (b, s) => observe(b.envelopes.length, s) });
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
  };
  return { node, url: api.url, close };
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
  let producer: NodeConfig['producer'] = null;
  if (producerName) {
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
  );
  if (producer) running.node.start();
  logger.info({ url: running.url, height: running.node.height, dataDir }, 'roamchain node running');
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
}

export const DEVNET_PASSPHRASE = 'devnet';

/** `npm start`: an embedded single-node devnet with funded demo accounts, and the API + web app. */
export async function runDevnet(
  opts: DevnetOptions = {},
): Promise<Running & { keystore: string; smdpUrl: string }> {
  const dataDir = resolve(opts.dataDir ?? process.env.ROAMCHAIN_DEVNET_DIR ?? '.devnet');
  const { genesis, keys } = devnetGenesis(dataDir);
  const logger = makeLogger(opts.quiet ? 'warn' : (process.env.ROAMCHAIN_LOG_LEVEL ?? 'warn'));
  let agentUrls: Record<string, string> = {};
  const running = await serve(
    {
      dataDir: join(dataDir, 'chain'),
      genesis,
      producer: { account: DEVNET_VALIDATOR, secretKey: keys.get(DEVNET_VALIDATOR)!.signing.secretKey },
      verifier: new CachingVerifier(sodiumVerifier()),
      ...(opts.blockIntervalMs !== undefined ? { blockIntervalMs: opts.blockIntervalMs } : {}),
      log: (level, msg, data) => logger[level](data ?? {}, msg),
    },
    opts.host ?? '127.0.0.1',
    opts.port ?? Number(process.env.ROAMCHAIN_API_PORT ?? 8080),
    logger,
    () => agentUrls,
  );
  const fresh = running.node.height === 0;
  running.node.start();
  const keystore = join(dataDir, 'keystore.json');
  if (!existsSync(keystore)) {
    const ks = await Keystore.create(keystore, DEVNET_PASSPHRASE, { scrypt: { N: 2 ** 14 } });
    for (const [name, k] of keys)
      ks.add(name, { signingSecret: k.signing.secretKey, encryptionSecret: k.encryption.secretKey });
    ks.save();
    ks.close();
  }
  if (fresh) await seedDevnet(running.node, keys, { walletDir: join(dataDir, 'wallet') });
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
  if (!opts.quiet) printBanner(running.url, keystore, running.node.height, agentUrls, smdp.url);
  onSignals(running.close);
  return { ...running, keystore, smdpUrl: smdp.url };
}

function printBanner(
  url: string,
  keystore: string,
  height: number,
  agents: Record<string, string> = {},
  smdpUrl?: string,
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
    `  height     ${height} and growing (one block every 500 ms)`,
    `  keystore   ${keystore}  passphrase "${DEVNET_PASSPHRASE}" (public demo keys, seed "${DEVNET_SEED}")`,
    `  operators  ${ops}`,
    `  gateway    ${DEVNET_GATEWAY};  validator ${DEVNET_VALIDATOR}`,
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
