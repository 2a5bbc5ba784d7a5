/**
 * One subscription to the node's blocks, fanned out to every WebSocket. Each block's events are
 * converted and serialised once here (`prepareFeed`), off the commit path (on the next turn of the
 * event loop, in order), and the same bytes go to every subscriber; only while a WebSocket listens
 * (the feed index builds its own in the index worker, indexer/worker.ts).
 */
import { endCursor, feedOfBlock, type PreparedEvent, prepareFeed } from '../indexer/events.js';
import type { AppliedBlock, NodeApi } from '../interfaces.js';

export type HubListener = (blockWire: Buffer, b: AppliedBlock, events: PreparedEvent[]) => void;

export class FeedHub {
  private readonly listeners = new Set<HubListener>();
  private unsubscribe: (() => void) | null = null;
  private pending: AppliedBlock[] = [];
  private scheduled = false;
  /** Cursor after the last event of the last block the hub delivered. */
  lastCursor = '0:0';
  lastHeight = 0;

  /** Follows `node`. */
  static async open(node: NodeApi): Promise<FeedHub> {
    const hub = new FeedHub();
    let seen = false;
    hub.unsubscribe = node.onBlock((b) => {
      seen = true;
      hub.pending.push(b);
      if (!hub.scheduled) {
        hub.scheduled = true;
        setImmediate(() => hub.drain());
      }
    });
    const h = node.status().height;
    if (h > 0) {
      const b = await node.blockByHeight(h);
      if (!seen) {
        hub.lastHeight = h;
        hub.lastCursor = b ? endCursor(h, feedOfBlock(b).length) : `${h}:0`;
      }
    }
    return hub;
  }

  private drain(): void {
    this.scheduled = false;
    const blocks = this.pending;
    this.pending = [];
    for (const b of blocks) this.deliver(b);
  }

  private deliver(b: AppliedBlock): void {
    this.lastHeight = b.height;
    if (this.listeners.size === 0) {
      // Nobody to send to: no conversion, only the feed's position.
      let count = b.endEvents.length;
      for (const r of b.receipts) count += r.events.length;
      this.lastCursor = endCursor(b.height, count);
      return;
    }
    const events = prepareFeed(feedOfBlock(b));
    this.lastCursor = endCursor(b.height, events.length);
    const blockWire = Buffer.from(
      JSON.stringify({
        type: 'block',
        height: b.height,
        id: b.id,
        time: Number(b.block.header.time),
        txCount: b.envelopes.length,
      }),
    );
    for (const l of this.listeners) {
      try {
        l(blockWire, b, events);
      } catch {
        // one broken connection must not stop the others
      }
    }
  }

  subscribe(l: HubListener): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  get size(): number {
    return this.listeners.size;
  }

  close(): void {
    this.unsubscribe?.();
    this.unsubscribe = null;
    this.pending = [];
    this.listeners.clear();
  }
}
