/**
 * An agent process from its config file (the agent's own `main.ts` and `roamchain operator run`):
 * logs as JSON lines, SIGHUP re-reads the config's API clients (key rotation without downtime,
 * docs/AGENT.md), SIGINT/SIGTERM stop it and exit 0.
 */
import { Agent } from './agent.js';
import { loadConfig } from './config.js';

export async function runAgent(
  configFile: string,
  write: (line: string) => void = (s) => void process.stderr.write(s),
): Promise<Agent> {
  const cfg = loadConfig(configFile);
  const log = (msg: string, data?: Record<string, unknown>) =>
    write(`${JSON.stringify({ time: Date.now(), operator: cfg.operator, msg, ...data })}\n`);
  const agent = await (await Agent.fromConfig(cfg, { log })).start();
  process.on('SIGHUP', () => {
    try {
      agent.reloadClients(loadConfig(configFile).clients);
      log('credentials reloaded');
    } catch (e) {
      log('credentials reload failed (old keys kept)', { err: String(e) });
    }
  });
  let closing = false;
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.on(sig, () => {
      if (closing) return;
      closing = true;
      void agent.stop().finally(() => process.exit(0));
    });
  }
  return agent;
}
