/**
 * The devnet's agents take ports from the API port + 10 on. One of them taken by another program
 * (another suite's ephemeral port, a second devnet) must not stop the devnet: that agent listens on
 * a free port instead, and says which (its URL).
 */
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startDevnetAgents } from '../src/devnet.js';
import { type AgentChain, startAgentChain } from './support/chain.js';

const listen = (port: number) =>
  new Promise<Server>((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(port, '127.0.0.1', () => resolve(s));
  });

describe('devnet agents on taken ports', () => {
  let chain: AgentChain | undefined;
  const held: Server[] = [];
  afterAll(async () => {
    for (const s of held) await new Promise((r) => s.close(r));
    await chain?.close();
  });

  it('an agent whose port is taken listens on a free one; the others keep theirs', async () => {
    chain = await startAgentChain({ tag: 'devports', subscribers: {}, unitPrice: 1n });
    // Hold a port, and use it as the second agent's (the first one's is the port below it).
    const taken = await listen(0);
    held.push(taken);
    const port = (taken.address() as { port: number }).port;
    const agents = await startDevnetAgents({
      api: chain.apiUrl,
      dataDir: join(chain.dir, 'devnet-agents'),
      basePort: port - 1,
      operators: [
        { name: 'op-fr', keys: chain.agentKeys('op-fr') },
        { name: 'op-de', keys: chain.agentKeys('op-de') },
      ],
      usageIntervalMs: 60_000,
    });
    try {
      const urlDe = agents.urls['op-de']!;
      expect(new URL(urlDe).port).not.toBe(String(port));
      for (const url of Object.values(agents.urls)) {
        const r = await fetch(`${url}/healthz`);
        expect(r.status).toBe(200);
      }
      const health = (await (await fetch(`${urlDe}/healthz`)).json()) as { operator: string };
      expect(health.operator).toBe('op-de');
    } finally {
      await agents.close();
    }
  });
});
