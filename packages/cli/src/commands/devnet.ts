/**
 * `roamchain devnet`: a local network with demo operators, a gateway and subscribers (from @roamchain/devnet).
 */
import type { Command } from 'commander';
import { runForever } from './launch.js';
import { type CliContext, int } from './shared.js';

export function register(program: Command, _cli: CliContext): void {
  program
    .command('devnet')
    .description('start a local network with funded demo operators, a gateway and subscribers')
    .option('--data-dir <dir>', 'data directory (env ROAMCHAIN_DEVNET_DIR, default .devnet)')
    .option('--host <host>', 'API host (default 127.0.0.1)')
    .option('--port <port>', 'API port (env ROAMCHAIN_API_PORT, default 8080)', int(0, 65_535))
    .option(
      '--validators <n>',
      'Super Nodes: 1 (default) or more, as processes voting over libp2p on loopback',
      int(1, 32),
    )
    .option('--p2p-port <port>', 'first libp2p port with --validators (default 26656)', int(0, 65_535))
    .option('--block-interval-ms <ms>', 'time between blocks when idle', int(1, 3_600_000))
    .option('--quiet', 'no banner, warnings only')
    .option('--no-agents', "do not run the demo operators' agents (contracts are then driven by hand)")
    .action(async (_o: unknown, cmd: Command) => {
      await runForever('runDevnet', cmd.opts());
    });
}
