/**
 * The `roamchain` command line: every operation of the chain, signed locally from the encrypted
 * keystore, submitted to a node's Web-API. `run(argv, io)` returns the exit code: 0 ok, 1 error
 * (`error CODE: message` on stderr), 2 usage error.
 */

import { readFileSync, writeFileSync } from 'node:fs';
import {
  bytesToHex,
  type Disclosure,
  type ErrorCode,
  encodeDisclosure,
  generateX25519,
  hexToBytes,
  makeDisclosures,
  RoamError,
  VALIDATOR_SET_STATUSES,
} from '@roamchain/protocol';
import {
  checkDisclosures,
  DAY_MS,
  disclosureStrings,
  disclosuresFile,
  type FeedEventJson,
  fetchAttestation,
  type OfferTermsInput,
  offerTermsFromJson,
  openMemo,
  openProvisioningAsIssuer,
  openProvisioningAsRequester,
  RoamNetworkError,
  readDisclosures,
  type Signer,
  type Subscription,
  type TxResult,
  type ValidatorJson,
  type ValidatorSetStatus,
  verifyRequestIdentity,
} from '@roamchain/sdk';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import {
  amountArg,
  bpsArg,
  countriesArg,
  daysArg,
  gbArg,
  hex32Arg,
  intArg,
  kindArg,
  mbArg,
  nameArg,
  networksArg,
  type Preference,
  positiveAmountArg,
  preferenceArg,
  scoreArg,
  seedHexArg,
  techArg,
  tokenArg,
  type UsageType,
  u64Arg,
  usageTypeArg,
} from './args.js';
import { registerBackupCommands } from './backup.js';
import { Ctx, ENV_API, ENV_KEYSTORE, ENV_PASSPHRASE, type GlobalOptions, type Io } from './context.js';
import * as fmt from './format.js';
import { registerGovernanceCommands } from './governance.js';
import { registerMiniCommands } from './mini.js';
import { registerOperatorCommands } from './operator.js';
import { registerSubmitCommand } from './submit.js';

/** Keystore entry holding a contract's ephemeral X25519 secret (as its encryption secret). */
export const contractKeyName = (contractId: string) => `ssc/${contractId}`;

/** Reads a disclosures file (identity attest --out, or the devnet's wallet/<subscriber>.disclosures.json). */
function loadDisclosures(file: string): Disclosure[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new RoamError('BAD_REQUEST', `cannot read disclosures file ${file}: ${(e as Error).message}`);
  }
  try {
    return readDisclosures(parsed);
  } catch (e) {
    throw new RoamError('BAD_REQUEST', `${file}: ${(e as Error).message}`);
  }
}

/** The disclosures of the claims named in `only` (comma separated; all when undefined). */
function selectClaims(all: Disclosure[], only: string | undefined): Disclosure[] {
  if (only === undefined) return all;
  const names = only
    .split(',')
    .map((n) => n.trim())
    .filter(Boolean);
  const out: Disclosure[] = [];
  for (const n of names) {
    const d = all.find((x) => x.name === n);
    if (!d)
      throw new UsageError(
        `no claim "${n}" in the disclosures file (has: ${all.map((x) => x.name).join(', ')})`,
      );
    out.push(d);
  }
  return out;
}

/** A usage error found after parsing (exit 2). */
export class UsageError extends Error {}

interface RunState {
  ctx?: Ctx;
  /** Exit code of a command that finished but reports a partial failure (e.g. `submit`). */
  exitCode?: number;
}

const int =
  (min = 0, max = Number.MAX_SAFE_INTEGER) =>
  (s: string) =>
    intArg(s, min, max);

function act<A extends unknown[], O = Record<string, never>>(
  io: Io,
  state: RunState,
  fn: (ctx: Ctx, opts: O, args: A) => Promise<void>,
): (...args: unknown[]) => Promise<void> {
  return async (...all: unknown[]) => {
    const cmd = all[all.length - 1] as Command;
    const ctx = new Ctx(io, cmd.optsWithGlobals() as GlobalOptions);
    state.ctx = ctx;
    await fn(ctx, cmd.opts() as O, all.slice(0, -2) as A);
  };
}

function hexKeys(k: { signingPublic: Uint8Array; encryptionPublic: Uint8Array }) {
  return { signingKey: bytesToHex(k.signingPublic), encryptionKey: bytesToHex(k.encryptionPublic) };
}

