/**
 * Web-API routes (a Fastify plugin registered by ../server.ts): Offers: filtered pages, ranking for a
 * subscriber, one offer.
 */
import { SERVICE_KINDS, type ServiceKind } from '@roamchain/protocol';
import { K, type Offer, type Preference, type RankQuery, rankOffers } from '@roamchain/state';
import type { FastifyInstance } from 'fastify';
import { fromQuery, offerJson, rankedJson } from '../json.js';
import * as S from '../schemas.js';
import { type Query, R, type RouteDeps } from './common.js';

/** Where and what: the query filters /v1/offers and /v1/offers/rank share. */
const WHERE = {
  country: { type: 'string', pattern: '^[A-Z]{2}$' },
  network: { type: 'string', pattern: '^[0-9]{3}-[0-9]{2,3}$' },
  kind: { type: 'string', enum: [...SERVICE_KINDS] },
} as const;

export async function offerRoutes(app: FastifyInstance, opts: RouteDeps): Promise<void> {
  const state = opts.node.state;
  app.get(
    '/v1/offers',
    {
      schema: {
        summary: 'Offers, ordered by id (active ones by default)',
        tags: ['ledger'],
        querystring: {
          type: 'object',
          properties: {
            ...WHERE,
            operator: S.NAME,
            minPrice: S.U64,
            maxPrice: S.U64,
            status: { type: 'string', enum: ['active', 'withdrawn', 'paused', 'all'], default: 'active' },
            cursor: { ...S.ID, description: 'id of the last offer of the previous page' },
            limit: { type: 'integer', minimum: 1, maximum: 500, default: 50 },
          },
        },
        response: R({ 200: S.PAGE.items(S.OFFER, true) }, ['BAD_REQUEST']),
      },
    },
    async (req) => {
      const q = req.query as Query;
      const status = (q.status as string | undefined) ?? 'active';
      const limit = fromQuery.int(q.limit ?? 50, 'limit', 1, 500);
      const minPrice = q.minPrice === undefined ? undefined : fromQuery.u64(q.minPrice, 'minPrice');
      const maxPrice = q.maxPrice === undefined ? undefined : fromQuery.u64(q.maxPrice, 'maxPrice');
      const cursor = q.cursor === undefined ? undefined : fromQuery.id(q.cursor, 'cursor');
      const country = q.country as string | undefined;
      const network = q.network as string | undefined;
      const operator = q.operator as string | undefined;
      const kind = q.kind as ServiceKind | undefined;
      let ids: Iterable<string>;
      if (status === 'active') {
        if (network) ids = state.offers.byNetwork(network);
        else if (country) ids = state.offers.byCountry(country);
        else if (operator) ids = state.offers.ofOperator(operator);
        else ids = state.offers.all();
      } else {
        // Withdrawn offers are not indexed: a scan, only when asked for.
        ids = [...state.entries<Offer>('offer/')].map(([k]) => k.slice('offer/'.length));
      }
      const matching: [string, Offer][] = [];
      for (const id of ids) {
        if (cursor !== undefined && id <= cursor) continue;
        const o = state.get<Offer>(K.offer(id));
        if (!o) continue;
        if (status !== 'all' && o.status !== status) continue;
        const t = o.terms;
        if (country && !t.countries.includes(country)) continue;
        if (network && !t.networks.includes(network)) continue;
        if (operator && o.operator !== operator) continue;
        if (kind && t.kind !== kind) continue;
        if (minPrice !== undefined && t.price < minPrice) continue;
        if (maxPrice !== undefined && t.price > maxPrice) continue;
        matching.push([id, o]);
      }
      matching.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
      const page = matching.slice(0, limit);
      return {
        items: page.map(([, o]) => offerJson(o)),
        next: matching.length > limit ? (page.at(-1)?.[0] ?? null) : null,
      };
    },
  );

  app.get(
    '/v1/offers/rank',
    {
      schema: {
        summary: 'Live offers ranked by price and operator rating, with reasons',
        tags: ['ledger'],
        querystring: {
          type: 'object',
          properties: {
            ...WHERE,
            volume: { ...S.U64, description: 'data volume wanted, bytes' },
            budget: { ...S.U64, description: 'most the subscriber will pay, SDR base units' },
            preference: { type: 'string', enum: ['price', 'quality', 'balanced'], default: 'balanced' },
            limit: { type: 'integer', minimum: 1, maximum: 200, default: 20 },
            subscriber: { ...S.NAME, description: "also list answers to this subscriber's demands" },
          },
        },
        response: R({ 200: S.PAGE.items(S.RANKED) }, ['BAD_REQUEST']),
      },
    },
    async (req) => {
      const q = req.query as Query;
      const query: RankQuery = { limit: fromQuery.int(q.limit ?? 20, 'limit', 1, 200) };
      if (q.country !== undefined) query.country = String(q.country);
      if (q.network !== undefined) query.network = String(q.network);
      if (q.kind !== undefined) query.kind = q.kind as ServiceKind;
      if (q.volume !== undefined) query.volumeBytes = fromQuery.u64(q.volume, 'volume');
      if (q.budget !== undefined) query.budget = fromQuery.u64(q.budget, 'budget');
      if (q.preference !== undefined) query.preference = q.preference as Preference;
      if (q.subscriber !== undefined) query.subscriber = String(q.subscriber);
      return { items: rankOffers(state, query, BigInt(Date.now())).map(rankedJson) };
    },
  );
}
