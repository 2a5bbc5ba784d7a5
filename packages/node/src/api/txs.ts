/**
 * `POST /v1/txs`: many signed transactions in one request. The body (Content-Type
 * application/octet-stream, at most TX_BATCH_MAX_BYTES) is the canonical encoding of a vector of
 * transaction byte strings (`txBatchCodec` of @roamchain/protocol, each at most the chain's
 * `maxTxBytes`); the answer has one result per transaction, in order. A malformed body admits
 * nothing (400/413 with its CODEC_* code). When the mempool refused every transaction for lack of
 * room the answer is MEMPOOL_FULL (HTTP 503); when it refused some, the answer is 200 with their
 * MEMPOOL_FULL results. Both carry `Retry-After`.
 *
 * Per client (its API key's name, else its IP): at most `txBatchBytesInFlight` bytes of batches in
 * admission at once; after a batch of which more than half was refused for an account's bounds
 * (ACCOUNT_BUSY, MEMPOOL_ACCOUNT_LIMIT: a client flooding one account), the client's batches within
 * `txBatchHoldOffMs` are refused (RATE_LIMITED, 429) before their body is read (it is skipped),
 * and the hold-off doubles for each further such batch or each batch sent while held off, up to 32
 * times, until a batch is not refused mostly (see api/limits.ts).
 * Both are bounded by `trackedClients`.
 */
import {
  type ChainParams,
  decodeTxBatch,
  RoamError,
  TX_BATCH_CONTENT_TYPE,
  TX_BATCH_MAX_BYTES,
  TX_BATCH_MAX_TXS,
} from '@roamchain/protocol';
import { K } from '@roamchain/state';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { NodeApi, SubmitResult } from '../interfaces.js';
import { MEMPOOL_RETRY_AFTER_S } from '../mempool.js';
import { type ApiLimits, DEFAULT_LIMITS } from './limits.js';
import * as S from './schemas.js';

/** Codes whose answers say when to come back (`Retry-After`, seconds). */
export const RETRY_LATER_CODES: ReadonlySet<string> = new Set([
  'MEMPOOL_FULL',
  'MEMPOOL_ACCOUNT_LIMIT',
  'ACCOUNT_BUSY',
]);
export const RETRY_AFTER_SECONDS = MEMPOOL_RETRY_AFTER_S;
/** A batch refused mostly for these (one account's bounds, not the node's room) holds its client off. */
const HOLD_OFF_CODES: ReadonlySet<string> = new Set(['MEMPOOL_ACCOUNT_LIMIT', 'ACCOUNT_BUSY']);

/** The batch route's per-client bounds: bytes in admission, and the hold-off after a refused batch. */
export class BatchGuard {
  private readonly bytes = new Map<string, number>();
  /** Clients held off: until when, and their strikes (batches refused mostly, hold-offs ignored). */
  private readonly holds = new Map<string, { until: number; strikes: number }>();

  constructor(
    private readonly limits: Pick<
      ApiLimits,
      'txBatchBytesInFlight' | 'txBatchHoldOffMs' | 'keyedFactor' | 'trackedClients'
    >,
    private readonly clock: () => number = () => performance.now(),
  ) {}

  /**
   * Throws RATE_LIMITED while the client is held off (checked before its body is read). Coming back
   * before the time is a strike: each strike doubles the next hold-off (at most 32 times).
   */
  check(client: { id: string }): void {
    const h = this.holds.get(client.id);
    if (h === undefined) return;
    const left = h.until - this.clock();
    if (left > 0) {
      h.strikes++;
      throw new RoamError(
        'RATE_LIMITED',
        'most of your last batch was refused: wait for its Retry-After before sending another',
        { retryAfterSeconds: Math.max(1, Math.ceil(left / 1000)) },
      );
    }
  }

