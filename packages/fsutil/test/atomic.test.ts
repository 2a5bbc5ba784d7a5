import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeFileAtomic } from '../src/index.js';

describe('writeFileAtomic', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'rc-fsutil-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('writes text and bytes, replaces the old content, leaves no temporary file, mode 0600', () => {
    const f = join(dir, 'sub', 'state.json');
    writeFileAtomic(f, '{"a":1}');
    expect(readFileSync(f, 'utf8')).toBe('{"a":1}');
    writeFileAtomic(f, new Uint8Array([1, 2, 3]));
    expect([...readFileSync(f)]).toEqual([1, 2, 3]);
    expect(readdirSync(join(dir, 'sub'))).toEqual(['state.json']);
    expect(statSync(f).mode & 0o777).toBe(0o600);
  });
});
