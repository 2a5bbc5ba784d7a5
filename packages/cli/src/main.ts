/**
 * Entry point of the `roamchain` command: compiled, `node packages/cli/dist/src/main.js …` (what
 * packages/cli/bin/roamchain.js runs in an installed package); from the sources, the launcher
 * registers tsx, or `node -C @roamchain/source --import tsx packages/cli/src/main.ts …`.
 */
import type { Io } from './context.js';
import { run } from './program.js';

/** Reads a line from the terminal without echoing it. */
async function promptSecret(question: string): Promise<string> {
  const { createInterface } = await import('node:readline');
  return new Promise((resolve, reject) => {
    const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
    let muted = false;
    (rl as unknown as { _writeToOutput: (s: string) => void })._writeToOutput = (s: string) => {
      if (!muted) process.stderr.write(s);
    };
    rl.on('SIGINT', () => {
      rl.close();
      process.stderr.write('\n');
      reject(new Error('interrupted'));
    });
    rl.question(question, (answer) => {
      rl.close();
      process.stderr.write('\n');
      resolve(answer);
    });
    muted = true;
  });
}

export const processIo: Io = {
  stdout: (s) => void process.stdout.write(s),
  stderr: (s) => void process.stderr.write(s),
  env: process.env,
  interactive: Boolean(process.stdin.isTTY && process.stderr.isTTY),
  promptSecret,
  onInterrupt(handler) {
    process.on('SIGINT', handler);
    process.on('SIGTERM', handler);
    return () => {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
    };
  },
};

const code = await run(process.argv.slice(2), processIo);
process.exitCode = code;
// Don't let an idle keep-alive socket hold the process open; a node started by `roamchain node`
// keeps its own handles and never reaches here until it stops.
setTimeout(() => process.exit(code), 1000).unref();
