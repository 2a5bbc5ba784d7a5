/** Web-API routes (a Fastify plugin registered by ../server.ts): The operator agents this node advertises. */
import type { FastifyInstance } from 'fastify';
import { R, type RouteDeps } from './common.js';

export async function agentRoutes(app: FastifyInstance, opts: RouteDeps): Promise<void> {
  app.get(
    '/v1/agents',
    {
      schema: {
        summary: 'Operator agents known to this node: operator -> agent base URL (POST {url}/v1/countersign)',
        tags: ['node'],
        response: R({ 200: { type: 'object', additionalProperties: { type: 'string' } } }),
      },
    },
    async () => opts.agents?.() ?? {},
  );
}
