/**
 * Four validators in one process, each a real Node with its own storage and a real libp2p host on
 * loopback: blocks are final by BFT vote, carry their parent's commit, survive a validator going
 * away and coming back (it syncs), and a non-voting follower catches up from nothing.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeCommit, encodeMessage, quorum, signVote, verifyCommit } from '@roamchain/consensus';
import { createP2P, type P2P } from '@roamchain/p2p';
import {
  bytesToHex,
  encodeTx,
  hexToBytes,
  refPrefixOf,
  sha256,
  sign,
  signTx,
  UNIT,
  utf8,
} from '@roamchain/protocol';
import { buildGenesis } from '@roamchain/state';
import { afterAll, describe, expect, it } from 'vitest';
import { CachingVerifier, Node, sodiumVerifier } from '../src/index.js';

const NAMES = ['node-1', 'node-2', 'node-3', 'node-4'];
const root = mkdtempSync(join(tmpdir(), 'rc-bft-'));
const { genesis, keys } = buildGenesis({
  accounts: [
    ...NAMES.map((name) => ({ name, roles: ['node_owner' as const] })),
    { name: 'alice' },
    { name: 'bob' },
  ],
  umt: { alice: 1_000_000n * UNIT },
  validators: NAMES,
});

interface Member {
  name: string;
  dir: string;
  node: Node;
  p2p: P2P;
}
const members: Member[] = [];
/** Consensus messages published, and those published while a sign state was not yet durable. */
const consensusSent = { n: 0, early: 0 };

async function startMember(
  name: string,
  dir: string,
  bootstrap: string[],
  validator = true,
): Promise<Member> {
  const secretKey = validator ? keys.get(name)!.signing.secretKey : new Uint8Array(32).fill(7);
  const node = await Node.open({
    dataDir: dir,
    genesis,
    producer: validator ? { account: name, secretKey } : null,
    verifier: new CachingVerifier(sodiumVerifier()),
    blockIntervalMs: 200,
  });
  const p2p = await createP2P({ nodeSecretKey: secretKey, bootstrap, chainId: node.chainId });
  // Every consensus message leaves only once this node's sign state is durable: the WAL's
  // background fdatasync has covered every signature it appended (wal.ts signStateDeferred).
  const publish = p2p.publish.bind(p2p);
  p2p.publish = ((topic: Parameters<typeof publish>[0], data: Uint8Array) => {
    const wal = (node as unknown as { driver: { wal: { pending: boolean } } | null }).driver?.wal;
    if (topic.includes('consensus') && wal) {
      consensusSent.n++;
      if (wal.pending) consensusSent.early++;
    }
    return publish(topic, data);
  }) as typeof p2p.publish;
  node.start(p2p);
  return { name, dir, node, p2p };
}

async function stopMember(m: Member): Promise<void> {
  await m.node.close();
  await m.p2p.stop();
}

async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function transfer(node: Node, amount: bigint, nonce: number): Uint8Array {
  const st = node.status();
  return encodeTx(
    signTx(
      {
        chainId: node.chainId,
        refBlockNum: st.height,
        refBlockPrefix: refPrefixOf(hexToBytes(st.headId)),
        expiration: BigInt(Date.now() + 60_000 + nonce),
        ops: [{ type: 'transfer', from: 'alice', to: 'bob', token: 'UMT', amount, memo: new Uint8Array() }],
      },
      { alice: keys.get('alice')!.signing.secretKey },
    ),
  );
}

afterAll(async () => {
  for (const m of members.splice(0)) await stopMember(m).catch(() => {});
  rmSync(root, { recursive: true, force: true });
});

