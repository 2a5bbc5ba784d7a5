/**
 * The Application on its own (no node, no storage, no network): admission checks without execution,
 * proposals executed once and staged, deciding one adopts it (same root, nothing re-executed), a
 * competing candidate of the same height, refusals cached.
 */
import {
  blockId,
  bytesToHex,
  encodeTx,
  envelope,
  nobleVerifier,
  type Operation,
  RoamError,
  refPrefixOf,
  type SignatureVerifier,
  sign,
  signTx,
  type TxEnvelope,
  UNIT,
} from '@roamchain/protocol';
import { buildGenesis, genesisState, K, RecentTxs } from '@roamchain/state';
import { describe, expect, it } from 'vitest';
import {
  Application,
  checkBlockLimits,
  MAX_BLOCK_COST,
  OP_COST,
  SIGNATURE_COST,
  TX_BASE_COST,
  txCost,
} from '../src/index.js';

/** Counts verifications, so a test can tell that a block does not execute or verify twice. */
class CountingVerifier implements SignatureVerifier {
  calls = 0;
  verify(pk: Uint8Array, msg: Uint8Array, sig: Uint8Array): boolean {
    this.calls++;
    return nobleVerifier.verify(pk, msg, sig);
  }
}

function world() {
  const { genesis, keys } = buildGenesis({
    accounts: [
      { name: 'node-1', roles: ['node_owner'] },
      { name: 'op-de', roles: ['operator'] },
      { name: 'bob' },
      { name: 'poor' },
    ],
    umt: { 'op-de': 1000n * UNIT },
    validators: ['node-1'],
  });
  const g = genesisState(genesis);
  const verifier = new CountingVerifier();
  const index = new RecentTxs();
  const producer = { account: 'node-1', secretKey: keys.get('node-1')!.signing.secretKey };
  const app = new Application(
    g.state,
    { id: g.chainId, time: g.state.meta.time, commit: new Uint8Array(0) },
    { genesis, verifier, txIndex: index, producer },
  );
  const tx = (from: string, ops: Operation[], expiresIn = 60_000n): TxEnvelope => {
    const h = app.head;
    return envelope(
      signTx(
        {
          chainId: app.chainId,
          refBlockNum: Number(h.height),
          refBlockPrefix: refPrefixOf(h.id),
          expiration: h.time + expiresIn,
          ops,
        },
        { [from]: keys.get(from)!.signing.secretKey },
      ),
    );
  };
  const transfer = (from: string, to: string, amount: bigint): Operation => ({
    type: 'transfer',
    from,
    to,
    token: 'UMT',
    amount,
    memo: new Uint8Array(),
  });
  return { app, state: g.state, verifier, index, tx, transfer, genesis, keys };
}

