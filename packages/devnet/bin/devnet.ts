/**
 * Starts the devnet in this process (used by tests and benchmarks that need a real node process):
 *   node -C @roamchain/source --import tsx packages/devnet/bin/devnet.ts [--data-dir DIR] [--port N] [--block-ms N] [--quiet] [--agents]
 * [--validators N --p2p-port P]
 * (`--agents` runs the demo operators' agents too; off by default so tests drive contracts by hand.)
 * Prints one JSON line `{"ready":true,"url":…,"keystore":…,"height":…}` when it serves.
 */
import { parseArgs } from 'node:util';
import { runDevnet } from '../src/run.js';

const { values } = parseArgs({
  options: {
    'data-dir': { type: 'string' },
    port: { type: 'string' },
    'block-ms': { type: 'string' },
    quiet: { type: 'boolean', default: false },
    agents: { type: 'boolean', default: false },
    validators: { type: 'string' },
    'p2p-port': { type: 'string' },
  },
});
const r = await runDevnet({
  ...(values['data-dir'] ? { dataDir: values['data-dir'] } : {}),
  ...(values.port ? { port: Number(values.port) } : {}),
  ...(values['block-ms'] ? { blockIntervalMs: Number(values['block-ms']) } : {}),
  quiet: values.quiet ?? false,
  agents: values.agents ?? false,
  ...(values.validators ? { validators: Number(values.validators) } : {}),
  ...(values['p2p-port'] ? { p2pPort: Number(values['p2p-port']) } : {}),
});
process.stdout.write(
  `${JSON.stringify({
    ready: true,
    url: r.url,
    keystore: r.keystore,
    height: r.node.height,
    // With --validators N: every validator's API (node-1's first), and the member processes' pids.
    urls: [r.url, ...r.members.slice(1).map((m) => m.url)],
  })}\n`,
);
