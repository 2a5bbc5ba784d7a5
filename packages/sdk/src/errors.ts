/**
 * Errors of the SDK. A non-2xx answer of the node becomes a `RoamApiError` (a `RoamError` carrying
 * the server's code, HTTP status and details), so callers switch on `err.code`; a request that got
 * no HTTP answer at all (connection refused, DNS, timeout, aborted) is a `RoamNetworkError`.
 */
import { type ErrorCode, isErrorCode, RoamError } from '@roamchain/protocol';

export class RoamApiError extends RoamError {
  /** HTTP status the server answered with. */
  readonly httpStatus: number;
  /** The code exactly as the server sent it (differs from `code` only when the SDK does not know it). */
  readonly serverCode: string;
  readonly method: string;
  readonly url: string;
  /** From the answer's `Retry-After` header (MEMPOOL_FULL, MEMPOOL_ACCOUNT_LIMIT, ACCOUNT_BUSY, RATE_LIMITED): when to try again, ms. */
  retryAfterMs: number | undefined;

  constructor(args: {
    code: ErrorCode;
    message: string;
    httpStatus: number;
    details?: Record<string, unknown> | undefined;
    serverCode?: string;
    method: string;
    url: string;
  }) {
    super(args.code, args.message, args.details);
    this.name = 'RoamApiError';
    this.httpStatus = args.httpStatus;
    this.serverCode = args.serverCode ?? args.code;
    this.method = args.method;
    this.url = args.url;
    this.retryAfterMs = undefined;
  }

  override get status(): number {
    return this.httpStatus;
  }
}

/** No HTTP answer: the node is unreachable, the request timed out or was aborted. */
export class RoamNetworkError extends Error {
  readonly code = 'NETWORK' as const;
  readonly method: string;
  readonly url: string;
  readonly timedOut: boolean;
  constructor(message: string, args: { method: string; url: string; cause?: unknown; timedOut?: boolean }) {
    super(message, args.cause === undefined ? undefined : { cause: args.cause });
    this.name = 'RoamNetworkError';
    this.method = args.method;
    this.url = args.url;
    this.timedOut = args.timedOut ?? false;
  }
}

function fallbackCode(status: number): ErrorCode {
  if (status === 404) return 'NOT_FOUND';
  if (status === 415) return 'UNSUPPORTED_MEDIA_TYPE';
  if (status === 413) return 'TX_TOO_LARGE';
  if (status === 503) return 'MEMPOOL_FULL';
  if (status >= 400 && status < 500) return 'BAD_REQUEST';
  return 'INTERNAL';
}

/**
 * Maps a non-2xx answer to a RoamApiError. The body should be `{ code, message, details }`; any
 * other body (a proxy's HTML page, empty, unknown code) still gives a typed error.
 */
export function apiErrorFromResponse(
  status: number,
  bodyText: string,
  req: { method: string; url: string },
): RoamApiError {
  let body: unknown;
  try {
    body = bodyText.length > 0 ? JSON.parse(bodyText) : undefined;
  } catch {
    body = undefined;
  }
  const b = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : undefined;
  const rawCode = typeof b?.code === 'string' ? b.code : undefined;
  const code: ErrorCode = isErrorCode(rawCode) ? rawCode : fallbackCode(status);
  const details =
    typeof b?.details === 'object' && b.details !== null && !Array.isArray(b.details)
      ? (b.details as Record<string, unknown>)
      : undefined;
  let message: string;
  if (typeof b?.message === 'string' && b.message.length > 0) message = b.message;
  else if (rawCode !== undefined) message = rawCode;
  else {
    const snippet = bodyText.trim().replace(/\s+/g, ' ').slice(0, 200);
    message = `HTTP ${status}${snippet ? `: ${snippet}` : ''}`;
  }
  return new RoamApiError({
    code,
    message,
    httpStatus: status,
    details,
    ...(rawCode !== undefined ? { serverCode: rawCode } : {}),
    method: req.method,
    url: req.url,
  });
}

/** A `Retry-After` header (seconds, or an HTTP date) in ms from now; undefined if absent or invalid. */
export function retryAfterMsOf(header: string | null | undefined, now = Date.now()): number | undefined {
  if (!header) return undefined;
  const h = header.trim();
  if (/^[0-9]{1,9}$/.test(h)) return Number(h) * 1000;
  const t = Date.parse(h);
  return Number.isFinite(t) ? Math.max(0, t - now) : undefined;
}

export function isRoamApiError(e: unknown, code?: ErrorCode): e is RoamApiError {
  return e instanceof RoamApiError && (code === undefined || e.code === code);
}
