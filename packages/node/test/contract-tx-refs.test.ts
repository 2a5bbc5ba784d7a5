/**
 * A contract's transaction references are stored compact (storage.ts `encodeContractTxRef`): what
 * is read back equals what was written, the expiry entry (no transaction) included, and the JSON of
 * older data directories is still read.
 */
import { describe, expect, it } from 'vitest';
import type { ContractTxRef } from '../src/interfaces.js';
import { decodeContractTxRef, enc, encodeContractTxRef, SK } from '../src/storage.js';

const cid = 'ab'.repeat(32);

describe('contract transaction references', () => {
  it('round-trip through key and value; the value holds no JSON and no hex', () => {
    const ref: ContractTxRef = {
      txId: '0f'.repeat(32),
      height: 123_456,
      index: 77,
      opIndex: 2,
      type: 'charge',
    };
    const key = SK.contractTx(cid, ref.height, ref.index, ref.opIndex);
    const v = encodeContractTxRef(ref);
    expect(v.length).toBe(2 + 32 + 'charge'.length);
    expect(decodeContractTxRef(key, v)).toEqual(ref);
  });

  it('the expiry entry (no transaction, index -1) round-trips', () => {
    const ref: ContractTxRef = { txId: '', height: 9, index: -1, opIndex: 0, type: 'expiry' };
    const key = SK.contractTx(cid, 9, 999_999, 0);
    expect(decodeContractTxRef(key, encodeContractTxRef(ref))).toEqual(ref);
  });

  it("an older data directory's JSON value is read as it was written", () => {
    const ref: ContractTxRef = { txId: 'aa'.repeat(32), height: 5, index: 3, opIndex: 0, type: 'refund' };
    expect(decodeContractTxRef(SK.contractTx(cid, 5, 3, 0), enc(ref))).toEqual(ref);
  });
});
