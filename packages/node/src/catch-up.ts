/**
 * What a node serves to peers that catch up (request-response, see sync.ts for the protocol names):
 * `blocks` — final blocks with their commits from a height on (block sync), and `round` — the
 * messages of the height it is in with the proposals' bodies, or the final block and its commit if
 * it is past that height (catch-up). Both read through the node, so blocks whose storage batch is
 * still pending (pipelined heights) are served too. The asking side is the driver (consensus.ts).
 */
import { encodeMessage, type Tendermint } from '@roamchain/consensus';
import { bytes, bytesToHex, decode, encode, encodeBlock, opt, struct, u64, vec } from '@roamchain/protocol';
import type { ConsensusHost } from './consensus-host.js';
import type { BodyStore } from './gossip.js';
import { blocksReq, blocksResp, MAX_MSG, SYNC_BATCH } from './sync.js';

/** The requester names the block bodies it already has, so they are not sent again. */
export const roundReq = struct({ height: u64, have: vec(bytes(32), 16) });
export const roundResp = struct({
  /** Set when the peer already has the block: the block and its commit. */
  final: opt(struct({ block: bytes(MAX_MSG), commit: bytes(1 << 20) })),
  messages: vec(bytes(1 << 20), 4096),
  bodies: vec(bytes(MAX_MSG), 16),
});

export function decodeRound(raw: Uint8Array) {
  return decode(roundResp, raw);
}

type Served = Pick<ConsensusHost, 'head' | 'blockBytes' | 'commitAt' | 'candidate'>;

/** Block sync: up to SYNC_BATCH final blocks with their commits from the requested height. */
export function serveBlocks(node: Served, req: Uint8Array): Uint8Array {
  const { from, count } = decode(blocksReq, req);
  const out: { block: Uint8Array; commit: Uint8Array }[] = [];
  const head = Number(node.head.height);
  for (let h = Number(from); h <= head && out.length < Math.min(count, SYNC_BATCH); h++) {
    const block = node.blockBytes(h);
    const commit = node.commitAt(h);
    if (!block || !commit) break;
    out.push({ block, commit });
  }
  return encode(blocksResp, out, 1024);
}

/** Catch-up: the round state of `height` (messages and bodies), or its final block if past it. */
export function serveRound(
  node: Served,
  core: Tendermint | null,
  known: BodyStore,
  req: Uint8Array,
): Uint8Array {
  const { height, have } = decode(roundReq, req);
  const had = new Set(have.map(bytesToHex));
  if (height <= node.head.height) {
    const block = node.blockBytes(Number(height));
    const commit = node.commitAt(Number(height));
    if (block && commit) return encode(roundResp, { final: { block, commit }, messages: [], bodies: [] });
  }
  if (!core || core.height !== height)
    return encode(roundResp, { final: undefined, messages: [], bodies: [] });
  const gossip = core.gossip();
  const messages = gossip.map(encodeMessage);
  const bodies: Uint8Array[] = [];
  for (const m of gossip) {
    if (m.kind !== 'proposal') continue;
    const idHex = bytesToHex(m.proposal.value);
    if (had.has(idHex)) continue;
    const b = known.get(idHex) ?? node.candidate(idHex)?.block;
    if (b && bodies.length < 16) bodies.push(encodeBlock(b));
  }
  return encode(roundResp, { final: undefined, messages, bodies }, 4096);
}
