/**
 * ARCHITECTURE.md's "Owns / does not own / depends on" table is checked against the imports: for
 * every workspace package, the roamchain packages its `src` imports are exactly the ones the
 * "depends on" cell names outside parentheses, and the ones only its tests and benches import are
 * exactly the ones it names in "(tests: …)" / "(bench: …)" — an import is `@roamchain/x` or a relative
 * path into another package (`../../node/src/…`). A package added without a row, an
 * import added or removed without the document following, fails here.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const PACKAGES = readdirSync(join(ROOT, 'packages')).filter((p) => {
  try {
    return statSync(join(ROOT, 'packages', p, 'package.json')).isFile();
  } catch {
    return false;
  }
});

interface Row {
  deps: Set<string>;
  testDeps: Set<string>;
}

/** The table's rows: package → the workspace packages its "depends on" cell names. */
function documented(): Map<string, Row> {
  const text = readFileSync(join(ROOT, 'ARCHITECTURE.md'), 'utf8');
  const start = text.indexOf('## Owns / does not own / depends on');
  const section = text.slice(start, text.indexOf('\n## ', start + 1));
  const rows = new Map<string, Row>();
  for (const line of section.split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    const name = /^`@roamchain\/([a-z0-9-]+)`$/.exec(cells[1] ?? '')?.[1];
    if (!name) continue;
    const cell = cells[4] ?? '';
    const testDeps = new Set<string>();
    for (const m of cell.matchAll(/\((?:tests|bench):([^)]*)\)/g))
      for (const w of words(m[1]!)) testDeps.add(w);
    const outside = cell.replace(/\([^)]*\)/g, ' ');
    rows.set(name, { deps: new Set(words(outside)), testDeps });
  }
  return rows;
}

/** The workspace package names among a cell's comma-separated words ("node's verifiers" → node). */
function words(s: string): string[] {
  return s
    .split(',')
    .map((w) => w.trim().split(/[\s']/)[0] ?? '')
    .filter((w) => PACKAGES.includes(w));
}

function filesUnder(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names.flatMap((n) => {
    const p = join(dir, n);
    if (n === 'node_modules' || n === 'dist') return [];
    if (statSync(p).isDirectory()) return filesUnder(p);
    return /\.(ts|tsx|mts)$/.test(n) ? [p] : [];
  });
}

/** The roamchain packages imported (statically or dynamically) by the files under `dirs`. */
function imported(pkg: string, dirs: string[]): Set<string> {
  const out = new Set<string>();
  for (const d of dirs)
    for (const f of filesUnder(join(ROOT, 'packages', pkg, d))) {
      const src = readFileSync(f, 'utf8');
      for (const m of src.matchAll(/(?:from|import)\s*\(?\s*['"]([^'"]+)['"]/g)) {
        const spec = m[1]!;
        // `@roamchain/x`, or a relative path into another package (`../../node/src/…`).
        const other = spec.startsWith('@roamchain/')
          ? spec.slice('@roamchain/'.length).split('/')[0]
          : spec.startsWith('.')
            ? /^packages\/([a-z0-9-]+)\//.exec(relative(ROOT, resolve(dirname(f), spec)))?.[1]
            : undefined;
        if (other && other !== pkg) out.add(other);
      }
    }
  return out;
}

const sorted = (s: Set<string>) => [...s].sort();

describe('ARCHITECTURE.md "depends on" matches the imports', () => {
  const rows = documented();

  it('every workspace package has a row', () => {
    expect(sorted(new Set(rows.keys()))).toEqual([...PACKAGES].sort());
  });

  for (const pkg of PACKAGES) {
    it(`@roamchain/${pkg}`, () => {
      const row = rows.get(pkg);
      expect(row, `no row for @roamchain/${pkg}`).toBeDefined();
      const src = imported(pkg, ['src', 'bin']);
      const rest = imported(pkg, ['test', 'bench', 'scripts', 'e2e']);
      for (const d of src) rest.delete(d);
      expect(sorted(src), `@roamchain/${pkg}: imports of src/ and bin/`).toEqual(sorted(row!.deps));
      expect(sorted(rest), `@roamchain/${pkg}: imports only its tests and benches make`).toEqual(
        sorted(row!.testDeps),
      );
    });
  }
});
