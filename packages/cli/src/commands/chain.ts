/**
 * `roamchain status`, `params`, `tx`, `block`, `blocks`, `rating`, `ratings`, `events`: reading the chain.
 */
import { hexToBytes } from '@roamchain/protocol';
import { openMemo } from '@roamchain/sdk';
import type { Command } from 'commander';
import { hex32Arg } from '../args.js';
import * as fmt from '../format.js';
import { quietKeystore } from './private.js';
import { type CliContext, int } from './shared.js';

export function register(program: Command, cli: CliContext): void {
  const a = cli.action;
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
}
