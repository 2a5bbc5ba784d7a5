/**
 * A node that does not implement a voted protocol version halts before its height (in process, one
 * validator, manual blocks): it applies no block at that height, logs an error naming the version
 * and the height, `GET /v1/status` says `halted: {reason: 'UPGRADE_REQUIRED', version, height}`,
 * `roamchain_halted{reason="UPGRADE_REQUIRED"}` is 1, submissions are refused with the typed error
 * and reads go on. Restarted on the same data directory as older software it halts at once; as
 * software that implements the version it goes on with blocks of version 2.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Genesis, PROTOCOL_VERSION, type RoamError, UNIT } from '@roamchain/protocol';
import { RoamClient, signerFromSecret } from '@roamchain/sdk';
import { type AccountKeys, buildGenesis } from '@roamchain/state';
import { afterAll, describe, expect, it } from 'vitest';
import { type Api, createApi } from '../src/api/server.js';
import { Node } from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'rc-upgrade-halt-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function open(
  genesis: Genesis,
  keys: Map<string, AccountKeys>,
  maxProtocolVersion?: number,
  logs: unknown[] = [],
) {
  return Node.open({
    dataDir: dir,
    genesis,
    producer: { account: 'node-1', secretKey: keys.get('node-1')!.signing.secretKey },
    ...(maxProtocolVersion !== undefined ? { maxProtocolVersion } : {}),
    log: (level, msg, data) => logs.push({ level, msg, ...data }),
  });
}

describe('clean stop at a protocol upgrade', () => {
  it('halts before the height, says why everywhere, serves reads; upgraded software goes on', async () => {
    expect(PROTOCOL_VERSION).toBe(2);
    const { genesis, keys } = buildGenesis({
      accounts: [
        { name: 'node-1', roles: ['node_owner'] },
        { name: 'op-a', roles: ['operator'] },
        { name: 'op-b', roles: ['operator'] },
      ],
      umt: { 'op-a': 1000n * UNIT, 'op-b': 1000n * UNIT, 'node-1': 1000n * UNIT },
      validators: ['node-1'],
      params: { minValidatorBond: 10n * UNIT },
    });
    const logs: Record<string, unknown>[] = [];
    expect(await open(genesis, keys, 3).catch((e: RoamError) => e.code)).toBe('BAD_REQUEST');
    let node = await open(genesis, keys, 1, logs);
    let api: Api | null = await createApi(node, { port: 0 });
    try {
      const client = new RoamClient({ url: api.url });
      const signer = (n: string) => signerFromSecret(n, keys.get(n)!.signing.secretKey);
      await node.produceBlock();
      const at = BigInt(node.status().height) + 4n;
      const deadline = BigInt(Date.now() + 600_000);
      const up = await client.propose(
        { proposer: 'op-a', action: { kind: 'upgrade', version: 2, height: at }, deadline },
        signer('op-a'),
        { wait: false },
      );
      await node.produceBlock();
      await client.vote({ voter: 'op-b', proposal: up.proposalId, approve: true }, signer('op-b'), {
        wait: false,
      });
      await node.produceBlock();
      expect((await client.proposal(up.proposalId)).status).toBe('executed');
      expect((await client.governance()).upgrade).toMatchObject({
        version: 2,
        implemented: 1,
        supported: false,
      });
      while (BigInt(node.status().height) < at - 1n) await node.produceBlock();
      // Head = at - 1: the next height is under version 2, which this node does not implement.
      const status = node.status();
      expect(status.height).toBe(Number(at) - 1);
      expect(status.halted).toMatchObject({
        reason: 'UPGRADE_REQUIRED',
        version: 2,
        height: Number(at),
        implemented: 1,
        proposal: up.proposalId,
      });
      await expect(node.produceBlock()).rejects.toMatchObject({ code: 'UPGRADE_REQUIRED' });
      expect(node.status().height).toBe(Number(at) - 1);
      const err = logs.find((l) => l.level === 'error' && String(l.msg).startsWith('halted'));
      expect(err).toMatchObject({ version: 2, height: Number(at), reason: 'UPGRADE_REQUIRED' });
      expect(String(err!.msg)).toMatch(new RegExp(`protocol version 2 is in force from height ${at}`));
      const s = (await (await fetch(`${api.url}/v1/status`)).json()) as Record<string, unknown>;
      expect(s.halted).toMatchObject({ reason: 'UPGRADE_REQUIRED', version: 2, height: Number(at) });
      expect(s.protocolVersion).toBe(1);
      const metrics = await (await fetch(`${api.url}/metrics`)).text();
      expect(metrics).toMatch(/^roamchain_halted\{reason="UPGRADE_REQUIRED"\} 1$/m);
      // Submissions are refused with the typed error (503); reads go on.
      const refused = await client
        .vote({ voter: 'op-a', proposal: up.proposalId, approve: true }, signer('op-a'), { wait: false })
        .then(
          () => undefined,
          (e: RoamError) => e,
        );
      expect(refused).toMatchObject({ code: 'UPGRADE_REQUIRED', status: 503 });
      const b = (await (await fetch(`${api.url}/v1/blocks/${Number(at) - 1}`)).json()) as Record<
        string,
        unknown
      >;
      expect(b).toMatchObject({ height: Number(at) - 1 });

      // Restarted as older software: halted from the start.
      await api.close();
      api = null;
      await node.close();
      node = await open(genesis, keys, 1);
      expect(node.status().halted).toMatchObject({ version: 2, height: Number(at) });
      await node.close();
      // Restarted as software that implements version 2: blocks from the height carry version 2.
      node = await open(genesis, keys);
      expect(node.status().halted).toBeNull();
      const next = await node.produceBlock();
      expect(next.height).toBe(Number(at));
      expect(next.block.header.version).toBe(2);
      const before = await node.blockByHeight(Number(at) - 1);
      expect(before!.block.header.version).toBe(1);
    } finally {
      await api?.close();
      await node.close();
    }
  }, 120_000);
});
