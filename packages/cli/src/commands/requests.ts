/**
 * `roamchain request open`, `charge`, `refund`, `rate`, `provision`: the life of a service smart contract.
 */
import { generateX25519, RoamError } from '@roamchain/protocol';
import { disclosureStrings, fetchAttestation, readDisclosures, verifyRequestIdentity } from '@roamchain/sdk';
import { type Command, Option } from 'commander';
import {
  amountArg,
  bpsArg,
  hex32Arg,
  mbArg,
  nameArg,
  positiveAmountArg,
  scoreArg,
  type UsageType,
  u64Arg,
  usageTypeArg,
} from '../args.js';
import { loadDisclosures, selectClaims } from './disclosures.js';
import { contractKeyName } from './private.js';
import { type CliContext, int, printTx, signers, UsageError } from './shared.js';

export function register(program: Command, cli: CliContext): void {
  const a = cli.action;
  const request = program.command('request').description('open service smart contracts');
  request
    .command('open')
    .description(
      'open a service smart contract on an offer for a subscriber of --issuer: freezes --deposit SDR of the payer.\n' +
        'Signs as the issuer and as the payer (both from the local keystore); the offer version is fetched as prev.',
    )
    .requiredOption('--issuer <operator>', "the subscriber's home operator (in the keystore)", nameArg)
    .requiredOption('--subscriber <account>', 'the subscriber', nameArg)
    .option('--payer <account>', 'who pays: the subscriber (default) or the issuer', nameArg)
    .requiredOption('--offer <id>', 'offer id', hex32Arg)
    .requiredOption('--deposit <sdr>', 'SDR frozen for the contract', positiveAmountArg)
    .option('--fee-bps <bps>', "issuer's fee on charges, basis points", bpsArg, 100)
    .addOption(
      new Option('--fee-deposit <umt>', 'UMT deposit that pays the later transactions')
        .argParser(amountArg)
        .default(1_000_000n, '1'),
    )
    .option('--step-timeout <sec>', 'most seconds between two steps', int(1, 4_294_967_295), 3600)
    .option('--lifetime <sec>', 'contract lifetime in seconds', int(1, 4_294_967_295), 604_800)
    .option('--attestation <id>', "the subscriber's identity attestation", hex32Arg)
    .option(
      '--disclosures <file>',
      "the subscriber's disclosures file (from identity attest --out); sealed to the assignee",
    )
    .option('--disclose <claims>', 'which claims to disclose, comma separated (default: all in the file)')
    .option('--eid <eid>', "the device's EID (32 digits), sealed to the assignee with the claims")
    .option('--imei <imei>', "the device's IMEI, sealed to the assignee")
    .action(
      a<
        [],
        {
          issuer: string;
          subscriber: string;
          payer?: string;
          offer: string;
          deposit: bigint;
          feeBps: number;
          feeDeposit: bigint;
          stepTimeout: number;
          lifetime: number;
          attestation?: string;
          disclosures?: string;
          disclose?: string;
          eid?: string;
          imei?: string;
        }
      >(async (ctx, o) => {
        const payer = o.payer ?? o.subscriber;
        let disclose: { disclosures: string[]; eid: string; imei?: string } | undefined;
        let attestation = o.attestation;
        if (o.disclosures !== undefined || o.eid !== undefined) {
          if (o.eid === undefined) throw new UsageError('--disclosures needs --eid <EID>');
          const all = o.disclosures !== undefined ? loadDisclosures(o.disclosures) : [];
          const chosen = selectClaims(all, o.disclose);
          disclose = {
            disclosures: disclosureStrings(chosen),
            eid: o.eid,
            ...(o.imei !== undefined ? { imei: o.imei } : {}),
          };
          // Reference the current attestation, so the chain checks it is valid and not revoked.
          if (attestation === undefined && chosen.length > 0) {
            attestation = (await fetchAttestation(ctx.client, o.subscriber))?.id;
          }
        } else if (o.disclose !== undefined || o.imei !== undefined) {
          throw new UsageError('--disclose and --imei need --disclosures <file> and --eid <EID>');
        }
        const r = await ctx.client.openRequest(
          {
            issuer: o.issuer,
            subscriber: o.subscriber,
            payer,
            offer: o.offer,
            deposit: o.deposit,
            issuerFeeBps: o.feeBps,
            feeDeposit: o.feeDeposit,
            stepTimeoutSec: o.stepTimeout,
            lifetimeSec: o.lifetime,
            ...(attestation !== undefined ? { attestation } : {}),
            ...(disclose !== undefined ? { disclose } : {}),
          },
          await signers(ctx, [o.issuer, payer]),
          ctx.submit,
        );
        const { ephemeralSecret, ...res } = r;
        if (ephemeralSecret) {
          // Kept (encrypted) to open what the assignee provisions: `contract provisioning <id>`.
          const ks = await ctx.keystore();
          const n = contractKeyName(r.contractId);
          if (!ks.has(n))
            ks.add(n, { signingSecret: generateX25519().secretKey, encryptionSecret: ephemeralSecret });
          ks.save();
        }
        printTx(ctx, res, {
          contractId: r.contractId,
          ...(disclose !== undefined
            ? {
                disclosed:
                  readDisclosures(disclose.disclosures)
                    .map((d) => d.name)
                    .join(',') || '-',
                eid: disclose.eid,
              }
            : {}),
        });
      }),
    );

  program
    .command('charge')
    .description(
      'bill one step of service against the frozen deposit (signed by the assignee)\n' +
        'The contract head and the next sequence number are fetched from the node unless given.',
    )
    .argument('<contract>', 'contract id', hex32Arg)
    .requiredOption(
      '--assignee <operator>',
      'the visited operator that serves the contract (in the keystore)',
      nameArg,
    )
    .requiredOption('--amount <sdr>', 'SDR billed by this step', amountArg)
    .option('--mb-down <mb>', 'downloaded volume of this step, MB', mbArg)
    .option('--mb-up <mb>', 'uploaded volume of this step, MB', mbArg)
    .option('--usage-type <type>', 'data, voice, sms, package or content', usageTypeArg, 'data')
    .option('--units <n>', 'units used (minutes, SMS, …)', u64Arg)
    .option('--seq <n>', 'charge sequence number (default: the next one)', int(1, 4_294_967_295))
    .option('--prev <hash>', 'contract head this step follows (default: the current head)', hex32Arg)
    .action(
      a<
        [string],
        {
          assignee: string;
          amount: bigint;
          mbDown?: bigint;
          mbUp?: bigint;
          usageType: UsageType;
          units?: bigint;
          seq?: number;
          prev?: string;
        }
      >(async (ctx, o, [contract]) => {
        const r = await ctx.client.charge(
          {
            assignee: o.assignee,
            contract,
            amount: o.amount,
            usageType: o.usageType,
            ...(o.mbDown !== undefined ? { volumeDown: o.mbDown } : {}),
            ...(o.mbUp !== undefined ? { volumeUp: o.mbUp } : {}),
            ...(o.units !== undefined ? { units: o.units } : {}),
            ...(o.seq !== undefined ? { seq: o.seq } : {}),
            ...(o.prev !== undefined ? { prev: o.prev } : {}),
          },
          await ctx.signer(o.assignee),
          ctx.submit,
        );
        printTx(ctx, r, { contractId: contract });
      }),
    );

  program
    .command('refund')
    .description(
      'close a contract and settle it (by its assignee, issuer, subscriber or payer)\n' +
        'The assignee gets the charges, the issuer its fee on them, the payer the rest. No time limit.',
    )
    .argument('<contract>', 'contract id', hex32Arg)
    .requiredOption('--by <account>', 'party closing the contract (in the keystore)', nameArg)
    .option('--bad-service', 'mark the service as bad (counts against the assignee rating)')
    .option('--reason <n>', 'reason code', int(0, 65_535), 0)
    .option('--prev <hash>', 'contract head (default: the current head)', hex32Arg)
    .action(
      a<[string], { by: string; badService?: boolean; reason: number; prev?: string }>(
        async (ctx, o, [contract]) => {
          const r = await ctx.client.refund(
            {
              by: o.by,
              contract,
              badService: o.badService ?? false,
              reason: o.reason,
              ...(o.prev !== undefined ? { prev: o.prev } : {}),
            },
            await ctx.signer(o.by),
            ctx.submit,
          );
          printTx(ctx, r, { contractId: contract });
        },
      ),
    );

  program
    .command('rate')
    .description('rate the service of a closed contract, 1 to 5 (its subscriber, once)')
    .argument('<contract>', 'contract id', hex32Arg)
    .requiredOption('--subscriber <account>', 'the subscriber (in the keystore)', nameArg)
    .requiredOption('--score <1-5>', 'score', scoreArg)
    .action(
      a<[string], { subscriber: string; score: number }>(async (ctx, o, [contract]) => {
        const r = await ctx.client.rate(
          { subscriber: o.subscriber, contract, score: o.score },
          await ctx.signer(o.subscriber),
          ctx.submit,
        );
        printTx(ctx, r, { contractId: contract });
      }),
    );

  program
    .command('provision')
    .description(
      'send the subscriber what it needs to install the profile (the assignee, once per contract)\n' +
        "Sealed for the requester (the Request's ephemeral key) and for the issuer; nodes cannot read it.",
    )
    .argument('<contract>', 'contract id', hex32Arg)
    .requiredOption(
      '--assignee <operator>',
      'the visited operator (in the keystore, with its encryption key)',
      nameArg,
    )
    .option('--iccid <iccid>', 'ICCID of the profile (only its hash goes on chain in clear)')
    .option('--activation-code <code>', 'SGP.22 activation code, e.g. LPA:1$smdp.example$ABC')
    .option(
      '--smdp <url>',
      "order the profile at this SM-DP+ (ES2+ downloadOrder / confirmOrder for the subscriber's EID):\n" +
        'the ICCID and the activation code then come from it',
    )
    .option(
      '--eid <eid>',
      "the device's EID (default: from the Request's payload, verified against the chain)",
    )
    .option(
      '--confirmation-code <code>',
      'with --smdp: require this confirmation code at download ($$1 flag)',
    )
    .option('--profile-type <type>', 'with --smdp: the profile type to order', 'roaming-data')
    .option('--apn <apn>', 'APN')
    .option('--prev <hash>', 'contract head (default: the current head)', hex32Arg)
    .action(
      a<
        [string],
        {
          assignee: string;
          iccid?: string;
          activationCode?: string;
          smdp?: string;
          eid?: string;
          confirmationCode?: string;
          profileType: string;
          apn?: string;
          prev?: string;
        }
      >(async (ctx, o, [contract]) => {
        const ks = await ctx.keystore();
        const k = ks.get(o.assignee);
        let iccid = o.iccid;
        let code = o.activationCode;
        const extra: Record<string, string> = {};
        if (o.smdp !== undefined) {
          if (iccid !== undefined || code !== undefined)
            throw new UsageError('--smdp orders the profile: do not give --iccid or --activation-code');
          let eid = o.eid;
          if (eid === undefined) {
            const check = await verifyRequestIdentity(ctx.client, {
              contractId: contract,
              assigneeEncryptionSecret: k.encryptionSecret,
            });
            if (!check.ok) {
              throw new RoamError(
                'IDENTITY_INVALID',
                `${check.reason}: ${check.message} (refund with --reason ${check.refundReason})`,
                { reason: check.reason, refundReason: check.refundReason },
              );
            }
            eid = check.eid;
          }
          const { smdpClient, activationCode } = await import('@roamchain/smdp');
          const es2 = smdpClient(o.smdp);
          const order = await es2.downloadOrder({ eid, profileType: o.profileType });
          const conf = await es2.confirmOrder({
            iccid: order.iccid,
            eid,
            releaseFlag: true,
            ...(o.confirmationCode !== undefined ? { confirmationCode: o.confirmationCode } : {}),
          });
          iccid = order.iccid;
          code = activationCode(conf.smdpAddress, conf.matchingId, o.confirmationCode !== undefined);
          extra.smdp = conf.smdpAddress;
        }
        if (iccid === undefined || code === undefined)
          throw new UsageError('give --iccid and --activation-code, or --smdp <url>');
        const plaintext = new TextEncoder().encode(
          JSON.stringify({
            activationCode: code,
            ...(o.confirmationCode !== undefined ? { confirmationCode: o.confirmationCode } : {}),
            iccid,
            ...(o.apn ? { apn: o.apn } : {}),
          }),
        );
        const r = await ctx.client.provision(
          {
            assignee: o.assignee,
            contract,
            iccid,
            plaintext,
            encryptionSecret: k.encryptionSecret,
            ...(o.prev !== undefined ? { prev: o.prev } : {}),
          },
          { name: o.assignee, secretKey: k.signingSecret },
          ctx.submit,
        );
        printTx(ctx, r, { contractId: contract, ...extra });
      }),
    );
}
