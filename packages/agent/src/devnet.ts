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
      const wanted = o.basePort === 0 ? 0 : o.basePort + i;
      const start = async (port: number): Promise<Agent> => {
        const a = new Agent(configOf(op, port), op.keys, o.log ? { log: o.log } : {});
        try {
          return await a.start();
        } catch (e) {
          await a.stop().catch(() => {});
          throw e;
        }
      };
      // A port taken by another program (another suite's ephemeral port, a second devnet): a free
      // one instead, as the SM-DP+ does — the banner and GET /v1/agents show which.
      const agent = await start(wanted).catch((e: unknown) => {
        if (wanted === 0 || (e as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw e;
        o.log?.('agent port taken; using a free port', { operator: op.name, port: wanted });
        return start(0);
      });
      agents.push(agent);
    }
  } catch (e) {
    await Promise.all(agents.map((a) => a.stop()));
    await smdp.close();
    throw e;
  }
  function configOf(op: DevnetAgentsOptions['operators'][number], port: number) {
    return parseConfig({
      operator: op.name,
      api: o.api,
      stateDir: join(o.dataDir, op.name),
      usageDir: join(o.dataDir, op.name, 'usage'),
      host,
      port,
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