  /** Takes `size` bytes for the client, or throws RATE_LIMITED (taking nothing). */
  enter(client: { id: string; keyed: boolean }, size: number): void {
    this.check(client);
    const l = this.limits;
    const max = client.keyed ? l.txBatchBytesInFlight * l.keyedFactor : l.txBatchBytesInFlight;
    const now = this.bytes.get(client.id) ?? 0;
    // One batch alone always passes (the body limit bounds it): the bound is on concurrent ones.
    if (now > 0 && now + size > max) {
      throw new RoamError('RATE_LIMITED', `${now} bytes of your batches are in admission (at most ${max})`, {
        retryAfterSeconds: 1,
      });
    }
    if (now === 0 && this.bytes.size >= l.trackedClients)
      throw new RoamError('RATE_LIMITED', 'too many clients are sending batches', { retryAfterSeconds: 1 });
    this.bytes.set(client.id, now + size);
  }

  /**
   * Gives the bytes back. `refusedMostly`: the client is held off for `txBatchHoldOffMs` times 2^strikes
   * (at most 32 times); a batch that was not refused mostly clears its strikes.
   */
  leave(client: { id: string }, size: number, refusedMostly: boolean): void {
    const n = (this.bytes.get(client.id) ?? size) - size;
    if (n <= 0) this.bytes.delete(client.id);
    else this.bytes.set(client.id, n);
    const base = this.limits.txBatchHoldOffMs;
    if (!refusedMostly || base === 0) {
      this.holds.delete(client.id);
      return;
    }
    const h = this.holds.get(client.id) ?? { until: 0, strikes: 0 };
    this.holds.delete(client.id);
    h.until = this.clock() + base * 2 ** Math.min(5, h.strikes);
    h.strikes++;
    this.holds.set(client.id, h);
    if (this.holds.size > this.limits.trackedClients) {
      const oldest = this.holds.keys().next();
      if (!oldest.done) this.holds.delete(oldest.value);
    }
  }

  /** Clients with batches in admission. */
  get busyClients(): number {
    return this.bytes.size;
  }
}

interface Tally {
  /** Refused for one account's bounds (HOLD_OFF_CODES). */
  held: number;
  /** Refused with a Retry-After (RETRY_LATER_CODES). */
  later: number;
  /** Refused MEMPOOL_FULL. */
  full: number;
}

function tallyOf(results: readonly SubmitResult[]): Tally {
  const t: Tally = { held: 0, later: 0, full: 0 };
  for (const r of results) {
    if (r.ok) continue;
    if (HOLD_OFF_CODES.has(r.code)) t.held++;
    if (RETRY_LATER_CODES.has(r.code)) t.later++;
    if (r.code === 'MEMPOOL_FULL') t.full++;
  }
  return t;
}

/**
 * The 200 answer `{"results":[...]}` (the shape of the route's response schema) as one string, which
 * Fastify sends as it is, instead of walking an object per transaction with the schema's serializer.
 * An admitted transaction's id is the node's own lowercase hex of a SHA-256 (`TxEnvelope.idHex`),
 * never client text, so it is concatenated without escaping; only refusals go through
 * JSON.stringify. About 0.5 µs per transaction less than the schema's serializer (230-result
 * answers), itself a little faster than JSON.stringify of the results.
 */
export function resultsJson(results: readonly SubmitResult[]): string {
  let s = '{"results":[';
  for (let i = 0; i < results.length; i++) {
    const r = results[i]!;
    if (i > 0) s += ',';
    s += r.ok
      ? `{"ok":true,"txId":"${r.txId}"}`
      : `{"ok":false,"code":${JSON.stringify(r.code)},"message":${JSON.stringify(r.message)}}`;
  }
  return `${s}]}`;
}

const clientOf = (req: FastifyRequest) => req.client ?? { id: `ip:${req.ip}`, keyed: false };

const RESULT = {
  type: 'object',
  required: ['ok'],
  properties: {
    ok: { type: 'boolean' },
    txId: { ...S.HEX, description: 'when ok: the transaction id' },
    code: { type: 'string', description: 'when not ok: the error code (as in error answers)' },
    message: { type: 'string' },
  },
} as const;

