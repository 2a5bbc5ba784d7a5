/**
 * Shared harness of the browser tests: a real devnet process (with the demo operators' agents), a
 * headless Debian Chromium, pages that record console errors, screenshots, and an axe-core check.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
const here = dirname(fileURLToPath(import.meta.url));
export const root = resolve(here, '../../..');
export const webDir = resolve(here, '..');
const results = join(webDir, 'test-results');
// Screenshots always go to test-results; the README's copies in docs/screenshots are refreshed only
// on request (UPDATE_SCREENSHOTS=1), so a test run does not change tracked files.
const docsShots = join(root, 'docs/screenshots');
const updateDocs = process.env.UPDATE_SCREENSHOTS === '1';

export const haveChromium = existsSync(CHROMIUM);
export const skip = !haveChromium && !process.env.CI;
if (skip) {
  console.warn(
    `web browser tests SKIPPED: ${CHROMIUM} not found (install it: apt-get install -y chromium). They always run in CI.`,
  );
}

export const DESKTOP = { width: 1280, height: 800 } as const;
export const PHONE = { width: 375, height: 812 } as const;

async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => res(port));
    });
  });
}

function startDevnet(dataDir: string, port: number): Promise<{ proc: ChildProcess; url: string }> {
  const proc = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'packages/devnet/bin/devnet.ts',
      '--data-dir',
      dataDir,
      '--port',
      String(port),
      '--quiet',
      // the demo operators' agents (countersigning, provisioning, billing) run too
      '--agents',
    ],
    { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ROAMCHAIN_LOG_LEVEL: 'warn' } },
  );
  return new Promise((res, rej) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => rej(new Error(`devnet did not start in 60 s: ${out}${err}`)), 60_000);
    proc.stderr?.on('data', (d: Buffer) => {
      err += d.toString();
    });
    proc.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      for (const line of out.split('\n')) {
        if (!line.startsWith('{')) continue;
        try {
          const j = JSON.parse(line) as { ready?: boolean; url?: string };
          if (j.ready && j.url) {
            clearTimeout(timer);
            res({ proc, url: j.url });
          }
        } catch {
          // not the ready line
        }
      }
    });
    proc.once('exit', (code) => {
      clearTimeout(timer);
      rej(new Error(`devnet exited with ${code}: ${out}${err}`));
    });
  });
}

export interface Harness {
  url: string;
  dataDir: string;
  browser: Browser;
  errors: string[];
  /** A page in a fresh browser profile (own localStorage) unless `context` is given. */
  open(path: string, size?: { width: number; height: number }, context?: BrowserContext): Promise<Page>;
  shot(page: Page, name: string, docs?: string): Promise<void>;
  close(): Promise<void>;
}

export async function startHarness(): Promise<Harness> {
  // Builds packages/web/dist unless it is newer than its sources (npm test already did).
  execFileSync(process.execPath, ['--import', 'tsx', join(webDir, 'scripts/ensure-built.ts')], {
    cwd: root,
    stdio: 'inherit',
  });
  if (!existsSync(join(webDir, 'dist/index.html'))) throw new Error('packages/web/dist was not built');
  mkdirSync(results, { recursive: true });
  mkdirSync(docsShots, { recursive: true });
  let dataDir = mkdtempSync(join(tmpdir(), 'roamchain-web-'));
  // The free port found here can be taken by another suite's ephemeral port before the devnet's API
  // listens on it (its agents and SM-DP+ move to free ports by themselves). Such a clash is retried
  // on a new port (at most 3).
  let d: { proc: ChildProcess; url: string } | undefined;
  for (let attempt = 1; !d; attempt++) {
    try {
      d = await startDevnet(dataDir, await freePort());
    } catch (e) {
      if (attempt >= 3 || !String(e).includes('EADDRINUSE')) throw e;
      rmSync(dataDir, { recursive: true, force: true });
      dataDir = mkdtempSync(join(tmpdir(), 'roamchain-web-'));
    }
  }
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  const errors: string[] = [];
  return {
    url: d.url,
    dataDir,
    browser,
    errors,
    async open(path, size = { width: 1280, height: 900 }, context) {
      const page = context ? await context.newPage() : await browser.newPage({ viewport: size });
      if (context) await page.setViewportSize(size);
      page.setDefaultTimeout(20_000);
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(`${path}: ${m.text()}`);
      });
      page.on('pageerror', (e) => errors.push(`${path}: ${e.message}`));
      await page.goto(`${d.url}/${path}`);
      return page;
    },
    async shot(page, name, docs) {
      const file = join(results, `${name}.png`);
      await page.screenshot({ path: file, fullPage: true });
      if (docs && updateDocs) copyFileSync(file, join(docsShots, `${docs}.png`));
    },
    async close() {
      await browser.close();
      const proc = d.proc;
      if (proc.exitCode === null) {
        const exited = new Promise((r) => proc.once('exit', r));
        proc.kill('SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
        if (proc.exitCode === null) proc.kill('SIGKILL');
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[] }[];
}

/** axe-core's WCAG 2.x A/AA rules on the page; the serious and critical violations. */
export async function axeSerious(page: Page): Promise<string[]> {
  await page.addScriptTag({ content: axeSource });
  const v = (await page.evaluate(async () => {
    const axe = (
      globalThis as unknown as {
        axe: { run: (c: unknown, o: unknown) => Promise<{ violations: unknown[] }> };
      }
    ).axe;
    const r = await axe.run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'] },
    });
    return r.violations;
  })) as AxeViolation[];
  return v
    .filter((x) => x.impact === 'serious' || x.impact === 'critical')
    .map(
      (x) =>
        `${x.id} (${x.impact}): ${x.help} at ${x.nodes
          .map((n) => n.target.join(' '))
          .slice(0, 3)
          .join(', ')}`,
    );
}

/** Does the page scroll sideways (a clipped or overflowing layout)? False, or the elements that stick out. */
export async function overflowsX(page: Page): Promise<false | string[]> {
  return page.evaluate(() => {
    const w = document.documentElement.clientWidth;
    if (document.documentElement.scrollWidth <= w) return false;
    const out: string[] = [];
    for (const el of Array.from(document.querySelectorAll<HTMLElement>('body *'))) {
      const r = el.getBoundingClientRect();
      if (r.right > w + 0.5 && r.width > 0 && el.offsetParent !== null)
        out.push(`${el.tagName.toLowerCase()}.${el.className}#${el.id} right=${Math.round(r.right)}`);
    }
    return out.slice(0, 8);
  });
}
