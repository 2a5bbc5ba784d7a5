/**
 * Web-API routes (a Fastify plugin registered by ../server.ts): Transactions: submit one (JSON),
 * submit a binary batch (../txs.ts), a transaction's status.
 */
import { type ErrorCode, encodeTx, hexToBytes, RoamError, signedTx } from '@roamchain/protocol';
import type { FastifyInstance } from 'fastify';
import { fromQuery, receiptJson, txStatusJson } from '../json.js';
import * as S from '../schemas.js';
import { registerTxBatchRoute } from '../txs.js';
import { notFound, type Query, R, type RouteDeps } from './common.js';

const DEFAULT_WAIT_MS = 5000;
const MAX_WAIT_MS = 60_000;
/** What POST /v1/tx answers for its typical refusals (any admission code of errors.ts may come). */
const TX_ADMISSION_CODES: readonly ErrorCode[] = [
  'BAD_REQUEST',
  'CODEC_TRUNCATED',
  'CODEC_TRAILING',
  'CODEC_BAD_VALUE',
  'CODEC_BAD_JSON',
  'TX_WRONG_CHAIN',
  'TX_EXPIRED',
  'TX_EXPIRATION_TOO_FAR',
  'SIG_MISSING',
  'SIG_INVALID',
  'ACCOUNT_UNKNOWN',
  'TX_DUPLICATE',
  'CODEC_TOO_LARGE',
  'UNSUPPORTED_MEDIA_TYPE',
  'MEMPOOL_ACCOUNT_LIMIT',
  'ACCOUNT_BUSY',
  'MEMPOOL_FULL',
  'WAIT_TIMEOUT',
];

export async function txRoutes(app: FastifyInstance, opts: RouteDeps): Promise<void> {
  const { node } = opts;
  app.post(
    '/v1/tx',
    {
      schema: {
        summary: 'Submit a signed transaction',
        description:
          'Body { tx: hex of the signed transaction bytes } or { json: signed transaction JSON }. Without wait the ' +
          'answer is 202 once the node admitted it; with wait=true, 200 once it is in a committed block.',
        tags: ['tx'],
        querystring: {
          type: 'object',
          properties: {
            wait: { type: 'string', enum: ['true', 'false', '1', '0'] },
            timeoutMs: { type: 'integer', minimum: 1, maximum: MAX_WAIT_MS },
          },
        },
        body: {
          type: 'object',
          properties: {
            tx: { type: 'string', pattern: '^([0-9a-fA-F]{2})+$', maxLength: 131_072 },
            json: { type: 'object', additionalProperties: true },
          },
          oneOf: [{ required: ['tx'] }, { required: ['json'] }],
        },
        response: R(
          {
            200: S.TX_STATUS,
            202: {
              type: 'object',
              properties: { txId: S.HEX, status: { type: 'string', enum: ['pending'] } },
            },
          },
          TX_ADMISSION_CODES,
        ),
      },
    },
    async (req, reply) => {
      const q = req.query as Query;
      const body = req.body as { tx?: string; json?: unknown };
      let bytes: Uint8Array;
      if (typeof body.tx === 'string') {
        bytes = hexToBytes(body.tx);
      } else {
        try {
          bytes = encodeTx(signedTx.fromJSON(body.json, 'tx'));
        } catch (e) {
          if (e instanceof RoamError) throw e;
          throw new RoamError('CODEC_BAD_JSON', (e as Error).message);
        }
      }
      const env = await node.submit(bytes);
      if (!fromQuery.bool(q.wait, 'wait')) {
        return reply.status(202).send({ txId: env.idHex, status: 'pending' });
      }
      const timeout =
        q.timeoutMs === undefined ? DEFAULT_WAIT_MS : fromQuery.int(q.timeoutMs, 'timeoutMs', 1, MAX_WAIT_MS);
      const s = await node.waitFor(env.idHex, timeout);
      return reply.status(200).send({
        txId: s.txId,
        status: 'included',
        height: s.height,
        index: s.index,
        blockId: s.blockId,
        receipt: receiptJson(s.receipt),
      });
    },
  );

  await registerTxBatchRoute(app, node, opts.limits);

  app.get(
    '/v1/tx/:id',
    {
      schema: {
        summary: 'Transaction status',
        tags: ['tx'],
        params: { type: 'object', required: ['id'], properties: { id: S.ID } },
        response: R({ 200: S.TX_STATUS }, ['BAD_REQUEST', 'NOT_FOUND']),
      },
    },
    async (req) => {
      const id = fromQuery.id((req.params as Query).id, 'id');
      const s = await node.txStatus(id);
      return s ? txStatusJson(s) : notFound('tx', id);
    },
  );
}
