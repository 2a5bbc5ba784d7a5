/**
 * `roamchain contract …`: inspect and watch service smart contracts (with what the keystore can decrypt).
 */
import { hexToBytes, RoamError } from '@roamchain/protocol';
import {
  type FeedEventJson,
  openProvisioningAsIssuer,
  openProvisioningAsRequester,
  type Subscription,
} from '@roamchain/sdk';
import type { Command } from 'commander';
import { hex32Arg } from '../args.js';
import * as fmt from '../format.js';
import { contractKeyName, privateLine, privateView } from './private.js';
import { type CliContext, int, UsageError } from './shared.js';

export function register(program: Command, cli: CliContext): void {
  const a = cli.action;
  const { io } = cli;
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
}
