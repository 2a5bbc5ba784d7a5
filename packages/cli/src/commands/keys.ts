/**
 * `roamchain keys …`: the local encrypted keystore (private keys never leave it).
 */
import { bytesToHex, generateX25519, RoamError } from '@roamchain/protocol';
import type { Command } from 'commander';
import { nameArg, seedHexArg } from '../args.js';
import type { Ctx } from '../context.js';
import * as fmt from '../format.js';
import { type CliContext, hexKeys } from './shared.js';

/** A name's public keys, readable or as JSON (`extra` rows after them, e.g. the keystore). */
function outKeys(
  ctx: Ctx,
  name: string,
  pub: ReturnType<typeof hexKeys>,
  extra: Record<string, string> = {},
): void {
  ctx.out({ name, ...pub, ...extra }, () =>
    fmt.table([
      ['name', name],
      ['signing key', pub.signingKey],
      ['encryption key', pub.encryptionKey],
      ...Object.entries(extra),
    ]),
  );
}

export function register(program: Command, cli: CliContext): void {
  const a = cli.action;
  const keys = program
    .command('keys')
    .description('manage the local encrypted keystore (private keys never leave it)');

  keys
    .command('new')
    .description('generate a new signing (Ed25519) and encryption (X25519) key pair under a name')
    .argument('<name>', 'account name the keys are for', nameArg)
    .action(
      a<[string]>(async (ctx, _o, [name]) => {
        const ks = await ctx.keystore({ create: true });
        if (ks.has(name)) throw new RoamError('BAD_REQUEST', `keystore already has keys named ${name}`);
        const k = ks.generate(name);
        ks.save();
        const pub = hexKeys(k);
        outKeys(ctx, name, pub, { keystore: ks.path });
      }),
    );

  keys
    .command('import')
    .description('import an existing key: the Ed25519 seed (and optionally the X25519 secret) as hex')
    .argument('<name>', 'account name', nameArg)
    .requiredOption('--seed-hex <hex>', 'Ed25519 signing seed, 32 bytes as 64 hex characters', seedHexArg)
    .option(
      '--encryption-hex <hex>',
      'X25519 encryption secret, 32 bytes hex (a new random one when omitted)',
      seedHexArg,
    )
    .action(
      a<[string], { seedHex: string; encryptionHex?: string }>(async (ctx, o, [name]) => {
        const ks = await ctx.keystore({ create: true });
        if (ks.has(name)) throw new RoamError('BAD_REQUEST', `keystore already has keys named ${name}`);
        const enc = o.encryptionHex
          ? Uint8Array.from(Buffer.from(o.encryptionHex, 'hex'))
          : generateX25519().secretKey;
        ks.add(name, {
          signingSecret: Uint8Array.from(Buffer.from(o.seedHex, 'hex')),
          encryptionSecret: enc,
        });
        ks.save();
        const pub = hexKeys(ks.get(name));
        if (!o.encryptionHex)
          ctx.note('note: no --encryption-hex given, a new random encryption key was generated');
        outKeys(ctx, name, pub);
      }),
    );

  keys
    .command('import-devnet')
    .description(
      'import the deterministic keys of devnet accounts (e.g. the demo operators, gateway and subscribers).\n' +
        'WARNING: these keys are derived from public names and are PUBLIC demo keys: anyone can compute them.\n' +
        'Use them only with a local devnet or tests, never on a real chain.',
    )
    .argument('<names...>', 'devnet account names', (v: string, prev: string[] | undefined) => [
      ...(prev ?? []),
      nameArg(v),
    ])
    .option('--seed <phrase>', 'devnet seed phrase the keys derive from', 'roamchain-devnet')
    .action(
      a<[string[]], { seed: string }>(async (ctx, o, [names]) => {
        const { derivedKeys } = await import('@roamchain/state');
        const ks = await ctx.keystore({ create: true });
        const out: { name: string; signingKey: string; encryptionKey: string; status: string }[] = [];
        for (const name of names) {
          const k = derivedKeys(name, o.seed);
          let status = 'imported';
          if (ks.has(name)) {
            const have = ks.get(name);
            if (bytesToHex(have.signingSecret) !== bytesToHex(k.signing.secretKey)) {
              throw new RoamError('BAD_REQUEST', `keystore already has different keys named ${name}`);
            }
            status = 'already present';
          } else {
            ks.add(name, { signingSecret: k.signing.secretKey, encryptionSecret: k.encryption.secretKey });
          }
          out.push({
            name,
            signingKey: bytesToHex(k.signing.publicKey),
            encryptionKey: bytesToHex(k.encryption.publicKey),
            status,
          });
        }
        ks.save();
        ctx.out(out, () => out.map((k) => `${k.name.padEnd(16)} ${k.signingKey}  ${k.status}`).join('\n'));
      }),
    );

  keys
    .command('list')
    .description('list the names in the keystore with their public signing keys')
    .option('--all', 'also list the ephemeral keys kept for contracts you opened (ssc/<id>)')
    .action(
      a<[], { all?: boolean }>(async (ctx, o) => {
        const ks = await ctx.keystore();
        const names = ks.list().filter((n) => o.all || !n.startsWith('ssc/'));
        const out = names.map((name) => ({ name, ...hexKeys(ks.get(name)) }));
        ctx.out(out, () =>
          out.length
            ? out.map((k) => `${k.name.padEnd(16)} ${k.signingKey}`).join('\n')
            : 'keystore is empty',
        );
      }),
    );

  keys
    .command('show')
    .description('show the public keys of a name (never the secrets)')
    .argument('<name>', 'name in the keystore')
    .action(
      a<[string]>(async (ctx, _o, [name]) => {
        const pub = hexKeys((await ctx.keystore()).get(name));
        outKeys(ctx, name, pub);
      }),
    );

  keys
    .command('remove')
    .description('delete the keys of a name from the keystore (irreversible)')
    .argument('<name>', 'name in the keystore')
    .action(
      a<[string]>(async (ctx, _o, [name]) => {
        const ks = await ctx.keystore();
        if (!ks.remove(name)) throw new RoamError('KEYSTORE_NO_KEY', `No key named ${name} in the keystore`);
        ks.save();
        ctx.out({ name, removed: true }, () => `removed ${name}`);
      }),
    );
}
