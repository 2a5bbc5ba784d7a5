/**
 * The CLI run in this process (`run(argv, io)`) for tests: captured output, the answer parsed from
 * `--json`. `env` is read at every call (tests set it in `beforeAll`).
 */
import { type Io, run } from '../src/index.js';

export interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** One CLI invocation in this process with the given extra environment. */
export async function runInProcess(args: string[], env: Record<string, string>): Promise<Ran> {
  let stdout = '';
  let stderr = '';
  const io: Io = {
    stdout: (s) => {
      stdout += s;
    },
    stderr: (s) => {
      stderr += s;
    },
    env: { ...process.env, ...env },
    interactive: false,
  };
  const code = await run(args, io);
  return { code, stdout, stderr };
}

export function inProcessCli(env: () => Record<string, string>) {
  /** Runs `roamchain <args> --json`; `json` is the parsed answer (undefined if not JSON). */
  async function cli(...args: string[]) {
    const r = await runInProcess([...args, '--json'], env());
    // biome-ignore lint/suspicious/noExplicitAny: parsed --json output of many shapes
    let json: any;
    try {
      json = JSON.parse(r.stdout);
    } catch {
      json = undefined;
    }
    return { ...r, json };
  }
  /** Like `cli`, and the command must succeed: its parsed answer. */
  async function ok(...args: string[]) {
    const r = await cli(...args);
    if (r.code !== 0) throw new Error(`roamchain ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
    return r.json;
  }
  return { cli, ok };
}

/** Polls `f` until it gives a value (bounded: throws after `ms`). */
export async function until<T>(
  what: string,
  f: () => Promise<T | undefined> | T | undefined,
  ms = 60_000,
): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
