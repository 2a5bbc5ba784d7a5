import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { type KvStore, openStore, prefixUpperBound, type StoreKind, u64Key } from '../src/store/index.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '../../..');
const writerScript = path.join(here, 'fixtures', 'store-writer.ts');

const dirs: string[] = [];
function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rc-store-'));
  dirs.push(dir);
  return dir;
}

afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

const bytes = (...xs: number[]): Uint8Array => new Uint8Array(xs);

async function collect(it: AsyncIterable<[string, Uint8Array]>): Promise<[string, number[]][]> {
  const out: [string, number[]][] = [];
  for await (const [k, v] of it) out.push([k, [...v]]);
  return out;
}

describe('key helpers', () => {
  it('prefixUpperBound bounds every key with the prefix', () => {
    expect(prefixUpperBound('a/')).toBe('a0');
    expect(prefixUpperBound('')).toBeUndefined();
    expect(prefixUpperBound('a\uffff')).toBe('b');
  });

  it('u64Key sorts numerically', () => {
    const keys = [0, 1, 255, 256, 2 ** 40, Number.MAX_SAFE_INTEGER].map((n) => u64Key('b/', n));
    expect([...keys].sort()).toEqual(keys);
    expect(u64Key('b/', 1)).toBe('b/0000000000000001');
    expect(() => u64Key('b/', -1)).toThrow(RangeError);
  });
});

