/**
 * Writes docs/CONFIGURATION.md from the code (`npm run docs:config`; `--check` fails when the file
 * differs): the flags of `roamchain node`, `devnet` and `operator run` with their defaults (from the
 * commander program itself), the node's environment variables and config-file keys (from the
 * `pick(key, ENV)` calls of packages/node/src/run.ts), the devnet's environment, and every agent
 * config key with its default (from `parseConfig` of a minimal config).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseConfig } from '@roamchain/agent';
import type { Command } from 'commander';
import { buildProgram } from '../src/program.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../../..');
export const CONFIG_DOC = join(ROOT, 'docs/CONFIGURATION.md');

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
const code = (s: string) => `\`${s}\``;

function command(program: Command, path: string[]): Command {
  let c = program;
  for (const name of path) {
    const next = c.commands.find((x) => x.name() === name);
    if (!next) throw new Error(`no command ${path.join(' ')}`);
    c = next;
  }
  return c;
}

function flagsTable(c: Command): string[] {
  const rows = ['| flag | default | meaning |', '| ---- | ------- | ------- |'];
  for (const o of c.options) {
    // A default commander applies, else the one the description names (applied by runNode/runDevnet).
    const d =
      o.defaultValueDescription ??
      (o.defaultValue === undefined
        ? /\bdefault ([^,)\s]+)/.exec(o.description)?.[1]
        : JSON.stringify(o.defaultValue));
    rows.push(`| ${code(o.flags)} | ${d ? code(cell(String(d))) : ''} | ${cell(o.description)} |`);
  }
  return rows;
}

/** `pick('key', 'ENV') ?? default` of runNode: config key, environment variable, default. */
function nodeKeys(): string[] {
  const src = readFileSync(join(ROOT, 'packages/node/src/run.ts'), 'utf8');
  const rows = ['| config key | environment | default |', '| ---------- | ----------- | ------- |'];
  const re = /pick\('(\w+)', '(\w+)'\)\)?(?: \?\? ([^;\n]+))?/g;
  for (const m of src.matchAll(re)) {
    let d = (m[3] ?? '').trim().replace(/,$/, '');
    while ((d.match(/\)/g) ?? []).length > (d.match(/\(/g) ?? []).length) d = d.slice(0, -1);
    while ((d.match(/\(/g) ?? []).length > (d.match(/\)/g) ?? []).length) d += ')';
    rows.push(`| ${code(m[1]!)} | ${code(m[2]!)} | ${d ? code(cell(d)) : ''} |`);
  }
  const extra = [...new Set(src.match(/process\.env\.(ROAMCHAIN_\w+)/g) ?? [])];
  for (const e of extra.filter((x) => !src.includes(`'${x.replace('process.env.', '')}')`)))
    rows.push(`| | ${code(e.replace('process.env.', ''))} | see below |`);
  return rows;
}

/** `process.env.X ?? default` of the devnet's launcher. */
function devnetEnv(): string[] {
  const src = readFileSync(join(ROOT, 'packages/devnet/src/run.ts'), 'utf8');
  const rows = ['| environment | default | flag |', '| ----------- | ------- | ---- |'];
  const re = /(?:opts\.(\w+) \?\? )?(?:Number\()?process\.env\.(ROAMCHAIN_\w+) \?\? ([^)]+)\)/g;
  for (const m of src.matchAll(re)) {
    const flag = m[1] ? `--${m[1].replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}` : '';
    rows.push(`| ${code(m[2]!)} | ${code(m[3]!.trim())} | ${flag ? code(flag) : ''} |`);
  }
  return rows;
}

/** Top-level keys of `AgentConfig` (packages/agent/src/config.ts): optional or not, and their comment. */
function agentInterface(): Map<string, { optional: boolean; doc: string }> {
  const src = readFileSync(join(ROOT, 'packages/agent/src/config.ts'), 'utf8');
  const body = /export interface AgentConfig \{([\s\S]*?)\n\}/.exec(src)?.[1] ?? '';
  const out = new Map<string, { optional: boolean; doc: string }>();
  for (const m of body.matchAll(/(?:\/\*\*([\s\S]*?)\*\/)?\s*\n {2}(\w+)(\?)?:/g)) {
    const doc = (m[1] ?? '').replace(/\s*\n\s*\*?\s*/g, ' ').trim();
    out.set(m[2]!, { optional: m[3] === '?', doc });
  }
  return out;
}

