/**
 * `roamchain transfer` and `roamchain sdr …`: moving SDR/UMT, SDR issuance and redemption by gateways.
 */
import { type Command, Option } from 'commander';
import { nameArg, positiveAmountArg, tokenArg } from '../args.js';
import { type CliContext, printTx, UsageError } from './shared.js';

export function register(program: Command, cli: CliContext): void {
  const a = cli.action;
  program
    .command('transfer')
    .description('transfer SDR or UMT between accounts (signed by <from>)')
    .argument('<from>', 'sender (in the keystore)', nameArg)
    .argument('<to>', 'recipient', nameArg)
    .argument('<amount>', 'amount, decimal (e.g. 10.5)', positiveAmountArg)
    .addOption(new Option('--token <token>', 'SDR or UMT').argParser(tokenArg).default('SDR'))
    .option('--memo <text>', 'memo (UTF-8, public on chain)')
    .option('--encrypt-memo <text>', "memo encrypted to the recipient's encryption key (only it can read it)")
    .action(
      a<[string, string, bigint], { token: 'SDR' | 'UMT'; memo?: string; encryptMemo?: string }>(
        async (ctx, o, [from, to, amount]) => {
          if (o.memo !== undefined && o.encryptMemo !== undefined)
            throw new UsageError('give either --memo or --encrypt-memo');
          const r = await ctx.client.transfer(
            {
              from,
              to,
              token: o.token,
              amount,
              ...(o.memo !== undefined ? { memo: o.memo } : {}),
              ...(o.encryptMemo !== undefined ? { encryptMemo: o.encryptMemo } : {}),
            },
            await ctx.signer(from),
            ctx.submit,
          );
          printTx(ctx, r);
        },
      ),
    );

  const sdr = program.command('sdr').description('SDR issuance and redemption by admitted gateways');
  sdr
    .command('issue')
    .description('mint SDR to an account against fiat received (gateway only; each --ref once)')
    .argument('<gateway>', 'gateway account (in the keystore)', nameArg)
    .argument('<to>', 'recipient', nameArg)
    .argument('<amount>', 'SDR, decimal', positiveAmountArg)
    .requiredOption('--ref <paymentRef>', 'external payment reference (printable ASCII, at most 64)')
    .action(
      a<[string, string, bigint], { ref: string }>(async (ctx, o, [gateway, to, amount]) => {
        const r = await ctx.client.issueSdr(
          { gateway, to, amount, paymentRef: o.ref },
          await ctx.signer(gateway),
          ctx.submit,
        );
        printTx(ctx, r);
      }),
    );
  sdr
    .command('burn')
    .description("burn SDR from the gateway's balance on redemption (gateway only; each --ref once)")
    .argument('<gateway>', 'gateway account (in the keystore)', nameArg)
    .argument('<amount>', 'SDR, decimal', positiveAmountArg)
    .requiredOption('--ref <redemptionRef>', 'external redemption reference')
    .action(
      a<[string, bigint], { ref: string }>(async (ctx, o, [gateway, amount]) => {
        const r = await ctx.client.burnSdr(
          { gateway, amount, redemptionRef: o.ref },
          await ctx.signer(gateway),
          ctx.submit,
        );
        printTx(ctx, r);
      }),
    );
}
