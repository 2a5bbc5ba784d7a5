/**
 * A network of validator processes on one machine: writes each member's config, node key file
 * and the shared genesis, and starts node processes from those configs (packages/node/bin/node.ts,
 * what `roamchain node --config …` runs). Used by the devnet
 * (`npm start -- --validators 4`), the fault tests and the benchmark. Across machines, operators
 * write the same config by hand (README "Forming a network").
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { peerIdOf } from '@roamchain/p2p';
import { bytesToHex, type Genesis, generateSigningKey, genesisToJSON } from '@roamchain/protocol';

export interface ClusterMember {
  /** The validator's owner account (or a follower's name). */
  name: string;
  dir: string;
  configPath: string;
  apiPort: number;
  p2pPort: number;
  peerId: string;
  /** Multiaddr others bootstrap from. */
  addr: string;
  url: string;
  validator: boolean;
  /** Its libp2p listen address and the others' addresses it bootstraps from (as in its config). */
  listen: string[];
  bootstrap: string[];
}

export interface ClusterPlan {
  dir: string;
  genesisPath: string;
  members: ClusterMember[];
}

export interface PlanOptions {
  dir: string;
  genesis: Genesis;
  /** Members in order: name, node key seed, whether it validates (default true). */
  members: { name: string; nodeKey: Uint8Array; validator?: boolean }[];
  host?: string;
  apiPorts: number[];
  p2pPorts: number[];
  /** An existing genesis file of `genesis` to point the configs at (else <dir>/genesis.json is written). */
  genesisPath?: string;
  blockIntervalMs?: number;
  logLevel?: string;
}

/** Writes genesis.json and, per member, <dir>/<name>/config.json and node-key.json (0600). */
export function planCluster(o: PlanOptions): ClusterPlan {
  const dir = resolve(o.dir);
  mkdirSync(dir, { recursive: true });
  const genesisPath = o.genesisPath ?? join(dir, 'genesis.json');
  if (!existsSync(genesisPath))
    writeFileSync(genesisPath, `${JSON.stringify(genesisToJSON(o.genesis), null, 2)}\n`);
  const host = o.host ?? '127.0.0.1';
  const members: ClusterMember[] = o.members.map((m, i) => {
    const apiPort = o.apiPorts[i]!;
    const p2pPort = o.p2pPorts[i]!;
    const peerId = peerIdOf(generateSigningKey(m.nodeKey).publicKey);
    const mdir = join(dir, m.name);
    return {
      name: m.name,
      dir: mdir,
      configPath: join(mdir, 'config.json'),
      apiPort,
      p2pPort,
      peerId,
      addr: `/ip4/127.0.0.1/tcp/${p2pPort}/p2p/${peerId}`,
      url: `http://${host}:${apiPort}`,
      validator: m.validator ?? true,
      listen: [`/ip4/127.0.0.1/tcp/${p2pPort}`],
      bootstrap: [],
    };
  });
  for (const m of members) m.bootstrap = members.filter((x) => x !== m).map((x) => x.addr);
  members.forEach((m, i) => {
    mkdirSync(m.dir, { recursive: true });
    const nodeKeyFile = join(m.dir, 'node-key.json');
    writeFileSync(nodeKeyFile, `${JSON.stringify({ nodeKey: bytesToHex(o.members[i]!.nodeKey) })}\n`, {
      mode: 0o600,
    });
    const config = {
      dataDir: join(m.dir, 'chain'),
      genesis: genesisPath,
      host,
      port: m.apiPort,
      p2pListen: m.listen,
      bootstrap: m.bootstrap,
      nodeKeyFile,
      ...(m.validator ? { validator: m.name } : {}),
      ...(o.blockIntervalMs !== undefined ? { blockIntervalMs: o.blockIntervalMs } : {}),
      logLevel: o.logLevel ?? 'warn',
    };
    writeFileSync(m.configPath, `${JSON.stringify(config, null, 2)}\n`);
  });
  return { dir, genesisPath, members };
}

/**
 * `roamchain node --config <file>` without the CLI: compiled, `dist/bin/node.js` under plain node;
 * from the TypeScript sources, `bin/node.ts` through tsx with the workspace packages' sources (the
 * "@roamchain/source" export condition). The same relative path from `src/` and `dist/src/`.
 */
const COMPILED = !import.meta.url.endsWith('.ts');
const NODE_MAIN = resolve(
  dirname(fileURLToPath(import.meta.url)),
  COMPILED ? '../bin/node.js' : '../bin/node.ts',
);
const NODE_LOADER = COMPILED ? [] : ['--conditions=@roamchain/source', '--import', 'tsx'];

/** Starts a node process from a member's config (`bin/node.ts --config …`); its output goes to <dir>/node.log. */
export function spawnMember(
  m: ClusterMember,
  opts: {
    detached?: boolean;
    /** Extra environment for this process (e.g. ROAMCHAIN_FAILPOINT). */
    env?: NodeJS.ProcessEnv;
    /** A command the node runs under (e.g. `ip netns exec <ns>`): it must exec the rest. */
    wrap?: string[];
  } = {},
): ChildProcess {
  const log = createWriteStream(join(m.dir, 'node.log'), { flags: 'a' });
  // ROAMCHAIN_MEMBER_NODE_ARGS: extra `node` flags for member processes (e.g. --cpu-prof for profiling).
  const extra = (process.env.ROAMCHAIN_MEMBER_NODE_ARGS ?? '').split(/\s+/).filter(Boolean);
  const args = [...extra, ...NODE_LOADER, NODE_MAIN, '--config', m.configPath];
  const [cmd, ...rest] = [...(opts.wrap ?? []), process.execPath, ...args];
  const child = spawn(cmd!, rest, {
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: opts.detached ?? false,
    ...(opts.env ? { env: { ...process.env, ...opts.env } } : {}),
  });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  return child;
}

/** Waits until a member's API answers /v1/status. */
export async function waitForApi(url: string, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      const r = await fetch(`${url}/v1/status`);
      if (r.ok) return;
    } catch {
      // not up yet
    }
    if (Date.now() > end) throw new Error(`${url} did not come up within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A TCP port that is free on 127.0.0.1 right now. */
export function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => res(port));
    });
  });
}
