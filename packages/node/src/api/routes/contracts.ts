/**
 * Web-API routes (a Fastify plugin registered by ../server.ts): Service smart contracts: one with its
 * transactions, an account's contracts.
 */
import { type Contract, K, type Offer } from '@roamchain/state';
import type { FastifyInstance } from 'fastify';
import { contractJson, fromQuery, type JsonObject, offerJson } from '../json.js';
import * as S from '../schemas.js';
import { notFound, type Query, R, type RouteDeps } from './common.js';

export async function contractRoutes(app: FastifyInstance, opts: RouteDeps): Promise<void> {
  const { node } = opts;
  const state = node.state;
  app.get(
    '/v1/offers/:id',
    {
      schema: {
        summary: 'An offer',
        tags: ['ledger'],
        params: { type: 'object', required: ['id'], properties: { id: S.ID } },
        response: R({ 200: S.OFFER }, ['BAD_REQUEST', 'NOT_FOUND']),
      },
    },
    async (req) => {
      const id = fromQuery.id((req.params as Query).id, 'id');
      const o = state.get<Offer>(K.offer(id));
      return o ? offerJson(o) : notFound('offer', id);
    },
  );

  app.get(
    '/v1/contracts/:id',
    {
      schema: {
        summary: 'A service smart contract and its transactions',
        tags: ['ledger'],
        params: { type: 'object', required: ['id'], properties: { id: S.ID } },
        response: R(
          {
            200: {
              type: 'object',
              properties: { contract: S.CONTRACT, transactions: { type: 'array', items: S.CONTRACT_TX } },
            },
          },
          ['BAD_REQUEST', 'NOT_FOUND'],
        ),
      },
    },
    async (req) => {
      const id = fromQuery.id((req.params as Query).id, 'id');
      const c = state.get<Contract>(K.contract(id));
      if (!c) return notFound('contract', id);
      return { contract: contractJson(c), transactions: await node.contractTxs(id) };
    },
  );

  app.get(
    '/v1/contracts',
    {
      schema: {
        summary: "An account's contracts (as issuer, assignee, payer or subscriber), newest first",
        tags: ['ledger'],
        querystring: {
          type: 'object',
          required: ['party'],
          properties: {
            party: S.NAME,
            limit: { type: 'integer', minimum: 1, maximum: 200, default: 50 },
            before: { ...S.ID, description: 'id of the last contract of the previous page' },
          },
        },
        response: R({ 200: S.PAGE.items(S.CONTRACT, true) }, ['BAD_REQUEST']),
      },
    },
    async (req) => {
      const q = req.query as Query;
      const party = fromQuery.name(q.party, 'party');
      const limit = fromQuery.int(q.limit ?? 50, 'limit', 1, 200);
      const before = q.before === undefined ? undefined : fromQuery.id(q.before, 'before');
      const ids = await node.contractsOf(party, limit + 1, before);
      const page = ids.slice(0, limit);
      const items: JsonObject[] = [];
      for (const id of page) {
        const c = state.get<Contract>(K.contract(id));
        if (c) items.push(contractJson(c));
      }
      return { items, next: ids.length > limit ? (page.at(-1) ?? null) : null };
    },
  );
}
