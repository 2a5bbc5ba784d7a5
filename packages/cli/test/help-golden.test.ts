/**
 * Every command's `--help` (and a few usage errors) as the CLI prints them, with exit codes, against
 * a golden file: the command tree's text is part of the interface (scripts parse it, docs quote it).
 * After an intended change: `UPDATE_GOLDEN=1 npx vitest run packages/cli/test/help-golden.test.ts`.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram, type Io } from '../src/index.js';
import { runInProcess } from './harness.js';

const FILE = join(dirname(fileURLToPath(import.meta.url)), 'golden', 'help.txt');

const silentIo: Io = { stdout: () => {}, stderr: () => {}, env: {}, interactive: false };

/** The argv of every command and subcommand, in registration order. */
function commandPaths(c: Command, prefix: string[] = []): string[][] {
  const out: string[][] = [];
  for (const sub of c.commands) {
    const path = [...prefix, sub.name()];
    out.push(path, ...commandPaths(sub, path));
  }
  return out;
}

/** A fixed environment: help shows no value of the caller's. */
const ENV = {
  ROAMCHAIN_API: '',
  ROAMCHAIN_KEYSTORE: '',
  ROAMCHAIN_KEYSTORE_PASSPHRASE: '',
  HOME: '/nonexistent',
};

async function section(argv: string[]): Promise<string> {
  const r = await runInProcess(argv, ENV);
  return `=== roamchain ${argv.join(' ')} (exit ${r.code})\n--- stdout\n${r.stdout}--- stderr\n${r.stderr}`;
}

describe('CLI help golden', () => {
  it('every --help, the bare command and usage errors print as recorded', async () => {
    // Help is wrapped at the terminal's width; tests print for a non-terminal (80 columns).
    const tty = process.stdout.isTTY;
    Object.defineProperty(process.stdout, 'isTTY', { value: false, configurable: true });
    const parts: string[] = [];
    try {
      const paths = commandPaths(buildProgram(silentIo));
      expect(paths.length).toBeGreaterThan(70);
      parts.push(await section(['--help']));
      for (const p of paths) parts.push(await section([...p, '--help']));
      parts.push(await section([]));
      parts.push(await section(['keys']));
      parts.push(await section(['no-such-command']));
      parts.push(await section(['keys', 'new']));
      parts.push(await section(['transfer', 'alice', 'bob', 'x']));
      parts.push(
        await section(['transfer', 'alice', 'bob', '1', '--memo', 'm', '--encrypt-memo', 'n', '--json']),
      );
      parts.push(await section(['status', '--wait-timeout', '0']));
    } finally {
      Object.defineProperty(process.stdout, 'isTTY', { value: tty, configurable: true });
    }
    const text = parts.join('\n');
    if (process.env.UPDATE_GOLDEN === '1') writeFileSync(FILE, text);
    expect(existsSync(FILE), `${FILE} missing: run with UPDATE_GOLDEN=1 once`).toBe(true);
    expect(text).toBe(readFileSync(FILE, 'utf8'));
  });
});
