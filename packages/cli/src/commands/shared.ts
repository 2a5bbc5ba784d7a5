/**
 * What the command modules share: the registration context (`register(program, cli)`), the wrapper
 * that runs a command's handler with its `Ctx`, argument helpers and output of transaction results.
 */
import { bytesToHex } from '@roamchain/protocol';
import type { Signer, TxResult } from '@roamchain/sdk';
import type { Command } from 'commander';
import { intArg } from '../args.js';
import { Ctx, type GlobalOptions, type Io } from '../context.js';
import * as fmt from '../format.js';

/** A usage error found after parsing (exit 2). */
export class UsageError extends Error {}

export interface RunState {
  ctx?: Ctx;
  /** Exit code of a command that finished but reports a partial failure (e.g. `submit`). */
  exitCode?: number;
}

/** A command's handler: its Ctx (from the global options), its options and its arguments. */
export type Handler<A extends unknown[], O> = (ctx: Ctx, opts: O, args: A) => Promise<void>;

/** What a command module registers with: `register(program, cli)`. */
export interface CliContext {
  readonly io: Io;
  /** A commander action running `fn` with the command's Ctx (closed when the run ends). */
  action<A extends unknown[], O = Record<string, never>>(
    fn: Handler<A, O>,
  ): (...args: unknown[]) => Promise<void>;
  /** Ends the run with this exit code although the command finished (a partial failure). */
  setExitCode(code: number): void;
}

export const int =
  (min = 0, max = Number.MAX_SAFE_INTEGER) =>
  (s: string) =>
    intArg(s, min, max);

export function act<A extends unknown[], O = Record<string, never>>(
  io: Io,
  state: RunState,
  fn: Handler<A, O>,
): (...args: unknown[]) => Promise<void> {
  return async (...all: unknown[]) => {
    const cmd = all[all.length - 1] as Command;
    const ctx = new Ctx(io, cmd.optsWithGlobals() as GlobalOptions);
    state.ctx = ctx;
    await fn(ctx, cmd.opts() as O, all.slice(0, -2) as A);
  };
}

/** The registration context of one run. */
export function cliContext(io: Io, state: RunState): CliContext {
  return {
    io,
    action: (fn) => act(io, state, fn),
    setExitCode: (code) => {
      state.exitCode = code;
    },
  };
}

export function hexKeys(k: { signingPublic: Uint8Array; encryptionPublic: Uint8Array }) {
  return { signingKey: bytesToHex(k.signingPublic), encryptionKey: bytesToHex(k.encryptionPublic) };
}

export function printTx(ctx: Ctx, r: TxResult, extra: Record<string, string> = {}): void {
  ctx.out({ ...r, ...extra }, () => fmt.txResult(r, Object.entries(extra)));
}

export async function signers(ctx: Ctx, names: string[]): Promise<Signer[]> {
  const out: Signer[] = [];
  for (const n of [...new Set(names)]) out.push(await ctx.signer(n));
  return out;
}
