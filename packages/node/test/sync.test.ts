/**
 * Block sync against lying peers (src/sync.ts), with a scripted network: a peer that claims a head
 * it does not serve, one that times out, one that serves a bad block; each is penalised once per
 * run and left out, and the honest peer's blocks are imported. One request per peer at a time.
 */
import { decode, encode } from '@roamchain/protocol';
import { describe, expect, it } from 'vitest';
import {
  blocksReq,
  blocksResp,
  PeerRequests,
  PROTO,
  runSync,
  SYNC_MIN_LAG,
  type SyncItem,
  type SyncNetwork,
  statusCodec,
} from '../src/sync.js';

type Behaviour = 'honest' | 'liar' | 'silent' | 'bad';

function scripted(peers: Record<string, { head: bigint; does: Behaviour }>) {
  const penalties: { peer: string; reason: string }[] = [];
  const requests: string[] = [];
  const net: SyncNetwork = {
    peers: () => Object.keys(peers).map((id) => ({ id })),
    penalize: (peer, reason) => penalties.push({ peer, reason }),
    async request(peer, name, req) {
      const p = peers[peer]!;
      requests.push(`${peer}:${name}`);
      if (name === PROTO.status) return encode(statusCodec, { height: p.head, id: new Uint8Array(32) });
      const { from, count } = decode(blocksReq, req);
      if (p.does === 'silent') throw new Error('timed out');
      if (p.does === 'liar') return encode(blocksResp, []);
      const out: SyncItem[] = [];
      const honestHead = p.does === 'bad' ? 1000n : p.head;
      for (let h = from; h <= honestHead && out.length < count; h++) {
        out.push({
          block: new Uint8Array([Number(h % 256n), p.does === 'bad' ? 1 : 0]),
          commit: new Uint8Array(1),
        });
      }
      return encode(blocksResp, out);
    },
  };
  return { net, penalties, requests };
}

function host(start: bigint) {
  let head = start;
  return {
    get head() {
      return head;
    },
    sync: {
      head: () => head,
      stopped: () => false,
      async importBlocks(items: SyncItem[]) {
        for (const it of items) {
          if (it.block[1] === 1) throw new Error('commit does not verify');
          head++;
        }
      },
      progress: () => {},
      log: () => {},
    },
  };
}

describe('block sync', () => {
  it('a peer claiming a far-ahead head it does not serve is penalised and left out; sync ends', async () => {
    const { net, penalties } = scripted({
      liar: { head: 1_000_000n, does: 'liar' },
      honest: { head: 100n, does: 'honest' },
    });
    const h = host(10n);
    await runSync(net, new PeerRequests(net), h.sync);
    expect(h.head).toBe(100n);
    expect(penalties.map((p) => p.peer)).toEqual(['liar']);
    expect(penalties[0]!.reason).toMatch(/claimed head 1000000/);
  });

  it('a peer that times out or serves a bad block is penalised', async () => {
    const { net, penalties } = scripted({
      silent: { head: 500n, does: 'silent' },
      bad: { head: 400n, does: 'bad' },
      honest: { head: 50n, does: 'honest' },
    });
    const h = host(0n);
    await runSync(net, new PeerRequests(net), h.sync);
    expect(h.head).toBe(50n);
    expect(penalties.map((p) => p.peer).sort()).toEqual(['bad', 'silent']);
  });

  it('with only liars, sync stops after one failure each (no endless retry)', async () => {
    const { net, penalties, requests } = scripted({
      a: { head: 1_000_000n, does: 'liar' },
      b: { head: 999_999n, does: 'silent' },
    });
    const h = host(3n);
    await runSync(net, new PeerRequests(net), h.sync);
    expect(h.head).toBe(3n);
    expect(penalties).toHaveLength(2);
    expect(requests.filter((r) => r.endsWith(`:${PROTO.blocks}`))).toHaveLength(2);
  });

  it('a running node one block behind does not sync (it gets that block in catch-up and keeps voting)', async () => {
    const { net, requests } = scripted({
      a: { head: 11n, does: 'honest' },
      b: { head: 12n, does: 'honest' },
    });
    const h = host(10n);
    await runSync(net, new PeerRequests(net), h.sync, SYNC_MIN_LAG);
    expect(h.head).toBe(12n); // b is two ahead: fetched
    const again = scripted({ a: { head: 11n, does: 'honest' } });
    const h2 = host(10n);
    await runSync(again.net, new PeerRequests(again.net), h2.sync, SYNC_MIN_LAG);
    expect(h2.head).toBe(10n);
    expect(again.requests.filter((r) => r.endsWith(`:${PROTO.blocks}`))).toEqual([]);
  });

  it('one outstanding request per peer', async () => {
    let release: (v: Uint8Array) => void = () => {};
    const net: SyncNetwork = {
      peers: () => [{ id: 'p' }],
      penalize: () => {},
      request: () => new Promise<Uint8Array>((r) => (release = r)),
    };
    const req = new PeerRequests(net);
    const first = req.request('p', PROTO.status, new Uint8Array(0), 1000);
    expect(req.outstanding('p')).toBe(true);
    expect(await req.request('p', PROTO.status, new Uint8Array(0), 1000)).toBeNull();
    release(new Uint8Array([1]));
    expect(await first).toEqual(new Uint8Array([1]));
    expect(req.outstanding('p')).toBe(false);
  });
});