function printTx(ctx: Ctx, r: TxResult, extra: Record<string, string> = {}): void {
  ctx.out({ ...r, ...extra }, () => fmt.txResult(r, Object.entries(extra)));
}

async function signers(ctx: Ctx, names: string[]): Promise<Signer[]> {
  const out: Signer[] = [];
  for (const n of [...new Set(names)]) out.push(await ctx.signer(n));
  return out;
}

/**
 * `roamchain node` and `roamchain devnet` (loaded on demand: the other commands never load the node).
 * A keystore producer's key is read here, where keystores are known (the node does not depend on the SDK).
 */
async function loadLauncher(
  fn: 'runNode' | 'runDevnet',
): Promise<(opts: Record<string, unknown>) => unknown> {
  if (fn === 'runDevnet') {
    const { runDevnet } = await import('@roamchain/devnet');
    return runDevnet as (opts: Record<string, unknown>) => unknown;
  }
  const { runNode } = await import('@roamchain/node');
  const loadProducerKey = async (path: string, account: string): Promise<Uint8Array> => {
    const { Keystore, passphraseFromEnv } = await import('@roamchain/sdk/keystore');
    const pass = passphraseFromEnv();
    if (!pass) {
      throw new RoamError('KEYSTORE_NO_KEY', 'a producer needs --keystore and ROAMCHAIN_KEYSTORE_PASSPHRASE');
    }
    const ks = await Keystore.open(path, pass);
    try {
      return ks.get(account).signingSecret;
    } finally {
      ks.close();
    }
  };
  return (opts) => runNode({ ...(opts as Parameters<typeof runNode>[0]), loadProducerKey });
}

/** The keystore if it can be opened without asking (for best-effort decryption), else undefined. */
async function quietKeystore(ctx: Ctx) {
  try {
    return await ctx.keystore();
  } catch {
    return undefined;
  }
}

/**
 * What the caller can read of a contract's private data with its keystore: the Request payload (as
 * the assignee, verified against the attestation) and the provisioning (as the requester, with the
 * ephemeral key kept by "request open", or as the issuer).
 */
async function privateView(
  ctx: Ctx,
  id: string,
  want: { request: boolean; provisioning: boolean },
): Promise<Record<string, unknown>[]> {
  const ks = await quietKeystore(ctx);
  if (!ks) return [];
  const out: Record<string, unknown>[] = [];
  const d = await ctx.client.contract(id);
  const c = d.contract;
  if (want.request && ks.has(c.assignee)) {
    const check = await verifyRequestIdentity(ctx.client, {
      contractId: id,
      assigneeEncryptionSecret: ks.get(c.assignee).encryptionSecret,
    }).catch(() => undefined);
    if (check && !(check.ok === false && check.reason === 'PAYLOAD_UNREADABLE')) {
      out.push({ what: 'request payload', as: c.assignee, ...check });
    }
  }
  const ref = d.transactions.find((t) => t.type === 'provision');
  if (want.provisioning && ref) {
    const t = await ctx.client.tx(ref.txId);
    const op = t.tx?.ops[ref.opIndex] as { forRequester?: string; forIssuer?: string } | undefined;
    let plain: Uint8Array | undefined;
    let as = '';
    try {
      if (op?.forRequester && ks.has(contractKeyName(id))) {
        as = 'requester';
        plain = openProvisioningAsRequester({
          contractId: id,
          ephemeralSecret: ks.get(contractKeyName(id)).encryptionSecret,
          assigneeEncryptionKey: (await ctx.client.account(c.assignee)).encryptionKey,
          box: hexToBytes(op.forRequester),
        });
      } else if (op?.forIssuer && ks.has(c.issuer)) {
        as = c.issuer;
        plain = openProvisioningAsIssuer({
          contractId: id,
          issuerEncryptionSecret: ks.get(c.issuer).encryptionSecret,
          box: hexToBytes(op.forIssuer),
        });
      }
    } catch {
      plain = undefined;
    }
    if (plain) {
      const text = new TextDecoder().decode(plain);
      let value: unknown = text;
      try {
        value = JSON.parse(text);
      } catch {
        // not JSON
      }
      out.push({ what: 'provisioning', as, provisioning: value });
    }
  }
  return out;
}

