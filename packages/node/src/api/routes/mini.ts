/**
 * Web-API routes of Mini Nodes (docs/GOVERNANCE.md §8), one Fastify plugin registered by server.ts:
 * the list (from the per-Super-Node index, never a scan), one Mini Node, and the attestation inbox
 * a Mini Node sends its signed (height, state root) to. The inbox compares each attestation with
 * the committed block of its height: matching ones go into a `mini_attest` transaction, a
 * contradicting one into a `mini_fraud` transaction (both self-authenticating, fee-free), through
 * the node's ordinary admission (which executes them on a throw-away overlay first).
 */
import {
  type ChainParams,
  type ErrorCode,
  encodeTx,
  equalBytes,
  hexToBytes,
  MAX_ATTESTATIONS_PER_OP,
  type MiniAttestation,
  type Operation,
  RoamError,
  refPrefixOf,
  signTx,
} from '@roamchain/protocol';
import {
  activityAt,
  DAY_MS,
  isAttesting,
  K,
  type LedgerState,
  type MiniActivity,
  type MiniNode,
  MK,
  storedSetAt,
} from '@roamchain/state';
import type { FastifyInstance } from 'fastify';
import type { NodeApi } from '../../interfaces.js';
import { type JsonObject, toJson } from '../json.js';
import * as S from '../schemas.js';
import type { RouteDeps } from './common.js';

const STR = { type: 'string' } as const;
const INT = { type: 'integer' } as const;
const BOOL = { type: 'boolean' } as const;
const obj = (properties: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  type: 'object',
  properties,
  additionalProperties: true,
  ...extra,
});
const MINI = obj({
  owner: STR,
  superNode: STR,
  nodeKey: S.HEX,
  bond: S.U64,
  unbonding: S.U64,
  status: { type: 'string', enum: ['active', 'exited', 'slashed'] },
  slashed: S.U64,
  lastAttested: S.U64,
  attestations: S.U64,
  importance: S.U64,
  importanceAt: S.U64,
  attesting: BOOL,
});
const R = (ok: Record<string, unknown>, codes: readonly ErrorCode[]) => ({
  ...ok,
  ...S.errorResponses(codes),
  ...S.ERRORS_RESPONSES,
});
/** Most Mini Nodes one list answer carries. */
const MAX_LIST = 1_000;

function miniJson(m: MiniNode, height: bigint, p: ChainParams): JsonObject {
  return {
    ...(toJson(m) as JsonObject),
    attesting: isAttesting(m, height + 1n, p.miniAttestInterval, p.miniMaxMissedWindows),
  };
}

/** Active Mini Nodes of the Super Nodes (active records and the next set), most important first. */
export function miniNodesOf(state: LedgerState, superNode?: string): JsonObject {
  const meta = state.meta;
  const p = state.get<ChainParams>(K.params)!;
  const supers = superNode
    ? [superNode]
    : [
        ...new Set([
          ...(state.get<string[]>(K.activeValidators) ?? []),
          ...storedSetAt(state, p, meta.height + 1n).map((m) => m.account),
        ]),
      ];
  const items: MiniNode[] = [];
  for (const s of supers) {
    for (const o of state.get<string[]>(MK.ofSuper(s)) ?? []) {
      const m = state.get<MiniNode>(MK.node(o));
      if (m && items.length < MAX_LIST) items.push(m);
    }
  }
  items.sort((a, b) =>
    a.importance === b.importance ? (a.owner < b.owner ? -1 : 1) : a.importance > b.importance ? -1 : 1,
  );
  return {
    height: Number(meta.height),
    interval: p.miniAttestInterval,
    items: items.map((m) => miniJson(m, meta.height, p)),
  };
}

function parseAttestation(j: {
  mini: string;
  height: string;
  stateRoot: string;
  signature: string;
}): MiniAttestation {
  return {
    mini: j.mini,
    height: BigInt(j.height),
    stateRoot: hexToBytes(j.stateRoot.toLowerCase()),
    signature: hexToBytes(j.signature.toLowerCase()),
  };
}

/** An unsigned transaction of `ops` referencing the head (TaPoS), expiring within the chain's limit. */
function unsignedTx(node: NodeApi, ops: Operation[]): Uint8Array {
  const st = node.status();
  const p = node.state.get<ChainParams>(K.params)!;
  return encodeTx(
    signTx(
      {
        chainId: node.chainId,
        refBlockNum: st.height,
        refBlockPrefix: refPrefixOf(hexToBytes(st.headId)),
        expiration: BigInt(st.headTime) + BigInt(Math.min(p.maxTxExpirationMs, 600_000)),
        ops,
      },
      {},
    ),
  );
}

