/** Web-API routes (a Fastify plugin registered by ../server.ts): Operator ratings. */
import { K, operatorRating } from '@roamchain/state';
import type { FastifyInstance } from 'fastify';
import { fromQuery, toJson } from '../json.js';
import * as S from '../schemas.js';
import { notFound, type Query, R, type RouteDeps } from './common.js';

export async function ratingRoutes(app: FastifyInstance, opts: RouteDeps): Promise<void> {
  const state = opts.node.state;
  app.get(
    '/v1/operators/:name/rating',
    {
      schema: {
        summary: "An operator's rating",
        tags: ['ledger'],
        params: { type: 'object', required: ['name'], properties: { name: S.NAME } },
        response: R({ 200: S.RATING }, ['BAD_REQUEST', 'ACCOUNT_UNKNOWN']),
      },
    },
    async (req) => {
      const name = fromQuery.name((req.params as Query).name, 'name');
      if (!state.get(K.account(name))) return notFound('account', name);
      return toJson(operatorRating(state, name));
    },
  );

  app.get(
    '/v1/ratings',
    {
      schema: {
        summary: 'Ratings of all operators and providers, best first',
        tags: ['ledger'],
        response: R({ 200: S.PAGE.items(S.RATING) }),
      },
    },
    async () => {
      const items = [];
      for (const [, a] of state.entries<{ name: string; roles: string[] }>('acct/')) {
        if (a.roles.includes('operator') || a.roles.includes('provider'))
          items.push(operatorRating(state, a.name));
      }
      items.sort((a, b) => b.ratingBps - a.ratingBps || (a.operator < b.operator ? -1 : 1));
      return { items: items.map(toJson) };
    },
  );
}
