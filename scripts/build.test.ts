/**
 * The build's configuration agrees with the packages (no build here: CI builds and runs the compiled
 * output with scripts/smoke-compiled.mjs and scripts/pack-test.sh):
 * - every runtime package has a tsconfig.build.json whose references are exactly the workspace
 *   packages of its package.json `dependencies` (else `tsc -b` builds out of order or not at all),
 *   and the root tsconfig.build.json references every one of them;
 * - every `exports` entry resolves to the sources under the "@roamchain/source" condition (dev, tests)
 *   and to the matching compiled file and declarations of dist/ otherwise, and `files` ships dist/.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SCOPE = '@roamchain/';
/** Built by Vite, not tsc. */
const NOT_TSC = new Set(['web']);

interface Manifest {
  name: string;
  exports: Record<string, string | Record<string, string>>;
  files?: string[];
  dependencies?: Record<string, string>;
}
interface BuildConfig {
  compilerOptions?: Record<string, unknown>;
  include?: string[];
  references?: { path: string }[];
}

/** JSON with `//` line comments (tsconfig files). */
const readJsonc = <T>(file: string): T =>
  JSON.parse(
    readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => !l.trim().startsWith('//'))
      .join('\n'),
  ) as T;

const runtime = readdirSync(join(ROOT, 'packages')).filter(
  (p) => !NOT_TSC.has(p) && existsSync(join(ROOT, 'packages', p, 'package.json')),
);

describe('tsc project references', () => {
  it('the root build references every runtime package', () => {
    const root = readJsonc<BuildConfig>(join(ROOT, 'tsconfig.build.json'));
    const refs = (root.references ?? []).map((r) => r.path).sort();
    expect(refs).toEqual(runtime.map((p) => `packages/${p}/tsconfig.build.json`).sort());
    expect(runtime.length).toBeGreaterThanOrEqual(12);
  });

  for (const p of runtime) {
    it(`${p}: references = its workspace dependencies; compiles src/ (and bin/) to dist/`, () => {
      const dir = join(ROOT, 'packages', p);
      const m = readJsonc<Manifest>(join(dir, 'package.json'));
      const cfg = readJsonc<BuildConfig>(join(dir, 'tsconfig.build.json'));
      const deps = Object.keys(m.dependencies ?? {})
        .filter((d) => d.startsWith(SCOPE))
        .map((d) => `../${d.slice(SCOPE.length)}/tsconfig.build.json`)
        .sort();
      expect((cfg.references ?? []).map((r) => r.path).sort()).toEqual(deps);
      expect(cfg.compilerOptions).toMatchObject({ composite: true, rootDir: '.', outDir: 'dist' });
      expect(cfg.include).toContain('src/**/*.ts');
      if (existsSync(join(dir, 'bin')) && readdirSync(join(dir, 'bin')).some((f) => f.endsWith('.ts')))
        expect(cfg.include).toContain('bin/**/*.ts');
    });

    it(`${p}: exports resolve to sources under @roamchain/source, to dist/ otherwise`, () => {
      const dir = join(ROOT, 'packages', p);
      const m = readJsonc<Manifest>(join(dir, 'package.json'));
      expect(Object.keys(m.exports).length).toBeGreaterThan(0);
      for (const [sub, target] of Object.entries(m.exports)) {
        expect(typeof target, `${p} exports[${sub}]`).toBe('object');
        const t = target as Record<string, string>;
        // Condition order matters: the first matching key wins.
        expect(Object.keys(t)).toEqual(['@roamchain/source', 'types', 'default']);
        const src = t['@roamchain/source']!;
        expect(src).toMatch(/^\.\/src\/.+\.ts$/);
        expect(existsSync(join(dir, src)), `${p}: ${src}`).toBe(true);
        const base = src.replace(/^\.\/src\//, './dist/src/').replace(/\.ts$/, '');
        expect(t.types).toBe(`${base}.d.ts`);
        expect(t.default).toBe(`${base}.js`);
      }
      expect(m.files).toEqual(expect.arrayContaining(['dist/src']));
    });
  }
});

describe('systemd units', () => {
  for (const u of ['roamchain-node.service', 'roamchain-agent.service']) {
    it(`${u} runs the installed package's compiled CLI under plain node`, () => {
      const text = readFileSync(join(ROOT, 'ops/systemd', u), 'utf8');
      const exec = text.split('\n').find((l) => l.startsWith('ExecStart='));
      expect(exec).toMatch(
        /^ExecStart=\/usr\/bin\/node \/opt\/roamchain\/node_modules\/@roamchain\/cli\/dist\/src\/main\.js /,
      );
      expect(exec).not.toMatch(/tsx|\.ts\b/);
    });
  }
});
