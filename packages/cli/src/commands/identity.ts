/**
 * `roamchain identity …`: identity attestations (attest, revoke, show, verify) and selective disclosure.
 */
import { writeFileSync } from 'node:fs';
import { encodeDisclosure, makeDisclosures, RoamError } from '@roamchain/protocol';
import {
  checkDisclosures,
  DAY_MS,
  disclosureStrings,
  disclosuresFile,
  fetchAttestation,
} from '@roamchain/sdk';
import { type Command, InvalidArgumentError } from 'commander';
import { nameArg } from '../args.js';
import * as fmt from '../format.js';
import { loadDisclosures, selectClaims } from './disclosures.js';
import { type CliContext, int, printTx } from './shared.js';

export function register(program: Command, cli: CliContext): void {
  const a = cli.action;
  const identity = program
    .command('identity')
    .description("identity attestations of an operator's subscribers");
  identity
    .command('attest')
    .description(
      'attest the identity of one of your subscribers (after KYC): only salted digests go on chain\n' +
        'Prints the disclosures: give them to the subscriber privately, they reveal chosen ones to visited operators.',
    )
    .argument('<subscriber>', 'the subscriber', nameArg)
    .requiredOption('--operator <operator>', 'its home operator (in the keystore)', nameArg)
    .requiredOption(
      '--claim <name=value>',
      'an identity claim, repeatable (e.g. --claim given_name=Alice --claim nationality=FR)',
      (v: string, prev: Record<string, string> | undefined) => {
        const i = v.indexOf('=');
        if (i <= 0) throw new InvalidArgumentError(`"${v}" is not name=value`);
        return { ...(prev ?? {}), [v.slice(0, i)]: v.slice(i + 1) };
      },
    )
    .option('--level <n>', 'assurance level', int(0, 255), 1)
    .option('--days <n>', 'validity in days (default 365)', int(1, 36_500))
    .option('--valid-days <n>', 'same as --days', int(1, 36_500))
    .option('--out <file>', "write the disclosures for the subscriber's wallet to this file (mode 0600)")
    .action(
      a<
        [string],
        {
          operator: string;
          claim: Record<string, string>;
          level: number;
          days?: number;
          validDays?: number;
          out?: string;
        }
      >(async (ctx, o, [subscriber]) => {
        const status = await ctx.client.status();
        const { disclosures, digests } = makeDisclosures(o.claim);
        const days = o.days ?? o.validDays ?? 365;
        const r = await ctx.client.attestIdentity(
          {
            operator: o.operator,
            subscriber,
            digests,
            level: o.level,
            expiresAt: BigInt(status.time) + BigInt(days) * DAY_MS,
          },
          await ctx.signer(o.operator),
          { ...ctx.submit, status },
        );
        if (o.out !== undefined) {
          const file = disclosuresFile(disclosures, {
            subscriber,
            operator: o.operator,
            attestation: r.attestationId,
          });
          writeFileSync(o.out, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600 });
        }
        ctx.out(
          {
            ...r,
            attestationId: r.attestationId,
            ...(o.out !== undefined ? { out: o.out } : { disclosures }),
          },
          () =>
            [
              fmt.txResult(r, [['attestation', r.attestationId]]),
              ...(o.out !== undefined
                ? [`disclosures written to ${o.out} (private: give them to ${subscriber} only)`]
                : [
                    'disclosures (private: give them to the subscriber only):',
                    ...disclosures.map((d) => `  ${encodeDisclosure(d)}`),
                  ]),
            ].join('\n'),
        );
      }),
    );
  identity
    .command('revoke')
    .description("revoke a subscriber's identity attestation (its home operator)")
    .argument('<subscriber>', 'the subscriber', nameArg)
    .requiredOption('--operator <operator>', 'its home operator (in the keystore)', nameArg)
    .option('--reason <n>', 'reason code', int(0, 65_535), 0)
    .action(
      a<[string], { operator: string; reason: number }>(async (ctx, o, [subscriber]) => {
        const r = await ctx.client.revokeIdentity(
          { operator: o.operator, subscriber, reason: o.reason },
          await ctx.signer(o.operator),
          ctx.submit,
        );
        printTx(ctx, r);
      }),
    );
  identity
    .command('show')
    .description("a subscriber's identity attestation on chain: digests only, no claim is on chain")
    .argument('<subscriber>', 'the subscriber', nameArg)
    .action(
      a<[string]>(async (ctx, _o, [subscriber]) => {
        const att = await ctx.client.identity(subscriber);
        const now = BigInt((await ctx.client.status()).time);
        const state =
          att.revokedAt !== '0'
            ? `revoked ${fmt.time(att.revokedAt)} (reason ${att.revokeReason})`
            : BigInt(att.expiresAt) <= now
              ? 'expired'
              : 'valid';
        ctx.out({ ...att, state }, () =>
          fmt.table([
            ['attestation', att.id],
            ['subscriber', att.subscriber],
            ['operator', att.operator],
            ['level', String(att.level)],
            ['state', state],
            ['issued', fmt.time(att.issuedAt)],
            ['expires', fmt.time(att.expiresAt)],
            ['digests', att.digests.join('\n              ')],
          ]),
        );
      }),
    );
  identity
    .command('verify')
    .description(
      "check disclosures (a subscriber's wallet file) against the attestation on chain\n" +
        'What a visited operator does with the claims a Request discloses; exits 1 when they do not verify.',
    )
    .argument('<subscriber>', 'the subscriber', nameArg)
    .requiredOption('--disclosures <file>', 'disclosures file')
    .option('--only <claims>', 'verify only these claims, comma separated')
    .action(
      a<[string], { disclosures: string; only?: string }>(async (ctx, o, [subscriber]) => {
        const chosen = selectClaims(loadDisclosures(o.disclosures), o.only);
        const att = await fetchAttestation(ctx.client, subscriber);
        const now = BigInt((await ctx.client.status()).time);
        const r = checkDisclosures(att, disclosureStrings(chosen), now);
        if (!r.ok) throw new RoamError('IDENTITY_INVALID', `${r.reason}: ${r.message}`, { reason: r.reason });
        ctx.out({ subscriber, attestation: att!.id, verified: true, claims: r.claims }, () =>
          [
            `verified against attestation ${att!.id} by ${att!.operator}:`,
            fmt.table(Object.entries(r.claims)),
          ].join('\n'),
        );
      }),
    );
}
