/**
 * `roamchain demand …`: post, cancel and show demands.
 */
import { DAY_MS, type OfferTermsInput } from '@roamchain/sdk';
import type { Command } from 'commander';
import { countriesArg, gbArg, hex32Arg, kindArg, nameArg, networksArg, positiveAmountArg } from '../args.js';
import * as fmt from '../format.js';
import { type CliContext, int, printTx } from './shared.js';

export function register(program: Command, cli: CliContext): void {
  const a = cli.action;
  const demand = program
    .command('demand')
    .description("subscribers' demands that operators answer with offers");
  demand
    .command('post')
    .description('post what you need, where, when and the most you will pay (a subscriber)')
    .requiredOption('--subscriber <account>', 'the subscriber (in the keystore)', nameArg)
    .option('--country <codes>', 'where: countries, comma separated', countriesArg)
    .option('--network <mccmnc>', 'where: networks, comma separated', networksArg)
    .option('--kind <kind>', 'service kind', kindArg, 'data')
    .option('--data-gb <gb>', 'data volume needed, GB', gbArg)
    .option('--start-in-days <n>', 'starts in this many days (default now)', int(0, 36_500))
    .requiredOption('--days <n>', 'for how many days', int(1, 36_500))
    .requiredOption('--max-price <sdr>', 'most you will pay, SDR', positiveAmountArg)
    .option('--note <text>', 'free text (public)')
    .action(
      a<
        [],
        {
          subscriber: string;
          country?: string[];
          network?: string[];
          kind: OfferTermsInput['kind'] & string;
          dataGb?: bigint;
          startInDays?: number;
          days: number;
          maxPrice: bigint;
          note?: string;
        }
      >(async (ctx, o) => {
        const status = await ctx.client.status();
        const startAt = BigInt(status.time) + BigInt(o.startInDays ?? 0) * DAY_MS;
        const r = await ctx.client.postDemand(
          {
            subscriber: o.subscriber,
            kind: o.kind,
            countries: o.country ?? [],
            networks: o.network ?? [],
            dataBytes: o.dataGb ?? 0n,
            startAt,
            endAt: startAt + BigInt(o.days) * DAY_MS,
            maxPrice: o.maxPrice,
            note: o.note ?? '',
          },
          await ctx.signer(o.subscriber),
          { ...ctx.submit, status },
        );
        printTx(ctx, r, { demandId: r.demandId });
      }),
    );
  demand
    .command('cancel')
    .description('cancel your open demand')
    .argument('<id>', 'demand id', hex32Arg)
    .requiredOption('--subscriber <account>', 'the subscriber who posted it (in the keystore)', nameArg)
    .action(
      a<[string], { subscriber: string }>(async (ctx, o, [id]) => {
        const r = await ctx.client.cancelDemand(
          { subscriber: o.subscriber, demand: id },
          await ctx.signer(o.subscriber),
          ctx.submit,
        );
        printTx(ctx, r, { demandId: id });
      }),
    );
  demand
    .command('show')
    .description('show a demand')
    .argument('<id>', 'demand id', hex32Arg)
    .action(
      a<[string]>(async (ctx, _o, [id]) => {
        const d = await ctx.client.demand(id);
        ctx.out(d, () => fmt.demand(d));
      }),
    );
}
