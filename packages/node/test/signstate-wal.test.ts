/**
 * The double-sign protection lives in the consensus WAL (one fsynced record per signing step, no
 * file rewrite): a data directory of the earlier layout (`consensus/signstate.bin`) is migrated once
 * into the WAL at start and the file removed; after that only WAL records are written.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeSignState } from '@roamchain/consensus';
import { UNIT } from '@roamchain/protocol';
import { buildGenesis } from '@roamchain/state';
import { afterEach, describe, expect, it } from 'vitest';
import { Node } from '../src/index.js';
import { parseWal } from '../src/wal.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'rc-signwal-'));
  dirs.push(dir);
  const { genesis, keys } = buildGenesis({
    accounts: [
      { name: 'node-1', roles: ['node_owner'] },
      { name: 'op-de', roles: ['operator'] },
    ],
    umt: { 'op-de': 1000n * UNIT },
    validators: ['node-1'],
  });
  const producer = { account: 'node-1', secretKey: keys.get('node-1')!.signing.secretKey };
  return { dir, genesis, producer };
}

const walOf = (dir: string) =>
  parseWal(new Uint8Array(readFileSync(join(dir, 'consensus', 'wal.bin')))).records;

describe('sign state in the consensus WAL', () => {
  it('is appended at every signing step and no signstate.bin is written', async () => {
    const { dir, genesis, producer } = setup();
    const node = await Node.open({ dataDir: dir, genesis, producer });
    await node.produceBlock();
    await node.produceBlock();
    await node.close();
    expect(existsSync(join(dir, 'consensus', 'signstate.bin'))).toBe(false);
    const signs = walOf(dir).filter((r) => r.kind === 'sign');
    // A set of one signs a proposal, a prevote and a precommit per height.
    expect(signs.map((r) => `${r.height}`)).toEqual(['1', '1', '1', '2', '2', '2']);
    const last = signs.at(-1)!;
    expect(last.kind === 'sign' && decodeSignState(last.state)).toMatchObject({
      height: 2n,
      step: 'precommit',
    });
    // Each height's end marker once its batch is durable (also in manual mode).
    expect(
      walOf(dir)
        .filter((r) => r.kind === 'end')
        .map((r) => r.height),
    ).toEqual([1n, 2n]);
  });

  it('migrates the file of the earlier layout once, then goes on from it', async () => {
    const { dir, genesis, producer } = setup();
    let node = await Node.open({ dataDir: dir, genesis, producer });
    await node.produceBlock();
    await node.produceBlock();
    await node.close();
    // The earlier layout: the sign state in its own file, a WAL without sign records.
    const last = walOf(dir)
      .filter((r) => r.kind === 'sign')
      .at(-1)!;
    const legacy = last.kind === 'sign' ? last.state : new Uint8Array();
    writeFileSync(join(dir, 'consensus', 'signstate.bin'), legacy);
    rmSync(join(dir, 'consensus', 'wal.bin'));

    const logs: string[] = [];
    node = await Node.open({ dataDir: dir, genesis, producer, log: (_l, msg) => logs.push(msg) });
    const b = await node.produceBlock();
    await node.close();
    expect(b.height).toBe(3);
    expect(logs).toContain('sign state migrated into the consensus WAL');
    expect(existsSync(join(dir, 'consensus', 'signstate.bin'))).toBe(false);
    const recs = walOf(dir);
    // The first record is the migrated state, byte for byte; height 3's own steps follow.
    expect(recs[0]?.kind === 'sign' && [...recs[0].state]).toEqual([...legacy]);
    expect(recs.filter((r) => r.kind === 'sign').map((r) => `${r.height}`)).toEqual(['2', '3', '3', '3']);

    // Opened again: the WAL holds the state, nothing is migrated twice.
    logs.length = 0;
    node = await Node.open({ dataDir: dir, genesis, producer, log: (_l, msg) => logs.push(msg) });
    expect((await node.produceBlock()).height).toBe(4);
    await node.close();
    expect(logs).not.toContain('sign state migrated into the consensus WAL');
  });
});
