/**
 * Block sync that a lying peer cannot hijack.
 *
 * Owns: choosing whom to fetch final blocks from, one outstanding request per peer, and scoring
 * peers that claim a head they do not serve, time out, answer empty or serve a bad block (each is a
 * strike, `net.penalize`; repeated strikes ban the peer in @roamchain/p2p). Every block is imported
 * only with a commit verified against its height's set (the driver's `importBlocks`), so a peer can
 * waste at most one request per sync run before it is dropped from that run.
 * Does not own: when sync starts (the driver starts it on a verified commit of a later height or on
 * the status of f + 1 validators), block validity, the consensus core (which keeps running while
 * requests are in flight; the driver pauses it only while fetched blocks are imported).
 */
import { bytes, decode, encode, struct, u32, u64, vec } from '@roamchain/protocol';

/** The part of the network sync uses (the driver's `SyncNetwork` has it). */
export interface SyncNetwork {
  request(peer: string, name: string, req: Uint8Array, timeoutMs: number): Promise<Uint8Array>;
  peers(): { id: string }[];
  penalize(peer: string, reason: string): void;
}

export const MAX_MSG = 16 * 1024 * 1024;
export const statusCodec = struct({ height: u64, id: bytes(32) });
export const blocksReq = struct({ from: u64, count: u32 });
export const blocksResp = vec(struct({ block: bytes(MAX_MSG), commit: bytes(1 << 20) }), 256);
export const SYNC_BATCH = 64;
export const PROTO = { status: 'status', blocks: 'blocks', round: 'round' } as const;
/** How long a peer may take to answer a status and a batch of blocks (ms). */
export const STATUS_TIMEOUT_MS = 2000;
export const BLOCKS_TIMEOUT_MS = 10_000;
/**
 * How far behind a running node must be before it syncs: a node one block behind gets that block
 * in catch-up and keeps voting; sync (which pauses its core while blocks are imported) is for nodes
 * that fell further behind. At start-up any lag is synced.
 */
export const SYNC_MIN_LAG = 2n;

/** Requests to peers, at most one outstanding per peer (a second one is refused at once: null). */
export class PeerRequests {
  private readonly busy = new Set<string>();
  constructor(private readonly net: SyncNetwork) {}

  async request(peer: string, name: string, req: Uint8Array, timeoutMs: number): Promise<Uint8Array | null> {
    if (this.busy.has(peer)) return null;
    this.busy.add(peer);
    try {
      return await this.net.request(peer, name, req, timeoutMs);
    } finally {
      this.busy.delete(peer);
    }
  }

  outstanding(peer: string): boolean {
    return this.busy.has(peer);
  }
}

export interface SyncItem {
  block: Uint8Array;
  commit: Uint8Array;
}

export interface SyncHost {
  head(): bigint;
  stopped(): boolean;
  /** Imports final blocks in order from head + 1, each against its verified commit; throws on a bad one. */
  importBlocks(items: SyncItem[]): Promise<void>;
  progress(height: number, target: number, done: boolean): void;
  log(level: 'info' | 'warn', msg: string, data?: Record<string, unknown>): void;
}

/** The heads peers claim (status), highest first; peers that do not answer are left out. */
export async function peerHeads(
  req: PeerRequests,
  peers: readonly string[],
): Promise<{ peer: string; height: bigint }[]> {
  const heads = await Promise.all(
    peers.map(async (peer) => {
      try {
        const raw = await req.request(peer, PROTO.status, new Uint8Array(0), STATUS_TIMEOUT_MS);
        return raw ? { peer, height: decode(statusCodec, raw).height } : null;
      } catch {
        return null;
      }
    }),
  );
  return heads
    .filter((x) => x !== null)
    .sort((a, b) => (a.height > b.height ? -1 : a.height < b.height ? 1 : 0));
}

/**
 * One sync run: ask every peer for its head, fetch from the highest claim, import, repeat until no
 * peer claims more than we have. A peer that fails (time-out, empty answer below its claim, a block
 * that does not verify, blocks out of order) is penalised and left out of the rest of the run, so a
 * run ends after at most one failure per peer.
 */
export async function runSync(
  net: SyncNetwork,
  req: PeerRequests,
  host: SyncHost,
  minLag = 1n,
): Promise<void> {
  const failed = new Set<string>();
  let target = 0n;
  for (;;) {
    if (host.stopped()) return;
    const peers = net
      .peers()
      .map((p) => p.id)
      .filter((p) => !failed.has(p));
    const mine = host.head();
    const best = (await peerHeads(req, peers)).find((x) => x.height >= mine + minLag);
    if (!best) break;
    target = best.height;
    host.progress(Number(mine), Number(target), false);
    const fail = (why: string): void => {
      failed.add(best.peer);
      net.penalize(best.peer, `sync: ${why}`);
      host.log('warn', 'sync peer failed', { peer: best.peer, claimed: String(best.height), why });
    };
    let items: SyncItem[];
    try {
      const raw = await req.request(
        best.peer,
        PROTO.blocks,
        encode(blocksReq, { from: mine + 1n, count: SYNC_BATCH }),
        BLOCKS_TIMEOUT_MS,
      );
      if (raw === null) {
        failed.add(best.peer); // a request to it is still out: try the others
        continue;
      }
      items = decode(blocksResp, raw);
    } catch (e) {
      fail(`no answer (${String(e)})`);
      continue;
    }
    if (host.head() >= best.height) continue; // consensus got there meanwhile
    if (items.length === 0) {
      fail(`claimed head ${best.height} but served nothing after ${mine}`);
      continue;
    }
    try {
      await host.importBlocks(items);
    } catch (e) {
      fail(`bad block (${String(e)})`);
    }
    host.progress(Number(host.head()), Number(target), false);
  }
  if (target > 0n) host.progress(Number(host.head()), Number(target), true);
}
