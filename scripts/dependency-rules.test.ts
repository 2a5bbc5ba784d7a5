/**
 * The dependency check of `npm run lint` (.dependency-cruiser.cjs) fails on what it forbids: the real
 * config and the real `depcruise`, run in a small fixture workspace with deliberate violations.
 * By hand, on the real tree: add `import './b.js'` to a.ts and `import './a.js'` to b.ts of any
 * package, then `npm run lint:deps` exits 1 with `error no-circular: … a.ts → … b.ts → … a.ts`.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const CONFIG = join(ROOT, '.dependency-cruiser.cjs');
const DEPCRUISE = join(ROOT, 'node_modules/dependency-cruiser/bin/dependency-cruise.mjs');

type Files = Record<string, string>;

/** protocol < state < node < sdk < agent (their real layers), each declaring what it imports. */
interface Pkg {
  deps: string[];
  devDeps?: string[];
}

const PACKAGES: Record<string, Pkg> = {
  protocol: { deps: [] },
  state: { deps: ['protocol'] },
  node: { deps: ['protocol', 'state'], devDeps: ['sdk'] },
  sdk: { deps: ['protocol'] },
  agent: { deps: ['protocol', 'sdk'] },
};

const CLEAN: Files = {
  'packages/protocol/src/index.ts': 'export const P = 1;\n',
  'packages/state/src/index.ts': "import { P } from '@roamchain/protocol';\nexport const S = P + 1;\n",
  'packages/node/src/index.ts': "export * from './node.js';\n",
  'packages/node/src/node.ts': "import { S } from '@roamchain/state';\nexport const N = S + 1;\n",
  'packages/node/src/consensus.ts': 'export const C = 1;\n',
  'packages/node/src/interfaces.ts': 'export type I = number;\n',
  'packages/node/src/mempool.ts': 'export const M = 1;\n',
  // A test may use a higher package as a harness when its package.json declares it.
  'packages/node/test/e2e.ts': "import { K } from '@roamchain/sdk';\nexport const T = K;\n",
  'packages/sdk/src/index.ts': "import { P } from '@roamchain/protocol';\nexport const K = P;\n",
  'packages/agent/src/index.ts': "import { K } from '@roamchain/sdk';\nexport const A = K;\n",
};

let dirs: string[] = [];
afterEach(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  dirs = [];
});

