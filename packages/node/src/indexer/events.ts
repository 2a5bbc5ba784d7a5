/**
 * Feed events of applied blocks and their wire form. An event is converted to JSON and serialised
 * once (`prepareFeed`); the same bytes go to every WebSocket subscriber and into the feed index.
 */
import { EVENT_PARTY_FIELDS, NAME_RE, type Operation } from '@roamchain/protocol';
import { type JsonObject, toJson } from '../api/json.js';
import type { AppliedBlock, FeedEvent } from '../interfaces.js';

/**
 * What the indexers read of a block: an `AppliedBlock` is one; the index worker builds a lighter one
 * from the stored bytes (worker.ts: the transaction ids from the receipts, no re-encoding and
 * hashing of every transaction).
 */
export interface IndexBlock extends Pick<AppliedBlock, 'height' | 'receipts' | 'endEvents'> {
  block: { header: { time: bigint } };
  envelopes: readonly { tx: { ops: readonly Operation[] }; idHex: string }[];
  /**
   * The events are JSON already (decoded from the store: bigints and bytes as strings, plain
   * objects), so `toJson` would only copy them.
   */
  jsonEvents?: true;
}

/** The feed events of an applied block: every receipt's events in transaction order, then block-end events. */
export function feedOfBlock(b: IndexBlock): FeedEvent[] {
  const out: FeedEvent[] = [];
  let i = 0;
  for (const r of b.receipts) {
    for (const event of r.events)
      out.push({ cursor: `${b.height}:${i++}`, height: b.height, txId: r.txId, event });
  }
  for (const event of b.endEvents)
    out.push({ cursor: `${b.height}:${i++}`, height: b.height, txId: null, event });
  return out;
}

/** A cursor that stands after every event of block `height` (which has `count` events). */
export function endCursor(height: number, count: number): string {
  return `${height}:${Math.max(count - 1, 0)}`;
}

/** A feed event ready to send: its JSON (for filters) and its wire message, serialised once. */
export interface PreparedEvent {
  cursor: string;
  height: number;
  index: number;
  json: JsonObject;
  /** UTF-8 of `{"type":"event","cursor","height","txId","event"}`. */
  wire: Buffer;
}

/** The wire message of one feed event (the SDK's `EventMessage`). */
export function eventWire(e: FeedEvent, json: JsonObject = toJson(e.event) as JsonObject): Buffer {
  return Buffer.from(
    JSON.stringify({ type: 'event', cursor: e.cursor, height: e.height, txId: e.txId, event: json }),
  );
}

/** `json`: the events are JSON already (`IndexBlock.jsonEvents`). */
export function prepareFeed(events: FeedEvent[], json = false): PreparedEvent[] {
  return events.map((e, index) => {
    const j = json ? (e.event as unknown as JsonObject) : (toJson(e.event) as JsonObject);
    return { cursor: e.cursor, height: e.height, index, json: j, wire: eventWire(e, j) };
  });
}

const CONTRACT_SAFE = /^[0-9a-f]{64}$/;

/**
 * The accounts an event names in its party fields (the ones `eventInvolves` matches), deduplicated.
 * Only valid account names (no '/', nothing below U+0020) ever become index keys.
 */
export function partiesOf(json: Readonly<Record<string, unknown>>): string[] {
  const out: string[] = [];
  for (const f of EVENT_PARTY_FIELDS) {
    const v = json[f];
    if (typeof v === 'string' && NAME_RE.test(v) && !out.includes(v)) out.push(v);
  }
  return out;
}

/** The contract id an event names, if any. */
export function contractOf(json: JsonObject): string | undefined {
  const c = json.contract;
  return typeof c === 'string' && CONTRACT_SAFE.test(c) ? c : undefined;
}
