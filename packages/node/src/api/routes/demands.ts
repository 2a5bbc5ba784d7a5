/** Web-API routes (a Fastify plugin registered by ../server.ts): Demands. */
import { type Demand, K } from '@roamchain/state';
import type { FastifyInstance } from 'fastify';
import { demandJson, fromQuery } from '../json.js';
import * as S from '../schemas.js';
import { notFound, type Query, R, type RouteDeps } from './common.js';

export async function demandRoutes(app: FastifyInstance, opts: RouteDeps): Promise<void> {
  const state = opts.node.state;
  app.get(
    '/v1/demands/:id',
    {
      schema: {
        summary: 'A demand',
        tags: ['ledger'],
        params: { type: 'object', required: ['id'], properties: { id: S.ID } },
        response: R({ 200: S.DEMAND }, ['BAD_REQUEST', 'NOT_FOUND']),
      },
    },
    async (req) => {
      const id = fromQuery.id((req.params as Query).id, 'id');
      const d = state.get<Demand>(K.demand(id));
      return d ? demandJson(d) : notFound('demand', id);
    },
  );
}
