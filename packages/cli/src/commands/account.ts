/**
 * `roamchain account …`: on-chain accounts (show, create, rotate-keys).
 */
import { generateX25519 } from '@roamchain/protocol';
import type { Command } from 'commander';
import { nameArg } from '../args.js';
import * as fmt from '../format.js';
import { type CliContext, hexKeys, printTx } from './shared.js';

export function register(program: Command, cli: CliContext): void {
  const a = cli.action;
  const account = program.command('account').description('on-chain accounts');

  account
    .command('show')
    .description('show an account: roles, home operator, balances and public keys')
    .argument('<name>', 'account name')
    .action(
      a<[string]>(async (ctx, _o, [name]) => {
        const acc = await ctx.client.account(name);
        ctx.out(acc, () => fmt.account(acc));
      }),
    );

  account
    .command('create')
    .description(
      'create an account on chain with the keys of <name> from the keystore (generated when missing)\n' +
        'With --home-operator, that operator (who must be the creator) creates one of its subscribers.',
    )
    .argument('<name>', 'new account name', nameArg)
    .requiredOption('--creator <account>', 'account that signs and pays the fee', nameArg)
    .option(
      '--home-operator <operator>',
      'make it a subscriber of this operator (must be the creator)',
      nameArg,
    )
    .action(
      a<[string], { creator: string; homeOperator?: string }>(async (ctx, o, [name]) => {
        const ks = await ctx.keystore({ create: true });
        if (!ks.has(name)) {
          ks.generate(name);
          ks.save();
          ctx.note(`generated new keys for ${name} in ${ks.path}`);
        }
        const k = ks.get(name);
        const r = await ctx.client.createAccount(
          {
            creator: o.creator,
            name,
            signingKey: k.signingPublic,
            encryptionKey: k.encryptionPublic,
            ...(o.homeOperator !== undefined ? { homeOperator: o.homeOperator } : {}),
          },
          await ctx.signer(o.creator),
          ctx.submit,
        );
        printTx(ctx, r, { account: name });
      }),
    );

  account
    .command('rotate-keys')
    .description(
      'replace the signing and/or encryption key of an account with new keys (signed with the current key)',
    )
    .argument('<name>', 'account name (in the keystore)', nameArg)
    .option('--signing', 'rotate the signing key')
    .option('--encryption', 'rotate the encryption key')
    .action(
      a<[string], { signing?: boolean; encryption?: boolean }>(async (ctx, o, [name]) => {
        const both = !o.signing && !o.encryption;
        const ks = await ctx.keystore();
        const old = ks.get(name);
        const fresh = generateX25519(); // 32 random bytes for either key type
        const fresh2 = generateX25519();
        const next = {
          signingSecret: o.signing || both ? fresh.secretKey : old.signingSecret,
          encryptionSecret: o.encryption || both ? fresh2.secretKey : old.encryptionSecret,
        };
        // Keep the new keys in the keystore before the chain switches to them, so none is ever lost.
        const pendingName = `${name}~next`;
        if (ks.has(pendingName)) ks.remove(pendingName);
        ks.add(pendingName, next);
        ks.save();
        const nk = ks.get(pendingName);
        const r = await ctx.client.updateKeys(
          {
            account: name,
            ...(o.signing || both ? { signingKey: nk.signingPublic } : {}),
            ...(o.encryption || both ? { encryptionKey: nk.encryptionPublic } : {}),
          },
          { name, secretKey: old.signingSecret },
          ctx.submit,
        );
        if (r.status === 'included') {
          ks.remove(name);
          ks.add(name, next);
          ks.remove(pendingName);
          ks.save();
        } else {
          ctx.note(`not waiting: the new keys stay under "${pendingName}" until you confirm the inclusion`);
        }
        printTx(ctx, r, hexKeys(nk));
      }),
    );
}
