/**
 * `roamchain gov …` (proposals and votes of the admitted operators) and `roamchain prices …` (the
 * SDR rate, its history, Super Node feeds). docs/GOVERNANCE.md.
 *
 *   roamchain gov propose admit newco --role operator --display-name "NewCo" --country TR --proposer op-a
 *   roamchain gov propose param fees.transfer 2000 --proposer op-a
 *   roamchain gov vote <proposal> --voter op-b --approve
 *   roamchain gov list [--status open] | gov show <proposal> | gov status
 *   roamchain prices [--history 30] | prices feed --validator node-1 --eur 1.085 --cny 7.25 --jpy 149.5 --gbp 1.27
 */
import { ADMITTED_ROLES, type AdmittedRole, RoamError } from '@roamchain/protocol';
import type { ProposalInput, ProposalJson } from '@roamchain/sdk';
import { type Command, Option } from 'commander';
import { countriesArg, hex32Arg, intArg, nameArg, networksArg, u64Arg } from '../args.js';
import type { Ctx } from '../context.js';
import * as fmt from '../format.js';
import { type CliContext, printTx } from './shared.js';

const proposalLine = (p: ProposalJson) => {
  const a = p.action;
  const what =
    a.kind === 'param'
      ? `${a.param} = ${a.value}`
      : a.kind === 'upgrade'
        ? `version ${a.version} at height ${a.value}`
        : `${a.account}${a.role ? ` (${a.role})` : ''}`;
  return `#${p.seq} ${p.id.slice(0, 12)}…  ${p.status.padEnd(8)} ${a.kind} ${what}  yes ${p.yes}/${p.needed} of ${p.electorate}, no ${p.no}`;
};

const roleOption = () =>
  new Option('--role <role>', 'the role').choices([...ADMITTED_ROLES]).makeOptionMandatory();

