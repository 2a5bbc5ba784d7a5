/**
 * The chain the agent suites share: a real node and its API in this process (127.0.0.1, 50 ms
 * blocks), a genesis with two operators (op-de visited, op-fr home), a gateway and subscribers of
 * op-fr, optionally SDR issued to them by the gateway, and op-de's "DE 5 GB" offer published. Every
 * operation is signed by its real party's key from the genesis.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UNIT } from '@roamchain/protocol';
import { RoamClient, type Signer } from '@roamchain/sdk';
import { buildGenesis } from '@roamchain/state';
import { parseConfig } from '../../src/config.js';

export const GB = 1_000_000_000n;

export interface AgentChainOptions {
  /** Names the data directory (`rc-<tag>-…`) and the chain (`roamchain-<tag>`). */
  tag: string;
  /** Subscribers of op-fr and their UMT. */
  subscribers: Record<string, bigint>;
  /** SDR the gateway issues to each subscriber before the offer (none when absent). */
  sdr?: bigint;
  /** The offer's unit price (UMT base units per byte beyond the bundle). */
  unitPrice: bigint;
}

export async function startAgentChain(o: AgentChainOptions) {
  const dir = mkdtempSync(join(tmpdir(), `rc-${o.tag}-`));
  const g = buildGenesis({
    chainName: `roamchain-${o.tag}`,
    genesisTime: BigInt(Date.now() - 60_000),
    accounts: [
      { name: 'node-1', roles: ['node_owner'] },
      { name: 'op-de', roles: ['operator'] },
      { name: 'op-fr', roles: ['operator'] },
      { name: 'gateway-1', roles: ['gateway'] },
      ...Object.keys(o.subscribers).map((name) => ({
        name,
        roles: ['subscriber' as const],
        homeOperator: 'op-fr',
      })),
    ],
    umt: { 'op-de': 100n * UNIT, 'op-fr': 100n * UNIT, 'gateway-1': 10n * UNIT, ...o.subscribers },
    validators: ['node-1'],
  });
  const keys = g.keys;
  const signer = (name: string): Signer => ({ name, secretKey: keys.get(name)!.signing.secretKey });
  const agentKeys = (name: string) => ({
    signingSecret: keys.get(name)!.signing.secretKey,
    encryptionSecret: keys.get(name)!.encryption.secretKey,
  });
  const { Node } = await import('../../../node/src/node.js');
  const { createApi } = await import('../../../node/src/api/server.js');
  const node = await Node.open({
    dataDir: join(dir, 'chain'),
    genesis: g.genesis,
    producer: { account: 'node-1', secretKey: keys.get('node-1')!.signing.secretKey },
    blockIntervalMs: 50,
  });
  const api = await createApi(node, { port: 0 });
  node.start();
  const client = new RoamClient({ url: api.url });
  if (o.sdr !== undefined)
    for (const s of Object.keys(o.subscribers))
      await client.issueSdr(
        { gateway: 'gateway-1', to: s, amount: o.sdr, paymentRef: `p-${s}` },
        signer('gateway-1'),
      );
  const pub = await client.publishOffer(
    {
      operator: 'op-de',
      terms: {
        title: 'DE 5 GB',
        countries: ['DE'],
        dataBytes: 5n * GB,
        durationSec: 7 * 86_400,
        price: 8n * UNIT,
        unitPrice: o.unitPrice,
        capacity: 1000,
      },
    },
    signer('op-de'),
  );
  return {
    dir,
    keys,
    client,
    apiUrl: api.url,
    offerId: pub.offerId,
    signer,
    agentKeys,
    /**
     * An agent's configuration for `operator` on this chain: its own state directory, 100 ms ticks,
     * the suites' policy and billing, `over` on top (top-level keys replaced).
     */
    agentConfig(operator: string, over: Record<string, unknown> = {}) {
      return parseConfig({
        operator,
        api: api.url,
        stateDir: join(dir, `${operator}-${Math.random().toString(36).slice(2)}`),
        port: 0,
        tickMs: 100,
        policy: { maxDepositPerSubscriber: '100', feeBps: 100, maxOpenPerSubscriber: 3 },
        billing: { stepBytes: 1, maxLineRateBps: 1_000_000_000 },
        ...over,
      });
    },
    /** Closes the API and the node, then removes the directory (stop the agents first). */
    async close(): Promise<void> {
      await api.close();
      await node.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export type AgentChain = Awaited<ReturnType<typeof startAgentChain>>;

/** Polls `fn` until it gives a value (a thrown error counts as none), failing with `what` after `ms`. */
export async function until<T>(
  what: string,
  fn: () => Promise<T | undefined | false>,
  ms = 30_000,
): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined && v !== false) return v as T;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** POSTs `body` as JSON (a string as it is): the status, the JSON answer (or {}) and the headers. */
export async function postJson(url: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {}
  return { status: res.status, json, headers: res.headers };
}
