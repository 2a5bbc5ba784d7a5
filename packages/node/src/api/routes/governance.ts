/**
 * Web-API routes of governance, price feeds and the SDR (docs/GOVERNANCE.md), as one Fastify plugin
 * registered by ../server.ts. Read-only views of the committed state; listing proposals scans the
 * `gov/p/` keys (at most once per committed block).
 */
import {
  type ChainParams,
  FEED_CURRENCIES,
  type FeedRates,
  formatAmount,
  GOV_PARAMS,
  PROTOCOL_VERSION,
  proposalAction,
  RATE_DECIMALS,
  RoamError,
  SDR_VALUE_DECIMALS,
} from '@roamchain/protocol';
import {
  DAY_MS,
  freshFeeds,
  GK,
  type GovOperator,
  type GovVote,
  K,
  type LedgerState,
  operatorsOf,
  type PriceFeed,
  type Proposal,
  readGovMeta,
  type SdrFixing,
  sdrHistory,
  sdrNow,
  slaDayOf,
  slaDaysOf,
  storedSetAt,
  type Validator,
} from '@roamchain/state';
import type { FastifyInstance } from 'fastify';
import { fromQuery, type JsonObject, toJson } from '../json.js';
import * as S from '../schemas.js';
import { R, type RouteDeps } from './common.js';

const STR = { type: 'string' } as const;
const INT = { type: 'integer' } as const;
const BOOL = { type: 'boolean' } as const;
const obj = (properties: Record<string, unknown>) => ({
  type: 'object',
  properties,
  additionalProperties: true,
});
const CURRENCIES = obj({ USD: STR, EUR: STR, CNY: STR, JPY: STR, GBP: STR });
const PROPOSAL = obj({
  id: S.HEX,
  seq: S.U64,
  proposer: STR,
  action: obj({ kind: STR, account: STR, role: STR, param: STR, value: S.U64, version: INT }),
  deadline: S.U64,
  electorate: INT,
  yes: INT,
  no: INT,
  needed: INT,
  status: { type: 'string', enum: ['open', 'passed', 'executed', 'failed', 'rejected'] },
  result: STR,
  votes: { type: 'array', items: obj({ voter: STR, approve: BOOL, at: S.U64 }) },
});
const PRICES = obj({
  fresh: BOOL,
  height: INT,
  time: INT,
  usdPerSdr: { ...STR, description: 'US dollars per SDR (six significant digits); "" if never fixed' },
  sdrPerUsd: STR,
  sdr: { ...CURRENCIES, description: 'value of 1 SDR in each currency (decimal strings); {} when not fresh' },
  feeds: {
    type: 'array',
    items: obj({ validator: STR, time: INT, fresh: BOOL, rates: CURRENCIES }),
  },
});

const dec = (v: bigint) => formatAmount(v, SDR_VALUE_DECIMALS);
const rate = (v: bigint) => formatAmount(v, RATE_DECIMALS);
const ratesJson = (r: FeedRates) => ({
  USD: '1',
  ...Object.fromEntries(FEED_CURRENCIES.map((c) => [c, rate(r[c])])),
});
const sdrJson = (fx: SdrFixing) => ({
  USD: dec(fx.perSdr.USD),
  EUR: dec(fx.perSdr.EUR),
  CNY: dec(fx.perSdr.CNY),
  JPY: dec(fx.perSdr.JPY),
  GBP: dec(fx.perSdr.GBP),
});

function proposalJson(p: Proposal, votes?: JsonObject[]): JsonObject {
  const base = toJson({ ...p, action: proposalAction.toJSON(p.action) }) as JsonObject;
  return {
    ...base,
    needed: Math.floor((p.electorate * 2) / 3) + 1,
    ...(votes ? { votes } : {}),
  };
}