/** The OpenAPI request body of the route (the generated document cannot infer a binary body). */
export const TXS_REQUEST_BODY = {
  required: true,
  content: {
    [TX_BATCH_CONTENT_TYPE]: {
      schema: {
        type: 'string',
        format: 'binary',
        description:
          `u16 count (1..${TX_BATCH_MAX_TXS}), then per transaction: u32 length (at most the chain's maxTxBytes) ` +
          'and the signed transaction bytes; big-endian, nothing after the last one',
      },
    },
  },
} as const;

export async function registerTxBatchRoute(
  app: FastifyInstance,
  node: NodeApi,
  limits: ApiLimits = DEFAULT_LIMITS,
): Promise<void> {
  const guard = new BatchGuard(limits);
  // In its own scope, so that only this route accepts octet-stream bodies.
  await app.register(async (scope) => {
    scope.addContentTypeParser(
      TX_BATCH_CONTENT_TYPE,
      { parseAs: 'buffer', bodyLimit: TX_BATCH_MAX_BYTES },
      (_req, body, done) => done(null, body),
    );
    scope.post(
      '/v1/txs',
      {
        // A held-off client is answered before its body is read (after the rate limits' hook).
        onRequest: async (req) => guard.check(clientOf(req)),
        schema: {
          summary: 'Submit many signed transactions (binary batch)',
          description:
            `Body: Content-Type ${TX_BATCH_CONTENT_TYPE}, at most ${TX_BATCH_MAX_BYTES} bytes: the canonical encoding ` +
            `of a vector of 1 to ${TX_BATCH_MAX_TXS} signed transactions (see the request body). Answer: one result ` +
            'per transaction, in order: {ok:true, txId} once admitted (pending), or {ok:false, code, message}. ' +
            'A malformed body admits nothing. If the mempool had no room for any of them the answer is ' +
            'MEMPOOL_FULL (503); both answers carry Retry-After (seconds) when some were refused for lack of room.',
          tags: ['tx'],
          consumes: [TX_BATCH_CONTENT_TYPE],
          response: {
            200: {
              type: 'object',
              required: ['results'],
              properties: { results: { type: 'array', items: RESULT } },
            },
            ...S.errorResponses([
              'CODEC_TRUNCATED',
              'CODEC_TOO_LARGE',
              'UNSUPPORTED_MEDIA_TYPE',
              'MEMPOOL_FULL',
              'RATE_LIMITED',
            ]),
            ...S.ERRORS_RESPONSES,
          },
        },
      },
      async (req, reply) => {
        const body = req.body;
        if (!(body instanceof Uint8Array)) {
          throw new RoamError('UNSUPPORTED_MEDIA_TYPE', `the body must be ${TX_BATCH_CONTENT_TYPE}`);
        }
        const client = clientOf(req);
        guard.enter(client, body.byteLength);
        let results: SubmitResult[] = [];
        let tally: Tally = { held: 0, later: 0, full: 0 };
        try {
          // A plain view, so each decoded transaction is a copy (not a view keeping the body alive).
          const bytes = new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
          const maxTxBytes = node.state.get<ChainParams>(K.params)?.maxTxBytes;
          const txs = decodeTxBatch(bytes, maxTxBytes);
          results = await node.submitBatch(txs);
          tally = tallyOf(results);
        } finally {
          // Most of the batch refused for one account's bounds: the client sends faster than allowed.
          guard.leave(client, body.byteLength, results.length > 0 && tally.held * 2 > results.length);
        }
        if (tally.later > 0) reply.header('retry-after', String(RETRY_AFTER_SECONDS));
        if (results.length > 0 && tally.full === results.length) {
          throw new RoamError('MEMPOOL_FULL', `no room for any of the ${results.length} transactions`, {
            retryAfterSeconds: RETRY_AFTER_SECONDS,
          });
        }
        reply.type('application/json; charset=utf-8');
        return resultsJson(results);
      },
    );
  });
}
