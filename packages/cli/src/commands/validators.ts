/**
 * `roamchain validator …`: Super Nodes (list, show, bond, unbond, set).
 */
import { RoamError, VALIDATOR_SET_STATUSES } from '@roamchain/protocol';
import type { ValidatorJson, ValidatorSetStatus } from '@roamchain/sdk';
import { type Command, Option } from 'commander';
import { hex32Arg, nameArg, positiveAmountArg } from '../args.js';
import * as fmt from '../format.js';
import { type CliContext, printTx, UsageError } from './shared.js';

export function register(program: Command, cli: CliContext): void {
  const a = cli.action;
  const validatorRow = (v: ValidatorJson): string =>
    `${v.account.padEnd(16)} ${v.status.padEnd(9)} bond ${fmt.amt(v.bond).padStart(16)} UMT` +
    (v.unbonding !== '0' ? `  unbonding ${fmt.amt(v.unbonding)}` : '') +
    (v.slashed !== '0' ? `  slashed ${fmt.amt(v.slashed)}` : '');
  const validator = program
    .command('validator')
    .description('Super Nodes: the active validator set, records, bonds and governance admission');
  validator
    .command('list')
    .description('the validator set that signs the next block, and every validator record')
    .action(
      a<[]>(async (ctx) => {
        const v = await ctx.client.validators();
        ctx.out(v, () =>
          [
            `epoch ${v.epoch}, set of height ${v.height} (${v.active.length} validator${v.active.length === 1 ? '' : 's'}):`,
            ...v.active.map(
              (m) =>
                `  #${String(m.index).padEnd(3)} ${m.account.padEnd(16)} ${fmt.amt(m.bond).padStart(16)} UMT  ` +
                `${m.nodeKey}${m.peerId ? `  ${m.peerId}` : ''}`,
            ),
            'records:',
            ...(v.records.length ? v.records.map((r) => `  ${validatorRow(r)}`) : ['  -']),
          ].join('\n'),
        );
      }),
    );
  validator
    .command('show')
    .description("a validator's record and its place in the set of the next block")
    .argument('<account>', 'the validator owner account', nameArg)
    .action(
      a<[string]>(async (ctx, _o, [account]) => {
        const v = await ctx.client.validator(account);
        ctx.out(v, () =>
          fmt.table([
            ['account', v.account],
            ['status', v.status],
            ['bond', `${fmt.amt(v.bond)} UMT`],
            ['unbonding', `${fmt.amt(v.unbonding)} UMT`],
            ['slashed', `${fmt.amt(v.slashed)} UMT`],
            ['jailed at', v.jailedAt === '0' ? '-' : `height ${v.jailedAt}`],
            ['node key', v.nodeKey],
            ['peer id', v.peerId ?? '-'],
            [
              'in set',
              v.inSet
                ? `yes, index ${v.index} (height ${v.height}, epoch ${v.epoch})`
                : `no (height ${v.height})`,
            ],
            ['created', fmt.time(v.createdAt)],
            ['updated', fmt.time(v.updatedAt)],
          ]),
        );
      }),
    );
  validator
    .command('bond')
    .description('raise your validator bond from your free UMT (signed by <account>)')
    .argument('<account>', 'the validator owner account (in the keystore)', nameArg)
    .requiredOption('--amount <UMT>', 'UMT to add to the bond, decimal', positiveAmountArg)
    .action(
      a<[string], { amount: bigint }>(async (ctx, o, [account]) => {
        const r = await ctx.client.bondValidator(
          { account, amount: o.amount },
          await ctx.signer(account),
          ctx.submit,
        );
        printTx(ctx, r);
      }),
    );
  validator
    .command('unbond')
    .description(
      'unbond UMT from your validator bond (signed by <account>); paid out after the unbonding delay\n' +
        'What stays bonded must be at least the minimum bond; --all unbonds everything (a full exit).',
    )
    .argument('<account>', 'the validator owner account (in the keystore)', nameArg)
    .option('--amount <UMT>', 'UMT to unbond, decimal', positiveAmountArg)
    .option('--all', 'unbond the whole bond and leave the validator set at the next epoch')
    .action(
      a<[string], { amount?: bigint; all?: boolean }>(async (ctx, o, [account]) => {
        if ((o.amount === undefined) === !o.all) throw new UsageError('give either --amount or --all');
        const amount = o.amount ?? BigInt((await ctx.client.validator(account)).bond);
        if (amount === 0n) throw new RoamError('VALIDATOR_STATUS', `${account} has nothing bonded`);
        const r = await ctx.client.unbondValidator(
          { account, amount },
          await ctx.signer(account),
          ctx.submit,
        );
        printTx(ctx, r, { unbondingId: r.unbondingId });
      }),
    );
  validator
    .command('set')
    .description(
      'governance: register a candidate (with --node-key), admit, demote or remove a validator, or rotate its node key\n' +
        'Signed by the governance authority (the `governance` chain parameter); the set changes at the next epoch.',
    )
    .argument('<account>', 'the validator owner account', nameArg)
    .addOption(
      new Option('--status <status>', 'new status')
        .choices([...VALIDATOR_SET_STATUSES])
        .makeOptionMandatory(),
    )
    .option('--node-key <hex>', "the node's Ed25519 public key (required for a new validator)", hex32Arg)
    .requiredOption('--authority <name>', 'the governance authority (in the keystore)', nameArg)
    .action(
      a<[string], { status: ValidatorSetStatus; nodeKey?: string; authority: string }>(
        async (ctx, o, [account]) => {
          const r = await ctx.client.setValidator(
            {
              authority: o.authority,
              account,
              status: o.status,
              ...(o.nodeKey !== undefined ? { nodeKey: o.nodeKey } : {}),
            },
            await ctx.signer(o.authority),
            ctx.submit,
          );
          printTx(ctx, r);
        },
      ),
    );
}
