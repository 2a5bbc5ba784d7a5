/**
 * Entry point of an agent process:
 *   node packages/agent/dist/src/main.js --config agent.json   (compiled: npm run build)
 *   node -C @roamchain/source --import tsx packages/agent/src/main.ts --config agent.json   (sources)
 * Prints one JSON line `{"ready":true,"operator":…,"url":…}` once it serves; SIGINT/SIGTERM stop it.
 */
import { parseArgs } from 'node:util';
import { Agent } from './agent.js';
import { loadConfig } from './config.js';

const { values } = parseArgs({ options: { config: { type: 'string' } } });
if (!values.config) {
  process.stderr.write('usage: main.ts --config agent.json\n');
  process.exit(2);
}
const agent = await runAgent(values.config);
process.stdout.write(`${JSON.stringify({ ready: true, operator: agent.cfg.operator, url: agent.url })}\n`);

export async function runAgent(configFile: string): Promise<Agent> {
  const cfg = loadConfig(configFile);
  const log = (msg: string, data?: Record<string, unknown>) =>
    process.stderr.write(`${JSON.stringify({ time: Date.now(), operator: cfg.operator, msg, ...data })}\n`);
  const agent = await (await Agent.fromConfig(cfg, { log })).start();
  // SIGHUP: re-read the config's API clients (key rotation without downtime).
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