describe.each(['lmdb', 'level'] as const)('%s store', (kind: StoreKind) => {
  let store: KvStore | undefined;
  afterEach(async () => {
    await store?.close();
    store = undefined;
  });

  it('applies puts and deletes of one batch together', async () => {
    store = await openStore(kind, tempDir());
    expect(store.get('a/x')).toBeUndefined();
    await store.batch([
      { type: 'put', key: 'a/x', value: bytes(1) },
      { type: 'put', key: 'a/y', value: bytes(2, 3) },
      { type: 'put', key: 'a/z', value: bytes(4) },
    ]);
    expect([...(store.get('a/x') ?? [])]).toEqual([1]);
    expect([...(store.get('a/y') ?? [])]).toEqual([2, 3]);

    await store.batch([
      { type: 'del', key: 'a/x' },
      { type: 'put', key: 'a/y', value: bytes(9) },
      { type: 'del', key: 'a/missing' },
      { type: 'put', key: 'a/w', value: new Uint8Array(300).fill(5) },
    ]);
    expect(store.get('a/x')).toBeUndefined();
    expect([...(store.get('a/y') ?? [])]).toEqual([9]);
    expect(store.get('a/w')?.length).toBe(300);
    expect(store.get('a/w')).toBeInstanceOf(Uint8Array);
    expect(await collect(store.range('a/'))).toEqual([
      ['a/w', new Array(300).fill(5)],
      ['a/y', [9]],
      ['a/z', [4]],
    ]);
  });

  it('a put followed by a del of the same key in one batch leaves no entry', async () => {
    store = await openStore(kind, tempDir());
    await store.batch([
      { type: 'put', key: 'k/1', value: bytes(1) },
      { type: 'del', key: 'k/1' },
      { type: 'put', key: 'k/2', value: bytes(1) },
      { type: 'put', key: 'k/2', value: bytes(2) },
    ]);
    expect(store.get('k/1')).toBeUndefined();
    expect([...(store.get('k/2') ?? [])]).toEqual([2]);
  });

  it('ranges by prefix in bytewise key order, with reverse, limit and bounds', async () => {
    store = await openStore(kind, tempDir());
    const keys = ['a/alice', 'a/bob', 'a/Zed', 'a/', 'ab', 'a', 'c/00ff', 'c/0100', 'b/x', 'a/alice/1'];
    await store.batch(keys.map((key, i) => ({ type: 'put' as const, key, value: bytes(i) })));

    const keysOf = async (it: AsyncIterable<[string, Uint8Array]>) => (await collect(it)).map(([k]) => k);
    expect(await keysOf(store.range('a/'))).toEqual(['a/', 'a/Zed', 'a/alice', 'a/alice/1', 'a/bob']);
    expect(await keysOf(store.range('a/', { reverse: true, limit: 2 }))).toEqual(['a/bob', 'a/alice/1']);
    expect(await keysOf(store.range('a/', { limit: 2 }))).toEqual(['a/', 'a/Zed']);
    expect(await keysOf(store.range('a/', { gte: 'a/alice', lt: 'a/bob' }))).toEqual([
      'a/alice',
      'a/alice/1',
    ]);
    expect(await keysOf(store.range('a/', { reverse: true, lt: 'a/alice/1' }))).toEqual([
      'a/alice',
      'a/Zed',
      'a/',
    ]);
    expect(await keysOf(store.range('c/', { reverse: true }))).toEqual(['c/0100', 'c/00ff']);
    expect(await keysOf(store.range('z/'))).toEqual([]);
    expect(await keysOf(store.range('a/', { gte: 'b' }))).toEqual([]);
    expect(await keysOf(store.range(''))).toEqual([...keys].sort());
  });

  it('orders big-endian height keys numerically', async () => {
    store = await openStore(kind, tempDir());
    const heights = [5, 300, 1, 70000, 256, 0];
    await store.batch(
      heights.map((h) => ({ type: 'put' as const, key: u64Key('b/', h), value: bytes(h & 0xff) })),
    );
    const seen = (await collect(store.range('b/'))).map(([k]) => Number.parseInt(k.slice(2), 16));
    expect(seen).toEqual([...heights].sort((x, y) => x - y));
    const last = await collect(store.range('b/', { reverse: true, limit: 1 }));
    expect(last.map(([k]) => k)).toEqual([u64Key('b/', 70000)]);
  });

  it('keeps data across close and reopen', async () => {
    const dir = tempDir();
    const first = await openStore(kind, dir);
    const ops = Array.from({ length: 1000 }, (_, i) => ({
      type: 'put' as const,
      key: `s/${String(i).padStart(4, '0')}`,
      value: new Uint8Array(64).fill(i & 0xff),
    }));
    await first.batch(ops);
    await first.batch([
      { type: 'del', key: 's/0000' },
      { type: 'put', key: 'meta/head', value: bytes(7) },
    ]);
    await first.close();

    store = await openStore(kind, dir);
    expect([...(store.get('meta/head') ?? [])]).toEqual([7]);
    expect(store.get('s/0000')).toBeUndefined();
    expect(store.get('s/0999')?.[0]).toBe(999 & 0xff);
    let count = 0;
    for await (const _ of store.range('s/')) count++;
    expect(count).toBe(999);
  });

  it('batches stay atomic when the writer is killed with SIGKILL', async () => {
    const dir = tempDir();
    const child = spawn(process.execPath, ['--import', 'tsx', writerScript, kind, dir], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const exited = new Promise<NodeJS.Signals | null>((resolve) =>
      child.on('exit', (_code, sig) => resolve(sig)),
    );

    // Wait for the first durable commit (tsx start-up time varies), then let it run ~300 ms and kill it.
    let lastReported = -1;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`writer did not commit in time: ${stderr}`)), 30_000);
      child.stdout.setEncoding('utf8');
      child.stdout.on('data', (chunk: string) => {
        for (const m of chunk.matchAll(/committed (\d+)/g)) lastReported = Number(m[1]);
        if (lastReported >= 0) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.on('exit', () => reject(new Error(`writer exited early: ${stderr}`)));
    });
    await new Promise((r) => setTimeout(r, 300));
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');

    store = await openStore(kind, dir);
    const raw = store.get('meta/n');
    expect(raw).toBeDefined();
    const n = new DataView(raw!.buffer, raw!.byteOffset, raw!.byteLength).getUint32(0);
    // Every batch the child reported as committed (durable) must be there.
    expect(n).toBeGreaterThanOrEqual(lastReported);
    expect(n).toBeGreaterThan(0);
    for (let b = 0; b <= n; b++) {
      for (let i = 0; i < 50; i++) {
        if (store.get(`x/${b}/${i}`) === undefined) throw new Error(`missing x/${b}/${i} with meta/n=${n}`);
      }
    }
    for (let i = 0; i < 50; i++) expect(store.get(`x/${n + 1}/${i}`)).toBeUndefined();
    let total = 0;
    for await (const _ of store.range('x/')) total++;
    expect(total).toBe((n + 1) * 50);
  });
});
