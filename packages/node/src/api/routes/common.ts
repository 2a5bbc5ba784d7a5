/**
 * What the Web-API's route plugins (routes/*.ts, registered by ../server.ts) share: what they are
 * given, the responses of a route schema, the 404 of an unknown object.
 */
import { type ErrorCode, RoamError } from '@roamchain/protocol';
import type { ListIndexReader } from '../../indexer/messages.js';
import type { NodeApi } from '../../interfaces.js';
import type { ApiLimits } from '../limits.js';
import type { Metrics } from '../metrics.js';
import * as S from '../schemas.js';

/** The options every route plugin is registered with. */
export interface RouteDeps {
  node: NodeApi;
  metrics: Metrics;
  /** The API's limits (the batch route's per-client bounds); absent: the defaults. */
  limits?: ApiLimits | undefined;
  /** Operator agents to advertise at GET /v1/agents (operator name -> agent base URL). */
  agents?: (() => Record<string, string>) | undefined;
  /** The list index (the index worker's), if this node keeps one. */
  lists?: ListIndexReader | undefined;
}

export type Query = Record<string, unknown>;

/** A route's responses: its own, the error codes it documents (by HTTP status), the generic 4xx/5xx. */
export const R = (ok: Record<string, unknown>, codes: readonly ErrorCode[] = []) => ({
  ...ok,
  ...S.errorResponses(codes),
  ...S.ERRORS_RESPONSES,
});

/** 404: an unknown account is ACCOUNT_UNKNOWN on every route (as in transaction admission), else NOT_FOUND. */
export const notFound = (what: string, id: string): never => {
  if (what === 'account')
    throw new RoamError('ACCOUNT_UNKNOWN', `account ${id} does not exist`, { account: id });
  throw new RoamError('NOT_FOUND', `${what} ${id} not found`, { [what]: id });
};
