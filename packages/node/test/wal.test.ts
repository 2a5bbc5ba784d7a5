/**
 * The consensus write-ahead log (src/wal.ts) and the failpoint parser (src/failpoint.ts): records
 * round-trip, a torn tail is cut, a damaged middle stops start-up, the log stays bounded.
 */
import {
  appendFileSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RoamError } from '@roamchain/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { FAILPOINTS, parseFailpoints } from '../src/failpoint.js';
import { parseWal, Wal } from '../src/wal.js';

const dirs: string[] = [];
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'rc-wal-'));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const id = (n: number) => new Uint8Array(32).fill(n);
const body = (n: number, len = 100) => new Uint8Array(len).fill(n);

/** A log with two heights: bodies, a decision and an end marker each. */
function writeSample(dir: string): void {
  const { wal } = Wal.open(dir);
  wal.body(1n, 'aa', body(1));
  wal.body(1n, 'aa', body(1)); // the same id twice: written once
  wal.body(1n, 'bb', body(2));
  wal.decided(1n, id(1), new Uint8Array([9, 9, 9]));
  wal.end(1n);
  wal.beginHeight(2n);
  wal.body(2n, 'cc', body(3));
  wal.sync();
  wal.close();
}

describe('consensus WAL', () => {
  it('reads back what was written, each body once, with end-of-height markers', () => {
    const dir = tmp();
    writeSample(dir);
    const { wal, replay } = Wal.open(dir);
    wal.close();
    expect(replay.truncated).toBe(0);
    expect(replay.records.map((r) => `${r.kind}@${r.height}`)).toEqual([
      'body@1',
      'body@1',
      'decided@1',
      'end@1',
      'body@2',
    ]);
    const d = replay.records[2];
    expect(d?.kind === 'decided' && [...d.id]).toEqual([...id(1)]);
    expect(d?.kind === 'decided' && [...d.commit]).toEqual([9, 9, 9]);
    const b = replay.records[4];
    expect(b?.kind === 'body' && [...b.block]).toEqual([...body(3)]);
  });

  it('a rotation keeps the records of decided heights whose batch is not durable (pipelined)', () => {
    const dir = tmp();
    const { wal } = Wal.open(dir, 1000);
    for (let h = 1n; h <= 3n; h++) {
      wal.beginHeight(h);
      wal.body(h, `b${h}`, body(Number(h), 600));
      wal.decided(h, id(Number(h)), new Uint8Array([Number(h)]));
    }
    wal.end(1n); // height 1 landed; 2 and 3 are pending
    wal.beginHeight(4n); // past 1000 bytes: rotated
    expect(existsSync(join(dir, 'wal.bin.1'))).toBe(true);
    wal.close();
    const { wal: w2, replay } = Wal.open(dir, 1000);
    expect(replay.records.map((r) => `${r.kind}@${r.height}`)).toEqual([
      'body@2',
      'decided@2',
      'body@3',
      'decided@3',
    ]);
    // Re-opened: still carried until they land; a second rotation keeps them again.
    expect(w2.carriedHeights()).toEqual([2n, 3n]);
    w2.end(2n);
    expect(w2.carriedHeights()).toEqual([3n]);
    w2.close();
  });

  it('keeps the sign state as fsynced records; the last one survives rotations (written aside, then renamed)', () => {
    const dir = tmp();
    const { wal } = Wal.open(dir, 1000);
    wal.signState(1n, new Uint8Array([1, 1]));
    for (let h = 1n; h <= 6n; h++) {
      wal.beginHeight(h);
      wal.body(h, `b${h}`, body(Number(h), 400));
      wal.signState(h, new Uint8Array([Number(h), 2]));
      wal.decided(h, id(Number(h)), new Uint8Array([1]));
      wal.end(h);
    }
    wal.beginHeight(7n);
    wal.close();
    expect(existsSync(join(dir, 'wal.bin.new'))).toBe(false);
    const { wal: w2, replay } = Wal.open(dir, 1000);
    w2.close();
    const signs = replay.records.filter((r) => r.kind === 'sign');
    // The rotated file begins with the last sign state (nothing of heights already stored).
    expect(replay.records[0]).toMatchObject({ kind: 'sign', height: 6n });
    expect(signs.at(-1)?.kind === 'sign' && [...signs.at(-1)!.state]).toEqual([6, 2]);
    expect(readFileSync(join(dir, 'wal.bin.1')).length).toBeGreaterThan(1000);
  });

  it('a deferred sign state is pending until its background fdatasync: waiters resolve in order; the next signature is pending again', async () => {
    const dir = tmp();
    const { wal } = Wal.open(dir);
    expect(wal.pending).toBe(false);
    wal.body(5n, 'aa', body(5));
    expect(wal.pending).toBe(false); // a body alone waits for no one: the next signature covers it
    wal.signStateDeferred(5n, new Uint8Array([1]));
    expect(wal.pending).toBe(true);
    const order: number[] = [];
    const a = wal.whenDurable().then(() => order.push(1));
    wal.signStateDeferred(5n, new Uint8Array([2]));
    const b = wal.whenDurable().then(() => order.push(2));
    await Promise.all([a, b]);
    expect(order).toEqual([1, 2]);
    expect(wal.pending).toBe(false);
    // Both records are in the file, in order, the last sign state last.
    const signs = parseWal(new Uint8Array(readFileSync(join(dir, 'wal.bin'))), 'x').records.filter(
      (r) => r.kind === 'sign',
    );
    expect(signs.map((r) => (r.kind === 'sign' ? r.state[0] : -1))).toEqual([1, 2]);
    // A synchronous sync settles pending waiters too; a closed log refuses to sign.
    wal.signStateDeferred(6n, new Uint8Array([3]));
    const c = wal.whenDurable();
    wal.sync();
    expect(wal.pending).toBe(false);
    await c;
    wal.close();
    expect(() => wal.signStateDeferred(7n, new Uint8Array([4]))).toThrow(RoamError);
  });

  it('cuts a torn last record (every cut point) and keeps the records before it', () => {
    const dir = tmp();
    writeSample(dir);
    const path = join(dir, 'wal.bin');
    const full = readFileSync(path);
    const lastLen = 8 + 9 + 100; // the body@2 record
    for (const cut of [1, 7, 8, 9, 50, lastLen - 1]) {
      writeFileSync(path, full.subarray(0, full.length - lastLen + cut));
      const { wal, replay } = Wal.open(dir);
      wal.close();
      expect(replay.records).toHaveLength(4);
      expect(replay.truncated).toBe(cut);
      expect(statSync(path).size).toBe(full.length - lastLen);
    }
  });

  it('cuts a last record whose bytes were lost (checksum mismatch) or zero fill after the end', () => {
    const dir = tmp();
    writeSample(dir);
    const path = join(dir, 'wal.bin');
    const full = readFileSync(path);
    const garbled = Buffer.from(full);
    garbled.writeUInt8(garbled.readUInt8(garbled.length - 3) ^ 0xff, garbled.length - 3);
    writeFileSync(path, garbled);
    let o = Wal.open(dir);
    o.wal.close();
    expect(o.replay.records).toHaveLength(4);

    writeFileSync(path, full);
    appendFileSync(path, new Uint8Array(4096));
    o = Wal.open(dir);
    o.wal.close();
    expect(o.replay.records).toHaveLength(5);
    expect(o.replay.truncated).toBe(4096);
  });

  it('stops start-up with WAL_CORRUPT on a damaged record in the middle', () => {
    const dir = tmp();
    writeSample(dir);
    const path = join(dir, 'wal.bin');
    const full = readFileSync(path);
    const bad = Buffer.from(full);
    bad.writeUInt8(bad.readUInt8(28) ^ 0x01, 28); // inside the first body's payload
    writeFileSync(path, bad);
    let err: unknown;
    try {
      Wal.open(dir);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(RoamError);
    expect((err as RoamError).code).toBe('WAL_CORRUPT');
    expect(String((err as Error).message)).toMatch(/checksum mismatch at byte 0/);
    // Nothing was cut: the operator sees the file as it was.
    expect(readFileSync(path).equals(bad)).toBe(true);

    const badLen = Buffer.from(full);
    badLen.writeUInt32BE(3, 0); // a length no record has
    expect(() => parseWal(new Uint8Array(badLen))).toThrow(/out of range/);
  });

  it('stays bounded: rotated at a new height once past its size', () => {
    const dir = tmp();
    const { wal } = Wal.open(dir, 10_000);
    for (let h = 1n; h <= 200n; h++) {
      wal.beginHeight(h);
      wal.body(h, 'aa', body(Number(h % 250n), 3000));
      wal.decided(h, id(1), new Uint8Array(100));
      wal.end(h);
      expect(wal.bytes).toBeLessThan(10_000 + 2 * 3200);
    }
    wal.close();
    expect(existsSync(join(dir, 'wal.bin.1'))).toBe(true);
    const { wal: w2, replay } = Wal.open(dir, 10_000);
    w2.close();
    // The live file starts at a height boundary: the last height is whole.
    expect(replay.records.at(-1)).toMatchObject({ kind: 'end', height: 200n });
    expect(replay.records.filter((r) => r.height === 200n).map((r) => r.kind)).toEqual([
      'body',
      'decided',
      'end',
    ]);
  });
});

describe('failpoints', () => {
  it('parses name:count lists and refuses unknown names and bad counts', () => {
    expect(parseFailpoints(undefined).size).toBe(0);
    expect([...parseFailpoints('wal-body:3, before-batch')]).toEqual([
      ['wal-body', 3],
      ['before-batch', 1],
    ]);
    expect(() => parseFailpoints('wal-bdy:1')).toThrow(/unknown failpoint/);
    expect(() => parseFailpoints('wal-body:0')).toThrow(/bad count/);
    expect(FAILPOINTS).toContain('sync-import');
  });
});
