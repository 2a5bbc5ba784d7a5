/**
 * `roamchain devnet` (`npm start`): a local network on this machine: node-1 in this process (more
 * Super Nodes as `roamchain node` processes with --validators), funded demo accounts and their
 * keystore, a simulated SM-DP+ and the demo operators' agents. Above the node and the agent: it
 * assembles both.
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { startDevnetAgents } from '@roamchain/agent';
import {
  CachingVerifier,
  type ClusterMember,
  type ClusterPlan,
  freePort,
  makeLogger,
  type NetworkConfig,
  onSignals,
  planCluster,
  type RunningNode,
  serveNode,
  sodiumVerifier,
  spawnMember,
  syncProgressPrinter,
  waitForApi,
} from '@roamchain/node';
import { RoamError } from '@roamchain/protocol';
import { Keystore } from '@roamchain/sdk/keystore';
import { startSmdp } from '@roamchain/smdp';
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
): Promise<RunningNode & { keystore: string; smdpUrl: string; members: ClusterMember[] }> {
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
  const running = await serveNode(
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
          ...(o.feeBps !== undefined ? { feeBps: o.feeBps } : {}),
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
    process.stdout.write(
      devnetBanner(
        running.url,
        dataDir,
        keystore,
        running.node.height,
        agentUrls,
        smdp.url,
        plan?.members.slice(1),
      ),
    );
  onSignals(running.close);
  return { ...running, keystore, smdpUrl: smdp.url, members: plan?.members ?? [] };
}

/** The banner `npm start` prints: where everything runs, the data directory in use, what to try. */
export function devnetBanner(
  url: string,
  dataDir: string,
  keystore: string,
  height: number,
  agents: Record<string, string> = {},
  smdpUrl?: string,
  others: ClusterMember[] = [],
): string {
  const ops = [...DEMO_OPERATORS, ...EXTRA_OPERATORS]
    .map((o) => `${o.name} (${o.country}, ${o.network})`)
    .join(', ');
  const subs = DEMO_SUBSCRIBERS.map((s) => `${s.name}@${s.home}`).join(', ');
  const lines = [
    '',
    'roamchain devnet is running',
    `  API        ${url}   (OpenAPI: ${url}/openapi.json, metrics: ${url}/metrics)`,
    `  web app    ${url}/`,
    `  data       ${dataDir}  (delete it for a fresh chain)`,
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
    `  subscribers ${subs} (100 SDR each; identities attested by their home operators,`,
    `             disclosures in ${join(dirname(keystore), 'wallet')}/<subscriber>.disclosures.json)`,
    ...(smdpUrl
      ? [
          `  SM-DP+     ${smdpUrl}  (simulated GSMA ES2+ downloadOrder / confirmOrder, ES9+ authenticateClient)`,
        ]
      : []),
    `  prices     DEMO exchange rates (not market data) published by the validators every ${DEMO_FEED_INTERVAL_MS / 1000} s: ${url}/v1/prices`,
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
    `(The README has the whole walkthrough.)  Ctrl-C stops; the chain resumes from ${dataDir} next time.`,
    '',
  ];
  return `${lines.join('\n')}\n`;
}
