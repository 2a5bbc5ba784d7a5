/**
 * `roamchain contract topup …` (more SDR deposit on an open contract) and `roamchain offer pause|resume`
 * (docs/CONTRACT.md). Registered into the `contract` and `offer` command groups (after their modules in program.ts).
 *
 *   roamchain contract topup <contract> --amount 5 --payer alice [--issuer op-fr] [--agent http://…] [--fee-deposit 0.1]
 *   roamchain offer pause <offer> --operator telco-de | offer resume <offer> --operator telco-de
 *
 * A top-up needs the payer's and the issuer's signatures: with `--agent` the payer signs here and
 * the issuer's agent countersigns under its policy (POST /v1/countersign); without it both keys
 * come from the keystore.
 */
import { bytesToHex, encode, isErrorCode, RoamError, unsignedTx } from '@roamchain/protocol';
import { signUnsigned, signWith, type TxResult } from '@roamchain/sdk';
import { type Command, InvalidArgumentError } from 'commander';
import { amountArg, hex32Arg, nameArg, positiveAmountArg } from '../args.js';
import { type CliContext, printTx } from './shared.js';

function urlArg(s: string): string {
  try {
    const u = new URL(s);
    if (u.protocol === 'http:' || u.protocol === 'https:') return s.replace(/\/+$/, '');
  } catch {}
  throw new InvalidArgumentError('expected an http(s) URL');
}

/** The command group `name` of the program (created by program.ts), or a new one. */
function group(program: Command, name: string, description: string): Command {
  return program.commands.find((c) => c.name() === name) ?? program.command(name).description(description);
}

interface TopUpOpts {
  amount: bigint;
  payer: string;
  issuer?: string;
  agent?: string;
  feeDeposit?: bigint;
  prev?: string;
}

export function register(program: Command, cli: CliContext): void {
  const act = cli.action;

  group(program, 'contract', 'inspect and watch service smart contracts')
    .command('topup')
    .description(
      'add SDR deposit to an open contract (signed by its payer and its issuer)\n' +
        "With --agent the payer signs here and the issuer's agent countersigns under its policy;\n" +
        'without it both keys must be in the keystore. The deposit left is returned at closing.',
    )
    .argument('<contract>', 'contract id', hex32Arg)
    .requiredOption('--amount <sdr>', 'SDR to add to the deposit', positiveAmountArg)
    .requiredOption('--payer <account>', 'the contract payer (in the keystore)', nameArg)
    .option('--issuer <operator>', "the contract issuer (default: the contract's)", nameArg)
    .option('--agent <url>', "the issuer's agent, which countersigns (POST /v1/countersign)", urlArg)
    .option('--fee-deposit <umt>', 'UMT the issuer adds to the contract fee deposit (default 0)', amountArg)
    .option('--prev <hash>', 'contract head (default: the current head)', hex32Arg)
    .action(
      act<[string], TopUpOpts>(async (ctx, o, [contract]) => {
        const c = (await ctx.client.contract(contract)).contract;
        const issuer = o.issuer ?? c.issuer;
        const payerSigner = await ctx.signer(o.payer);
        const p = await ctx.client.prepareTopUp({
          issuer,
          payer: o.payer,
          contract,
          prev: o.prev ?? c.head,
          amount: o.amount,
          feeDeposit: o.feeDeposit ?? 0n,
        });
        let r: TxResult;
        if (o.agent !== undefined) {
          const res = await fetch(`${o.agent}/v1/countersign`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({
              tx: bytesToHex(encode(unsignedTx, p.tx)),
              subscriber: o.payer,
              signature: bytesToHex(signUnsigned(p.tx, payerSigner.secretKey)),
            }),
            signal: AbortSignal.timeout(30_000),
          });
          const j = (await res.json().catch(() => ({}))) as { code?: unknown; message?: unknown };
          if (!res.ok)
            throw new RoamError(
              isErrorCode(j.code) ? j.code : 'BAD_REQUEST',
              `the agent refused: ${typeof j.message === 'string' ? j.message : res.status}`,
            );
          r = await ctx.client.waitForTx(p.txId, ctx.submit.timeoutMs);
        } else {
          const signed = signWith(p.tx, [payerSigner, await ctx.signer(issuer)]);
          r = await ctx.client.submitTx(signed, ctx.submit);
        }
        const after = (await ctx.client.contract(contract)).contract;
        printTx(ctx, r, { contractId: contract, deposit: after.deposit });
      }),
    );

  const offer = group(program, 'offer', 'publish, change, find and rank service offers');
  for (const [name, paused] of [
    ['pause', true],
    ['resume', false],
  ] as const) {
    offer
      .command(name)
      .description(
        paused
          ? 'take an offer off sale without withdrawing it (Requests refused: OFFER_PAUSED)'
          : 'put a paused offer back on sale',
      )
      .argument('<offer>', 'offer id', hex32Arg)
      .requiredOption('--operator <account>', 'the publishing operator (in the keystore)', nameArg)
      .action(
        act<[string], { operator: string }>(async (ctx, o, [id]) => {
          const args = { operator: o.operator, offer: id };
          const signer = await ctx.signer(o.operator);
          const r = paused
            ? await ctx.client.pauseOffer(args, signer, ctx.submit)
            : await ctx.client.resumeOffer(args, signer, ctx.submit);
          printTx(ctx, r, { offerId: id });
        }),
      );
  }
}
