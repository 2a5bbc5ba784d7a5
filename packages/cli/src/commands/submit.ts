/**
 * `roamchain submit <file|->`: many signed transactions at once, through the node's binary batch
 * route (`POST /v1/txs`, via `client.submitTxs`). The input has one signed transaction per line:
 * the hex of its bytes, or its JSON (`signedTx` JSON, one line); empty lines and lines starting
 * with `#` are skipped. `-` reads standard input. Output: one result per transaction (line number,
 * txId or code); with the global wait (the default) the admitted ones are waited for until included.
 * Exit code 0 when every transaction was admitted (and included, when waiting), else 1.
 */
import { readFileSync } from 'node:fs';
import { encodeTx, hexToBytes, RoamError, signedTx } from '@roamchain/protocol';
import type { BatchTxResult, RoamClient } from '@roamchain/sdk';
import type { Command } from 'commander';
import { Ctx, type GlobalOptions } from '../context.js';
import type { CliContext } from './shared.js';

/** Most lines of one input (bounded: the input is read whole). */
export const SUBMIT_MAX_TXS = 100_000;
const WAIT_CONCURRENCY = 16;

export interface SubmitLineResult {
  line: number;
  ok: boolean;
  txId?: string;
  status?: 'pending' | 'included';
  height?: number;
  code?: string;
  message?: string;
}

/** Parses the input: signed transactions as bytes, with their line numbers. */
export function parseTxLines(text: string): { line: number; bytes: Uint8Array }[] {
  const out: { line: number; bytes: Uint8Array }[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const s = lines[i]!.trim();
    if (s === '' || s.startsWith('#')) continue;
    if (out.length >= SUBMIT_MAX_TXS)
      throw new RoamError('BAD_REQUEST', `more than ${SUBMIT_MAX_TXS} transactions`);
    try {
      if (s.startsWith('{'))
        out.push({ line: i + 1, bytes: encodeTx(signedTx.fromJSON(JSON.parse(s), 'tx')) });
      else if (/^([0-9a-fA-F]{2})+$/.test(s)) out.push({ line: i + 1, bytes: hexToBytes(s.toLowerCase()) });
      else throw new Error('neither hex nor JSON');
    } catch (e) {
      const why = e instanceof RoamError ? e.message : (e as Error).message;
      throw new RoamError('CODEC_BAD_JSON', `line ${i + 1}: not a signed transaction (${why})`, {
        line: i + 1,
      });
    }
  }
  return out;
}

async function waitAll(client: RoamClient, results: SubmitLineResult[], timeoutMs: number): Promise<void> {
  const todo = results.filter((r) => r.ok);
  let next = 0;
  const worker = async () => {
    while (next < todo.length) {
      const r = todo[next++]!;
      try {
        const s = await client.waitForTx(r.txId!, timeoutMs);
        r.status = 'included';
        r.height = s.height;
      } catch (e) {
        const err = e as { code?: string; message?: string };
        Object.assign(r, { ok: false, code: err.code ?? 'INTERNAL', message: err.message ?? String(e) });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(WAIT_CONCURRENCY, todo.length) }, worker));
}

export function register(program: Command, cli: CliContext): void {
  const { io } = cli;
  program
    .command('submit')
    .description(
      'submit many signed transactions (one per line: hex of the bytes, or signed-transaction JSON) from a file or - for stdin\n' +
        'They go in binary batches (POST /v1/txs); each gets its own result. Exit code 1 if any was not admitted\n' +
        '(or, when waiting, not included).',
    )
    .argument('<file>', 'file of signed transactions, or - for standard input')
    .action(async (file: string, _o: unknown, cmd: Command) => {
      const ctx = new Ctx(io, cmd.optsWithGlobals() as GlobalOptions);
      let text: string;
      try {
        text = readFileSync(file === '-' ? 0 : file, 'utf8');
      } catch (e) {
        throw new RoamError('BAD_REQUEST', `cannot read ${file}: ${(e as Error).message}`);
      }
      const txs = parseTxLines(text);
      const answers: BatchTxResult[] = await ctx.client.submitTxs(txs.map((t) => t.bytes));
      const results: SubmitLineResult[] = answers.map((a, i) =>
        a.ok
          ? { line: txs[i]!.line, ok: true, txId: a.txId, status: 'pending' }
          : { line: txs[i]!.line, ok: false, code: a.code, message: a.message },
      );
      if (ctx.wait) await waitAll(ctx.client, results, ctx.waitTimeoutMs);
      const failed = results.filter((r) => !r.ok).length;
      if (failed > 0) cli.setExitCode(1);
      const summary = {
        submitted: results.length,
        admitted: answers.filter((a) => a.ok).length,
        included: results.filter((r) => r.status === 'included').length,
        failed,
        results,
      };
      ctx.out(summary, () =>
        [
          ...results.map((r) =>
            r.ok
              ? `line ${r.line}: ${r.txId} ${r.status}${r.height !== undefined ? ` at height ${r.height}` : ''}`
              : `line ${r.line}: ${r.code} ${r.message}`,
          ),
          `${summary.submitted} submitted, ${summary.admitted} admitted, ${summary.included} included, ${failed} failed`,
        ].join('\n'),
      );
    });
}
