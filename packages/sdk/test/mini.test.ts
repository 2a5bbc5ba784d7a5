/**
 * SDK Mini Node actions against a fake node: builders validate before signing, attestations are
 * signed over the chain id and verify with the node key, `sendMiniAttestations` posts their JSON,
 * `submitMiniAttestations` sends an unsigned fee-free transaction, and the routes are typed.
 */
import {
  bytesToHex,
  generateSigningKey,
  hexToBytes,
  miniAttestSignBytes,
  RoamError,
  sha256,
  utf8,
  verify,
} from '@roamchain/protocol';
import { describe, expect, it } from 'vitest';
import { bondMiniOp, RoamClient, signMiniAttestation } from '../src/index.js';
import { FakeApi } from './fake.js';

const key = generateSigningKey(sha256(utf8('sdk-mini')));

describe('SDK Mini Nodes', () => {
  it('builds, signs and sends attestations', async () => {
    expect(() =>
      bondMiniOp({ owner: 'alice', superNode: 'node-1', nodeKey: new Uint8Array(32), amount: 1n }),
    ).toThrow(RoamError);
    const api = new FakeApi().on('POST', '/v1/mininodes/attestations', (call) => ({
      body: { attestTx: 'ef'.repeat(32), fraudTxs: [], echo: call.body },
    }));
    const c = new RoamClient({ url: 'http://node.test', fetch: api.fetch });
    const chainId = api.status.chainId;
    const a = signMiniAttestation(
      chainId,
      { mini: 'alice', height: 100n, stateRoot: 'cd'.repeat(32) },
      key.secretKey,
    );
    expect(verify(key.publicKey, miniAttestSignBytes(hexToBytes(chainId), a), a.signature)).toBe(true);
    const r = await c.sendMiniAttestations([a]);
    expect(r.attestTx).toBe('ef'.repeat(32));
    expect(api.calls.at(-1)!.body).toEqual({
      attestations: [
        { mini: 'alice', height: '100', stateRoot: 'cd'.repeat(32), signature: bytesToHex(a.signature) },
      ],
    });
    await c.submitMiniAttestations([a]);
    const env = api.last();
    expect(env.tx.signatures).toHaveLength(0);
    expect(env.tx.ops[0]).toMatchObject({ type: 'mini_attest' });
    await c.bondMini(
      { owner: 'alice', superNode: 'node-1', nodeKey: bytesToHex(key.publicKey), amount: 1_000_000_000n },
      { name: 'alice', secretKey: generateSigningKey(sha256(utf8('alice'))).secretKey },
    );
    expect(api.last().tx.ops[0]).toMatchObject({ type: 'mini_bond', owner: 'alice', amount: 1_000_000_000n });
  });
});
