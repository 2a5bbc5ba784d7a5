/**
 * Web-API routes (a Fastify plugin registered by ../server.ts): Super Nodes: the set that signs the
 * next block and the validator records.
 */
import { peerIdOf } from '@roamchain/p2p';
import { bytesToHex, type ChainParams, RoamError } from '@roamchain/protocol';
import {
  type ChainMeta,
  epochOf,
  K,
  requireValidator,
  type Validator,
  validator as validatorCodec,
  validatorOf,
  validatorSetFor,
} from '@roamchain/state';
import type { FastifyInstance } from 'fastify';
import { fromQuery, type JsonObject } from '../json.js';
import * as S from '../schemas.js';
import { type Query, R, type RouteDeps } from './common.js';

export async function validatorRoutes(app: FastifyInstance, opts: RouteDeps): Promise<void> {
  const state = opts.node.state;
  /** The set that validates the next block of the committed state, with its epoch. */
  const nextSet = () => {
    const meta = state.get<ChainMeta>(K.meta);
    const params = state.get<ChainParams>(K.params);
    if (!meta || !params) throw new RoamError('INTERNAL', 'state is not initialised from a genesis');
    const height = meta.height + 1n;
    return { height, epoch: epochOf(params, height), set: validatorSetFor(state, height) };
  };
  const validatorJson = (v: Validator): JsonObject => validatorCodec.toJSON(v) as JsonObject;
  // Validator records are not indexed beyond the active ones: listing them scans the `val/` keys,
  // at most once per committed block (the state only changes with a block).
  let records: { height: bigint; items: JsonObject[] } | undefined;
  const allRecords = (height: bigint): JsonObject[] => {
    if (records?.height !== height) {
      const all = [...state.entries<Validator>('val/')].map(([, v]) => v);
      all.sort((a, b) => (a.account < b.account ? -1 : a.account > b.account ? 1 : 0));
      records = { height, items: all.map(validatorJson) };
    }
    return records.items;
  };

  app.get(
    '/v1/validators',
    {
      schema: {
        summary: 'The validator set that signs the next block, and every validator record',
        tags: ['validators'],
        response: R({ 200: S.VALIDATOR_SET }),
      },
    },
    async () => {
      const { height, epoch, set } = nextSet();
      const active = set.map((m, index) => ({
        index,
        account: m.account,
        nodeKey: bytesToHex(m.nodeKey),
        bond: (validatorOf(state, m.account)?.bond ?? 0n).toString(),
        peerId: peerIdOf(m.nodeKey),
      }));
      return { epoch: Number(epoch), height: Number(height), active, records: allRecords(height) };
    },
  );

  app.get(
    '/v1/validators/:account',
    {
      schema: {
        summary: "A validator's record and its place in the set of the next block",
        tags: ['validators'],
        params: { type: 'object', required: ['account'], properties: { account: S.NAME } },
        response: R({ 200: S.VALIDATOR_DETAIL }, ['BAD_REQUEST', 'VALIDATOR_UNKNOWN']),
      },
    },
    async (req) => {
      const account = fromQuery.name((req.params as Query).account, 'account');
      const v = requireValidator(state, account);
      const { height, epoch, set } = nextSet();
      const index = set.findIndex((m) => m.account === account);
      return {
        ...validatorJson(v),
        inSet: index >= 0,
        index: index >= 0 ? index : null,
        peerId: peerIdOf(v.nodeKey),
        epoch: Number(epoch),
        height: Number(height),
      };
    },
  );
}