function privateLine(p: Record<string, unknown>): string {
  if (p.what === 'provisioning') {
    const v = p.provisioning;
    const body =
      typeof v === 'object' && v !== null
        ? Object.entries(v)
            .map(([k, x]) => `${k}=${String(x)}`)
            .join('  ')
        : String(v);
    return `decrypted provisioning (as ${String(p.as)}): ${body}`;
  }
  if (p.ok === true) {
    const claims = Object.entries(p.claims as Record<string, string>)
      .map(([k, v]) => `${k}=${v}`)
      .join('  ');
    return `decrypted request payload (as ${String(p.as)}): eid=${String(p.eid)}  ${claims}  [verified against the attestation]`;
  }
  return `decrypted request payload (as ${String(p.as)}): NOT VERIFIED ${String(p.reason)} (refund reason ${String(p.refundReason)}): ${String(p.message)}`;
}

export function buildProgram(io: Io, state: RunState = {}): Command {
  const program = new Command('roamchain');
  program
    .description(
      'roamchain command line: keys, accounts, SDR, offers and service smart contracts of a roamchain node.\n' +
        'Transactions are signed locally with keys from the encrypted keystore and sent to the node API.',
    )
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout(s),
      writeErr: (s) => io.stderr(s),
      outputError: () => {},
    })
    .showSuggestionAfterError(true)
    .addOption(
      new Option('--api <url>', `node API base URL (env ${ENV_API})`).default(
        undefined,
        'http://127.0.0.1:8080',
      ),
    )
    .addOption(
      new Option('--keystore <path>', `encrypted keystore file (env ${ENV_KEYSTORE})`).default(
        undefined,
        '~/.roamchain/keystore.json',
      ),
    )
    .option('--json', 'print machine-readable JSON instead of text')
    .option('--no-wait', 'submit transactions without waiting for their inclusion in a block')
    .option('--wait-timeout <ms>', 'how long to wait for inclusion (ms)', int(1, 600_000), 10_000)
    .addHelpText(
      'after',
      `\nThe keystore passphrase comes from ${ENV_PASSPHRASE}, or is asked for when run in a terminal.\n` +
        'Amounts are decimals of SDR or UMT (6 decimals), e.g. 10 or 10.5.\n' +
        'Exit codes: 0 ok, 1 error (printed as "error CODE: message"), 2 usage error.',
    );

  const a = <A extends unknown[], O = Record<string, never>>(
    fn: (ctx: Ctx, opts: O, args: A) => Promise<void>,
  ) => act<A, O>(io, state, fn);

  // ------------------------------------------------------------------ keys
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
        ctx.out({ name, ...pub, keystore: ks.path }, () =>
          fmt.table([
            ['name', name],
            ['signing key', pub.signingKey],
            ['encryption key', pub.encryptionKey],
            ['keystore', ks.path],
          ]),
        );
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
        ctx.out({ name, ...pub }, () =>
          fmt.table([
            ['name', name],
            ['signing key', pub.signingKey],
            ['encryption key', pub.encryptionKey],
          ]),
        );
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
        ctx.out({ name, ...pub }, () =>
          fmt.table([
            ['name', name],
            ['signing key', pub.signingKey],
            ['encryption key', pub.encryptionKey],
          ]),
        );
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

  // ------------------------------------------------------------------ accounts
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

  // ------------------------------------------------------------------ transfer and SDR
  program
    .command('transfer')
    .description('transfer SDR or UMT between accounts (signed by <from>)')
    .argument('<from>', 'sender (in the keystore)', nameArg)
    .argument('<to>', 'recipient', nameArg)
    .argument('<amount>', 'amount, decimal (e.g. 10.5)', positiveAmountArg)
    .addOption(new Option('--token <token>', 'SDR or UMT').argParser(tokenArg).default('SDR'))
    .option('--memo <text>', 'memo (UTF-8, public on chain)')
    .option('--encrypt-memo <text>', "memo encrypted to the recipient's encryption key (only it can read it)")
    .action(
      a<[string, string, bigint], { token: 'SDR' | 'UMT'; memo?: string; encryptMemo?: string }>(
        async (ctx, o, [from, to, amount]) => {
          if (o.memo !== undefined && o.encryptMemo !== undefined)
            throw new UsageError('give either --memo or --encrypt-memo');
          const r = await ctx.client.transfer(
            {
              from,
              to,
              token: o.token,
              amount,
              ...(o.memo !== undefined ? { memo: o.memo } : {}),
              ...(o.encryptMemo !== undefined ? { encryptMemo: o.encryptMemo } : {}),
            },
            await ctx.signer(from),
            ctx.submit,
          );
          printTx(ctx, r);
        },
      ),
    );

  const sdr = program.command('sdr').description('SDR issuance and redemption by admitted gateways');
  sdr
    .command('issue')
    .description('mint SDR to an account against fiat received (gateway only; each --ref once)')
    .argument('<gateway>', 'gateway account (in the keystore)', nameArg)
    .argument('<to>', 'recipient', nameArg)
    .argument('<amount>', 'SDR, decimal', positiveAmountArg)
    .requiredOption('--ref <paymentRef>', 'external payment reference (printable ASCII, at most 64)')
    .action(
      a<[string, string, bigint], { ref: string }>(async (ctx, o, [gateway, to, amount]) => {
        const r = await ctx.client.issueSdr(
          { gateway, to, amount, paymentRef: o.ref },
          await ctx.signer(gateway),
          ctx.submit,
        );
        printTx(ctx, r);
      }),
    );
  sdr
    .command('burn')
    .description("burn SDR from the gateway's balance on redemption (gateway only; each --ref once)")
    .argument('<gateway>', 'gateway account (in the keystore)', nameArg)
    .argument('<amount>', 'SDR, decimal', positiveAmountArg)
    .requiredOption('--ref <redemptionRef>', 'external redemption reference')
    .action(
      a<[string, bigint], { ref: string }>(async (ctx, o, [gateway, amount]) => {
        const r = await ctx.client.burnSdr(
          { gateway, amount, redemptionRef: o.ref },
          await ctx.signer(gateway),
          ctx.submit,
        );
        printTx(ctx, r);
      }),
    );

  // ------------------------------------------------------------------ offers
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
    .option('--status <status>', 'active, withdrawn or all')
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
          status?: 'active' | 'withdrawn' | 'all';
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

  // ------------------------------------------------------------------ service smart contracts
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

  // ------------------------------------------------------------------ validators (Super Nodes)
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

  const contract = program.command('contract').description('inspect and watch service smart contracts');
  contract
    .command('show')
    .description('show a contract: parties, deposit, charges, settlement and its transactions')
    .argument('<id>', 'contract id', hex32Arg)
    .action(
      a<[string]>(async (ctx, _o, [id]) => {
        const d = await ctx.client.contract(id);
        ctx.out(d, () => fmt.contract(d));
      }),
    );

  contract
    .command('provisioning')
    .description(
      'decrypt what the assignee provisioned for a contract (activation code, APN, ICCID)\n' +
        'As the requester with the ephemeral key kept by "request open", or with --issuer as the issuer.',
    )
    .argument('<id>', 'contract id', hex32Arg)
    .option('--issuer', "open the issuer's copy with the issuer's encryption key from the keystore")
    .action(
      a<[string], { issuer?: boolean }>(async (ctx, o, [id]) => {
        const d = await ctx.client.contract(id);
        const ref = d.transactions.find((t) => t.type === 'provision');
        if (!ref) throw new RoamError('NOT_FOUND', `contract ${id} was not provisioned yet`);
        const t = await ctx.client.tx(ref.txId);
        const op = t.tx?.ops[ref.opIndex] as { forRequester?: string; forIssuer?: string } | undefined;
        if (!op?.forRequester || op.forIssuer === undefined) {
          throw new RoamError('INTERNAL', 'provision transaction not found');
        }
        const ks = await ctx.keystore();
        let plain: Uint8Array;
        if (o.issuer) {
          plain = openProvisioningAsIssuer({
            contractId: id,
            issuerEncryptionSecret: ks.get(d.contract.issuer).encryptionSecret,
            box: hexToBytes(op.forIssuer),
          });
        } else {
          plain = openProvisioningAsRequester({
            contractId: id,
            ephemeralSecret: ks.get(contractKeyName(id)).encryptionSecret,
            assigneeEncryptionKey: (await ctx.client.account(d.contract.assignee)).encryptionKey,
            box: hexToBytes(op.forRequester),
          });
        }
        const text = new TextDecoder().decode(plain);
        let value: unknown = text;
        try {
          value = JSON.parse(text);
        } catch {
          // not JSON: print as text
        }
        ctx.out({ contractId: id, provisioning: value }, () =>
          typeof value === 'object' && value !== null
            ? fmt.table(Object.entries(value).map(([k, v]) => [k, String(v)]))
            : text,
        );
      }),
    );

  contract
    .command('list')
    .description('contracts where an account is issuer, assignee, payer or subscriber, newest first')
    .requiredOption('--account <name>', 'party account')
    .option('--limit <n>', 'at most this many', int(1, 1000))
    .option('--before <id>', 'page: contracts older than this one')
    .action(
      a<[], { account: string; limit?: number; before?: string }>(async (ctx, o) => {
        const page = await ctx.client.contracts({
          party: o.account,
          ...(o.limit !== undefined ? { limit: o.limit } : {}),
          ...(o.before !== undefined ? { before: o.before } : {}),
        });
        ctx.out(page, () =>
          page.items.length ? page.items.map(fmt.contractLine).join('\n') : 'no contracts',
        );
      }),
    );

  contract
    .command('watch')
    .description(
      "show a contract's events (its history, then live over WebSocket) until Ctrl-C\n" +
        'Reconnects and resumes where it left off. With --until-closed, exits once the contract is settled.\n' +
        'With --account, follows every new event of an account instead.',
    )
    .argument('[id]', 'contract id', hex32Arg)
    .option('--account <name>', 'watch every event of this account instead')
    .option('--until-closed', 'exit when the contract is settled (needs a contract id)')
    .option('--live', 'skip the history: only events from now on')
    .option('--cursor <cursor>', 'start after this feed cursor (height:index)')
    .action(
      a<[string | undefined], { account?: string; untilClosed?: boolean; live?: boolean; cursor?: string }>(
        async (ctx, o, [id]) => {
          if (id === undefined && o.account === undefined)
            throw new UsageError('give a contract id or --account <name>');
          if (id !== undefined && o.account !== undefined)
            throw new UsageError('give either a contract id or --account');
          if (o.untilClosed && id === undefined) throw new UsageError('--until-closed needs a contract id');
          let cursor = o.cursor;
          /** Private data already shown, `${contract}:${what}`. */
          const shown = new Set<string>();
          const reveal = (cid: string, want: { request: boolean; provisioning: boolean }) => {
            void privateView(ctx, cid, want).then(
              (ps) => {
                for (const p of ps) {
                  const key = `${cid}:${String(p.what)}`;
                  if (shown.has(key)) continue;
                  shown.add(key);
                  ctx.line({ type: 'private', ...p }, () => privateLine(p));
                }
              },
              () => {},
            );
          };
          if (id !== undefined) {
            const d = await ctx.client.contract(id);
            ctx.line({ type: 'contract', ...d }, () => fmt.contract(d));
            for (const p of await privateView(ctx, id, { request: true, provisioning: true })) {
              shown.add(`${id}:${String(p.what)}`);
              ctx.line({ type: 'private', ...p }, () => privateLine(p));
            }
            // Replay from just before the block that opened the contract: the whole history, no gap.
            const openedAt = d.transactions[0]?.height;
            if (cursor === undefined && !o.live && openedAt !== undefined) {
              cursor = openedAt > 0 ? `${openedAt - 1}:999999999` : undefined;
            }
          } else {
            await ctx.client.account(o.account!);
          }
          await new Promise<void>((resolve) => {
            let sub: Subscription | undefined;
            let off: (() => void) | undefined;
            const finish = () => {
              off?.();
              sub?.close();
              resolve();
            };
            sub = ctx.client.subscribe({
              events: {
                ...(id !== undefined ? { contract: id } : {}),
                ...(o.account !== undefined ? { account: o.account } : {}),
                ...(cursor !== undefined ? { cursor } : {}),
              },
              onEvent: (f: FeedEventJson) => {
                ctx.line({ type: 'event', ...f }, () => fmt.feedEvent(f));
                const cid = typeof f.event.contract === 'string' ? f.event.contract : undefined;
                // Decrypt what the caller is party to, once per contract and kind.
                if (cid && f.event.type === 'contract_opened' && !shown.has(`${cid}:request payload`))
                  reveal(cid, { request: true, provisioning: false });
                if (cid && f.event.type === 'contract_provisioned' && !shown.has(`${cid}:provisioning`))
                  reveal(cid, { request: false, provisioning: true });
                if (o.untilClosed && f.event.type === 'contract_settled' && f.event.contract === id) finish();
              },
              onOpen: ({ reconnect }) => {
                if (!ctx.json) ctx.note(reconnect ? 'reconnected' : 'watching (Ctrl-C to stop)');
                // Live only and already settled? Then no event will come.
                if (o.untilClosed && id !== undefined && cursor === undefined) {
                  ctx.client.contract(id).then(
                    (d) => {
                      if (d.contract.status === 'closed') finish();
                    },
                    () => {},
                  );
                }
              },
              onReconnect: ({ delayMs, error }) =>
                ctx.note(
                  `connection lost${error ? ` (${(error as Error).message ?? String(error)})` : ''}; retrying in ${delayMs} ms`,
                ),
            });
            off = io.onInterrupt?.(finish);
          });
        },
      ),
    );

  // ------------------------------------------------------------------ demands
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

  // ------------------------------------------------------------------ chain
  program
    .command('status')
    .description('chain and node status: height, head, node time, mempool')
    .action(
      a<[]>(async (ctx) => {
        const s = await ctx.client.status();
        ctx.out(s, () => fmt.status(s));
      }),
    );

  program
    .command('params')
    .description('chain parameters (fees, limits, timeouts)')
    .action(
      a<[]>(async (ctx) => {
        const p = await ctx.client.params();
        ctx.out(p, () => JSON.stringify(p, null, 2));
      }),
    );

  program
    .command('tx')
    .description('status of a transaction: included (with its receipt), pending or rejected')
    .argument('<id>', 'transaction id', hex32Arg)
    .action(
      a<[string]>(async (ctx, _o, [id]) => {
        const t = await ctx.client.tx(id);
        // Transfer memos: shown as text, or decrypted when the keystore holds the recipient's key.
        const memos: { op: number; to: string; memo: string; encrypted: boolean }[] = [];
        const transfers = (t.tx?.ops ?? []).flatMap((op, i) =>
          op.type === 'transfer' && typeof op.memo === 'string' && op.memo.length > 0
            ? [{ i, to: String(op.to), bytes: hexToBytes(op.memo) }]
            : [],
        );
        const ks = transfers.length ? await quietKeystore(ctx) : undefined;
        for (const { i, to, bytes } of transfers) {
          let text: string | undefined;
          if (ks?.has(to)) {
            try {
              text = openMemo(ks.get(to).encryptionSecret, bytes);
              memos.push({ op: i, to, memo: text, encrypted: true });
              continue;
            } catch {
              // not encrypted to this key
            }
          }
          try {
            text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
          } catch {
            text = undefined;
          }
          const printable =
            text !== undefined && ![...text].some((ch) => ch < ' ' && ch !== '\n' && ch !== '\t');
          memos.push({
            op: i,
            to,
            memo: printable ? text! : `(encrypted, ${bytes.length} bytes)`,
            encrypted: !printable,
          });
        }
        const memoRows: [string, string][] = memos.map((m) => [
          `memo #${m.op}`,
          m.encrypted && !m.memo.startsWith('(encrypted') ? `${m.memo}  (decrypted for ${m.to})` : m.memo,
        ]);
        ctx.out(memos.length ? { ...t, memos } : t, () =>
          t.status === 'included' && t.receipt && t.height !== undefined
            ? fmt.txResult(
                {
                  txId: t.txId,
                  status: 'included',
                  height: t.height,
                  index: t.index ?? 0,
                  blockId: t.blockId ?? '',
                  receipt: t.receipt,
                },
                memoRows,
              )
            : fmt.table([
                ['tx', t.txId],
                ['status', t.status + (t.code ? ` ${t.code}: ${t.message ?? ''}` : '')],
                ...memoRows,
              ]),
        );
      }),
    );

  program
    .command('block')
    .description('a block by height or id')
    .argument('<ref>', 'height or block id')
    .action(
      a<[string]>(async (ctx, _o, [ref]) => {
        const b = await ctx.client.block(/^\d+$/.test(ref) ? Number(ref) : ref);
        ctx.out(b, () =>
          fmt.table([
            ['id', b.id],
            ['height', String(b.height)],
            ['time', fmt.time(b.header.time)],
            ['producer', b.header.producer],
            [
              'transactions',
              b.txs
                .map((t) => `${t.id} (${t.tx.ops.map((op) => op.type).join(', ')})`)
                .join('\n              ') || '-',
            ],
          ]),
        );
      }),
    );

  program
    .command('blocks')
    .description('latest blocks, newest first')
    .option('--limit <n>', 'at most this many', int(1, 1000), 10)
    .option('--before <height>', 'blocks below this height', int(0))
    .action(
      a<[], { limit: number; before?: number }>(async (ctx, o) => {
        const r = await ctx.client.blocks({
          limit: o.limit,
          ...(o.before !== undefined ? { before: o.before } : {}),
        });
        ctx.out(r, () =>
          r.items
            .map((b) => `${String(b.height).padStart(8)}  ${b.id}  ${fmt.time(b.time)}  ${b.txCount} tx`)
            .join('\n'),
        );
      }),
    );

  program
    .command('rating')
    .description("an operator's on-chain rating (subscriber scores and bad-service refunds)")
    .argument('<operator>', 'operator account')
    .action(
      a<[string]>(async (ctx, _o, [name]) => {
        const r = await ctx.client.operatorRating(name);
        ctx.out(r, () => fmt.rating(r));
      }),
    );

  program
    .command('ratings')
    .description('ratings of all operators')
    .action(
      a<[]>(async (ctx) => {
        const r = await ctx.client.ratings();
        ctx.out(r, () => r.items.map(fmt.rating).join('\n') || 'no ratings');
      }),
    );

  program
    .command('events')
    .description('ledger events from a cursor (one page)')
    .option('--cursor <cursor>', 'events after this cursor (height:index)')
    .option('--limit <n>', 'at most this many', int(1, 10_000), 100)
    .action(
      a<[], { cursor?: string; limit: number }>(async (ctx, o) => {
        const r = await ctx.client.events({
          limit: o.limit,
          ...(o.cursor !== undefined ? { cursor: o.cursor } : {}),
        });
        ctx.out(r, () => {
          const lines = r.items.map(fmt.feedEvent);
          if (r.next) lines.push(`(more: --cursor ${r.next})`);
          return lines.join('\n') || 'no events';
        });
      }),
    );

  // ---------------------------------------------- node (@roamchain/node) and devnet (@roamchain/devnet)
  const runForever = async (fn: 'runNode' | 'runDevnet', opts: Record<string, unknown>) => {
    const start = await loadLauncher(fn);
    await start(Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined)));
    // The node serves until SIGINT/SIGTERM, which runNode / runDevnet handle (close and exit).
    await new Promise<never>(() => {});
  };

  const nodeCommand = program
    .command('node')
    .description('run a roamchain node: storage, block production and the Web-API (from @roamchain/node)')
    .option('--config <file>', 'JSON config file (flags > environment > file)')
    .option('--data-dir <dir>', 'data directory (env ROAMCHAIN_DATA_DIR, default ./roamchain-data)')
    .option('--genesis <file>', 'genesis JSON file (env ROAMCHAIN_GENESIS)')
    .option('--host <host>', 'API host (env ROAMCHAIN_API_HOST, default 127.0.0.1)')
    .option('--port <port>', 'API port (env ROAMCHAIN_API_PORT, default 8080)', int(0, 65_535))
    .option('--store <kind>', 'storage engine: level or lmdb (env ROAMCHAIN_STORE, default level)')
    .option(
      '--validator <account>',
      'validator owner account: this node votes with its node key (env ROAMCHAIN_VALIDATOR)',
    )
    .option(
      '--node-key-file <file>',
      'node key file (env ROAMCHAIN_NODE_KEY_FILE, default <data-dir>/node-key.json)',
    )
    .option(
      '--p2p-listen <multiaddrs>',
      'libp2p listen addresses, comma-separated (env ROAMCHAIN_P2P_LISTEN, default /ip4/0.0.0.0/tcp/26656)',
    )
    .option(
      '--bootstrap <multiaddrs>',
      'peers to connect to, comma-separated /ip4/…/tcp/…/p2p/<peer id> (env ROAMCHAIN_BOOTSTRAP)',
    )
    .option('--solo', "no network: this node is the chain's only validator")
    .option(
      '--producer <account>',
      'solo validator whose node key is in the keystore (older single-node setups)',
    )
    .option('--block-interval-ms <ms>', 'time between blocks when idle', int(1, 3_600_000))
    .option('--log-level <level>', 'log level (env ROAMCHAIN_LOG_LEVEL)')
    .option(
      '--mini <owner>',
      'run as the Mini Node of <owner>: a full node that attests state roots, never votes',
    )
    .option('--mini-key-file <file>', 'the Mini Node key file (default: the node key file)')
    .option('--attach <url>', "the API URL of the Mini Node's Super Node (attestations go there)")
    .action(async (_o: unknown, cmd: Command) => {
      const g = cmd.optsWithGlobals() as GlobalOptions;
      await runForever('runNode', { ...cmd.opts(), keystore: g.keystore ?? io.env[ENV_KEYSTORE] });
    });
  registerBackupCommands(nodeCommand, io);

  program
    .command('devnet')
    .description('start a local network with funded demo operators, a gateway and subscribers')
    .option('--data-dir <dir>', 'data directory (env ROAMCHAIN_DEVNET_DIR, default .devnet)')
    .option('--host <host>', 'API host (default 127.0.0.1)')
    .option('--port <port>', 'API port (env ROAMCHAIN_API_PORT, default 8080)', int(0, 65_535))
    .option(
      '--validators <n>',
      'Super Nodes: 1 (default) or more, as processes voting over libp2p on loopback',
      int(1, 32),
    )
    .option('--p2p-port <port>', 'first libp2p port with --validators (default 26656)', int(0, 65_535))
    .option('--block-interval-ms <ms>', 'time between blocks when idle', int(1, 3_600_000))
    .option('--quiet', 'no banner, warnings only')
    .option('--no-agents', "do not run the demo operators' agents (contracts are then driven by hand)")
    .action(async (_o: unknown, cmd: Command) => {
      await runForever('runDevnet', cmd.opts());
    });

  // Multi-line descriptions: the first line is the summary in command lists.
  const summarize = (c: Command) => {
    for (const sub of c.commands) {
      const d = sub.description();
      if (d.includes('\n') && !sub.summary()) sub.summary(d.split('\n')[0]!);
      summarize(sub);
    }
  };
  registerOperatorCommands(program, io);
  registerSubmitCommand(program, io, (code) => {
    state.exitCode = code;
  });
  registerGovernanceCommands(program, io, (ctx) => {
    state.ctx = ctx;
  });
  registerMiniCommands(program, io, (ctx) => {
    state.ctx = ctx;
  });
  summarize(program);
  return program;
}

