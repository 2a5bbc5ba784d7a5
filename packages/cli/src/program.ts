/**
 * The `roamchain` command line: every operation of the chain, signed locally from the encrypted
 * keystore, submitted to a node's Web-API. `run(argv, io)` returns the exit code: 0 ok, 1 error
 * (`error CODE: message` on stderr), 2 usage error.
 */

import { type ErrorCode, RoamError } from '@roamchain/protocol';
import { RoamNetworkError } from '@roamchain/sdk';
import { Command, CommanderError, Option } from 'commander';
import * as account from './commands/account.js';
import * as chain from './commands/chain.js';
import * as contracts from './commands/contracts.js';
import * as demands from './commands/demands.js';
import * as devnet from './commands/devnet.js';
import * as governance from './commands/governance.js';
import * as identity from './commands/identity.js';
import * as keys from './commands/keys.js';
import * as node from './commands/node.js';
import * as offers from './commands/offers.js';
import * as operator from './commands/operator.js';
import * as requests from './commands/requests.js';
import { type CliContext, cliContext, int, type RunState, UsageError } from './commands/shared.js';
import * as submit from './commands/submit.js';
import * as topup from './commands/topup.js';
import * as transfer from './commands/transfer.js';
import * as validators from './commands/validators.js';
import { ENV_API, ENV_KEYSTORE, ENV_PASSPHRASE, type Io } from './context.js';

export { UsageError };

/** The command modules in the order `roamchain --help` lists them. */
const COMMANDS: { register(program: Command, cli: CliContext): void }[] = [
  keys,
  account,
  transfer,
  offers,
  requests,
  identity,
  validators,
  contracts,
  demands,
  chain,
  node,
  devnet,
  operator,
  submit,
  governance,
  // Adds `contract topup` and `offer pause|resume` to the groups registered above.
  topup,
];

export function buildProgram(io: Io, state: RunState = {}): Command {
  const program = new Command('roamchain');
  program
    .description(
      'roamchain command line: keys, accounts, SDR, offers and service smart contracts of a roamchain node.\n' +
        'Transactions are signed locally with keys from the encrypted keystore and sent to the node API.',
    )
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout(s),
      writeErr: (s) => io.stderr(s),
      outputError: () => {},
    })
    .showSuggestionAfterError(true)
    .addOption(
      new Option('--api <url>', `node API base URL (env ${ENV_API})`).default(
        undefined,
        'http://127.0.0.1:8080',
      ),
    )
    .addOption(
      new Option('--keystore <path>', `encrypted keystore file (env ${ENV_KEYSTORE})`).default(
        undefined,
        '~/.roamchain/keystore.json',
      ),
    )
    .option('--json', 'print machine-readable JSON instead of text')
    .option('--no-wait', 'submit transactions without waiting for their inclusion in a block')
    .option('--wait-timeout <ms>', 'how long to wait for inclusion (ms)', int(1, 600_000), 10_000)
    .addHelpText(
      'after',
      `\nThe keystore passphrase comes from ${ENV_PASSPHRASE}, or is asked for when run in a terminal.\n` +
        'Amounts are decimals of SDR or UMT (6 decimals), e.g. 10 or 10.5.\n' +
        'Exit codes: 0 ok, 1 error (printed as "error CODE: message"), 2 usage error.',
    );

  const cli = cliContext(io, state);
  for (const m of COMMANDS) m.register(program, cli);

  // Multi-line descriptions: the first line is the summary in command lists.
  const summarize = (c: Command) => {
    for (const sub of c.commands) {
      const d = sub.description();
      if (d.includes('\n') && !sub.summary()) sub.summary(d.split('\n')[0]!);
      summarize(sub);
    }
  };
  summarize(program);
  return program;
}

/** Exit code and message for an error. */
export function describeError(e: unknown): {
  exitCode: number;
  code: string;
  message: string;
  details?: unknown;
} {
  if (e instanceof CommanderError) {
    if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version') {
      return { exitCode: 0, code: 'OK', message: '' };
    }
    if (e.code === 'commander.help')
      return { exitCode: e.exitCode === 0 ? 0 : 2, code: 'USAGE', message: '' };
    return { exitCode: 2, code: 'USAGE', message: e.message.replace(/^error: /, '') };
  }
  if (e instanceof UsageError) return { exitCode: 2, code: 'USAGE', message: e.message };
  if (e instanceof RoamError) {
    return { exitCode: 1, code: e.code, message: e.message, ...(e.details ? { details: e.details } : {}) };
  }
  if (e instanceof RoamNetworkError) return { exitCode: 1, code: e.code, message: e.message };
  const err = e as Error;
  return { exitCode: 1, code: 'INTERNAL', message: err?.message ?? String(e) };
}

/** Runs the CLI with arguments (without "node roamchain"); returns the exit code. */
export async function run(argv: string[], io: Io): Promise<number> {
  const state: RunState = {};
  const program = buildProgram(io, state);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return state.exitCode ?? 0;
  } catch (e) {
    const d = describeError(e);
    if (d.exitCode !== 0 && d.message) {
      io.stderr(`error ${d.code}: ${d.message}\n`);
      if (d.code === 'USAGE') io.stderr('(see roamchain --help, or roamchain <command> --help)\n');
      if (argv.includes('--json')) {
        io.stdout(
          `${JSON.stringify({ error: { code: d.code, message: d.message, details: d.details ?? {} } })}\n`,
        );
      }
    }
    return d.exitCode;
  } finally {
    state.ctx?.close();
  }
}

export type { ErrorCode };
