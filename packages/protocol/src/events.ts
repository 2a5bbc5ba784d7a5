/**
 * Ledger events (emitted by the state machine, carried by receipts and the WebSocket feed) name the
 * accounts they concern in these fields. One list, used by the node's feed filter, operator agents
 * and clients alike.
 */
export const EVENT_PARTY_FIELDS = [
  'from',
  'to',
  'issuer',
  'assignee',
  'payer',
  'subscriber',
  'operator',
  'gateway',
  'account',
  'authority',
] as const;

/** Whether an event names `account` in any of its party fields. */
export function eventInvolves(event: Readonly<Record<string, unknown>>, account: string): boolean {
  return EVENT_PARTY_FIELDS.some((f) => event[f] === account);
}
