/**
 * A real node for end-to-end tests of the SDK and the CLI: `Node` (packages/node/src/node.ts) with
 * its Web-API (`createApi`, packages/node/src/api/server.ts) on a free port, producing a block
 * every 50 ms. Keys are the deterministic devnet keys (`derivedKeys`, seed "roamchain-devnet"), so
 * the CLI can import them with `keys import-devnet`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UNIT } from '@roamchain/protocol';
import { buildGenesis, derivedKeys } from '@roamchain/state';
import type { Signer } from '../src/index.js';

export const ACCOUNTS = {
  validator: 'node-1',
  visited: 'op-de',
  home: 'op-fr',
  gateway: 'gateway-1',
  subscriber: 'alice',
  stranger: 'mallory',
} as const;

export interface TestNode {
  url: string;
  signer(name: string): Signer;
  close(): Promise<void>;
}

export async function startTestNode(): Promise<TestNode> {
  const dir = mkdtempSync(join(tmpdir(), 'roam-e2e-'));
  const A = ACCOUNTS;
  const { genesis, keys } = buildGenesis({
    chainName: 'roamchain-e2e',
    genesisTime: BigInt(Date.now() - 60_000),
    accounts: [
      { name: A.validator, roles: ['node_owner'] },
      { name: A.visited, roles: ['operator'] },
      { name: A.home, roles: ['operator'] },
      { name: A.gateway, roles: ['gateway'] },
      { name: A.subscriber, roles: ['subscriber'], homeOperator: A.home },
      { name: A.stranger },
    ],
    umt: {
      [A.visited]: 1000n * UNIT,
      [A.home]: 1000n * UNIT,
      [A.gateway]: 100n * UNIT,
      [A.subscriber]: 10n * UNIT,
      [A.stranger]: 10n * UNIT,
    },
    validators: [A.validator],
  });
  const { Node } = await import('../../node/src/node.js');
  const { createApi } = await import('../../node/src/api/server.js');
  const node = await Node.open({
    dataDir: join(dir, 'chain'),
    genesis,
    producer: { account: A.validator, secretKey: keys.get(A.validator)!.signing.secretKey },
    blockIntervalMs: 50,
  });
  const api = await createApi(node, { port: 0 });
  node.start();
  return {
    url: api.url,
    signer: (name) => ({ name, secretKey: derivedKeys(name).signing.secretKey }),
    async close() {
      await api.close();
      await node.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
