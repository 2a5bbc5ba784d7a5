/**
 * `roamchain operator …`: the operator agent (@roamchain/agent).
 *
 *   roamchain operator run --config agent.json
 *   roamchain operator statement --operator telco-de --from 2026-01-01 --to 2026-02-01 [--csv] [--json]
 */
import { statement, statementCsv } from '@roamchain/sdk';
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { nameArg } from '../args.js';
import { Ctx, type GlobalOptions } from '../context.js';
import type { CliContext } from './shared.js';

/** The agent package, loaded only by these commands (it pulls in the SM-DP+ client and more). */
const loadAgent = () => import('@roamchain/agent');

/** A time as unix ms or an ISO 8601 date/time. */
function timeArg(s: string): number {
  const n = /^[0-9]+$/.test(s) ? Number(s) : Date.parse(s);
  if (!Number.isFinite(n)) throw new InvalidArgumentError('expected unix ms or an ISO date (2026-01-31)');
  return n;
}

export function register(program: Command, cli: CliContext): void {
  const { io } = cli;
  const op = program
    .command('operator')
    .description(
      'the operator agent: countersigning, provisioning, billing from usage, webhooks, statements',
    );

  op.command('run')
    .description(
      'run the operator agent (long-running) from a JSON config file\n' +
        'The keystore passphrase comes from ROAMCHAIN_KEYSTORE_PASSPHRASE (or the config passphraseEnv).',
    )
    .requiredOption(
      '--config <file>',
      'agent config (JSON): operator, api, keystore, policy, billing, webhooks…',
    )
    .action(async (o: { config: string }) => {
      const { runAgent } = await loadAgent();
      const agent = await runAgent(o.config, io.stderr);
      io.stdout(`${JSON.stringify({ ready: true, operator: agent.cfg.operator, url: agent.url })}\n`);
      await new Promise<never>(() => {});
    });

  op.command('statement')
    .description('settlement statement of an operator for a period, from the chain alone (JSON or CSV)')
    .requiredOption('--operator <name>', 'operator account', nameArg)
    .option('--from <time>', 'start (unix ms or ISO date), inclusive', timeArg, 0)
    .option('--to <time>', 'end (unix ms or ISO date), exclusive (default now)', timeArg)
    .option('--csv', 'CSV: one line per settled contract, then the totals')
    .action(async (o: { operator: string; from: number; to?: number; csv?: boolean }, cmd: Command) => {
      const ctx = new Ctx(io, cmd.optsWithGlobals() as GlobalOptions);
      const s = await statement(ctx.client, o.operator, o.from, o.to ?? Date.now() + 1);
      if (o.csv) {
        io.stdout(statementCsv(s));
        return;
      }
      ctx.out(s, () =>
        [
          `statement of ${s.operator}  ${new Date(s.period.from).toISOString()} .. ${new Date(s.period.to).toISOString()}`,
          `  served    ${s.served.contracts} contracts, charged ${s.served.charged}`,
          `  consumed  ${s.consumed.contracts} contracts, charged ${s.consumed.charged}`,
          `  issuer fees ${s.issuerFees};  bad-service refunds ${s.badServiceRefunds.contracts} (${s.badServiceRefunds.refunded})`,
          `  received  ${s.totals.received}  (SDR base units)`,
        ].join('\n'),
      );
    });
}
