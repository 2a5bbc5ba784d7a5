/**
 * `roamchain offer …`: publish, change, find and rank service offers.
 */
import { DAY_MS, type OfferTermsInput, offerTermsFromJson } from '@roamchain/sdk';
import type { Command } from 'commander';
import {
  amountArg,
  countriesArg,
  daysArg,
  gbArg,
  hex32Arg,
  kindArg,
  nameArg,
  networksArg,
  type Preference,
  preferenceArg,
  techArg,
} from '../args.js';
import * as fmt from '../format.js';
import { type CliContext, int, printTx, UsageError } from './shared.js';

export function register(program: Command, cli: CliContext): void {
  const a = cli.action;
  const offer = program.command('offer').description('publish, change, find and rank service offers');

  interface TermOpts {
    title?: string;
    kind?: OfferTermsInput['kind'];
    category?: string;
    country?: string[];
    network?: string[];
    tech?: string[];
    dataGb?: bigint;
    days?: number;
    price?: bigint;
    unitPrice?: bigint;
    capacity?: number;
    validDays?: number;
  }
  const termOptions = (c: Command, publish: boolean) =>
    c
      .option('--title <text>', 'title shown to subscribers')
      .option('--kind <kind>', 'data, voice, sms, bundle or other', kindArg)
      .option('--category <text>', 'category (required for kind "other")')
      .option('--country <codes>', 'coverage: ISO 3166 country codes, comma separated (DE,FR)', countriesArg)
      .option('--network <mccmnc>', 'coverage: networks as MCC-MNC, comma separated (262-01)', networksArg)
      .option('--tech <list>', 'technologies, comma separated (4G,5G)', techArg)
      .option('--data-gb <gb>', `package data volume in GB${publish ? ' (default 0)' : ''}`, gbArg)
      .option('--days <n>', 'package duration in days', daysArg)
      .option('--price <sdr>', 'package price in SDR', amountArg)
      .option('--unit-price <sdr>', 'price per MB beyond the package, SDR', amountArg)
      .option(
        '--capacity <n>',
        `how many contracts may be open at once${publish ? ' (default 100)' : ''}`,
        int(1, 4_294_967_295),
      )
      .option(
        '--valid-days <n>',
        `offer validity from now, in days${publish ? ' (default 30)' : ''}`,
        int(1, 36_500),
      );

  const termsFrom = (o: TermOpts, now: bigint): Partial<OfferTermsInput> => ({
    ...(o.title !== undefined ? { title: o.title } : {}),
    ...(o.kind !== undefined ? { kind: o.kind } : {}),
    ...(o.category !== undefined ? { category: o.category } : {}),
    ...(o.country !== undefined ? { countries: o.country } : {}),
    ...(o.network !== undefined ? { networks: o.network } : {}),
    ...(o.tech !== undefined ? { technologies: o.tech } : {}),
    ...(o.dataGb !== undefined ? { dataBytes: o.dataGb } : {}),
    ...(o.days !== undefined ? { durationSec: o.days } : {}),
    ...(o.price !== undefined ? { price: o.price } : {}),
    ...(o.unitPrice !== undefined ? { unitPrice: o.unitPrice } : {}),
    ...(o.capacity !== undefined ? { capacity: o.capacity } : {}),
    ...(o.validDays !== undefined ? { validFrom: now, validUntil: now + BigInt(o.validDays) * DAY_MS } : {}),
  });

  termOptions(
    offer
      .command('publish')
      .description(
        "publish an offer, signed by --operator; the offer's encryption key is the operator's key on chain\n" +
          'example: offer publish --operator telco-de --title "DE 5 GB" --country DE --data-gb 5 --days 7 --price 10',
      )
      .requiredOption('--operator <account>', 'publishing operator or provider (in the keystore)', nameArg)
      .option('--demand <id>', "answer to a subscriber's demand (its id)", hex32Arg),
    true,
  ).action(
    a<[], TermOpts & { operator: string; demand?: string }>(async (ctx, o) => {
      if (o.title === undefined) throw new UsageError("required option '--title <text>' not specified");
      if (o.days === undefined) throw new UsageError("required option '--days <n>' not specified");
      if (o.price === undefined) throw new UsageError("required option '--price <sdr>' not specified");
      const status = await ctx.client.status();
      const terms = {
        ...termsFrom(o, BigInt(status.time)),
        title: o.title,
        durationSec: o.days,
        price: o.price,
      };
      const r = await ctx.client.publishOffer(
        { operator: o.operator, terms, ...(o.demand !== undefined ? { demand: o.demand } : {}) },
        await ctx.signer(o.operator),
        { ...ctx.submit, status },
      );
      printTx(ctx, r, { offerId: r.offerId });
    }),
  );

  termOptions(
    offer
      .command('replace')
      .description(
        'replace the terms of an offer (open contracts keep theirs); options not given keep their current value',
      )
      .argument('<offer>', 'offer id', hex32Arg)
      .requiredOption('--operator <account>', 'the publishing operator (in the keystore)', nameArg),
    false,
  ).action(
    a<[string], TermOpts & { operator: string }>(async (ctx, o, [id]) => {
      const status = await ctx.client.status();
      const cur = offerTermsFromJson((await ctx.client.offer(id)).terms);
      const { encryptionKey: _k, ...keep } = cur;
      const terms: OfferTermsInput = { ...keep, ...termsFrom(o, BigInt(status.time)) };
      const r = await ctx.client.replaceOffer(
        { operator: o.operator, offer: id, terms },
        await ctx.signer(o.operator),
        {
          ...ctx.submit,
          status,
        },
      );
      printTx(ctx, r, { offerId: id });
    }),
  );

  offer
    .command('withdraw')
    .description('withdraw an offer: no new contracts (open ones continue)')
    .argument('<offer>', 'offer id', hex32Arg)
    .requiredOption('--operator <account>', 'the publishing operator (in the keystore)', nameArg)
    .action(
      a<[string], { operator: string }>(async (ctx, o, [id]) => {
        const r = await ctx.client.withdrawOffer(
          { operator: o.operator, offer: id },
          await ctx.signer(o.operator),
          ctx.submit,
        );
        printTx(ctx, r, { offerId: id });
      }),
    );

  offer
    .command('list')
    .description('list offers (active ones by default), ordered by id')
    .option('--country <code>', 'covering this country', (s: string) => countriesArg(s)[0]!)
    .option('--network <mccmnc>', 'covering this network', (s: string) => networksArg(s)[0]!)
    .option('--kind <kind>', 'service kind', kindArg)
    .option('--operator <account>', 'published by this operator')
    .option('--status <status>', 'active, paused, withdrawn or all')
    .option('--limit <n>', 'at most this many', int(1, 1000))
    .option('--cursor <cursor>', 'continue after this page cursor')
    .action(
      a<
        [],
        {
          country?: string;
          network?: string;
          kind?: OfferTermsInput['kind'];
          operator?: string;
          status?: 'active' | 'paused' | 'withdrawn' | 'all';
          limit?: number;
          cursor?: string;
        }
      >(async (ctx, o) => {
        const page = await ctx.client.offers({
          ...(o.country !== undefined ? { country: o.country } : {}),
          ...(o.network !== undefined ? { network: o.network } : {}),
          ...(o.kind !== undefined ? { kind: o.kind } : {}),
          ...(o.operator !== undefined ? { operator: o.operator } : {}),
          ...(o.status !== undefined ? { status: o.status } : {}),
          ...(o.limit !== undefined ? { limit: o.limit } : {}),
          ...(o.cursor !== undefined ? { cursor: o.cursor } : {}),
        });
        ctx.out(page, () => {
          const lines = page.items.map(fmt.offerLine);
          if (page.next) lines.push(`(more: --cursor ${page.next})`);
          return lines.length ? lines.join('\n') : 'no offers';
        });
      }),
    );

  offer
    .command('show')
    .description('show one offer with its terms and current version')
    .argument('<offer>', 'offer id', hex32Arg)
    .action(
      a<[string]>(async (ctx, _o, [id]) => {
        const of = await ctx.client.offer(id);
        ctx.out(of, () => fmt.offer(of));
      }),
    );

  offer
    .command('rank')
    .description('rank live offers for a country or network by price and operator rating, and explain why')
    .option('--country <code>', 'where the service is needed', (s: string) => countriesArg(s)[0]!)
    .option('--network <mccmnc>', 'a specific network', (s: string) => networksArg(s)[0]!)
    .option('--kind <kind>', 'service kind', kindArg)
    .option('--volume-gb <gb>', 'data volume needed, GB', gbArg)
    .option('--budget <sdr>', 'most you will pay, SDR', amountArg)
    .option('--preference <p>', 'price, quality or balanced', preferenceArg, 'balanced')
    .option('--limit <n>', 'at most this many', int(1, 1000))
    .action(
      a<
        [],
        {
          country?: string;
          network?: string;
          kind?: OfferTermsInput['kind'];
          volumeGb?: bigint;
          budget?: bigint;
          preference: Preference;
          limit?: number;
        }
      >(async (ctx, o) => {
        if (o.country === undefined && o.network === undefined) {
          throw new UsageError('give --country or --network');
        }
        const res = await ctx.client.rankOffers({
          ...(o.country !== undefined ? { country: o.country } : {}),
          ...(o.network !== undefined ? { network: o.network } : {}),
          ...(o.kind !== undefined ? { kind: o.kind } : {}),
          ...(o.volumeGb !== undefined ? { volume: o.volumeGb } : {}),
          ...(o.budget !== undefined ? { budget: o.budget } : {}),
          preference: o.preference,
          ...(o.limit !== undefined ? { limit: o.limit } : {}),
        });
        ctx.out(res, () => fmt.ranked(res.items));
      }),
    );
}
