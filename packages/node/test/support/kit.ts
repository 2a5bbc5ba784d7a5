/**
 * The start-up the single-node tests share: a fresh data directory, a one-validator genesis
 * (`node-1` produces, `op-de` holds 1000 UMT, `bob` receives) and transfers op-de → bob signed by
 * their real key. `useNodeKit()` registers the clean-up (tracked nodes closed, then the directories
 * removed, after each test); call it at a test file's top level.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeTx, hexToBytes, refPrefixOf, type SignedTx, signTx, UNIT } from '@roamchain/protocol';
import { type AccountKeys, buildGenesis } from '@roamchain/state';
import { afterEach } from 'vitest';
import { Node } from '../../src/index.js';

/** The block a transaction references (TaPoS). */
export interface TxRef {
  height: number;
  id: Uint8Array;
}

export interface TransferOptions {
  /** Referenced block (default: the node's durable head, as `status()` reports it). */
  ref?: TxRef;
  /** Expiration, unix ms (default now + 10 min). */
  expiration?: bigint;
  /** Signing key for op-de (default its real key; another one forges the signature). */
  key?: Uint8Array;
}

/** The node's durable head as a TaPoS reference. */
export function durableRef(node: Node): TxRef {
  const st = node.status();
  return { height: st.height, id: hexToBytes(st.headId) };
}

/** A transfer of `amount` UMT from `from` to `to`, signed with `fromKey`. */
export function signTransfer(
  node: Node,
  from: string,
  to: string,
  amount: bigint,
  fromKey: Uint8Array,
  opts: TransferOptions = {},
): SignedTx {
  const ref = opts.ref ?? durableRef(node);
  return signTx(
    {
      chainId: node.chainId,
      refBlockNum: ref.height,
      refBlockPrefix: refPrefixOf(ref.id),
      expiration: opts.expiration ?? BigInt(Date.now() + 600_000),
      ops: [{ type: 'transfer', from, to, token: 'UMT', amount, memo: new Uint8Array() }],
    },
    { [from]: fromKey },
  );
}

/** The same, signed by `from`'s real key and encoded for submission. */
export function transferBy(
  node: Node,
  keys: Map<string, AccountKeys>,
  from: string,
  to: string,
  amount: bigint,
): Uint8Array {
  return encodeTx(signTransfer(node, from, to, amount, keys.get(from)!.signing.secretKey));
}

/**
 * The indexer tests' chain in `dir`: op-de (1000 UMT) and its subscribers alice and bob (10 UMT
 * each), a fixed genesis time, and blocks only when the test produces them.
 */
export async function openIndexerChain(dir: string) {
  const g = buildGenesis({
    accounts: [
      { name: 'node-1', roles: ['node_owner'] },
      { name: 'op-de', roles: ['operator'] },
      { name: 'alice', roles: ['subscriber'], homeOperator: 'op-de' },
      { name: 'bob', roles: ['subscriber'], homeOperator: 'op-de' },
    ],
    umt: { 'op-de': 1000n * UNIT, alice: 10n * UNIT, bob: 10n * UNIT },
    validators: ['node-1'],
    genesisTime: 1_700_000_000_000n,
  });
  const node = await Node.open({
    dataDir: dir,
    genesis: g.genesis,
    producer: { account: 'node-1', secretKey: g.keys.get('node-1')!.signing.secretKey },
    blockIntervalMs: 3_600_000,
  });
  return { node, keys: g.keys, dir };
}

export function oneValidatorChain(dir: string) {
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
  /** A transfer of `amount` from op-de to bob, signed. */
  const signedTransfer = (node: Node, amount: bigint, opts: TransferOptions = {}): SignedTx =>
    signTransfer(node, 'op-de', 'bob', amount, opts.key ?? keys.get('op-de')!.signing.secretKey, opts);
  /** The same, encoded for submission. */
  const transfer = (node: Node, amount: bigint, opts: TransferOptions = {}): Uint8Array =>
    encodeTx(signedTransfer(node, amount, opts));
  return { dir, genesis, keys, producer, signedTransfer, transfer };
}

export type OneValidatorChain = ReturnType<typeof oneValidatorChain>;

export function useNodeKit() {
  const dirs: string[] = [];
  const nodes: Node[] = [];
  afterEach(async () => {
    for (const n of nodes.splice(0)) await n.close();
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  /** A fresh data directory (`rc-<tag>-…`), removed after the test. */
  const dir = (tag: string): string => {
    const d = mkdtempSync(join(tmpdir(), `rc-${tag}-`));
    dirs.push(d);
    return d;
  };
  return {
    dir,
    /** A fresh data directory and the one-validator chain. */
    chain: (tag: string): OneValidatorChain => oneValidatorChain(dir(tag)),
    /** Closes the node after the test (before its directory is removed). */
    track<T extends Node>(node: T): T {
      nodes.push(node);
      return node;
    },
  };
}

/** Waits for `ok()` (polling every 20 ms), failing with `what` after `ms`. */
export async function until(what: string, ok: () => boolean, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
