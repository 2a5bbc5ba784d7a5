/**
 * `roamchain mini …`: Mini Nodes (docs/GOVERNANCE.md §8).
 *
 *   roamchain mini bond --owner alice --super node-1 --key-file mini-key.json --amount 1000
 *   roamchain mini unbond --owner alice --amount 1000      (all of it: an exit)
 *   roamchain mini attach --owner alice --super node-2
 *   roamchain mini list [--super node-1] | mini show alice
 *
 * The Mini Node itself runs as `roamchain node --mini <owner> --attach <Super Node API URL>
 * --bootstrap …` (its node key file is --mini-key-file, default the node key file).
 */
import { bytesToHex, formatAmount, generateSigningKey } from '@roamchain/protocol';
import type { MiniNodeJson, TxResult } from '@roamchain/sdk';
import type { Command } from 'commander';
import { hex32Arg, nameArg, positiveAmountArg } from '../args.js';
import type { Ctx } from '../context.js';
import * as fmt from '../format.js';
import type { CliContext } from './shared.js';

const printTx = (ctx: Ctx, r: TxResult) => ctx.out(r, () => fmt.txResult(r, []));

const line = (m: MiniNodeJson) =>
  `${m.owner.padEnd(32)} ${m.status.padEnd(8)} super ${m.superNode.padEnd(20)} bond ${formatAmount(BigInt(m.bond))} UMT  importance ${m.importance}  attested ${m.lastAttested} (${m.attestations})${m.attesting ? '' : '  NOT EARNING'}`;

/** The public node key: --node-key, or derived from the key file's secret. */
async function nodeKeyOf(o: { nodeKey?: string; keyFile?: string }): Promise<string> {
  if (o.nodeKey) return o.nodeKey;
  if (!o.keyFile) throw new Error('--node-key <hex> or --key-file <file> is required');
  const { loadNodeKey } = await import('@roamchain/node');
  return bytesToHex(generateSigningKey(loadNodeKey(o.keyFile, false)).publicKey);
}

export function register(program: Command, cli: CliContext): void {
  const act = <O>(fn: (ctx: Ctx, o: O, args: string[]) => Promise<void>) => cli.action<string[], O>(fn);
  const mini = program
    .command('mini')
    .description(
      'Mini Nodes: bond (at least 1,000 UMT) attached to a Super Node, audit attestations, importance',
    );

  type Bond = { owner: string; super: string; nodeKey?: string; keyFile?: string; amount: bigint };
  mini
    .command('bond')
    .description(
      'bond a Mini Node (a new one, or a top-up of the same node key and Super Node); signed by --owner',
    )
    .requiredOption('--owner <name>', 'the owner account (in the keystore)', nameArg)
    .requiredOption('--super <name>', 'the Super Node to attach to', nameArg)
    .option('--node-key <hex>', "the Mini Node's public node key", hex32Arg)
    .option('--key-file <file>', 'the Mini Node key file ({"nodeKey": secret hex}); its public key is used')
    .requiredOption('--amount <umt>', 'UMT to bond', positiveAmountArg)
    .action(
      act<Bond>(async (ctx, o) => {
        const nodeKey = await nodeKeyOf(o);
        const r = await ctx.client.bondMini(
          { owner: o.owner, superNode: o.super, nodeKey, amount: o.amount },
          await ctx.signer(o.owner),
          ctx.submit,
        );
        printTx(ctx, r);
      }),
    );

  mini
    .command('unbond')
    .description(
      'unbond part of the bond (the minimum stays) or all of it (an exit); paid after the unbonding delay',
    )
    .requiredOption('--owner <name>', 'the owner account (in the keystore)', nameArg)
    .requiredOption('--amount <umt>', 'UMT to unbond', positiveAmountArg)
    .action(
      act<{ owner: string; amount: bigint }>(async (ctx, o) => {
        printTx(ctx, await ctx.client.unbondMini(o, await ctx.signer(o.owner), ctx.submit));
      }),
    );

  mini
    .command('attach')
    .description('attach the Mini Node to another Super Node')
    .requiredOption('--owner <name>', 'the owner account (in the keystore)', nameArg)
    .requiredOption('--super <name>', 'the Super Node', nameArg)
    .action(
      act<{ owner: string; super: string }>(async (ctx, o) => {
        const r = await ctx.client.attachMini(
          { owner: o.owner, superNode: o.super },
          await ctx.signer(o.owner),
          ctx.submit,
        );
        printTx(ctx, r);
      }),
    );

  mini
    .command('list')
    .description('active Mini Nodes, most important first')
    .option('--super <name>', 'only those of this Super Node', nameArg)
    .action(
      act<{ super?: string }>(async (ctx, o) => {
        const r = await ctx.client.miniNodes(o.super ? { superNode: o.super } : {});
        ctx.out(r, () => r.items.map(line).join('\n') || 'no Mini Nodes');
      }),
    );

  mini
    .command('show')
    .description('one Mini Node with its activity of the last 30 days')
    .argument('<owner>', 'the owner account', nameArg)
    .action(
      act<object>(async (ctx, _o, [owner]) => {
        const r = await ctx.client.miniNode(owner!);
        ctx.out(
          r,
          () =>
            `${line(r)}\nnode key ${r.nodeKey}\nactivity (newest day first) txs ${r.activity.txs.join(',')}`,
        );
      }),
    );
}