/** The SDR answer of GET /v1/prices (also used by tests). */
export function pricesOf(state: LedgerState): JsonObject {
  const meta = state.meta;
  const params = state.get<ChainParams>(K.params)!;
  const next = meta.height + 1n;
  const fresh = freshFeeds(state, params, next, meta.time);
  const feeds = storedSetAt(state, params, next)
    .map((m) => state.get<PriceFeed>(GK.feed(m.account)))
    .filter((f): f is PriceFeed => f !== undefined)
    .map((f) => ({
      validator: f.validator,
      time: Number(f.time),
      fresh: fresh.some((x) => x.validator === f.validator),
      rates: ratesJson(f.rates),
    }));
  const fx = sdrNow(state);
  const isFresh = fx !== undefined && fresh.length > 0 && fresh.length >= params.feedMinCount;
  return {
    fresh: isFresh,
    height: Number(isFresh ? fx.height : meta.height),
    time: Number(isFresh ? fx.time : meta.time),
    usdPerSdr: fx ? dec(fx.usdPerSdr) : '',
    sdrPerUsd: fx ? dec(fx.sdrPerUsd) : '',
    sdr: isFresh ? sdrJson(fx) : {},
    feeds,
  };
}

export async function governanceRoutes(app: FastifyInstance, opts: RouteDeps): Promise<void> {
  const state = opts.node.state;
  let cache: { height: bigint; items: Proposal[] } | undefined;
  const allProposals = (): Proposal[] => {
    const h = state.meta.height;
    if (cache?.height !== h) {
      const items = [...state.entries<Proposal>('gov/p/')].map(([, p]) => p);
      items.sort((a, b) => (a.seq > b.seq ? -1 : a.seq < b.seq ? 1 : 0));
      cache = { height: h, items };
    }
    return cache.items;
  };

  app.get(
    '/v1/governance',
    {
      schema: {
        summary: 'Admitted operators and their participation, pending parameter changes, a scheduled upgrade',
        tags: ['governance'],
        response: R({ 200: obj({ operators: { type: 'array', items: obj({}) }, proposals: S.U64 }) }),
      },
    },
    async () => {
      const meta = readGovMeta(state);
      const params = state.get<ChainParams>(K.params)!;
      const p = params as unknown as Record<string, unknown>;
      const implemented = opts.node.status().protocolVersion ?? PROTOCOL_VERSION;
      return {
        operators: operatorsOf(state).map((a) => toJson(state.get<GovOperator>(GK.operator(a)))),
        proposals: meta.seq.toString(),
        pending: toJson(meta.pending),
        // A scheduled upgrade, and whether this node implements it (else it stops before `height`).
        upgrade: meta.upgrade
          ? {
              ...(toJson(meta.upgrade) as JsonObject),
              implemented,
              supported: meta.upgrade.version <= implemented,
              blocksLeft: Number(meta.upgrade.height - state.meta.height - 1n),
            }
          : null,
        params: Object.fromEntries(Object.keys(GOV_PARAMS).map((k) => [k, toJson(p[k])])),
      };
    },
  );

  app.get(
    '/v1/governance/proposals',
    {
      schema: {
        summary: 'Proposals, newest first',
        tags: ['governance'],
        querystring: obj({
          status: { type: 'string', enum: ['open', 'passed', 'executed', 'failed', 'rejected'] },
          limit: { type: 'integer', minimum: 1, maximum: 200 },
          before: {
            type: 'string',
            pattern: '^[0-9]{1,20}$',
            description: 'the `next` of the previous page',
          },
        }),
        response: {
          ...R({
            200: obj({
              items: { type: 'array', items: PROPOSAL },
              next: {
                type: 'string',
                nullable: true,
                description: 'cursor of the next page (a seq), null on the last',
              },
            }),
          }),
          ...S.errorResponses(['BAD_REQUEST']),
        },
      },
    },
    async (req) => {
      const q = req.query as { status?: string; limit?: number; before?: string };
      const limit = q.limit ?? 50;
      const before = q.before === undefined ? undefined : BigInt(q.before);
      const matching = allProposals().filter(
        (p) => (q.status === undefined || p.status === q.status) && (before === undefined || p.seq < before),
      );
      const page = matching.slice(0, limit);
      return {
        items: page.map((p) => proposalJson(p)),
        next: matching.length > limit ? page[limit - 1]!.seq.toString() : null,
      };
    },
  );

  app.get(
    '/v1/governance/proposals/:id',
    {
      schema: {
        summary: 'One proposal with its votes',
        tags: ['governance'],
        params: obj({ id: S.ID }),
        response: {
          200: PROPOSAL,
          ...S.errorResponses(['BAD_REQUEST', 'GOV_UNKNOWN']),
          ...S.ERRORS_RESPONSES,
        },
      },
    },
    async (req) => {
      const id = fromQuery.id((req.params as { id: string }).id, 'id');
      const p = state.get<Proposal>(GK.proposal(id));
      if (!p) throw new RoamError('GOV_UNKNOWN', `proposal ${id} does not exist`);
      // Votes of the operators admitted now (bounded by the operator list; never a state scan).
      const votes = operatorsOf(state).flatMap((voter) => {
        const v = state.get<GovVote>(GK.vote(id, voter));
        return v ? [{ voter, approve: v.approve, at: v.at.toString() }] : [];
      });
      return proposalJson(p, votes);
    },
  );

  app.get(
    '/v1/supernodes',
    {
      schema: {
        summary:
          'Super Nodes with their Proof of Importance (SLA days of the last 100), bond, participation and place in the next set',
        tags: ['governance'],
        response: R({
          200: obj({
            day: INT,
            items: {
              type: 'array',
              items: obj({
                account: STR,
                status: STR,
                bond: S.U64,
                slaDays: INT,
                idle: BOOL,
                inSet: BOOL,
                // Today's SLA record so far: blocks produced, precommits due and signed (docs/GOVERNANCE.md §5).
                today: obj({ blocks: INT, votesDue: INT, votesSigned: INT }),
              }),
            },
          }),
        }),
      },
    },
    async () => {
      const meta = state.meta;
      const params = state.get<ChainParams>(K.params)!;
      const today = meta.time / DAY_MS;
      const set = storedSetAt(state, params, meta.height + 1n).map((m) => m.account);
      const accounts = [...new Set([...(state.get<string[]>(K.activeValidators) ?? []), ...set])].sort();
      const items = accounts.map((account) => {
        const v = state.get<Validator>(K.validator(account));
        return {
          account,
          status: v?.status ?? 'unknown',
          bond: (v?.bond ?? 0n).toString(),
          slaDays: slaDaysOf(state, account, today),
          today: (({ blocks, votesDue, votesSigned }) => ({ blocks, votesDue, votesSigned }))(
            slaDayOf(state, today, account),
          ),
          idle: state.get<GovOperator>(GK.operator(account))?.idle === true,
          inSet: set.includes(account),
        };
      });
      items.sort((a, b) => b.slaDays - a.slaDays || (a.account < b.account ? -1 : 1));
      return { day: Number(today), items };
    },
  );

  app.get(
    '/v1/prices',
    {
      schema: {
        summary: 'The SDR rate: IMF valuation of the median of the fresh Super Node feeds, and the feeds',
        tags: ['prices'],
        response: R({ 200: PRICES }),
      },
    },
    async () => pricesOf(state),
  );

  app.get(
    '/v1/prices/history',
    {
      schema: {
        summary: 'Daily SDR fixings (the last of each UTC day), newest first; up to 366 days',
        tags: ['prices'],
        querystring: obj({ days: { type: 'integer', minimum: 1, maximum: 366 } }),
        response: {
          ...R({
            200: obj({
              items: {
                type: 'array',
                items: obj({
                  day: INT,
                  date: STR,
                  height: INT,
                  time: INT,
                  usdPerSdr: STR,
                  sdr: CURRENCIES,
                  feeders: { type: 'array', items: STR },
                }),
              },
            }),
          }),
          ...S.errorResponses(['BAD_REQUEST']),
        },
      },
    },
    async (req) => {
      const days = (req.query as { days?: number }).days ?? 30;
      const today = state.meta.time / DAY_MS;
      return {
        items: sdrHistory(state, today, days).map((fx) => ({
          day: Number(fx.day),
          date: new Date(Number(fx.day * DAY_MS)).toISOString().slice(0, 10),
          height: Number(fx.height),
          time: Number(fx.time),
          usdPerSdr: dec(fx.usdPerSdr),
          sdr: sdrJson(fx),
          feeders: fx.feeders,
        })),
      };
    },
  );
}
