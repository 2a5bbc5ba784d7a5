/**
 * Paginated lists of the explorer (docs/API.md "Lists"), as one Fastify plugin registered by
 * server.ts: transactions, an account's transactions, contracts (newest first, from the list index,
 * indexer/lists.ts), accounts and validators (by name, a bounded range of the store's committed
 * state keys) and the fee distribution per block. Every page reads exactly its rows: never a scan.
 *
 * Pages: `limit` (1..100, default 25) and a cursor, the `next` of the previous page (null on the
 * last page). A malformed cursor is 400 LIST_CURSOR_INVALID, a page size out of bounds 400
 * LIST_LIMIT_INVALID, a node without a store 503 LIST_INDEX_UNAVAILABLE. The first page of an
 * index list waits (at most 2 s) for the index to reach the committed head, so a client refreshing
 * on a block message sees that block's rows.
 */
import { type ChainParams, NAME_RE, RoamError } from '@roamchain/protocol';
import { type Contract, DAY_MS, K, slaDaysOf, storedSetAt, type Validator } from '@roamchain/state';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Pos } from '../../indexer/lists.js';
import type { ListIndexReader } from '../../indexer/messages.js';
import type { NodeApi } from '../../interfaces.js';
import { SK } from '../../storage.js';
import type { KvStore } from '../../store/index.js';
import { accountJson, contractJson, type JsonObject, toJson } from '../json.js';
import * as S from '../schemas.js';

export const LIST_MAX = 100;
export const LIST_DEFAULT = 25;
const HEAD_WAIT_MS = 2000;

const STR = { type: 'string' } as const;
const INT = { type: 'integer' } as const;
const BOOL = { type: 'boolean' } as const;
const strs = { type: 'array', items: STR } as const;
const obj = (properties: Record<string, unknown>) => ({
  type: 'object',
  properties,
  additionalProperties: true,
});
const LIMIT = { type: 'integer', minimum: 1, maximum: LIST_MAX, default: LIST_DEFAULT };
const POS_CURSOR = {
  type: 'string',
  pattern: '^[0-9]{1,15}:[0-9]{1,9}$',
  description: '"height:index": the `next` of the previous page',
};
const NAME_CURSOR = {
  type: 'string',
  pattern: '^[a-z0-9-]{1,32}$',
  description: 'the `next` of the previous page (an account name), or the start of a name',
};

const TX_ROW = obj({
  txId: S.HEX,
  height: INT,
  index: INT,
  time: S.U64,
  types: strs,
  signers: strs,
  fee: S.U64,
});
const CONTRACT_ROW = obj({
  ...(S.CONTRACT as { properties: object }).properties,
  height: INT,
  openedTime: S.U64,
});
const FEE_ROW = obj({
  height: INT,
  time: S.U64,
  event: obj({ total: S.U64, community: S.U64, producer: STR, superNodes: S.U64, miniNodes: S.U64 }),
});
const VALIDATOR_ROW = obj({
  account: STR,
  status: STR,
  bond: S.U64,
  nodeKey: S.HEX,
  inSet: BOOL,
  slaDays: INT,
});
const page = (item: object) => S.PAGE.items(item as Record<string, unknown>, true);
const CODES = [
  'LIST_CURSOR_INVALID',
  'LIST_LIMIT_INVALID',
  'LIST_INDEX_UNAVAILABLE',
  'INDEX_UNAVAILABLE',
] as const;
const R = (item: object, extra: readonly (typeof CODES)[number][] | readonly string[] = []) => ({
  200: page(item),
  ...S.errorResponses([...CODES, ...(extra as never[])]),
  ...S.ERRORS_RESPONSES,
});

type Q = Record<string, unknown>;

/** Limit and cursor of a request; schema errors on them become their typed codes. */
function pageArgs(req: FastifyRequest, cursorName: string): { limit: number; cursor: string | undefined } {
  const q = (req.query ?? {}) as Q;
  const verr = (req as { validationError?: { validation?: { instancePath?: string; params?: object }[] } })
    .validationError;
  if (verr) {
    const paths = (verr.validation ?? []).map((v) =>
      `${v.instancePath ?? ''}${JSON.stringify(v.params ?? {})}`.toLowerCase(),
    );
    if (paths.some((p) => p.includes('limit')))
      throw new RoamError('LIST_LIMIT_INVALID', `limit must be an integer from 1 to ${LIST_MAX}`, {
        limit: String(q.limit),
      });
    if (paths.some((p) => p.includes(cursorName.toLowerCase())))
      throw new RoamError('LIST_CURSOR_INVALID', `${cursorName} is not a cursor of this list`, {
        [cursorName]: String(q[cursorName]),
      });
    throw verr;
  }
  const limit = q.limit === undefined ? LIST_DEFAULT : Number(q.limit);
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > LIST_MAX)
    throw new RoamError('LIST_LIMIT_INVALID', `limit must be an integer from 1 to ${LIST_MAX}`, {
      limit: String(q.limit),
    });
  const c = q[cursorName];
  return { limit, cursor: c === undefined || c === '' ? undefined : String(c) };
}

