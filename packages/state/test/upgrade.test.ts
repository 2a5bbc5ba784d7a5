/**
 * Versioned rules (PROTOCOL_VERSION 2): a voted upgrade switches the rules at its height on every
 * node that implements it — from there block headers carry version 2 — while a node that implements
 * only version 1 (older software, or `protocolVersion: 1`) stops before that height, and an upgraded
 * node replays the old blocks with the old rules.
 */
import { PROTOCOL_VERSION, type ProposalAction, RoamError, UNIT } from '@roamchain/protocol';
import { describe, expect, it } from 'vitest';
import {
  applyBlock,
  blockId,
  buildGenesis,
  GK,
  genesisState,
  type Proposal,
  protocolVersionAt,
  TestChain,
} from '../src/index.js';

const MIN = 60_000n;

function codeOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof RoamError) return e.code;
    throw e;
  }
  return 'none';
}

const upgrade = (version: number, value: bigint): ProposalAction => ({
  kind: 'upgrade',
  displayName: '',
  networks: [],
  param: '',
  value,
  version,
});

function setup(protocolVersion?: number) {
  const { genesis, keys } = buildGenesis({
    accounts: [
      { name: 'op-a', roles: ['operator'] },
      { name: 'op-b', roles: ['operator'] },
      { name: 'op-c', roles: ['operator'] },
    ],
    umt: { 'op-a': 1000n * UNIT, 'op-b': 1000n * UNIT, 'op-c': 1000n * UNIT },
    params: { epochLength: 4 },
  });
  const c = new TestChain(genesis, keys, protocolVersion === undefined ? {} : { protocolVersion });
  return { c, genesis };
}

/** Proposes and passes an upgrade; returns the proposal's id. */
function vote(c: TestChain, a: ProposalAction): string {
  const r = c.submit([
    { type: 'proposal_create', proposer: 'op-a', action: a, deadline: c.time + 500n + 10n * MIN, note: '' },
  ]);
  const id = r.events.find((e) => e.type === 'proposal_created')!.proposal as string;
  const v = (voter: string) => ({
    type: 'proposal_vote' as const,
    voter,
    proposal: Uint8Array.from(Buffer.from(id, 'hex')),
    approve: true,
  });
  c.submit([v('op-b'), v('op-c')]);
  return id;
}

describe('protocol upgrades', () => {
  it('switches the rules at the voted height; old software stops before it; replay uses the old rules', () => {
    expect(PROTOCOL_VERSION).toBe(2);
    const { c, genesis } = setup();
    const at = c.height + 6n;
    vote(c, upgrade(2, at));
    while (c.height < at + 2n) c.block([]);
    // Headers say by which rules a block was made: 1 before the height, 2 from it.
    const versions = c.blocks.map((b) => [b.block.header.height, b.block.header.version]);
    for (const [h, v] of versions) expect(v).toBe(h! < at ? 1 : 2);
    expect(protocolVersionAt(c.state, at)).toBe(2);

    // An upgraded replica replays every block, each with the rules of its height.
    const upgraded = genesisState(genesis);
    let head = upgraded.chainId;
    for (const { block, envelopes } of c.blocks) {
      applyBlock(upgraded.state, block, envelopes, head, { verifier: null });
      head = blockId(block.header);
    }
    expect(upgraded.state.root()).toEqual(c.state.root());

    // A replica that implements only version 1 applies the blocks before the height, then stops.
    const old = genesisState(genesis);
    head = old.chainId;
    for (const { block, envelopes } of c.blocks) {
      if (block.header.height === at) {
        const root = old.state.root();
        expect(
          codeOf(() => applyBlock(old.state, block, envelopes, head, { verifier: null, protocolVersion: 1 })),
        ).toBe('UPGRADE_REQUIRED');
        expect(old.state.root()).toEqual(root);
        expect(old.state.meta.height).toBe(at - 1n);
        break;
      }
      applyBlock(old.state, block, envelopes, head, { verifier: null, protocolVersion: 1 });
      head = blockId(block.header);
    }
  });

  it('a block with the header version of other rules is refused', () => {
    const { c, genesis } = setup();
    const at = c.height + 4n;
    vote(c, upgrade(2, at));
    while (c.height < at) c.block([]);
    const r = genesisState(genesis);
    let head = r.chainId;
    for (const { block, envelopes } of c.blocks) {
      const h = block.header.height;
      if (h === at - 1n || h === at) {
        // Version 2 before the height, version 1 from it: refused, nothing changes.
        const forged = { ...block, header: { ...block.header, version: h < at ? 2 : 1 } };
        const root = r.state.root();
        expect(codeOf(() => applyBlock(r.state, forged, envelopes, head, { verifier: null }))).toBe(
          'BLOCK_INVALID',
        );
        expect(r.state.root()).toEqual(root);
      }
      applyBlock(r.state, block, envelopes, head, { verifier: null });
      head = blockId(block.header);
    }
  });

  it('the node that implements version 1 stops at the height; a later upgrade builds on the version in force', () => {
    const { c } = setup(1);
    const at = c.height + 4n;
    vote(c, upgrade(2, at));
    while (c.height + 1n < at) c.block([]);
    expect(codeOf(() => c.block([]))).toBe('UPGRADE_REQUIRED');
    expect(c.height).toBe(at - 1n);

    const { c: d } = setup();
    const at2 = d.height + 4n;
    vote(d, upgrade(2, at2));
    while (d.height < at2) d.block([]);
    // An upgrade to a version not above the one in force fails at execution; version 3 from a later
    // height keeps version 2 in force until then.
    const same = vote(d, upgrade(2, d.height + 10n));
    expect(d.state.get<Proposal>(GK.proposal(same))!.result).toMatch(/^GOV_INVALID/);
    const at3 = d.height + 5n;
    vote(d, upgrade(3, at3));
    expect(protocolVersionAt(d.state, at3 - 1n)).toBe(2);
    expect(protocolVersionAt(d.state, at3)).toBe(3);
    while (d.height + 1n < at3) d.block([]);
    expect(d.blocks.at(-1)!.block.header.version).toBe(2);
    expect(codeOf(() => d.block([]))).toBe('UPGRADE_REQUIRED');
  });
});
