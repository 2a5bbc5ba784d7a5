#!/usr/bin/env node
/**
 * Packs the `roamchain` command as ONE installable tarball: `npm run build` first, then
 *
 *   node scripts/pack-cli.mjs [--out <dir>]      → <dir>/roamchain-cli-<version>.tgz (default: .)
 *   npm install ./roamchain-cli-<version>.tgz    (in any folder; then `npx roamchain --help`)
 *
 * The workspace packages (@roamchain/protocol … devnet) are not published, so the tarball carries
 * them: their compiled dist/ (and package.json) under node_modules/@roamchain/, declared as
 * `bundleDependencies`. Their npm dependencies (fastify, libp2p, better-sqlite3, …) become the
 * CLI's own, pinned to the versions installed in this workspace (the ones its tests ran with), so
 * npm resolves them from the registry at install like any package's. Why bundling and not one tarball
 * per workspace package: one file to ship and install, no `file:` specs or install order, and the
 * internal packages can never be resolved from the public registry by accident (a bundled dependency
 * is never fetched).
 *
 * The package is assembled in a temporary folder (package.json rewritten: bin, exports of dist only,
 * no tsx, no devDependencies) and packed there with `npm pack`; the workspace is not modified.
 */
import { execFileSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({ options: { out: { type: 'string' } } });
const out = resolve(values.out ?? '.');
const SCOPE = '@roamchain/';
/** Development-only dependencies of the CLI's launcher: the installed package runs dist/ under plain node. */
const DEV_ONLY = new Set(['tsx']);

const readJson = (f) => JSON.parse(readFileSync(f, 'utf8'));
const pkgDir = (name) => join(root, 'packages', name.slice(SCOPE.length));
const manifest = (name) => readJson(join(pkgDir(name), 'package.json'));

/** The workspace packages the CLI needs at run time (transitive `dependencies`). */
const internal = new Set();
const walk = (name) => {
  for (const dep of Object.keys(manifest(name).dependencies ?? {})) {
    if (dep.startsWith(SCOPE) && !internal.has(dep)) {
      internal.add(dep);
      walk(dep);
    }
  }
};
walk('@roamchain/cli');

for (const name of ['@roamchain/cli', ...internal]) {
  if (!existsSync(join(pkgDir(name), 'dist/src'))) {
    process.stderr.write(
      `${name} is not built (${pkgDir(name)}/dist/src missing): run \`npm run build\` first\n`,
    );
    process.exit(2);
  }
}

/** The version of an npm package installed in the workspace (what the tests ran with). */
function installedVersion(dep, from) {
  for (const base of [join(from, 'node_modules'), join(root, 'node_modules')]) {
    const f = join(base, dep, 'package.json');
    if (existsSync(f)) return readJson(f).version;
  }
  throw new Error(`${dep} is not installed in the workspace (npm ci first)`);
}

/** External dependencies of the CLI and of every bundled package, one version each. */
const external = {};
for (const name of ['@roamchain/cli', ...internal]) {
  for (const dep of Object.keys(manifest(name).dependencies ?? {})) {
    if (dep.startsWith(SCOPE) || DEV_ONLY.has(dep)) continue;
    const v = installedVersion(dep, pkgDir(name));
    if (external[dep] && external[dep] !== v)
      throw new Error(`${dep}: two versions installed (${external[dep]}, ${v})`);
    external[dep] = v;
  }
}

/** Exports of dist only (the "@roamchain/source" condition points at sources the package does not ship). */
function distExports(exp) {
  const r = {};
  for (const [k, v] of Object.entries(exp ?? {})) {
    if (typeof v === 'string') r[k] = v;
    else r[k] = Object.fromEntries(Object.entries(v).filter(([c]) => c !== '@roamchain/source'));
  }
  return r;
}

/** Copies a package's compiled output (no build info) into `to`. */
function copyDist(from, to) {
  for (const sub of ['dist/src', 'dist/bin']) {
    if (existsSync(join(from, sub))) cpSync(join(from, sub), join(to, sub), { recursive: true });
  }
}

const stage = mkdtempSync(join(tmpdir(), 'roamchain-pack-'));
try {
  const cli = manifest('@roamchain/cli');
  const rootManifest = readJson(join(root, 'package.json'));
  copyDist(pkgDir('@roamchain/cli'), stage);
  cpSync(join(pkgDir('@roamchain/cli'), 'bin'), join(stage, 'bin'), { recursive: true });
  for (const f of ['README.md']) {
    if (existsSync(join(pkgDir('@roamchain/cli'), f)))
      cpSync(join(pkgDir('@roamchain/cli'), f), join(stage, f));
  }
  const bundled = [...internal].sort();
  for (const name of bundled) {
    const m = manifest(name);
    const to = join(stage, 'node_modules', name);
    mkdirSync(to, { recursive: true });
    copyDist(pkgDir(name), to);
    const deps = Object.fromEntries(
      Object.keys(m.dependencies ?? {}).map((d) => [
        d,
        d.startsWith(SCOPE) ? manifest(d).version : external[d],
      ]),
    );
    writeFileSync(
      join(to, 'package.json'),
      `${JSON.stringify({ name, version: m.version, type: m.type, exports: distExports(m.exports), dependencies: deps }, null, 2)}\n`,
    );
  }
  const staged = {
    name: cli.name,
    version: cli.version,
    description:
      'roamchain command line: keys, accounts, offers, contracts; `roamchain node`, `devnet` and `operator run`',
    type: 'module',
    license: cli.license ?? 'UNLICENSED',
    engines: rootManifest.engines,
    bin: cli.bin,
    exports: distExports(cli.exports),
    files: ['bin', 'dist', 'README.md'],
    dependencies: {
      ...Object.fromEntries(bundled.map((n) => [n, manifest(n).version])),
      ...Object.fromEntries(Object.entries(external).sort(([a], [b]) => a.localeCompare(b))),
    },
    bundleDependencies: bundled,
  };
  writeFileSync(join(stage, 'package.json'), `${JSON.stringify(staged, null, 2)}\n`);
  mkdirSync(out, { recursive: true });
  const packed = JSON.parse(
    execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', out], {
      cwd: stage,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    }),
  )[0];
  const file = join(out, packed.filename);
  const kb = (n) => `${Math.round(n / 1024)} kB`;
  process.stdout.write(
    `${file}: ${kb(packed.size)} packed, ${kb(packed.unpackedSize)} unpacked, ${packed.entryCount} files; bundles ${bundled.join(', ')}\n`,
  );
  // Nothing of the sources ships: no .ts but declarations.
  const stray = packed.files.map((f) => f.path).filter((p) => p.endsWith('.ts') && !p.endsWith('.d.ts'));
  if (stray.length) throw new Error(`TypeScript sources in the package: ${stray.slice(0, 5).join(', ')}`);
  if (readdirSync(out).length === 0) throw new Error('npm pack wrote nothing');
} finally {
  rmSync(stage, { recursive: true, force: true });
}
