/**
 * Entry point of an agent process:
 *   node packages/agent/dist/src/main.js --config agent.json   (compiled: npm run build)
 *   node -C @roamchain/source --import tsx packages/agent/src/main.ts --config agent.json   (sources)
 * Prints one JSON line `{"ready":true,"operator":…,"url":…}` once it serves; SIGHUP re-reads the API
 * clients, SIGINT/SIGTERM stop it (run.ts, shared with `roamchain operator run`).
 */
import { parseArgs } from 'node:util';
import { runAgent } from './run.js';

const { values } = parseArgs({ options: { config: { type: 'string' } } });
if (!values.config) {
  process.stderr.write('usage: main.ts --config agent.json\n');
  process.exit(2);
}
const agent = await runAgent(values.config);
process.stdout.write(`${JSON.stringify({ ready: true, operator: agent.cfg.operator, url: agent.url })}\n`);
