/**
 * A storage error on the write queue stops the node loudly: memory is ahead of disk, so it must not
 * go on. The store is closed under a running node; the next block's batch fails, `onFatal` is called
 * once with the error, the error is logged, consensus stops and submissions are refused.
 */
import { describe, expect, it } from 'vitest';
import { Node } from '../src/index.js';
import type { KvStore } from '../src/store/index.js';
import { until, useNodeKit } from './support/kit.js';

const kit = useNodeKit();

describe('storage failure', () => {
  it('stops the node: onFatal once, logged, consensus stopped, submissions refused', async () => {
    const { dir, genesis, producer, transfer } = kit.chain('fatal');
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
    const mk = (amount: bigint) => transfer(node, amount);
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