function agentKeys(): string[] {
  // A base directory the paths are shown relative to (the same text on every machine).
  const base = '/CONFIG_DIR';
  const cfg = parseConfig({ operator: '<operator>', api: 'http://127.0.0.1:8080' }, base);
  const keys = agentInterface();
  const rows = ['| key | default | notes |', '| --- | ------- | ----- |'];
  const note = (at: string) => (at.includes('.') ? '' : cell(keys.get(at)?.doc ?? ''));
  const walk = (v: unknown, at: string) => {
    if (v !== null && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length > 0) {
      for (const [k, x] of Object.entries(v)) walk(x, at ? `${at}.${k}` : k);
      return;
    }
    const shown = (typeof v === 'bigint' ? `${v}` : JSON.stringify(v))?.replace(
      resolve(base),
      '<config dir>',
    );
    const required = at === 'operator' || at === 'api';
    rows.push(`| ${code(at)} | ${required ? '(required)' : code(cell(shown ?? ''))} | ${note(at)} |`);
  };
  walk(cfg, '');
  for (const [k, v] of keys) {
    if (v.optional && !(k in cfg)) rows.push(`| ${code(k)} | (not set) | ${cell(v.doc)} |`);
  }
  for (const k of Object.keys(cfg)) {
    if (!keys.has(k)) throw new Error(`agent config key ${k} is not in AgentConfig`);
  }
  return rows;
}

export function configDoc(): string {
  const program = buildProgram({ stdout: () => {}, stderr: () => {}, env: {}, interactive: false });
  const out = [
    '# Configuration reference',
    '',
    '<!-- Generated by `npm run docs:config` (packages/cli/scripts/config-doc.ts) from the code; do not edit.',
    '     packages/cli/test/config-doc.test.ts fails when this file is not what the script writes. -->',
    '',
    '## `roamchain node`',
    '',
    'Precedence: flags > environment > config file (`--config node.json`, the keys below) > defaults.',
    '',
    ...flagsTable(command(program, ['node'])),
    '',
    'Config-file keys and environment variables (packages/node/src/run.ts):',
    '',
    ...nodeKeys(),
    '',
    '`ROAMCHAIN_ISOLATE_MS`: how long `kill -USR2` cuts the node off from its peers (ms, default 10000).',
    '`ROAMCHAIN_KEYSTORE_PASSPHRASE`: unlocks `--keystore` for a `--producer`.',
    'Diagnosis only: `ROAMCHAIN_FAILPOINT` (packages/node/src/failpoint.ts), `ROAMCHAIN_TRACE_CONSENSUS=1`,',
    '`ROAMCHAIN_MEMBER_NODE_ARGS` (extra `node` flags of cluster members).',
    '',
    '## `roamchain devnet` (`npm start -- …`)',
    '',
    ...flagsTable(command(program, ['devnet'])),
    '',
    'Environment (packages/devnet/src/run.ts; a flag wins over its variable):',
    '',
    ...devnetEnv(),
    '',
    'Ports derived from the API port `P`: SM-DP+ `P + 1`,',
    "agents `P + 10`, `P + 11`, …; with `--validators N` node-i's API on `P + 100 × (i − 1)` and libp2p on",
    '`--p2p-port + i − 1`.',
    '',
    '## `roamchain operator run` (the agent)',
    '',
    ...flagsTable(command(program, ['operator', 'run'])),
    '',
    'Config file keys (`--config agent.json`; only `operator` and `api` are required) and their defaults',
    "(`parseConfig` of packages/agent/src/config.ts; relative paths resolve against the file's directory).",
    'The keystore passphrase comes from `ROAMCHAIN_KEYSTORE_PASSPHRASE` (or the variable named by `passphraseEnv`).',
    '',
    ...agentKeys(),
    '',
    'The entries of `clients` (`{ id, keys, scopes }`) and `webhooks` (`{ url, secret }`), the policy and',
    'the usage feed are described in [AGENT.md](AGENT.md) and the README ("Connecting an operator\'s systems").',
    '',
    '## Global flags of every `roamchain` command',
    '',
    ...flagsTable(program),
    '',
  ];
  return biomeFormat(out.join('\n'));
}

/** The repository's formatter on the text (tables padded as `biome check .` wants them). */
function biomeFormat(text: string): string {
  const r = spawnSync(
    join(ROOT, 'node_modules/.bin/biome'),
    ['format', '--colors=off', '--stdin-file-path=docs/CONFIGURATION.md'],
    { cwd: ROOT, input: text, encoding: 'utf8', maxBuffer: 16 * 1024 * 1024, timeout: 60_000 },
  );
  if (r.status !== 0) throw new Error(`biome format failed: ${r.stderr || r.error}`);
  return r.stdout;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const text = configDoc();
  if (process.argv.includes('--check')) {
    if (readFileSync(CONFIG_DOC, 'utf8') !== text) {
      console.error('docs/CONFIGURATION.md is out of date: run `npm run docs:config`');
      process.exit(1);
    }
  } else {
    writeFileSync(CONFIG_DOC, text);
    console.log(`wrote ${CONFIG_DOC}`);
  }
}