describe('BFT consensus over libp2p', () => {
  it('four validators finalise the same blocks, each carrying its parent commit', async () => {
    for (const name of NAMES) {
      const boot = members.flatMap((m) => m.p2p.addrs());
      members.push(await startMember(name, join(root, name), boot));
    }
    await until(() => members.every((m) => m.node.height >= 4), 20_000, 'height 4 on all');
    // Transactions sent to different validators are final on all of them.
    const envs = await Promise.all(
      members.map((m, i) => m.node.submit(transfer(m.node, BigInt(i + 1) * UNIT, i))),
    );
    const last = members[3]!.node;
    const included = await Promise.all(envs.map((e) => last.waitFor(e.idHex, 10_000)));
    expect(included.every((s) => s.status === 'included')).toBe(true);
    const h = Math.min(...members.map((m) => m.node.height));
    for (let height = 1; height <= h; height++) {
      const blocks = await Promise.all(members.map((m) => m.node.blockByHeight(height)));
      const ids = new Set(blocks.map((b) => b!.id));
      expect(ids.size).toBe(1);
      const roots = new Set(blocks.map((b) => bytesToHex(b!.block.header.stateRoot)));
      expect(roots.size).toBe(1);
    }
    // Block h carries the commit of h - 1: more than 2/3 of the set signed it.
    const b = (await last.blockByHeight(h))!;
    const c = decodeCommit(b.block.lastCommit);
    expect(c.height).toBe(BigInt(h - 1));
    expect(bytesToHex(c.value)).toBe(bytesToHex(b.block.header.prev));
    expect(c.signatures.length).toBeGreaterThanOrEqual(quorum(4));
    expect(verifyCommit(c, last.validatorSet(BigInt(h - 1)), last.signatureVerifier, last.chainId).ok).toBe(
      true,
    );
    expect(consensusSent.n).toBeGreaterThan(0);
    expect(consensusSent.early).toBe(0);
    const st = last.status();
    expect(st.consensus?.validators).toBe(4);
    expect(st.consensus?.validator).toBe(true);
  });

  it('keeps finalising with one validator down; the restarted one catches up', async () => {
    const gone = members.splice(2, 1)[0]!;
    await stopMember(gone);
    const h0 = Math.max(...members.map((m) => m.node.height));
    await until(() => members.every((m) => m.node.height >= h0 + 5), 20_000, 'progress with 3 of 4');
    const env = await members[0]!.node.submit(transfer(members[0]!.node, 7n, 99));
    await members[1]!.node.waitFor(env.idHex, 10_000);
    const back = await startMember(
      gone.name,
      gone.dir,
      members.flatMap((m) => m.p2p.addrs()),
    );
    members.push(back);
    const target = Math.max(...members.map((m) => m.node.height));
    await until(() => back.node.height >= target + 2, 30_000, 'restarted validator catching up');
    const ours = await back.node.blockByHeight(target);
    const theirs = await members[0]!.node.blockByHeight(target);
    expect(ours!.id).toBe(theirs!.id);
  });

  it('a non-voting follower syncs from nothing and follows live', async () => {
    const f = await startMember(
      'follower',
      join(root, 'follower'),
      members.flatMap((m) => m.p2p.addrs()),
      false,
    );
    members.push(f);
    const target = members[0]!.node.height;
    await until(() => f.node.height >= target + 2, 30_000, 'follower sync');
    expect(f.node.status().consensus?.validator).toBe(false);
    const a = await f.node.blockByHeight(target);
    const b = await members[0]!.node.blockByHeight(target);
    expect(a!.id).toBe(b!.id);
    expect(bytesToHex(f.node.state.root())).toBe(
      bytesToHex((await f.node.blockByHeight(f.node.height))!.block.header.stateRoot),
    );
  });

  it('an equivocating validator is reported, slashed and removed from the set', async () => {
    const a = members[0]!.node;
    const offender = 'node-4';
    const secret = keys.get(offender)!.signing.secretKey;
    const bondBefore = (a.state.get(`val/${offender}`) as { bond: bigint }).bond;
    let tries = 0;
    // Two prevotes of node-4 for different blocks in one round, published by another node: every
    // validator that receives both turns them into an evidence transaction.
    await until(
      () => {
        if (members.some((m) => (m.node.status().consensus?.evidence ?? 0) > 0)) return true;
        const height = BigInt(a.height + 1);
        const set = a.validatorSet(height).validators;
        const index = set.findIndex((v) => v.name === offender);
        for (const tag of ['x', 'y']) {
          const vote = signVote(
            a.chainId,
            { sign: (m) => sign(secret, m) },
            {
              type: 'prevote',
              height,
              round: 0,
              value: sha256(utf8(`${tag}${tries}`)),
              validator: index,
            },
          );
          void members[0]!.p2p.publish('consensus', encodeMessage({ kind: 'vote', vote }));
        }
        tries++;
        return false;
      },
      20_000,
      'an equivocation to be seen',
    );
    await until(
      () => !a.validatorSet(BigInt(a.height + 1)).validators.some((v) => v.name === offender),
      20_000,
      'the offender to leave the active set',
    );
    const rec = a.state.get(`val/${offender}`) as { bond: bigint; status: string };
    expect(rec.status).toBe('jailed');
    const slashBps = BigInt((a.state.get('meta/params') as { slashBps: number }).slashBps);
    expect(rec.bond).toBe(bondBefore - (bondBefore * slashBps) / 10_000n);
    // The other three go on finalising.
    const h = a.height;
    await until(
      () => members.filter((m) => m.name !== offender).every((m) => m.node.height >= h + 3),
      20_000,
      'progress',
    );
  });
});