/** Writes the fixture workspace (CLEAN with `changes`; a null removes a file) and runs the check in it. */
function check(changes: Record<string, string | null> = {}, extraPackages: string[] = []) {
  const dir = mkdtempSync(join(tmpdir(), 'rc-deps-'));
  dirs.push(dir);
  const pkgs: Record<string, Pkg> = {
    ...PACKAGES,
    ...Object.fromEntries(extraPackages.map((p) => [p, { deps: [] }])),
  };
  const files: Files = {
    'tsconfig.json': JSON.stringify({
      compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true },
      include: ['packages/*/src/**/*.ts', 'packages/*/test/**/*.ts'],
    }),
  };
  for (const [name, p] of Object.entries(pkgs)) {
    const scoped = (ds: string[] = []) => Object.fromEntries(ds.map((d) => [`@roamchain/${d}`, '*']));
    files[`packages/${name}/package.json`] = JSON.stringify({
      name: `@roamchain/${name}`,
      type: 'module',
      exports: { '.': './src/index.ts' },
      dependencies: scoped(p.deps),
      devDependencies: scoped(p.devDeps),
    });
    files[`packages/${name}/src/index.ts`] ??= 'export {};\n';
  }
  Object.assign(files, CLEAN);
  for (const [path, text] of Object.entries(changes)) {
    if (text === null) delete files[path];
    else files[path] = text;
  }
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  mkdirSync(join(dir, 'node_modules/@roamchain'), { recursive: true });
  // One real npm package for the npm rules.
  symlinkSync(join(ROOT, 'node_modules/commander'), join(dir, 'node_modules/commander'), 'dir');
  for (const name of Object.keys(pkgs)) {
    symlinkSync(join(dir, 'packages', name), join(dir, 'node_modules/@roamchain', name), 'dir');
  }
  const r = spawnSync(process.execPath, [DEPCRUISE, 'packages', '--config', CONFIG], {
    cwd: dir,
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

describe('the dependency check (npm run lint:deps)', () => {
  it('passes a workspace that keeps the rules', () => {
    const r = check();
    expect(r.out).toContain('no dependency violations found');
    expect(r.status).toBe(0);
  });

  it('fails on an import cycle', () => {
    const r = check({
      'packages/protocol/src/a.ts': "import { B } from './b.js';\nexport const A = () => B;\n",
      'packages/protocol/src/b.ts': "import { A } from './a.js';\nexport const B = () => A;\n",
    });
    expect(r.status).not.toBe(0);
    expect(r.out).toMatch(/error no-circular: packages\/protocol\/src\/[ab]\.ts/);
  });

  it('fails on a type-only cycle too', () => {
    const r = check({
      'packages/state/src/a.ts': "import type { B } from './b.js';\nexport type A = { b?: B };\n",
      'packages/state/src/b.ts': "import type { A } from './a.js';\nexport type B = { a?: A };\n",
    });
    expect(r.status).not.toBe(0);
    expect(r.out).toContain('error no-circular');
  });

  it('fails on an import of a higher layer, even when declared', () => {
    const r = check({
      'packages/state/package.json': JSON.stringify({
        name: '@roamchain/state',
        dependencies: { '@roamchain/protocol': '*', '@roamchain/node': '*' },
      }),
      'packages/state/src/up.ts': "import { N } from '@roamchain/node';\nexport const U = N;\n",
    });
    expect(r.status).not.toBe(0);
    expect(r.out).toContain('error layers/state: packages/state/src/up.ts → packages/node/src/');
  });

  it('fails on an import of a package of the same layer (sdk and smdp stay independent)', () => {
    const r = check(
      {
        'packages/sdk/package.json': JSON.stringify({
          name: '@roamchain/sdk',
          dependencies: { '@roamchain/protocol': '*', '@roamchain/smdp': '*' },
        }),
        'packages/sdk/src/side.ts': "import '@roamchain/smdp';\n",
      },
      ['smdp'],
    );
    expect(r.status).not.toBe(0);
    expect(r.out).toContain('error layers/sdk');
  });

  it('fails on a relative import of a higher package from production code', () => {
    const r = check({
      'packages/node/src/up.ts': "import { A } from '../../agent/src/index.js';\nexport { A };\n",
    });
    expect(r.status).not.toBe(0);
    expect(r.out).toContain('error layers/node: packages/node/src/up.ts → packages/agent/src/index.ts');
  });

  it('fails on a workspace import its package.json does not declare', () => {
    const r = check({ 'packages/agent/src/st.ts': "import { S } from '@roamchain/state';\nexport { S };\n" });
    expect(r.status).not.toBe(0);
    expect(r.out).toContain('error declared/agent: packages/agent/src/st.ts → packages/state/src/index.ts');
    const t = check({ 'packages/state/test/h.ts': "import { A } from '@roamchain/agent';\nexport { A };\n" });
    expect(t.status).not.toBe(0);
    expect(t.out).toContain('error declared-dev/state');
  });

  it('fails on an npm import its package.json does not declare, or declares as a devDependency', () => {
    const r = check({ 'packages/state/src/cmd.ts': "export { Command } from 'commander';\n" });
    expect(r.status).not.toBe(0);
    expect(r.out).toMatch(/error npm-declared: packages\/state\/src\/cmd\.ts → \S*node_modules\/commander\//);
    const dev = check({
      'packages/state/package.json': JSON.stringify({
        name: '@roamchain/state',
        dependencies: { '@roamchain/protocol': '*' },
        devDependencies: { commander: '*' },
      }),
      'packages/state/src/cmd.ts': "export { Command } from 'commander';\n",
      'packages/state/test/cmd.ts': "export { Command } from 'commander';\n",
    });
    expect(dev.status).not.toBe(0);
    expect(dev.out).toContain('error npm-not-dev-from-production: packages/state/src/cmd.ts');
    expect(dev.out).not.toContain('packages/state/test/cmd.ts');
  });

  it('excuses only the temporary node.ts / consensus.ts / interfaces.ts cycle, nothing through another file', () => {
    const excused = check({
      'packages/node/src/node.ts':
        "import { S } from '@roamchain/state';\nimport { C } from './consensus.js';\nexport const N = S + C;\n",
      'packages/node/src/consensus.ts':
        "import type { I } from './interfaces.js';\nimport { N } from './node.js';\nexport const C = 1;\nexport const D = (i: I) => N + i;\n",
      'packages/node/src/interfaces.ts':
        "import type { C } from './consensus.js';\nexport type I = typeof C;\n",
    });
    expect(excused.out).toContain('no dependency violations found');
    expect(excused.status).toBe(0);
    const r = check({
      'packages/node/src/node.ts':
        "import { S } from '@roamchain/state';\nimport { M } from './mempool.js';\nexport const N = S + M;\n",
      'packages/node/src/mempool.ts':
        "import { N } from './node.js';\nexport const M = 1;\nexport const f = () => N;\n",
    });
    expect(r.status).not.toBe(0);
    expect(r.out).toContain('error no-circular');
  });

  it('refuses a package that has no place in the layer order', () => {
    const r = check({}, ['unplaced']);
    expect(r.status).not.toBe(0);
    expect(r.out).toContain('packages/unplaced not in LAYERS');
  });
});
