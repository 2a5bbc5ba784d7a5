/**
 * Web-API routes (a Fastify plugin registered by ../server.ts): Liveness, Prometheus metrics, the
 * OpenAPI document, chain status and parameters.
 */
import type { ChainParams } from '@roamchain/protocol';
import { K } from '@roamchain/state';
import type { FastifyInstance } from 'fastify';
import { paramsJson } from '../json.js';
import * as S from '../schemas.js';
import { R, type RouteDeps } from './common.js';

export async function statusRoutes(app: FastifyInstance, opts: RouteDeps): Promise<void> {
  const { node } = opts;
  const state = node.state;
  const { metrics } = opts;
  app.get(
    '/healthz',
    {
      schema: {
        summary: 'Liveness',
        tags: ['node'],
        response: R({
          200: { type: 'object', properties: { ok: { type: 'boolean' }, height: { type: 'integer' } } },
        }),
      },
    },
    async () => ({ ok: true, height: node.status().height }),
  );

  app.get(
    '/metrics',
    {
      schema: {
        summary: 'Prometheus metrics (text exposition format)',
        tags: ['node'],
        produces: ['text/plain'],
        response: { 200: { description: 'Prometheus text', type: 'string' } },
      },
    },
    async (_req, reply) => {
      const text = await metrics.text();
      return reply.type(metrics.contentType).send(text);
    },
  );

  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  app.get(
    '/v1/status',
    { schema: { summary: 'Chain and node status', tags: ['node'], response: R({ 200: S.STATUS }) } },
    async () => node.status(),
  );

  app.get(
    '/v1/params',
    {
      schema: {
        summary: 'Chain parameters and genesis time',
        tags: ['node'],
        response: R({
          200: { type: 'object', additionalProperties: true, properties: { genesisTime: S.U64 } },
        }),
      },
    },
    async () => ({
      ...paramsJson(state.get<ChainParams>(K.params) ?? node.genesis.params),
      genesisTime: node.genesis.genesisTime.toString(),
    }),
  );
}
