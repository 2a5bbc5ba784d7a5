/**
 * A real Mini Node process (`packages/node/bin/node.ts` with `mini` and `attach` in its config, as
 * `roamchain node --mini alice --attach <url>`) joins a Super Node over libp2p as a full node,
 * re-validates its blocks and hands in signed attestations of (height, state root); the Super
 * Node's API puts them on chain (`mini_attest`). A lying Mini Node (a forged root signed with its
 * registered key) handed to the same API is proven false on chain (`mini_fraud`) and slashed: its
 * whole bond goes to the community fund, to the base unit.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  bytesToHex,
  encodeTx,
  generateSigningKey,
  genesisToJSON,
  hexToBytes,
  miniAttestSignBytes,
  type Operation,
  refPrefixOf,
  sha256,
  sign,
  signTx,
  UNIT,
  utf8,
} from '@roamchain/protocol';
import { buildGenesis, K, type MiniNode, MK } from '@roamchain/state';
import { afterAll, describe, expect, it } from 'vitest';
import { CachingVerifier, type Node, type RunningNode, serveNode, sodiumVerifier } from '../src/index.js';
import { makeLogger, runNode } from '../src/run.js';

const here = dirname(fileURLToPath(import.meta.url));
const REPO_ROOT = resolve(here, '../../..');
const NODE_BIN = resolve(here, '../bin/node.ts');
const root = mkdtempSync(join(tmpdir(), 'rc-mini-'));
const INTERVAL = 10;
const BOND = 1_000n * UNIT;
const { genesis, keys } = buildGenesis({
  accounts: [{ name: 'node-1', roles: ['node_owner'] }, { name: 'alice' }, { name: 'mallory' }],
  umt: { alice: 2_000n * UNIT, mallory: 2_000n * UNIT },
  validators: ['node-1'],
  params: { miniAttestInterval: INTERVAL },
});
const miniSeed = sha256(utf8('mini-e2e/alice'));
const liarSeed = sha256(utf8('mini-e2e/mallory'));

let superNode: (RunningNode & { p2p: import('@roamchain/p2p').P2P | null }) | null = null;
let child: ChildProcess | null = null;
let childLog = '';

afterAll(async () => {
  if (child && child.exitCode === null) {
    const gone = new Promise((r) => child!.once('exit', r));
    child.kill('SIGTERM');
    await Promise.race([gone, new Promise((r) => setTimeout(r, 10_000))]);
    if (child.exitCode === null) child.kill('SIGKILL');
  }
  await superNode?.close();
  rmSync(root, { recursive: true, force: true });
});

async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}\n${childLog.slice(-4000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function submit(node: Node, signer: string, ops: Operation[]): Promise<void> {
  const st = node.status();
  const tx = signTx(
    {
      chainId: node.chainId,
      refBlockNum: st.height,
      refBlockPrefix: refPrefixOf(hexToBytes(st.headId)),
      expiration: BigInt(st.headTime) + 60_000n,
      ops,
    },
    { [signer]: keys.get(signer)!.signing.secretKey },
  );
  const env = await node.submit(encodeTx(tx));
  await node.waitFor(env.idHex, 30_000);
}

const mini = (node: Node, owner: string) => node.state.get<MiniNode>(MK.node(owner));
const bal = (node: Node, n: string) => node.state.get<bigint>(K.balance(n, 'UMT')) ?? 0n;

describe('a Mini Node process attached to a Super Node', () => {
  it('gets its attestations included; a lying Mini Node is slashed', { timeout: 240_000 }, async () => {
    const secretKey = keys.get('node-1')!.signing.secretKey;
    superNode = await serveNode(
      {
        dataDir: join(root, 'super'),
        genesis,
        producer: { account: 'node-1', secretKey },
        store: 'level',
        verifier: new CachingVerifier(sodiumVerifier()),
        blockIntervalMs: 200,
        log: () => {},
      },
      '127.0.0.1',
      0,
      makeLogger('warn'),
      undefined,
      { nodeKey: secretKey, listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap: [] },
    );
    const node = superNode.node;
    node.start(superNode.p2p);
    await until(() => node.height >= 2, 30_000, 'the Super Node producing');
    const miniPub = generateSigningKey(miniSeed).publicKey;
    await submit(node, 'alice', [
      { type: 'mini_bond', owner: 'alice', superNode: 'node-1', nodeKey: miniPub, amount: BOND },
    ]);
    await submit(node, 'mallory', [
      {
        type: 'mini_bond',
        owner: 'mallory',
        superNode: 'node-1',
        nodeKey: generateSigningKey(liarSeed).publicKey,
        amount: BOND,
      },
    ]);
    expect(mini(node, 'alice')).toMatchObject({ status: 'active', bond: BOND, superNode: 'node-1' });

    // The Mini Node: a real process from a config file, syncing over libp2p.
    const genesisFile = join(root, 'genesis.json');
    writeFileSync(genesisFile, JSON.stringify(genesisToJSON(genesis)));
    const keyFile = join(root, 'mini-key.json');
    writeFileSync(keyFile, `${JSON.stringify({ nodeKey: bytesToHex(miniSeed) })}\n`, { mode: 0o600 });
    const config = join(root, 'mini.json');
    writeFileSync(
      config,
      JSON.stringify({
        dataDir: join(root, 'mini'),
        genesis: genesisFile,
        port: 0,
        p2pListen: ['/ip4/127.0.0.1/tcp/0'],
        bootstrap: superNode.p2p!.addrs(),
        mini: 'alice',
        miniKeyFile: keyFile,
        attach: superNode.url,
        logLevel: 'info',
      }),
    );
    const env: NodeJS.ProcessEnv = { ...process.env };
    for (const k of Object.keys(env)) if (k.startsWith('ROAMCHAIN_')) delete env[k];
    child = spawn(process.execPath, ['--import', 'tsx', NODE_BIN, '--config', config], {
      cwd: REPO_ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const keep = (d: Buffer) => {
      childLog = (childLog + d.toString()).slice(-32_768);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);

    // Its attestations are included, window after window (after it caught up with the chain).
    await until(
      () => (mini(node, 'alice')?.attestations ?? 0n) >= 1n,
      180_000,
      'an attestation of alice on chain',
    );
    const first = mini(node, 'alice')!.lastAttested;
    await until(
      () => (mini(node, 'alice')?.lastAttested ?? 0n) >= first + 3n * BigInt(INTERVAL),
      180_000,
      'three more windows attested',
    );
    const m = mini(node, 'alice')!;
    expect(m.lastAttested % BigInt(INTERVAL)).toBe(0n);
    expect(childLog).toContain('Mini Node attesting');
    const list = (await (await fetch(`${superNode.url}/v1/mininodes`)).json()) as {
      items: { owner: string; attesting: boolean; lastAttested: string }[];
    };
    const item = list.items.find((x) => x.owner === 'alice')!;
    expect(BigInt(item.lastAttested)).toBeGreaterThanOrEqual(m.lastAttested);

    // A lying Mini Node: a forged root at an attested height, signed with its registered key.
    const h = (BigInt(node.height) / BigInt(INTERVAL)) * BigInt(INTERVAL);
    const forged = { mini: 'mallory', height: h, stateRoot: sha256(utf8('forged root')) };
    const signature = sign(liarSeed, miniAttestSignBytes(node.chainId, forged));
    const fund = bal(node, 'tcdf');
    const res = await fetch(`${superNode.url}/v1/mininodes/attestations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        attestations: [
          {
            ...forged,
            height: h.toString(),
            stateRoot: bytesToHex(forged.stateRoot),
            signature: bytesToHex(signature),
          },
        ],
      }),
    });
    const body = (await res.json()) as { fraudTxs: string[] };
    expect(res.status, JSON.stringify(body)).toBe(200);
    expect(body.fraudTxs).toHaveLength(1);
    await node.waitFor(body.fraudTxs[0]!, 30_000);
    expect(mini(node, 'mallory')).toMatchObject({ status: 'slashed', bond: 0n, slashed: BOND });
    // Exactly the bond: every transaction since (attestations, the fraud proof) is fee-free.
    expect(bal(node, 'tcdf') - fund).toBe(BOND);
    const missing = await fetch(`${superNode.url}/v1/mininodes/nobody`);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { code: string }).code).toBe('MINI_UNKNOWN');
  });

  it('a Mini Node never votes: --mini with a validator, solo or without --attach is refused', async () => {
    const genesisFile = join(root, 'genesis-refused.json');
    writeFileSync(genesisFile, JSON.stringify(genesisToJSON(genesis)));
    const base = { genesis: genesisFile, dataDir: join(root, 'refused'), port: 0, mini: 'alice' };
    for (const extra of [
      { validator: 'node-1', attach: 'http://127.0.0.1:1' },
      { solo: true, attach: 'http://127.0.0.1:1' },
      {},
    ]) {
      await expect(runNode({ ...base, ...extra })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    }
  });
});