function posOf(cursor: string | undefined, name: string): Pos | undefined {
  if (cursor === undefined) return undefined;
  const m = /^([0-9]{1,15}):([0-9]{1,9})$/.exec(cursor);
  const height = m ? Number(m[1]) : Number.NaN;
  const index = m ? Number(m[2]) : Number.NaN;
  if (!m || height < 1 || index > 0xffff_ffff)
    throw new RoamError('LIST_CURSOR_INVALID', `${name} must look like "height:index"`, { [name]: cursor });
  return { height, index };
}

export async function listRoutes(
  app: FastifyInstance,
  opts: { node: NodeApi; lists?: ListIndexReader | undefined },
): Promise<void> {
  const { node } = opts;
  const state = node.state;
  const store = (node as { store?: KvStore }).store;
  const indexer = opts.lists;
  const need = (): ListIndexReader => {
    if (!indexer) throw new RoamError('LIST_INDEX_UNAVAILABLE', 'this node keeps no list index');
    return indexer;
  };
  const needStore = (): KvStore => {
    if (!store) throw new RoamError('LIST_INDEX_UNAVAILABLE', 'this node exposes no store');
    return store;
  };
  /** The first page of a live list: let the index reach the committed head first (bounded). */
  const fresh = async (ix: ListIndexReader, cursor: unknown) => {
    if (cursor === undefined) await ix.reach(node.status().height, HEAD_WAIT_MS);
  };
  const nextPos = <T extends { height: number; index: number }>(rows: T[], limit: number) =>
    rows.length > limit ? `${rows[limit - 1]!.height}:${rows[limit - 1]!.index}` : null;
  const route = { attachValidation: true };

  app.get(
    '/v1/lists/transactions',
    {
      ...route,
      schema: {
        summary: 'Transactions, newest first (list index)',
        tags: ['lists'],
        querystring: obj({ limit: LIMIT, before: POS_CURSOR }),
        response: R(TX_ROW),
      },
    },
    async (req) => {
      const { limit, cursor } = pageArgs(req, 'before');
      const before = posOf(cursor, 'before');
      const ix = need();
      await fresh(ix, before);
      const rows = await ix.transactions(limit + 1, before);
      return { items: rows.slice(0, limit), next: nextPos(rows, limit) };
    },
  );

  app.get(
    '/v1/accounts/:name/transactions',
    {
      ...route,
      schema: {
        summary: "An account's transactions (signed by it or naming it in an event), newest first",
        tags: ['lists'],
        params: { type: 'object', required: ['name'], properties: { name: S.NAME } },
        querystring: obj({ limit: LIMIT, before: POS_CURSOR }),
        response: R(TX_ROW, ['ACCOUNT_UNKNOWN', 'BAD_REQUEST']),
      },
    },
    async (req) => {
      const name = String((req.params as Q).name);
      if (!NAME_RE.test(name))
        throw new RoamError('BAD_REQUEST', 'name is not a valid account name', { name });
      if (!state.get(K.account(name)))
        throw new RoamError('ACCOUNT_UNKNOWN', `account ${name} does not exist`, { account: name });
      const { limit, cursor } = pageArgs(req, 'before');
      const before = posOf(cursor, 'before');
      const ix = need();
      await fresh(ix, before);
      const rows = await ix.accountTransactions(name, limit + 1, before);
      return { items: rows.slice(0, limit), next: nextPos(rows, limit) };
    },
  );

  app.get(
    '/v1/lists/contracts',
    {
      ...route,
      schema: {
        summary: 'Contracts in the order they were opened, newest first, with their current state',
        tags: ['lists'],
        querystring: obj({ limit: LIMIT, before: POS_CURSOR }),
        response: R(CONTRACT_ROW),
      },
    },
    async (req) => {
      const { limit, cursor } = pageArgs(req, 'before');
      const before = posOf(cursor, 'before');
      const ix = need();
      await fresh(ix, before);
      const rows = await ix.contracts(limit + 1, before);
      const items: JsonObject[] = rows.slice(0, limit).map((r) => {
        const c = state.get<Contract>(K.contract(r.contract));
        const base: JsonObject = c
          ? contractJson(c)
          : {
              id: r.contract,
              offer: r.offer,
              issuer: r.issuer,
              assignee: r.assignee,
              subscriber: r.subscriber,
              deposit: r.deposit,
            };
        return { ...base, height: r.height, openedTime: r.time };
      });
      return { items, next: nextPos(rows, limit) };
    },
  );

  app.get(
    '/v1/lists/fees',
    {
      ...route,
      schema: {
        summary: "Each block's fee distribution (its fees_paid event), newest first",
        tags: ['lists'],
        querystring: obj({ limit: LIMIT, before: { type: 'string', pattern: '^[0-9]{1,15}$' } }),
        response: R(FEE_ROW),
      },
    },
    async (req) => {
      const { limit, cursor } = pageArgs(req, 'before');
      const before = cursor === undefined ? undefined : Number(cursor);
      if (before !== undefined && !(before >= 1))
        throw new RoamError('LIST_CURSOR_INVALID', 'before must be a block height', { before: cursor });
      const ix = need();
      await fresh(ix, before);
      const rows = await ix.fees(limit + 1, before);
      return {
        items: rows.slice(0, limit),
        next: rows.length > limit ? String(rows[limit - 1]!.height) : null,
      };
    },
  );

  /** Names after `after` under a state prefix, read from the store's committed state keys (bounded). */
  const namesAfter = async (prefix: string, limit: number, after?: string): Promise<string[]> => {
    const base = SK.state(prefix);
    const out: string[] = [];
    const gte = after === undefined ? base : `${base}${after}\u0020`;
    for await (const [k] of needStore().range(base, { gte, limit })) {
      const name = k.slice(base.length);
      if (NAME_RE.test(name)) out.push(name);
    }
    return out;
  };
  const nameCursor = (cursor: string | undefined): string | undefined => {
    // A name or the start of one (a prefix search reads the names from it on).
    if (cursor !== undefined && !/^[a-z0-9-]{1,32}$/.test(cursor))
      throw new RoamError('LIST_CURSOR_INVALID', 'after must be an account name or its start', {
        after: cursor,
      });
    return cursor;
  };

  app.get(
    '/v1/lists/accounts',
    {
      ...route,
      schema: {
        summary: 'Accounts with their balances, by name',
        tags: ['lists'],
        querystring: obj({ limit: LIMIT, after: NAME_CURSOR }),
        response: R(S.ACCOUNT),
      },
    },
    async (req) => {
      const { limit, cursor } = pageArgs(req, 'after');
      const names = await namesAfter('acct/', limit + 1, nameCursor(cursor));
      const now = BigInt(Date.now());
      const items = names
        .slice(0, limit)
        .map((n) => accountJson(state, n, now))
        .filter((a): a is JsonObject => a !== undefined);
      return { items, next: names.length > limit ? names[limit - 1]! : null };
    },
  );

  app.get(
    '/v1/lists/validators',
    {
      ...route,
      schema: {
        summary: 'Validator (Super Node) records by account, with their place in the next set and SLA days',
        tags: ['lists'],
        querystring: obj({ limit: LIMIT, after: NAME_CURSOR }),
        response: R(VALIDATOR_ROW),
      },
    },
    async (req) => {
      const { limit, cursor } = pageArgs(req, 'after');
      const names = await namesAfter('val/', limit + 1, nameCursor(cursor));
      const meta = state.meta;
      const params = state.get<ChainParams>(K.params)!;
      const set = new Set(storedSetAt(state, params, meta.height + 1n).map((m) => m.account));
      const today = meta.time / DAY_MS;
      const items: JsonObject[] = [];
      for (const account of names.slice(0, limit)) {
        const v = state.get<Validator>(K.validator(account));
        if (!v) continue;
        items.push({
          ...(toJson(v) as JsonObject),
          account,
          status: v.status,
          bond: v.bond.toString(),
          inSet: set.has(account),
          slaDays: slaDaysOf(state, account, today),
        });
      }
      return { items, next: names.length > limit ? names[limit - 1]! : null };
    },
  );
}
