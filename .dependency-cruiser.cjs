/**
 * Dependency rules of the workspace, checked by `npm run lint` (`npm run lint:deps`):
 *
 *  (a) no module-level import cycle anywhere (sources, tests, benches, scripts; type-only imports
 *      count too);
 *  (b) production code (src/, bin/) depends downward only, by the layer order below: a package may
 *      import packages of lower layers only (not its own layer, not a higher one);
 *  (c) a package imports only workspace packages its package.json lists: `dependencies` from src/
 *      and bin/, also `devDependencies` from tests, benches and scripts. A test or bench may use a
 *      higher package as a harness (the node's end-to-end tests start the devnet, the SDK's tests a
 *      node), so long as it declares it and forms no cycle. npm packages imported by production code
 *      are in its package's `dependencies` (tests may also use the root's devDependencies: vitest,
 *      fast-check).
 *
 * The order, bottom to top, and why (ARCHITECTURE.md, "Layers"):
 *   protocol, fsutil   the wire format (runs in browsers too); node-only durable file writes
 *   state, consensus, p2p
 *                      the state machine, the pure BFT core and the libp2p host: each on protocol
 *                      only, none knows the others
 *   chain              (being introduced) the Application boundary and the consensus driver
 *   node               the daemon: assembles storage, state, consensus, p2p and the Web-API
 *   sdk, smdp          clients of the node's API and of the SM-DP+; the SM-DP+ simulator: nothing in
 *                      the node needs them
 *   agent              the operator agent: reads the chain through the SDK, provisions through the SM-DP+
 *   devnet             the local devnet launcher: a node, demo accounts and keystore, the SM-DP+ and
 *                      the demo operators' agents
 *   cli, web           the user-facing programs
 * Every directory under packages/ must appear here (a new package gets a place on purpose).
 */
const { existsSync, readdirSync, readFileSync } = require('node:fs');
const { join } = require('node:path');

const LAYERS = [
  ['protocol', 'fsutil'],
  ['state', 'consensus', 'p2p'],
  ['chain'],
  ['node'],
  ['sdk', 'smdp'],
  ['agent'],
  ['devnet'],
  ['cli', 'web'],
];

const PRODUCTION = '(src|bin)/';
/** The workspace: where `depcruise` runs (npm runs scripts at the root; the rules' test runs it in fixtures). */
const ROOT = process.cwd();
const SCOPE = '@roamchain/';

const packages = readdirSync(join(ROOT, 'packages'), { withFileTypes: true })
  .filter((d) => d.isDirectory() && existsSync(join(ROOT, 'packages', d.name, 'package.json')))
  .map((d) => d.name);

const layerOf = new Map(LAYERS.flatMap((names, i) => names.map((n) => [n, i])));
const unplaced = packages.filter((p) => !layerOf.has(p));
if (unplaced.length > 0) {
  throw new Error(
    `.dependency-cruiser.cjs: packages/${unplaced.join(', packages/')} not in LAYERS: give each a layer`,
  );
}

/** Workspace package directories named in a package.json section. */
function workspaceDeps(pkg, section) {
  const json = JSON.parse(readFileSync(join(ROOT, 'packages', pkg, 'package.json'), 'utf8'));
  const deps = Object.keys(json[section] ?? {})
    .filter((n) => n.startsWith(SCOPE))
    .map((n) => n.slice(SCOPE.length));
  for (const d of deps) {
    if (!packages.includes(d))
      throw new Error(`packages/${pkg}/package.json names ${SCOPE}${d}: no such package`);
  }
  return deps;
}

const alternatives = (names) => `^packages/(${names.join('|')})/`;

const layerRules = packages.flatMap((p) => {
  const above = packages.filter((q) => q !== p && (layerOf.get(q) ?? 0) >= (layerOf.get(p) ?? 0));
  if (above.length === 0) return [];
  return [
    {
      name: `layers/${p}`,
      comment: `${p} (layer ${layerOf.get(p)}) imports a package of its own or a higher layer (.dependency-cruiser.cjs LAYERS)`,
      severity: 'error',
      from: { path: `^packages/${p}/${PRODUCTION}` },
      to: { path: alternatives(above) },
    },
  ];
});

const declaredRules = packages.flatMap((p) => {
  const prod = new Set([p, ...workspaceDeps(p, 'dependencies')]);
  const all = new Set([...prod, ...workspaceDeps(p, 'devDependencies')]);
  const undeclared = (allowed) => packages.filter((q) => !allowed.has(q));
  const rules = [];
  if (undeclared(prod).length > 0) {
    rules.push({
      name: `declared/${p}`,
      comment: `packages/${p}/${PRODUCTION} imports a workspace package missing from its package.json dependencies`,
      severity: 'error',
      from: { path: `^packages/${p}/${PRODUCTION}` },
      to: { path: alternatives(undeclared(prod)) },
    });
  }
  if (undeclared(all).length > 0) {
    rules.push({
      name: `declared-dev/${p}`,
      comment: `packages/${p} (tests, benches, scripts) imports a workspace package missing from its package.json`,
      severity: 'error',
      from: { path: `^packages/${p}/`, pathNot: `^packages/${p}/${PRODUCTION}` },
      to: { path: alternatives(undeclared(all)) },
    });
  }
  return rules;
});

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'an import cycle (type-only imports included)',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    ...layerRules,
    ...declaredRules,
    {
      name: 'not-to-unresolvable',
      comment: 'an import that does not resolve',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
    {
      name: 'npm-declared',
      comment: "production code imports an npm package missing from its package's package.json",
      severity: 'error',
      from: { path: `^packages/[^/]+/${PRODUCTION}` },
      to: { dependencyTypes: ['npm-no-pkg', 'npm-unknown'] },
    },
    {
      name: 'npm-not-dev-from-production',
      comment: 'production code imports a devDependency',
      severity: 'error',
      from: { path: `^packages/[^/]+/${PRODUCTION}` },
      to: { dependencyTypes: ['npm-dev'], dependencyTypesNot: ['type-only'] },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^packages/[^/]+/(dist|coverage)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['@roamchain/source', 'import', 'require', 'node', 'default', 'types'],
      mainFields: ['module', 'main', 'types', 'typings'],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
