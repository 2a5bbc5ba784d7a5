/**
 * Web-API routes (a Fastify plugin registered by ../server.ts): Identity attestations (salted digests
 * only).
 */
import { RoamError } from '@roamchain/protocol';
import { type Attestation, K } from '@roamchain/state';
import type { FastifyInstance } from 'fastify';
import { attestationJson, fromQuery } from '../json.js';
import * as S from '../schemas.js';
import { type Query, R, type RouteDeps } from './common.js';

export async function identityRoutes(app: FastifyInstance, opts: RouteDeps): Promise<void> {
  const state = opts.node.state;
  app.get(
    '/v1/identity/:subscriber',
    {
      schema: {
        summary: "A subscriber's current identity attestation (salted digests only; no claim is on chain)",
        tags: ['ledger'],
        params: { type: 'object', required: ['subscriber'], properties: { subscriber: S.NAME } },
        response: R({ 200: S.ATTESTATION }, ['BAD_REQUEST', 'IDENTITY_UNKNOWN']),
      },
    },
    async (req) => {
      const subscriber = fromQuery.name((req.params as Query).subscriber, 'subscriber');
      const att = state.get<Attestation>(K.attestation(subscriber));
      if (!att) {
        throw new RoamError('IDENTITY_UNKNOWN', `${subscriber} has no identity attestation`, { subscriber });
      }
      return attestationJson(att);
    },
  );
}
