/**
 * The devnet's operator agents: one agent per demo operator (in-process, HTTP port basePort + i, or
 * free ports when basePort is 0), a simulated SM-DP+ and a usage simulator, so that a subscriber's
 * purchase on the devnet completes by itself: countersigned, provisioned, charged, closed.
 */
import { join } from 'node:path';
import { startSmdp } from '@roamchain/smdp';
import { Agent, type AgentKeys } from './agent.js';
import { parseConfig } from './config.js';
import { startUsageSimulator } from './simulator.js';

export interface DevnetAgentsOptions {
  api: string;
  dataDir: string;
  host?: string;
  /** First agent port (0: free ports). */
  basePort: number;
  /** Each demo operator, with its home-operator fee in basis points (default 100). */
  operators: { name: string; keys: AgentKeys; feeBps?: number }[];
  log?: (msg: string, data?: Record<string, unknown>) => void;
  /** Usage simulator period (ms, default 2000). */
  usageIntervalMs?: number;
}

export interface DevnetAgents {
  agents: Agent[];
  /** Countersign endpoint base URL per operator. */
  urls: Record<string, string>;
  smdpUrl: string;
  close(): Promise<void>;
}

export async function startDevnetAgents(o: DevnetAgentsOptions): Promise<DevnetAgents> {
  const host = o.host ?? '127.0.0.1';
  const smdp = await startSmdp({ host });
  const agents: Agent[] = [];
  try {
    for (const [i, op] of o.operators.entries()) {
      const cfg = parseConfig({
        operator: op.name,
        api: o.api,
        stateDir: join(o.dataDir, op.name),
        usageDir: join(o.dataDir, op.name, 'usage'),
        host,
        port: o.basePort === 0 ? 0 : o.basePort + i,
        policy: {
          maxDepositPerSubscriber: '100',
          allowedCountries: [],
          feeBps: op.feeBps ?? 100,
          maxOpenPerSubscriber: 5,
        },
        billing: { stepBytes: 1_000_000_000 },
        smdpUrl: smdp.url,
        // The devnet is a simulation, said explicitly: demo subscribers disclose no EID, so a
        // synthetic one is used; the SM-DP+ is the simulated one of @roamchain/smdp.
        simulation: true,
        // The web wallet (another origin) calls the public countersign route from the browser.
        corsOrigins: ['*'],
        // Demo subscribers may buy without disclosing an identity; a mismatching one is still refunded.
        requireIdentity: false,
        // Travellers sign up from the web wallet; the KYC is simulated and every answer says so.
        signup: { enabled: true, kyc: 'simulated', perAddressPerHour: 120 },
      });
      const a = new Agent(cfg, op.keys, o.log ? { log: o.log } : {});
      agents.push(await a.start());
    }
  } catch (e) {
    await Promise.all(agents.map((a) => a.stop()));
    await smdp.close();
    throw e;
  }
  const sim = startUsageSimulator(agents, { intervalMs: o.usageIntervalMs ?? 2000 });
  return {
    agents,
    urls: Object.fromEntries(agents.map((a) => [a.cfg.operator, a.url])),
    smdpUrl: smdp.url,
    async close() {
      sim.stop();
      await Promise.all(agents.map((a) => a.stop()));
      await smdp.close();
    },
  };
}