export async function miniRoutes(app: FastifyInstance, { node }: RouteDeps): Promise<void> {
  const state = node.state;

  app.get(
    '/v1/mininodes',
    {
      schema: {
        summary:
          'Active Mini Nodes of the Super Nodes, most important first (bond, importance, attestations)',
        tags: ['mininodes'],
        querystring: { type: 'object', properties: { superNode: S.NAME } },
        response: R({ 200: obj({ height: INT, interval: INT, items: { type: 'array', items: MINI } }) }, [
          'BAD_REQUEST',
        ]),
      },
    },
    async (req) => miniNodesOf(state, (req.query as { superNode?: string }).superNode),
  );

  app.get(
    '/v1/mininodes/:id',
    {
      schema: {
        summary: 'One Mini Node (id = owner account) with its activity of the last 30 days',
        tags: ['mininodes'],
        params: { type: 'object', properties: { id: S.NAME }, required: ['id'] },
        response: R(
          {
            200: {
              ...MINI,
              properties: {
                ...MINI.properties,
                activity: obj({
                  day: INT,
                  sdr: { type: 'array', items: S.U64 },
                  txs: { type: 'array', items: INT },
                }),
              },
            },
          },
          ['MINI_UNKNOWN', 'BAD_REQUEST'],
        ),
      },
    },
    async (req) => {
      const { id } = req.params as { id: string };
      const m = state.get<MiniNode>(MK.node(id));
      if (!m) throw new RoamError('MINI_UNKNOWN', `${id} has no Mini Node`, { account: id });
      const p = state.get<ChainParams>(K.params)!;
      const act = activityAt(state.get<MiniActivity>(MK.activity(id)), state.meta.time / DAY_MS);
      return {
        ...miniJson(m, state.meta.height, p),
        activity: { day: Number(act.day), sdr: act.sdr.map(String), txs: act.txs },
      };
    },
  );

  const ATT = obj(
    {
      mini: S.NAME,
      height: S.U64,
      stateRoot: { type: 'string', pattern: '^[0-9a-fA-F]{64}$' },
      signature: { type: 'string', pattern: '^[0-9a-fA-F]{128}$' },
    },
    { required: ['mini', 'height', 'stateRoot', 'signature'] },
  );
  app.post(
    '/v1/mininodes/attestations',
    {
      schema: {
        summary: 'A Mini Node hands in signed attestations of (height, state root)',
        description:
          'Each is compared with the committed block of its height: matching ones are submitted as one mini_attest ' +
          'transaction, a contradicting one as a mini_fraud transaction (the Mini Node is slashed). Both are fee-free ' +
          'and signed by nobody; admission executes them first, so a bad signature is MINI_ATTEST_INVALID (400).',
        tags: ['mininodes'],
        body: obj(
          { attestations: { type: 'array', minItems: 1, maxItems: MAX_ATTESTATIONS_PER_OP, items: ATT } },
          { required: ['attestations'] },
        ),
        response: R({ 200: obj({ attestTx: S.HEX, fraudTxs: { type: 'array', items: S.HEX } }) }, [
          'MINI_ATTEST_INVALID',
          'BAD_REQUEST',
          'UNSUPPORTED_MEDIA_TYPE',
        ]),
      },
    },
    async (req) => {
      const body = req.body as { attestations: Parameters<typeof parseAttestation>[0][] };
      const good: MiniAttestation[] = [];
      const bad: MiniAttestation[] = [];
      for (const j of body.attestations) {
        const a = parseAttestation(j);
        const b =
          a.height <= BigInt(node.status().height) ? await node.blockByHeight(Number(a.height)) : undefined;
        if (!b) {
          throw new RoamError('MINI_ATTEST_INVALID', `no committed block at height ${a.height}`, {
            height: a.height.toString(),
          });
        }
        (equalBytes(b.block.header.stateRoot, a.stateRoot) ? good : bad).push(a);
      }
      const fraudTxs: string[] = [];
      for (const a of bad) {
        fraudTxs.push((await node.submit(unsignedTx(node, [{ type: 'mini_fraud', attestation: a }]))).idHex);
      }
      const out: { attestTx?: string; fraudTxs: string[] } = { fraudTxs };
      if (good.length > 0) {
        out.attestTx = (
          await node.submit(unsignedTx(node, [{ type: 'mini_attest', attestations: good }]))
        ).idHex;
      }
      return out;
    },
  );
}
