/**
 * `roamchain submit <file>` (in process, against a real node): signed transactions as hex and as
 * JSON lines go through the binary batch route; each gets its result; the exit code says whether
 * all were admitted and included; a line that is no transaction is a typed error.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  bytesToHex,
  encodeTx,
  hexToBytes,
  refPrefixOf,
  type SignedTx,
  signedTx,
  signTx,
} from '@roamchain/protocol';
import { RoamClient } from '@roamchain/sdk';
import { derivedKeys } from '@roamchain/state';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACCOUNTS as A, startTestNode, type TestNode } from '../../sdk/test/testnode.js';
import { parseTxLines } from '../src/commands/submit.js';
import { inProcessCli } from './harness.js';

describe('roamchain submit', () => {
  let tn: TestNode;
  let dir: string;
  const env = () => ({ ROAMCHAIN_API: tn.url });
  const { cli } = inProcessCli(env);

  beforeAll(async () => {
    tn = await startTestNode();
    dir = mkdtempSync(join(tmpdir(), 'roam-cli-submit-'));
  });
  afterAll(async () => {
    await tn?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function transfers(n: number, from0 = 1, signer: string = A.visited): Promise<SignedTx[]> {
    const st = await new RoamClient({ url: tn.url }).status();
    return Array.from({ length: n }, (_, i) =>
      signTx(
        {
          chainId: hexToBytes(st.chainId),
          refBlockNum: st.height,
          refBlockPrefix: refPrefixOf(hexToBytes(st.headId)),
          expiration: BigInt(st.time + 60_000),
          ops: [
            {
              type: 'transfer',
              from: A.visited,
              to: A.stranger,
              token: 'UMT',
              amount: BigInt(from0 + i),
              memo: new Uint8Array(),
            },
          ],
        },
        { [A.visited]: derivedKeys(signer).signing.secretKey },
      ),
    );
  }

  it('submits hex and JSON lines in one batch and waits for their inclusion', {
    timeout: 60_000,
  }, async () => {
    const txs = await transfers(6);
    const file = join(dir, 'ok.txt');
    writeFileSync(
      file,
      [
        '# signed transfers',
        ...txs.slice(0, 5).map((t) => bytesToHex(encodeTx(t))),
        '',
        JSON.stringify(signedTx.toJSON(txs[5]!)),
      ].join('\n'),
    );
    const r = await cli('submit', file);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json).toMatchObject({ submitted: 6, admitted: 6, included: 6, failed: 0 });
    expect(r.json.results.map((x: { line: number }) => x.line)).toEqual([2, 3, 4, 5, 6, 8]);
    for (const x of r.json.results) expect(x).toMatchObject({ ok: true, status: 'included' });
  });

  it('reports each refused transaction and exits 1', { timeout: 60_000 }, async () => {
    const [good] = await transfers(1, 100);
    const [forged] = await transfers(1, 200, A.stranger);
    const file = join(dir, 'mixed.txt');
    writeFileSync(file, [good!, forged!, good!].map((t) => bytesToHex(encodeTx(t))).join('\n'));
    const r = await cli('submit', file, '--no-wait');
    expect(r.code).toBe(1);
    expect(r.json).toMatchObject({ submitted: 3, admitted: 1, included: 0, failed: 2 });
    expect(r.json.results.map((x: { ok: boolean; code?: string }) => (x.ok ? 'ok' : x.code))).toEqual([
      'ok',
      'SIG_INVALID',
      'TX_DUPLICATE',
    ]);
  });

  it('a line that is no signed transaction is a typed error; nothing is sent', async () => {
    const file = join(dir, 'bad.txt');
    writeFileSync(file, 'abc\n');
    const r = await cli('submit', file);
    expect(r.code).toBe(1);
    expect(r.json.error.code).toBe('CODEC_BAD_JSON');
    expect(() => parseTxLines('{"version":1}')).toThrow(/line 1/);
    const missing = await cli('submit', join(dir, 'nope.txt'));
    expect(missing.json.error.code).toBe('BAD_REQUEST');
  });
});
