/**
 * Request ids across the agent: an HTTP request's `x-request-id` (the caller's when it is a short
 * token — letters, digits, `._:-`, at most 128 characters — else a fresh UUID) is echoed in the
 * answer, added to every log line written while the request is handled, and sent on each call the
 * agent makes to the node's API meanwhile (the node honours and logs it too), so one id follows a
 * countersign from the wallet through the agent to the node.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';

export const REQUEST_ID_HEADER = 'x-request-id';
const TOKEN = /^[A-Za-z0-9._:-]{1,128}$/;
const als = new AsyncLocalStorage<string>();

/** The caller's id if acceptable, else a fresh one. */
export function requestIdOf(v: unknown): string {
  const s = Array.isArray(v) ? v[0] : v;
  return typeof s === 'string' && TOKEN.test(s) ? s : randomUUID();
}

/** Runs `f` with `id` as the current request id. */
export function withRequestId<T>(id: string, f: () => T): T {
  return als.run(id, f);
}

/** The id of the request being handled, if any. */
export function currentRequestId(): string | undefined {
  return als.getStore();
}

/** A fetch that adds the current request id to the node API calls made while handling a request. */
export function fetchWithRequestId(
  base: (input: string | URL | Request, init?: RequestInit) => Promise<Response> = (i, n) =>
    globalThis.fetch(i, n),
): (input: string | URL | Request, init?: RequestInit) => Promise<Response> {
  return (input, init) => {
    const id = als.getStore();
    if (id === undefined) return base(input, init);
    const headers = new Headers(init?.headers);
    headers.set(REQUEST_ID_HEADER, id);
    return base(input, { ...init, headers });
  };
}

/** A logger that adds the current request id (as `requestId`) to each line's data. */
export function logWithRequestId(
  log: (msg: string, data?: Record<string, unknown>) => void,
): (msg: string, data?: Record<string, unknown>) => void {
  return (msg, data) => {
    const id = als.getStore();
    log(msg, id === undefined ? data : { ...data, requestId: id });
  };
}
