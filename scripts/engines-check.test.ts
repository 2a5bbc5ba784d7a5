/**
 * scripts/engines-check.mjs (run by `npm run lint`): fails listing every package whose engines.node does
 * not accept every Node.js version of the root's engines.node; and this repository passes it.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SCRIPT = join(ROOT, 'scripts/engines-check.mjs');
const SUPPORTED = '^20.19.0 || ^22.13.0';

const run = (root: string) => {
  const r = spawnSync(process.execPath, [SCRIPT, '--root', root], { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, out: r.stdout + r.stderr };
};

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A repository on disk: the root manifest, packages by relative directory, a lockfile. */
const tree = (
  rootEngines: string | undefined,
  pkgs: Record<string, { name: string; engines?: unknown; dependencies?: Record<string, string> }>,
  lock: Record<string, unknown> = {},
): string => {
  const root = mkdtempSync(join(tmpdir(), 'engines-check-'));
  dirs.push(root);
  const manifest = {
    name: 'fixture',
    private: true,
    workspaces: ['packages/*'],
    ...(rootEngines === undefined ? {} : { engines: { node: rootEngines } }),
  };
  writeFileSync(join(root, 'package.json'), JSON.stringify(manifest));
  for (const [dir, p] of Object.entries(pkgs)) {
    mkdirSync(join(root, dir), { recursive: true });
    writeFileSync(join(root, dir, 'package.json'), JSON.stringify({ version: '1.0.0', ...p }));
  }
  writeFileSync(
    join(root, 'package-lock.json'),
    JSON.stringify({ lockfileVersion: 3, packages: { '': {}, ...lock } }),
  );
  return root;
};

describe('engines-check', () => {
  it('passes when every package accepts every supported version', () => {
    const root = tree(SUPPORTED, {
      'node_modules/a': { name: 'a', engines: { node: '>=18' } },
      'node_modules/@s/b': { name: '@s/b', engines: { node: '^20.12 || ^22.13 || >=24.0' } },
      'node_modules/c': { name: 'c' },
      // Legacy array form: npm ignores it.
      'node_modules/d': { name: 'd', engines: ['node >= 0.4'] },
    });
    const r = run(root);
    expect(r.out).toContain('4 installed');
    expect(r.status).toBe(0);
  });

  it('fails listing each refusing package: nested, in a workspace, only in the lockfile, invalid', () => {
    const root = tree(
      SUPPORTED,
      {
        'node_modules/ok': { name: 'ok', engines: { node: '>=20' } },
        'node_modules/parent': { name: 'parent', dependencies: { child: '^2' } },
        'node_modules/parent/node_modules/child': { name: 'child', engines: { node: '>=22' } },
        'packages/w': { name: '@s/w', dependencies: { wdep: '^1' } },
        'packages/w/node_modules/wdep': { name: 'wdep', engines: { node: '^20.19.0 || ^22.14.0' } },
        'node_modules/bad': { name: 'bad', engines: { node: 'banana' } },
      },
      {
        'node_modules/ok': { version: '1.0.0', engines: { node: '>=20' } },
        'node_modules/@x/binding-other-os': { version: '3.0.0', engines: { node: '>=22' } },
        'node_modules/@s/w': { resolved: 'packages/w', link: true },
      },
    );
    symlinkSync(join(root, 'packages/w'), join(root, 'node_modules/wlink'));
    const r = run(root);
    expect(r.status).toBe(1);
    expect(r.out).toContain('4 package(s)');
    expect(r.out).toMatch(
      /child@1\.0\.0 engines\.node ">=22" .* at node_modules\/parent\/node_modules\/child, required by parent@1\.0\.0/,
    );
    expect(r.out).toMatch(/wdep@1\.0\.0 .* at packages\/w\/node_modules\/wdep, required by @s\/w@1\.0\.0/);
    expect(r.out).toContain('@x/binding-other-os@3.0.0 engines.node ">=22"');
    expect(r.out).toMatch(/bad@1\.0\.0 engines\.node "banana" \(not a valid range\)/);
    expect(r.out).not.toMatch(/\bok@/);
  });

  it('the supported range is the root engines.node: accepting 22.12 fails a package needing 22.13', () => {
    const pkgs = { 'node_modules/w': { name: 'w', engines: { node: '^20.12 || ^22.13 || >=24.0' } } };
    expect(run(tree(SUPPORTED, pkgs)).status).toBe(0);
    const r = run(tree('^20.19.0 || ^22.12.0', pkgs));
    expect(r.status).toBe(1);
    expect(r.out).toContain('w@1.0.0');
  });

  it('refuses a root without a valid engines.node', () => {
    expect(run(tree(undefined, {})).status).toBe(2);
    expect(run(tree('twenty', {})).status).toBe(2);
  });

  it('this repository passes (the overrides in package.json keep it so)', () => {
    const r = run(ROOT);
    expect(r.out).toContain(`accept Node.js ${SUPPORTED}`);
    expect(r.status).toBe(0);
  });
});