export function register(program: Command, cli: CliContext): void {
  const act = cli.action;
  const gov = program
    .command('gov')
    .description('governance: proposals and votes of the admitted operators (more than 2/3 pass)');

  const propose = gov
    .command('propose')
    .description('propose an action (signed by --proposer, an admitted operator; it counts as its yes vote)');
  const common = (c: Command) =>
    c
      .requiredOption('--proposer <name>', 'the proposing operator (in the keystore)', nameArg)
      .option('--hours <n>', 'voting period in hours (default 72)', (s) => intArg(s, 1, 24 * 90), 72)
      .option('--note <text>', 'a note (at most 200 characters)', '');
  const send = async (ctx: Ctx, o: { proposer: string; hours: number; note: string }, a: ProposalInput) => {
    const deadline = BigInt(Date.now()) + BigInt(o.hours) * 3_600_000n;
    const r = await ctx.client.propose(
      { proposer: o.proposer, action: a, deadline, note: o.note },
      await ctx.signer(o.proposer),
      ctx.submit,
    );
    printTx(ctx, r, { proposalId: r.proposalId });
  };
  type Common = { proposer: string; hours: number; note: string };

  common(
    propose
      .command('admit')
      .description('admit an operator, provider or gateway')
      .argument('<account>', 'the account to admit', nameArg)
      .addOption(roleOption())
      .requiredOption('--display-name <text>', 'its display name')
      .requiredOption('--country <CC>', 'its country (ISO 3166 alpha-2)', (s) => countriesArg(s)[0]!)
      .option('--networks <list>', 'its networks, MCC-MNC, comma-separated', networksArg),
  ).action(
    act<[string], Common & { role: AdmittedRole; displayName: string; country: string; networks?: string[] }>(
      async (ctx, o, [account]) =>
        send(ctx, o, {
          kind: 'admit',
          account,
          role: o.role,
          displayName: o.displayName,
          country: o.country,
          networks: o.networks ?? [],
        }),
    ),
  );
  common(
    propose
      .command('remove')
      .description('remove a role from an account')
      .argument('<account>', 'the account', nameArg)
      .addOption(roleOption()),
  ).action(
    act<[string], Common & { role: AdmittedRole }>(async (ctx, o, [account]) =>
      send(ctx, o, { kind: 'remove', account, role: o.role }),
    ),
  );
  common(
    propose
      .command('validator-register')
      .description(
        'register (or re-admit) a Super Node with its node key; it enters the set at the next epoch',
      )
      .argument('<account>', 'the owner account', nameArg)
      .requiredOption('--node-key <hex>', "the node's Ed25519 public key", hex32Arg),
  ).action(
    act<[string], Common & { nodeKey: string }>(async (ctx, o, [account]) =>
      send(ctx, o, { kind: 'validator_register', account, nodeKey: o.nodeKey }),
    ),
  );
  common(
    propose
      .command('validator-remove')
      .description('remove a Super Node (out of the set at the next epoch)')
      .argument('<account>', 'the owner account', nameArg),
  ).action(
    act<[string], Common>(async (ctx, o, [account]) => send(ctx, o, { kind: 'validator_remove', account })),
  );
  common(
    propose
      .command('param')
      .description(
        'change a chain parameter or a fee: <param> is a name (see `gov status`) or fees.<operation>\n' +
          '<value> is a whole number in the parameter’s unit (base units, ms, bps, blocks…)',
      )
      .argument('<param>', 'parameter name')
      .argument('<value>', 'new value', u64Arg),
  ).action(
    act<[string, bigint], Common>(async (ctx, o, [param, value]) =>
      send(ctx, o, { kind: 'param', param, value }),
    ),
  );
  common(
    propose
      .command('upgrade')
      .description('schedule a protocol upgrade at a height')
      .requiredOption('--version <n>', 'protocol version (2 or more)', (s) => intArg(s, 2, 65_535))
      .requiredOption('--height <h>', 'activation height', u64Arg),
  ).action(
    act<[], Common & { version: number; height: bigint }>(async (ctx, o) =>
      send(ctx, o, { kind: 'upgrade', version: o.version, height: o.height }),
    ),
  );

  gov
    .command('vote')
    .description('vote on a proposal (signed by --voter, an admitted operator; once, before the deadline)')
    .argument('<proposal>', 'proposal id', hex32Arg)
    .requiredOption('--voter <name>', 'the voting operator (in the keystore)', nameArg)
    .option('--approve', 'vote yes')
    .option('--reject', 'vote no')
    .action(
      act<[string], { voter: string; approve?: boolean; reject?: boolean }>(async (ctx, o, [proposal]) => {
        if (!o.approve === !o.reject)
          throw new RoamError('BAD_REQUEST', 'give exactly one of --approve or --reject');
        const r = await ctx.client.vote(
          { voter: o.voter, proposal, approve: o.approve === true },
          await ctx.signer(o.voter),
          ctx.submit,
        );
        printTx(ctx, r);
      }),
    );
  gov
    .command('list')
    .description('proposals, newest first')
    .addOption(
      new Option('--status <status>', 'only this status').choices([
        'open',
        'passed',
        'executed',
        'failed',
        'rejected',
      ]),
    )
    .option('--limit <n>', 'at most n (default 50)', (s) => intArg(s, 1, 200))
    .action(
      act<[], { status?: ProposalJson['status']; limit?: number }>(async (ctx, o) => {
        const r = await ctx.client.proposals({
          ...(o.status ? { status: o.status } : {}),
          ...(o.limit ? { limit: o.limit } : {}),
        });
        ctx.out(r, () => (r.items.length ? r.items.map(proposalLine).join('\n') : 'no proposals'));
      }),
    );
  gov
    .command('show')
    .description('one proposal with its votes')
    .argument('<proposal>', 'proposal id', hex32Arg)
    .action(
      act<[string], object>(async (ctx, _o, [id]) => {
        const p = await ctx.client.proposal(id);
        ctx.out(p, () =>
          [
            proposalLine(p),
            `  proposer ${p.proposer}, deadline ${fmt.time(p.deadline)}${p.note ? `, note: ${p.note}` : ''}`,
            ...(p.result ? [`  result ${p.result}`] : []),
            ...(p.votes ?? []).map((v) => `  ${v.approve ? 'yes' : 'no '} ${v.voter}`),
          ].join('\n'),
        );
      }),
    );
  gov
    .command('status')
    .description('admitted operators and their participation, pending changes, scheduled upgrade')
    .action(
      act<[], object>(async (ctx) => {
        const g = await ctx.client.governance();
        ctx.out(g, () =>
          [
            `${g.proposals} proposals so far; ${g.operators.length} admitted operators:`,
            ...g.operators.map(
              (x) =>
                `  ${x.account.padEnd(32)} skipped ${x.skipped}${x.idle ? '  IDLE (rating halved, out of the set)' : ''}`,
            ),
            ...g.pending.map((c) => `pending at the epoch boundary: ${c.param} = ${c.value}`),
            ...(g.upgrade
              ? [
                  `upgrade to version ${g.upgrade.version} at height ${g.upgrade.height} (${g.upgrade.blocksLeft} blocks left)` +
                    (g.upgrade.supported
                      ? ''
                      : `: this node implements version ${g.upgrade.implemented} and will STOP before that height — upgrade it`),
                ]
              : []),
          ].join('\n'),
        );
      }),
    );

  gov
    .command('supernodes')
    .description(
      'Super Nodes by Proof of Importance (SLA days of the last 100) and their place in the next set',
    )
    .action(
      act<[], object>(async (ctx) => {
        const r = await ctx.client.superNodes();
        ctx.out(
          r,
          () =>
            r.items
              .map(
                (x) =>
                  `${x.account.padEnd(32)} ${x.status.padEnd(9)} SLA days ${String(x.slaDays).padStart(3)}/100  bond ${x.bond}${x.inSet ? '  in set' : ''}${x.idle ? '  IDLE' : ''}`,
              )
              .join('\n') || 'no Super Nodes',
        );
      }),
    );

  const prices = program
    .command('prices')
    .description('the SDR rate from the Super Nodes’ price feeds (IMF valuation), its history, feeds')
    .option('--history <days>', 'daily fixings of the last <days> days', (s) => intArg(s, 1, 366))
    .action(
      act<[], { history?: number }>(async (ctx, o) => {
        if (o.history !== undefined) {
          const h = await ctx.client.priceHistory(o.history);
          ctx.out(h, () =>
            h.items.length
              ? h.items
                  .map((x) => `${x.date}  1 SDR = ${x.usdPerSdr} USD  (${x.feeders.length} feeds)`)
                  .join('\n')
              : 'no fixings',
          );
          return;
        }
        const p = await ctx.client.prices();
        ctx.out(p, () =>
          [
            p.fresh ? `1 SDR = ${p.usdPerSdr} USD (height ${p.height})` : 'no fresh SDR rate',
            ...Object.entries(p.sdr).map(([c, v]) => `  1 SDR = ${v} ${c}`),
            ...p.feeds.map(
              (f) =>
                `  feed ${f.validator} ${fmt.time(String(f.time))}${f.fresh ? '' : ' (stale)'}: EUR ${f.rates.EUR} CNY ${f.rates.CNY} JPY ${f.rates.JPY} GBP ${f.rates.GBP}`,
            ),
          ].join('\n'),
        );
      }),
    );
  prices
    .command('feed')
    .description(
      'publish exchange rates as a Super Node of the active set (signed by --validator)\n' +
        'EUR and GBP in US dollars per unit, CNY and JPY in units per US dollar (at most 9 decimals).',
    )
    .requiredOption('--validator <name>', 'the Super Node owner account (in the keystore)', nameArg)
    .requiredOption('--eur <rate>', 'USD per EUR')
    .requiredOption('--cny <rate>', 'CNY per USD')
    .requiredOption('--jpy <rate>', 'JPY per USD')
    .requiredOption('--gbp <rate>', 'USD per GBP')
    .action(
      act<[], { validator: string; eur: string; cny: string; jpy: string; gbp: string }>(async (ctx, o) => {
        const r = await ctx.client.publishPriceFeed(
          { validator: o.validator, rates: { EUR: o.eur, CNY: o.cny, JPY: o.jpy, GBP: o.gbp } },
          await ctx.signer(o.validator),
          ctx.submit,
        );
        printTx(ctx, r);
      }),
    );
}
