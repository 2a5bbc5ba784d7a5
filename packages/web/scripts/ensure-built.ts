/**
 * `npm start` runs this first (root "prestart"): builds the web app with Vite when
 * packages/web/dist is missing or older than its sources (the app, and the SDK and protocol
 * packages it bundles). Quick when nothing changed: it only compares modification times.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const web = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const root = resolve(web, '../..');
const built = join(web, 'dist/index.html');

function newest(path: string): number {
  if (!existsSync(path)) return 0;
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let m = st.mtimeMs;
  for (const e of readdirSync(path)) m = Math.max(m, newest(join(path, e)));
  return m;
}

const sources = [
  join(web, 'src'),
  join(web, 'index.html'),
  join(web, 'vite.config.ts'),
  join(web, 'package.json'),
  join(root, 'packages/sdk/src'),
  join(root, 'packages/protocol/src'),
];
const builtAt = existsSync(built) ? statSync(built).mtimeMs : 0;
const changed = Math.max(...sources.map(newest));
if (builtAt >= changed && !process.argv.includes('--force')) {
  process.stdout.write('web app is up to date (packages/web/dist)\n');
} else {
  process.stdout.write('building the web app (packages/web/dist)…\n');
  execFileSync(
    process.execPath,
    [join(root, 'node_modules/vite/bin/vite.js'), 'build', '--logLevel', 'warn'],
    {
      cwd: web,
      stdio: 'inherit',
    },
  );
}
