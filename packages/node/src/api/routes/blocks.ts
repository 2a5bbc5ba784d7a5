/**
 * Web-API routes (a Fastify plugin registered by ../server.ts): Blocks by height or id, the latest
 * blocks, ledger events after a cursor.
 */
import type { FastifyInstance } from 'fastify';
import type { AppliedBlock } from '../../interfaces.js';
import { blockJson, blockSummaryJson, feedEventJson, fromQuery, type JsonObject } from '../json.js';
import * as S from '../schemas.js';
import { notFound, type Query, R, type RouteDeps } from './common.js';

export async function blockRoutes(app: FastifyInstance, opts: RouteDeps): Promise<void> {
  const { node } = opts;
  app.get(
    '/v1/blocks/:ref',
    {
      schema: {
        summary: 'A block by height or id',
        tags: ['chain'],
        params: {
          type: 'object',
          required: ['ref'],
          properties: {
            ref: {
              type: 'string',
              pattern: '^([0-9]{1,15}|[0-9a-fA-F]{64})$',
              description: 'height or block id',
            },
          },
        },
        response: R({ 200: S.BLOCK }, ['BAD_REQUEST', 'NOT_FOUND']),
      },
    },
    async (req) => {
      const ref = String((req.params as Query).ref);
      let b: AppliedBlock | undefined;
      if (ref.length === 64) b = await node.blockById(ref.toLowerCase());
      else b = await node.blockByHeight(fromQuery.int(ref, 'ref', 0, Number.MAX_SAFE_INTEGER));
      return b ? blockJson(b, node.commitAt(b.height)) : notFound('block', ref);
    },
  );

  app.get(
    '/v1/blocks',
    {
      schema: {
        summary: 'Latest blocks, newest first',
        tags: ['chain'],
        querystring: {
          type: 'object',
          properties: {
            before: { type: 'integer', minimum: 1, description: 'only blocks below this height' },
            limit: { type: 'integer', minimum: 1, maximum: 100, default: 20 },
          },
        },
        response: R({ 200: S.PAGE.items(S.BLOCK_SUMMARY) }, ['BAD_REQUEST']),
      },
    },
    async (req) => {
      const q = req.query as Query;
      const limit = fromQuery.int(q.limit ?? 20, 'limit', 1, 100);
      const head = node.status().height;
      let h =
        q.before === undefined
          ? head
          : Math.min(head, fromQuery.int(q.before, 'before', 1, Number.MAX_SAFE_INTEGER) - 1);
      const items: JsonObject[] = [];
      for (; h >= 1 && items.length < limit; h--) {
        const b = await node.blockByHeight(h);
        if (b) items.push(blockSummaryJson(b));
      }
      return { items };
    },
  );

  app.get(
    '/v1/events',
    {
      schema: {
        summary: 'Ledger events after a cursor, oldest first',
        tags: ['chain'],
        querystring: {
          type: 'object',
          properties: {
            cursor: S.CURSOR,
            limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
          },
        },
        response: R({ 200: S.PAGE.items(S.FEED_EVENT, true) }, ['BAD_REQUEST']),
      },
    },
    async (req) => {
      const q = req.query as Query;
      const cursor = q.cursor === undefined ? null : fromQuery.cursor(q.cursor, 'cursor');
      const limit = fromQuery.int(q.limit ?? 100, 'limit', 1, 1000);
      const events = await node.eventsSince(cursor, limit);
      return { items: events.map(feedEventJson), next: events.at(-1)?.cursor ?? cursor };
    },
  );
}
