#!/usr/bin/env node
/**
 * Every dependency accepts every supported Node.js version (`npm run lint` runs it).
 *
 * The supported versions are the root package.json `engines.node` (e.g. `^20.19.0 || ^22.13.0`). A
 * package passes when that range is a subset of its own `engines.node` (semver.subset): it accepts
 * every version we support, not just some. Checked:
 * - the installed tree: every package.json under node_modules (nested ones too) and under the
 *   workspaces' node_modules, and the workspace packages themselves;
 * - package-lock.json: every entry, also the platform-specific optional packages not installed here.
 * An `engines.node` that is not a valid semver range fails too (nobody can tell what it accepts).
 *
 *   node scripts/engines-check.mjs [--root <dir>]   (default: the repository root)
 *
 * Exit 0 when all pass; 1 listing each refusing package (name@version, its range, where it is and who
 * requires it); 2 when the root declares no valid range.
 */
import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { dirname, join, posix, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import semver from 'semver';

const { values } = parseArgs({ options: { root: { type: 'string' } } });
const root = resolve(values.root ?? join(dirname(fileURLToPath(import.meta.url)), '..'));

/** @param {string} file */
const readJson = (file) => {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
};
/** Path relative to the root, with `/` (the lockfile's keys). @param {string} abs */
const rel = (abs) => relative(root, abs).split('\\').join('/');

const rootManifest = readJson(join(root, 'package.json'));
const supported = rootManifest?.engines?.node;
if (typeof supported !== 'string' || semver.validRange(supported) === null) {
  console.error(`engines-check: ${join(root, 'package.json')} declares no valid engines.node range`);
  process.exit(2);
}

/**
 * Installed packages by path relative to the root (`node_modules/a/node_modules/b`), and workspace
 * links (`node_modules/@scope/ws` → `packages/ws`).
 * @type {Map<string, any>}
 */
const installed = new Map();
/** @type {Map<string, string>} */
const links = new Map();

/** Packages of one node_modules directory, recursing into their own node_modules. @param {string} dir */
const walkNodeModules = (dir) => {
  if (!existsSync(dir)) return;
  for (const entry of readdirSync(dir)) {
    if (entry.startsWith('.')) continue;
    const path = join(dir, entry);
    if (entry.startsWith('@')) {
      for (const sub of readdirSync(path)) walkPackage(join(path, sub));
    } else {
      walkPackage(path);
    }
  }
};
/** @param {string} dir */
const walkPackage = (dir) => {
  const stat = lstatSync(dir);
  if (stat.isSymbolicLink()) {
    links.set(rel(dir), rel(resolve(dirname(dir), readlinkSync(dir))));
    return;
  }
  if (!stat.isDirectory()) return;
  const manifest = readJson(join(dir, 'package.json'));
  if (manifest !== undefined) installed.set(rel(dir), manifest);
  walkNodeModules(join(dir, 'node_modules'));
};

walkNodeModules(join(root, 'node_modules'));
for (const pattern of Array.isArray(rootManifest.workspaces) ? rootManifest.workspaces : []) {
  // `dir/*` and plain `dir` patterns (this repository's form).
  const parent = join(root, pattern.endsWith('/*') ? pattern.slice(0, -2) : pattern);
  const dirs = !pattern.endsWith('/*')
    ? [parent]
    : existsSync(parent)
      ? readdirSync(parent).map((d) => join(parent, d))
      : [];
  for (const dir of dirs) {
    const manifest = readJson(join(dir, 'package.json'));
    if (manifest === undefined) continue;
    installed.set(rel(dir), manifest);
    walkNodeModules(join(dir, 'node_modules'));
  }
}

/** Node's resolution of `name` from the package at `from`, on relative paths. */
const resolveDep = (/** @type {string} */ name, /** @type {string} */ from) => {
  for (let dir = from; ; dir = posix.dirname(dir)) {
    const base = dir === '.' || dir === '' ? '' : `${dir}/`;
    const candidate = `${base}node_modules/${name}`;
    const target = links.get(candidate) ?? candidate;
    if (installed.has(target)) return target;
    if (base === '') return undefined;
  }
};
/** Who requires each installed package: path → `name@version` of its dependents. */
const requiredBy = new Map();
for (const [path, manifest] of installed) {
  const deps = {
    ...manifest.dependencies,
    ...manifest.optionalDependencies,
    ...manifest.peerDependencies,
  };
  for (const name of Object.keys(deps)) {
    const target = resolveDep(name, path);
    if (target === undefined) continue;
    const list = requiredBy.get(target) ?? [];
    list.push(`${manifest.name}@${manifest.version}`);
    requiredBy.set(target, list);
  }
}

/** Why `range` refuses a supported version, or undefined when it accepts them all. */
const refusal = (/** @type {unknown} */ range) => {
  if (range === undefined) return undefined;
  if (typeof range !== 'string' || semver.validRange(range) === null) return 'not a valid range';
  return semver.subset(supported, range) ? undefined : 'refuses some supported versions';
};

/** @type {Map<string, string>} path → report line */
const failures = new Map();
for (const [path, manifest] of installed) {
  const range = manifest.engines?.node;
  const why = refusal(range);
  if (why === undefined) continue;
  const by = requiredBy.get(path);
  failures.set(
    path,
    `${manifest.name}@${manifest.version} engines.node ${JSON.stringify(range)} (${why}) at ${path}` +
      (by ? `, required by ${[...new Set(by)].join(', ')}` : ''),
  );
}
const lock = readJson(join(root, 'package-lock.json'));
let locked = 0;
for (const [path, entry] of Object.entries(lock?.packages ?? {})) {
  if (path === '' || entry.link) continue;
  locked++;
  const range = entry.engines?.node;
  const why = refusal(range);
  if (why === undefined || failures.has(path)) continue;
  failures.set(
    path,
    `${path.slice(path.lastIndexOf('node_modules/') + 13)}@${entry.version} engines.node ` +
      `${JSON.stringify(range)} (${why}) at ${path} in package-lock.json`,
  );
}

if (failures.size > 0) {
  console.error(`engines-check: ${failures.size} package(s) do not accept every Node.js ${supported}:`);
  for (const line of [...failures.values()].sort()) console.error(`  ${line}`);
  console.error(
    'Pin the parent to a version whose dependencies accept them, or override the dependency to an ' +
      'API-identical version (package.json "overrides"); see README.',
  );
  process.exit(1);
}
console.log(
  `engines-check: ${installed.size} installed and ${locked} locked packages accept Node.js ${supported}`,
);
