/**
 * One node from its config file, without the CLI (the member processes of a cluster or a
 * multi-validator devnet; packages/node/src/cluster.ts):
 *   node packages/node/dist/bin/node.js --config <file>   (compiled: npm run build)
 *   node -C @roamchain/source --import tsx packages/node/bin/node.ts --config <file>   (sources)
 * The same as `roamchain node --config <file>` for a validator or a full node (environment variables
 * apply the same way); a keystore producer needs `roamchain node`.
 */
import { parseArgs } from 'node:util';
import { runNode } from '../src/run.js';

const { values } = parseArgs({
  options: { config: { type: 'string' }, 'max-protocol-version': { type: 'string' } },
});
if (!values.config) {
  process.stderr.write(
    'usage: node packages/node/dist/bin/node.js --config <file> [--max-protocol-version N]\n',
  );
  process.exit(2);
}
const max = values['max-protocol-version'];
await runNode({ config: values.config, ...(max !== undefined ? { maxProtocolVersion: max } : {}) });
