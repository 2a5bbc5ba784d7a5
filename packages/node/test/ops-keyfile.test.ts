/**
 * A node refuses to start with a secret key file (its node key, a producer's keystore) that group or
 * others can access: KEY_FILE_EXPOSED, before the key is read, with the file and the fix named.
 */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { keyFileExposure } from '@roamchain/fsutil';
import { bytesToHex, genesisToJSON, RoamError, randomBytes } from '@roamchain/protocol';
import { buildGenesis } from '@roamchain/state';
import { afterAll, describe, expect, it } from 'vitest';
import { checkKeyFile, loadNodeKey, runNode } from '../src/run.js';

const dir = mkdtempSync(join(tmpdir(), 'rc-keyfile-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const keyFile = (name: string, mode: number): string => {
  const p = join(dir, name);
  writeFileSync(p, `${JSON.stringify({ nodeKey: bytesToHex(randomBytes(32)) })}\n`);
  chmodSync(p, mode);
  return p;
};

const codeOf = (f: () => unknown): string | undefined => {
  try {
    f();
  } catch (e) {
    return e instanceof RoamError ? e.code : String(e);
  }
  return undefined;
};

describe('key file permissions', () => {
  it('accepts 0600 and 0400, refuses anything group or others can touch', () => {
    expect(keyFileExposure(keyFile('k600', 0o600))).toBeUndefined();
    expect(keyFileExposure(keyFile('k400', 0o400))).toBeUndefined();
    for (const mode of [0o640, 0o604, 0o644, 0o660, 0o602, 0o610]) {
      const p = keyFile(`k${mode.toString(8)}`, mode);
      expect(keyFileExposure(p)).toMatch(new RegExp(`mode ${mode.toString(8)}.*chmod 600`));
      expect(codeOf(() => checkKeyFile(p))).toBe('KEY_FILE_EXPOSED');
      expect(codeOf(() => loadNodeKey(p, false))).toBe('KEY_FILE_EXPOSED');
    }
    const d = join(dir, 'a-directory');
    mkdirSync(d, { mode: 0o700 });
    expect(keyFileExposure(d)).toMatch(/not a regular file/);
    expect(loadNodeKey(join(dir, 'k600'), false)).toHaveLength(32);
  });

  it('a new node key is created 0600 and passes', () => {
    const p = join(dir, 'fresh', 'node-key.json');
    expect(loadNodeKey(p, true)).toHaveLength(32);
    expect(keyFileExposure(p)).toBeUndefined();
  });

  it('runNode refuses a validator whose node key is group-readable, and a world-readable keystore', async () => {
    const { genesis } = buildGenesis({
      accounts: [{ name: 'node-1', roles: ['node_owner'] }],
      validators: ['node-1'],
    });
    const genesisPath = join(dir, 'genesis.json');
    writeFileSync(genesisPath, JSON.stringify(genesisToJSON(genesis)));
    const dataDir = join(dir, 'data');
    await expect(
      runNode({
        genesis: genesisPath,
        dataDir,
        validator: 'node-1',
        nodeKeyFile: keyFile('v.json', 0o640),
        port: 0,
      }),
    ).rejects.toMatchObject({ code: 'KEY_FILE_EXPOSED', details: { path: join(dir, 'v.json') } });
    const ks = join(dir, 'keystore.json');
    writeFileSync(ks, '{}');
    chmodSync(ks, 0o644);
    let read = 0;
    await expect(
      runNode({
        genesis: genesisPath,
        dataDir,
        producer: 'node-1',
        keystore: ks,
        port: 0,
        loadProducerKey: async () => {
          read += 1;
          return randomBytes(32);
        },
      }),
    ).rejects.toMatchObject({ code: 'KEY_FILE_EXPOSED' });
    expect(read).toBe(0);
  });
});
