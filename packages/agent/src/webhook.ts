/**
 * Webhook signatures. A delivery carries
 *   x-roamchain-timestamp: <unix ms of this attempt>
 *   x-roamchain-signature: v1=<hex HMAC-SHA-256(secret, "<timestamp>.<body>")>
 *   x-roamchain-idempotency-key: <the event cursor, also the body's "id">
 * The idempotency key is inside the signed body, the timestamp inside the signed string: a receiver
 * that checks the signature, the window (`verifyWebhook`) and remembers the ids it processed within
 * the window cannot be replayed to.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const WEBHOOK_HEADERS = {
  timestamp: 'x-roamchain-timestamp',
  signature: 'x-roamchain-signature',
  idempotencyKey: 'x-roamchain-idempotency-key',
  attempt: 'x-roamchain-attempt',
} as const;

/** Default replay window of the receiver: 5 minutes either side. */
export const WEBHOOK_TOLERANCE_MS = 300_000;

export function signWebhook(secret: string, timestamp: number, body: string): string {
  if (secret.length === 0) throw new Error('a webhook needs a secret');
  return `v1=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

export type WebhookCheck =
  | { ok: true; id: string; timestamp: number }
  | { ok: false; reason: 'no-signature' | 'bad-signature' | 'stale' | 'bad-body' };

/**
 * The receiver's check (documented example): signature over timestamp and body, timestamp within
 * `toleranceMs` of `now`, the idempotency key equal to the signed body's `id`. The receiver then
 * processes each `id` once (it remembers ids for at least the window).
 */
export function verifyWebhook(a: {
  secret: string;
  body: string;
  headers: Record<string, string | string[] | undefined>;
  now?: number;
  toleranceMs?: number;
}): WebhookCheck {
  const h = (n: string) => {
    const v = a.headers[n];
    return Array.isArray(v) ? v[0] : v;
  };
  const ts = Number(h(WEBHOOK_HEADERS.timestamp));
  const sig = h(WEBHOOK_HEADERS.signature);
  if (!sig || !Number.isSafeInteger(ts) || !a.secret) return { ok: false, reason: 'no-signature' };
  const want = Buffer.from(signWebhook(a.secret, ts, a.body));
  const got = Buffer.from(sig);
  if (want.length !== got.length || !timingSafeEqual(want, got))
    return { ok: false, reason: 'bad-signature' };
  if (Math.abs((a.now ?? Date.now()) - ts) > (a.toleranceMs ?? WEBHOOK_TOLERANCE_MS))
    return { ok: false, reason: 'stale' };
  let id: unknown;
  try {
    id = (JSON.parse(a.body) as { id?: unknown }).id;
  } catch {
    return { ok: false, reason: 'bad-body' };
  }
  if (typeof id !== 'string' || id !== h(WEBHOOK_HEADERS.idempotencyKey))
    return { ok: false, reason: 'bad-body' };
  return { ok: true, id, timestamp: ts };
}

/**
 * Delivers the outbox in order per receiver: signed with the attempt's timestamp, retried with
 * bounded exponential backoff, dead-lettered after `maxAttempts`. One small write per delivery.
 */
export async function deliverOutbox(
  store: import('./store.js').AgentStore,
  cfg: Pick<import('./config.js').AgentConfig, 'webhooks' | 'webhookRetry'>,
  stopped: () => boolean,
): Promise<void> {
  if (busy.has(store)) return;
  busy.add(store);
  try {
    const blocked = new Set<string>();
    const { initialMs, maxMs, maxAttempts } = cfg.webhookRetry;
    for (const item of store.outbox()) {
      if (stopped()) return;
      if (blocked.has(item.url)) continue;
      if (item.nextAt > Date.now()) {
        blocked.add(item.url); // in order, per receiver
        continue;
      }
      const secret = cfg.webhooks.find((w) => w.url === item.url)?.secret;
      let ok = false;
      if (secret) {
        try {
          const ts = Date.now();
          const res = await fetch(item.url, {
            method: 'POST',
            headers: {
              'content-type': 'application/json',
              [WEBHOOK_HEADERS.timestamp]: String(ts),
              [WEBHOOK_HEADERS.signature]: signWebhook(secret, ts, item.body),
              [WEBHOOK_HEADERS.idempotencyKey]: item.key,
              [WEBHOOK_HEADERS.attempt]: String(item.attempts + 1),
            },
            body: item.body,
            signal: AbortSignal.timeout(5000),
          });
          await res.text().catch(() => '');
          ok = res.status >= 200 && res.status < 300;
        } catch {
          ok = false;
        }
      }
      if (ok) store.delivered(item.id);
      else {
        const attempts = item.attempts + 1;
        // A receiver no longer configured (or without a secret) is given up at once.
        if (!secret || attempts >= maxAttempts) store.giveUp(item.id, attempts);
        else {
          store.retryLater(item.id, attempts, Date.now() + Math.min(maxMs, initialMs * 2 ** (attempts - 1)));
          blocked.add(item.url);
        }
      }
    }
  } finally {
    busy.delete(store);
  }
}
const busy = new WeakSet<object>();