describe('Application', () => {
  it('checkTx executes nothing: it returns the signatures to verify and pre-checks the fee payer', () => {
    const w = world();
    const now = w.app.head.time + 1000n;
    const env = w.tx('op-de', [w.transfer('op-de', 'bob', 5n)]);
    const checks = w.app.checkTx(env, now);
    expect(checks).toHaveLength(1);
    expect(bytesToHex(checks[0]!.message)).toBe(env.idHex);
    expect(w.verifier.calls).toBe(0);
    // An overspend passes admission (the block refuses it) as long as the fees are covered...
    expect(w.app.checkTx(w.tx('op-de', [w.transfer('op-de', 'bob', 10_000n * UNIT)]), now)).toHaveLength(1);
    // ...but an account that cannot pay the fee is refused at once.
    const poor = w.tx('poor', [w.transfer('poor', 'bob', 1n)]);
    expect(() => w.app.checkTx(poor, now)).toThrow(expect.objectContaining({ code: 'BALANCE_LOW' }));
    // Replay: the index says it was included.
    w.index.add(env.idHex, env.tx.expiration);
    expect(() => w.app.checkTx(env, now)).toThrow(expect.objectContaining({ code: 'TX_DUPLICATE' }));
  });

  it('a proposal is executed once, staged, and adopted when decided (same root, no re-execution)', () => {
    const w = world();
    const headRoot = bytesToHex(w.state.root());
    const good = w.tx('op-de', [w.transfer('op-de', 'bob', 7n)]);
    const bad = w.tx('op-de', [w.transfer('op-de', 'bob', 10_000n * UNIT)]);
    const dropped: string[] = [];
    const c = w.app.prepareProposal(
      [good, bad],
      { maxTxs: 100, maxBytes: 1 << 20 },
      w.app.head.time + 1000n,
      (env, e) => dropped.push(`${env.idHex}:${(e as RoamError).code}`),
    );
    expect(c.envelopes.map((e) => e.idHex)).toEqual([good.idHex]);
    expect(dropped).toEqual([`${bad.idHex}:BALANCE_LOW`]);
    // Staged: readers still see the head.
    expect(bytesToHex(w.state.root())).toBe(headRoot);
    expect(w.state.get<bigint>(K.balance('bob', 'UMT')) ?? 0n).toBe(0n);
    const calls = w.verifier.calls;
    const d = w.app.finalizeBlock(c.idHex, new Uint8Array([1]));
    expect(w.verifier.calls).toBe(calls);
    expect(bytesToHex(w.state.root())).toBe(bytesToHex(c.block.header.stateRoot));
    expect(w.state.get<bigint>(K.balance('bob', 'UMT'))).toBe(7n);
    expect(d.height).toBe(1);
    expect(w.app.head.height).toBe(1n);
    expect(bytesToHex(w.app.head.id)).toBe(c.idHex);
  });

  it('two candidates of one height: checking the second unstages the first; deciding the first still gives its root', () => {
    const w = world();
    const t = w.app.head.time + 1000n;
    const limits = { maxTxs: 100, maxBytes: 1 << 20 };
    const a = w.app.prepareProposal([w.tx('op-de', [w.transfer('op-de', 'bob', 1n)])], limits, t, () => {});
    const b = w.app.prepareProposal(
      [w.tx('op-de', [w.transfer('op-de', 'bob', 2n)])],
      limits,
      t + 1n,
      () => {},
    );
    expect(a.idHex).not.toBe(b.idHex);
    expect(w.app.candidate(a.idHex)).toBe(a);
    w.app.finalizeBlock(a.idHex, new Uint8Array([1]));
    expect(bytesToHex(w.state.root())).toBe(bytesToHex(a.block.header.stateRoot));
    expect(w.state.get<bigint>(K.balance('bob', 'UMT'))).toBe(1n);
  });

  it('processProposal refuses a block with a wrong state root, caches the refusal and leaves the state alone', () => {
    const w = world();
    const other = world(); // same genesis, same keys: a second node
    const t = w.app.head.time + 1000n;
    const c = other.app.prepareProposal(
      [other.tx('op-de', [other.transfer('op-de', 'bob', 3n)])],
      { maxTxs: 100, maxBytes: 1 << 20 },
      t,
      () => {},
    );
    // The honest block is valid on the first node too.
    expect(w.app.processProposal(c.block).idHex).toBe(c.idHex);
    // Tamper with the root: the id changes, the producer's signature no longer matches.
    const forged = { ...c.block, header: { ...c.block.header, stateRoot: new Uint8Array(32).fill(9) } };
    const fid = bytesToHex(blockId(forged.header));
    const root = bytesToHex(w.state.root());
    expect(() => w.app.processProposal(forged)).toThrow(RoamError);
    expect(w.app.refusedCandidate(fid)?.code).toBe('BLOCK_BAD_SIGNATURE');
    expect(() => w.app.processProposal(forged)).toThrow(RoamError);
    expect(bytesToHex(w.state.root())).toBe(root);
    // Encoded transactions round-trip to the same ids the block names.
    expect(envelope(c.block.txs[0]!).idHex).toBe(c.envelopes[0]!.idHex);
    expect(encodeTx(c.block.txs[0]!).length).toBeGreaterThan(0);
  });

  it('execution cost is a function of the bytes: base, signatures, size and the per-op table', () => {
    const w = world();
    const env = w.tx('op-de', [w.transfer('op-de', 'bob', 1n), w.transfer('op-de', 'bob', 2n)]);
    expect(txCost(env.tx, env.bytes.length)).toBe(
      TX_BASE_COST + SIGNATURE_COST + Math.ceil(env.bytes.length / 64) + 2 * OP_COST.transfer!,
    );
    // The same bytes give the same cost on every node.
    expect(txCost(envelope(env.tx).tx, env.bytes.length)).toBe(txCost(env.tx, env.bytes.length));
  });

  it('the proposer stops at the cost budget and at the byte budget', () => {
    const w = world();
    const pending = Array.from({ length: 40 }, (_, i) =>
      w.tx('op-de', [w.transfer('op-de', 'bob', BigInt(i + 1))]),
    );
    const one = txCost(pending[0]!.tx, pending[0]!.bytes.length);
    const t = w.app.head.time + 1000n;
    const byCost = w.app.prepareProposal(
      pending,
      { maxTxs: 100, maxBytes: 1 << 20, maxCost: one * 5 + 1 },
      t,
      () => {},
    );
    expect(byCost.envelopes).toHaveLength(5);
    const size = pending[0]!.bytes.length;
    const byBytes = w.app.prepareProposal(pending, { maxTxs: 100, maxBytes: size * 7 + 1 }, t + 1n, () => {});
    expect(byBytes.envelopes).toHaveLength(7);
    // A host asking for more than the consensus limits gets the limits.
    const all = w.app.prepareProposal(
      pending,
      { maxTxs: 1e9, maxBytes: 1e12, maxCost: 1e12 },
      t + 2n,
      () => {},
    );
    expect(all.envelopes).toHaveLength(40);
  });

  it('processProposal refuses a block over the execution budget before executing it (a proposer cannot exceed it)', () => {
    const w = world();
    const t = w.app.head.time + 1000n;
    const env = w.tx('op-de', [w.transfer('op-de', 'bob', 1n)]);
    const c = w.app.prepareProposal([env], { maxTxs: 100, maxBytes: 1 << 20 }, t, () => {});
    // The producer itself signs a block with more transactions than the budget allows.
    const n = Math.ceil(MAX_BLOCK_COST / txCost(env.tx, env.bytes.length)) + 1;
    const header = { ...c.block.header, txCount: n };
    const id = blockId(header);
    const big = {
      ...c.block,
      header,
      txs: Array.from({ length: n }, () => env.tx),
      signature: sign(w.keys.get('node-1')!.signing.secretKey, id),
    };
    const calls = w.verifier.calls;
    expect(() => w.app.processProposal(big)).toThrow(
      expect.objectContaining({ code: 'BLOCK_TOO_LARGE', message: expect.stringMatching(/execution cost/) }),
    );
    // Refused before any transaction was executed (only the producer's signature was checked).
    expect(w.verifier.calls).toBe(calls + 1);
    expect(w.app.refusedCandidate(bytesToHex(id))?.code).toBe('BLOCK_TOO_LARGE');
    // The count limit of the chain's parameters, and the byte limit, by the same check.
    const envs = Array.from({ length: 3 }, () => env);
    expect(() => checkBlockLimits(envs, 2)).toThrow(expect.objectContaining({ code: 'BLOCK_TOO_LARGE' }));
    const fat = { ...env, bytes: new Uint8Array(4 * 1024 * 1024 + 1) };
    expect(() => checkBlockLimits([fat], 10)).toThrow(/bytes of transactions/);
  });
});
