/**
 * `POST /v1/txs`: many signed transactions in one request. The body (Content-Type
 * application/octet-stream, at most TX_BATCH_MAX_BYTES) is the canonical encoding of a vector of
 * transaction byte strings (`txBatchCodec` of @roamchain/protocol, each at most the chain's
 * `maxTxBytes`); the answer has one result per transaction, in order. A malformed body admits
 * nothing (400/413 with its CODEC_* code). When the mempool refused every transaction for lack of
 * room the answer is MEMPOOL_FULL (HTTP 503); when it refused some, the answer is 200 with their
 * MEMPOOL_FULL results. Both carry `Retry-After`.
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
import type { FastifyInstance } from 'fastify';
import type { NodeApi } from '../interfaces.js';
import { MEMPOOL_RETRY_AFTER_S } from '../mempool.js';
import * as S from './schemas.js';

/** Codes whose answers say when to come back (`Retry-After`, seconds). */
export const RETRY_LATER_CODES: ReadonlySet<string> = new Set(['MEMPOOL_FULL', 'MEMPOOL_ACCOUNT_LIMIT']);
export const RETRY_AFTER_SECONDS = MEMPOOL_RETRY_AFTER_S;

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

export async function registerTxBatchRoute(app: FastifyInstance, node: NodeApi): Promise<void> {
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
        // A plain view, so each decoded transaction is a copy (not a view keeping the body alive).
        const bytes = new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
        const maxTxBytes = node.state.get<ChainParams>(K.params)?.maxTxBytes;
        const txs = decodeTxBatch(bytes, maxTxBytes);
        const results = await node.submitBatch(txs);
        const full = results.filter((r) => !r.ok && RETRY_LATER_CODES.has(r.code)).length;
        if (full > 0) reply.header('retry-after', String(RETRY_AFTER_SECONDS));
        if (results.length > 0 && results.every((r) => !r.ok && r.code === 'MEMPOOL_FULL')) {
          throw new RoamError('MEMPOOL_FULL', `no room for any of the ${results.length} transactions`, {
            retryAfterSeconds: RETRY_AFTER_SECONDS,
          });
        }
        return { results };
      },
    );
  });
}
