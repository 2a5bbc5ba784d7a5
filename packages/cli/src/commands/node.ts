/**
 * `roamchain node`: run a node (from @roamchain/node), with `node backup` / `node restore`.
 */
import type { Command } from 'commander';
import { ENV_KEYSTORE, type GlobalOptions } from '../context.js';
import { register as registerBackup } from './backup.js';
import { runForever } from './launch.js';
import { type CliContext, int } from './shared.js';

export function register(program: Command, cli: CliContext): void {
  const { io } = cli;
  const nodeCommand = program
    .command('node')
    .description('run a roamchain node: storage, block production and the Web-API (from @roamchain/node)')
    .option('--config <file>', 'JSON config file (flags > environment > file)')
    .option('--data-dir <dir>', 'data directory (env ROAMCHAIN_DATA_DIR, default ./roamchain-data)')
    .option('--genesis <file>', 'genesis JSON file (env ROAMCHAIN_GENESIS)')
    .option('--host <host>', 'API host (env ROAMCHAIN_API_HOST, default 127.0.0.1)')
    .option('--port <port>', 'API port (env ROAMCHAIN_API_PORT, default 8080)', int(0, 65_535))
    .option('--store <kind>', 'storage engine: level or lmdb (env ROAMCHAIN_STORE, default level)')
    .option(
      '--validator <account>',
      'validator owner account: this node votes with its node key (env ROAMCHAIN_VALIDATOR)',
    )
    .option(
      '--node-key-file <file>',
      'node key file (env ROAMCHAIN_NODE_KEY_FILE, default <data-dir>/node-key.json)',
    )
    .option(
      '--p2p-listen <multiaddrs>',
      'libp2p listen addresses, comma-separated (env ROAMCHAIN_P2P_LISTEN, default /ip4/0.0.0.0/tcp/26656)',
    )
    .option(
      '--bootstrap <multiaddrs>',
      'peers to connect to, comma-separated /ip4/…/tcp/…/p2p/<peer id> (env ROAMCHAIN_BOOTSTRAP)',
    )
    .option('--solo', "no network: this node is the chain's only validator")
    .option(
      '--producer <account>',
      'solo validator whose node key is in the keystore (older single-node setups)',
    )
    .option('--block-interval-ms <ms>', 'time between blocks when idle', int(1, 3_600_000))
    .option('--log-level <level>', 'log level (env ROAMCHAIN_LOG_LEVEL)')
    .action(async (_o: unknown, cmd: Command) => {
      const g = cmd.optsWithGlobals() as GlobalOptions;
      await runForever('runNode', { ...cmd.opts(), keystore: g.keystore ?? io.env[ENV_KEYSTORE] });
    });
  registerBackup(nodeCommand, cli);
}
