/** Web-API routes (a Fastify plugin registered by ../server.ts): Accounts with their balances. */
import type { FastifyInstance } from 'fastify';
import { accountJson, fromQuery } from '../json.js';
import * as S from '../schemas.js';
import { notFound, type Query, R, type RouteDeps } from './common.js';

export async function accountRoutes(app: FastifyInstance, opts: RouteDeps): Promise<void> {
  const state = opts.node.state;
  app.get(
    '/v1/accounts/:name',
    {
      schema: {
        summary: 'An account with its balances',
        tags: ['ledger'],
        params: { type: 'object', required: ['name'], properties: { name: S.NAME } },
        response: R({ 200: S.ACCOUNT }, ['BAD_REQUEST', 'ACCOUNT_UNKNOWN']),
      },
    },
    async (req) => {
      const name = fromQuery.name((req.params as Query).name, 'name');
      return accountJson(state, name, BigInt(Date.now())) ?? notFound('account', name);
    },
  );
}
