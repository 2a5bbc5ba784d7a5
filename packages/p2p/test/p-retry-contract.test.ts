/**
 * libp2p's reconnect queue (libp2p/dist/src/connection-manager/reconnect-queue.js) calls
 * `pRetry(async (attempt) => …, { signal, retries, factor, minTimeout })`. The root package.json
 * overrides libp2p's p-retry 8 (engines.node >= 22) to p-retry 7 (>= 20), whose code for exactly these
 * options is the same (compared line by line when the override was made). This runs the p-retry that libp2p
 * resolves, on the running Node.js, with the options libp2p passes.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

type PRetry = (
  input: (attempt: number) => Promise<unknown>,
  options: { signal?: AbortSignal; retries: number; factor: number; minTimeout: number },
) => Promise<unknown>;

/** Node's resolution of `name` from the directory `from`, on the file system. */
const packageDir = (name: string, from: string): string => {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (dirname(dir) === dir) throw new Error(`${name} not found from ${from}`);
  }
};
const libp2pDir = packageDir('libp2p', resolve(dirname(fileURLToPath(import.meta.url)), '..'));
const pRetryDir = packageDir('p-retry', libp2pDir);
const loadPRetry = async (): Promise<PRetry> =>
  ((await import(pathToFileURL(join(pRetryDir, 'index.js')).href)) as { default: PRetry }).default;

describe("libp2p's p-retry", () => {
  it('is still called as this test assumes', () => {
    const src = readFileSync(join(libp2pDir, 'dist/src/connection-manager/reconnect-queue.js'), 'utf8');
    expect(src).toContain("import pRetry from 'p-retry'");
    expect(src).toMatch(
      /pRetry\(async \(attempt\) => \{[\s\S]*?\}, \{\s*signal: options\?\.signal,\s*retries: this\.retries,\s*factor: this\.backoffFactor,\s*minTimeout: this\.retryInterval\s*\}\)/,
    );
  });

  it('retries with the attempt number until success, at most `retries` times', async () => {
    const pRetry = await loadPRetry();
    const seen: number[] = [];
    const result = await pRetry(
      async (attempt) => {
        seen.push(attempt);
        if (attempt < 3) throw new Error('dial failed');
        return 'connected';
      },
      { retries: 5, factor: 2, minTimeout: 1 },
    );
    expect(result).toBe('connected');
    expect(seen).toEqual([1, 2, 3]);

    const failures: number[] = [];
    await expect(
      pRetry(
        async (attempt) => {
          failures.push(attempt);
          throw new Error(`dial ${attempt} failed`);
        },
        { retries: 2, factor: 1, minTimeout: 1 },
      ),
    ).rejects.toThrow('dial 3 failed');
    expect(failures).toEqual([1, 2, 3]);
  });

  it('stops when the signal aborts (the queue shutting down)', async () => {
    const pRetry = await loadPRetry();
    const controller = new AbortController();
    let calls = 0;
    const run = pRetry(
      async () => {
        calls++;
        if (calls === 1) setTimeout(() => controller.abort(new Error('queue stopped')), 10);
        throw new Error('dial failed');
      },
      { signal: controller.signal, retries: 5, factor: 2, minTimeout: 60_000 },
    );
    await expect(run).rejects.toThrow('queue stopped');
    expect(calls).toBe(1);
  });
});