/** Exit code and message for an error. */
export function describeError(e: unknown): {
  exitCode: number;
  code: string;
  message: string;
  details?: unknown;
} {
  if (e instanceof CommanderError) {
    if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version') {
      return { exitCode: 0, code: 'OK', message: '' };
    }
    if (e.code === 'commander.help')
      return { exitCode: e.exitCode === 0 ? 0 : 2, code: 'USAGE', message: '' };
    return { exitCode: 2, code: 'USAGE', message: e.message.replace(/^error: /, '') };
  }
  if (e instanceof UsageError) return { exitCode: 2, code: 'USAGE', message: e.message };
  if (e instanceof RoamError) {
    return { exitCode: 1, code: e.code, message: e.message, ...(e.details ? { details: e.details } : {}) };
  }
  if (e instanceof RoamNetworkError) return { exitCode: 1, code: e.code, message: e.message };
  const err = e as Error;
  return { exitCode: 1, code: 'INTERNAL', message: err?.message ?? String(e) };
}

/** Runs the CLI with arguments (without "node roamchain"); returns the exit code. */
export async function run(argv: string[], io: Io): Promise<number> {
  const state: RunState = {};
  const program = buildProgram(io, state);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return state.exitCode ?? 0;
  } catch (e) {
    const d = describeError(e);
    if (d.exitCode !== 0 && d.message) {
      io.stderr(`error ${d.code}: ${d.message}\n`);
      if (d.code === 'USAGE') io.stderr('(see roamchain --help, or roamchain <command> --help)\n');
      if (argv.includes('--json')) {
        io.stdout(
          `${JSON.stringify({ error: { code: d.code, message: d.message, details: d.details ?? {} } })}\n`,
        );
      }
    }
    return d.exitCode;
  } finally {
    state.ctx?.close();
  }
}

export type { ErrorCode };
