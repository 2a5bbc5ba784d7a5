/**
 * Request ids (`x-request-id`): a caller's id is honoured when it is a short token (letters, digits,
 * `._:-`, at most 128 characters); anything else, or none, gets a fresh UUID. The id is on every log
 * line of the request (pino's `reqId`) and echoed in the answer's `x-request-id` header, so one id
 * follows a request from a wallet through the operator agent to the node.
 */
import { randomUUID } from 'node:crypto';

export const REQUEST_ID_HEADER = 'x-request-id';
const TOKEN = /^[A-Za-z0-9._:-]{1,128}$/;

/** The caller's id if it is acceptable, else undefined. */
export function acceptRequestId(v: unknown): string | undefined {
  const s = Array.isArray(v) ? v[0] : v;
  return typeof s === 'string' && TOKEN.test(s) ? s : undefined;
}

/** The caller's id or a fresh one. */
export function requestIdOf(headers: Record<string, unknown>): string {
  return acceptRequestId(headers[REQUEST_ID_HEADER]) ?? randomUUID();
}
