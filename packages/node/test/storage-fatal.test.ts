/**
 * A storage error on the write queue stops the node loudly: memory is ahead of disk, so it must not
 * go on. The store is closed under a running node; the next block's batch fails, `onFatal` is called
 * once with the error, the error is logged, consensus stops and submissions are refused.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeTx, hexToBytes, refPrefixOf, signTx, UNIT } from '@roamchain/protocol';
import { buildGenesis } from '@roamchain/state';
import { afterEach, describe, expect, it } from 'vitest';
import { Node } from '../src/index.js';
import type { KvStore } from '../src/store/index.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function until(what: string, ok: () => boolean, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('storage failure', () => {
  it('stops the node: onFatal once, logged, consensus stopped, submissions refused', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rc-fatal-'));
    dirs.push(dir);
    const { genesis, keys } = buildGenesis({
      accounts: [
        { name: 'node-1', roles: ['node_owner'] },
        { name: 'op-de', roles: ['operator'] },
        { name: 'bob' },
      ],
      umt: { 'op-de': 1000n * UNIT },
      validators: ['node-1'],
    });
    const producer = { account: 'node-1', secretKey: keys.get('node-1')!.signing.secretKey };
    const fatal: unknown[] = [];
    const errors: string[] = [];
    const node = await Node.open({
      dataDir: dir,
      genesis,
      producer,
      blockIntervalMs: 20,
      onFatal: (e) => fatal.push(e),
      log: (level, msg) => {
        if (level === 'error') errors.push(msg);
      },
    });
    const mk = (amount: bigint) => {
      const st = node.status();
      return encodeTx(
        signTx(
          {
            chainId: node.chainId,
            refBlockNum: st.height,
            refBlockPrefix: refPrefixOf(hexToBytes(st.headId)),
            expiration: BigInt(Date.now() + 600_000),
            ops: [
              { type: 'transfer', from: 'op-de', to: 'bob', token: 'UMT', amount, memo: new Uint8Array() },
            ],
          },
          { 'op-de': keys.get('op-de')!.signing.secretKey },
        ),
      );
    };
    try {
      node.start();
      await until('a durable block', () => node.status().height >= 1);
      // The disk goes away under the running node.
      await (node.store as unknown as { base: KvStore }).base.close();
      await until('the node to stop', () => fatal.length > 0);
      expect(errors).toContain('storage commit failed; the node stops');
      await expect(node.submit(mk(1n))).rejects.toMatchObject({ code: 'INTERNAL' });
      await expect(node.produceBlock()).rejects.toThrow();
      expect(fatal).toHaveLength(1);
    } finally {
      await node.close();
    }
  }, 60_000);
});
