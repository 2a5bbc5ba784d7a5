/**
 * Writes the golden vectors (packages/protocol/test/golden/vectors.json) from fixed keys and fields.
 *
 *   node --import tsx packages/protocol/scripts/gen-golden.ts
 *
 * Everything is deterministic (Ed25519 signatures are deterministic), so re-running the script on an
 * unchanged protocol rewrites the file byte for byte. Only regenerate on a deliberate, versioned change
 * of the encoding: the vectors are the contract other implementations are checked against.
 */
import { writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import {
  type Block,
  type BlockHeader,
  block as blockCodec,
  blockId,
  encodeBlock,
  merkleRoot,
} from '../src/block.js';
import { encode, utf8 } from '../src/codec.js';
import { generateEncryptionKey, generateSigningKey, sha256, sign } from '../src/crypto.js';
import { chainIdOf, type Genesis, genesisCodec } from '../src/genesis.js';
import { bytesToHex } from '../src/hex.js';
import { type OfferTerms, OPS, type Operation, type OpName } from '../src/ops.js';
import { defaultParams, UMT_SUPPLY, UNIT } from '../src/params.js';
import { signTx } from '../src/sign.js';
import { encodeTx, requiredSigners, type SignedTx, signedTx, txId } from '../src/tx.js';
import { type UnsignedVote, type Vote, voteSignBytes } from '../src/votes.js';

export const GOLDEN_FORMAT = 'roamchain-golden/1';
export const GOLDEN_CHAIN_ID: Uint8Array = sha256(utf8('golden-chain'));
export const GOLDEN_EXPIRATION = 1_900_000_000_000n;
export const GOLDEN_REF_BLOCK_NUM = 1234;
export const GOLDEN_REF_BLOCK_PREFIX = 0xdeadbeef;

/** Fixed signing key of a golden account. */
export const goldenKey = (account: string) => generateSigningKey(sha256(utf8(`golden/${account}`)));
/** Fixed X25519 encryption key of a golden account. */
export const goldenEncKey = (account: string) => generateEncryptionKey(sha256(utf8(`golden-enc/${account}`)));
/** A fixed 32-byte value derived from a label (object ids, heads, attestations). */
const h = (label: string): Uint8Array => sha256(utf8(`golden-id/${label}`));

export interface SignerVector {
  account: string;
  publicKey: string;
}
export interface TxVector {
  name: string;
  /** Operation types in the transaction, in order. */
  ops: OpName[];
  json: unknown;
  hex: string;
  id: string;
  signers: SignerVector[];
}
export interface BlockVector {
  name: string;
  json: unknown;
  hex: string;
  id: string;
  txIds: string[];
  producer: SignerVector;
}
export interface GenesisVector {
  name: string;
  json: unknown;
  hex: string;
  chainId: string;
}
export interface GoldenVectors {
  format: string;
  chainId: string;
  expiration: string;
  tags: Record<string, number>;
  transactions: TxVector[];
  block: BlockVector;
  genesis: GenesisVector;
}

const terms = (title: string): OfferTerms => ({
  title,
  kind: 'data',
  category: 'travel',
  countries: ['CH', 'DE', 'FR'],
  networks: ['228-01', '262-02'],
  technologies: ['LTE', '5G-SA'],
  dataBytes: 10_000_000_000n,
  voiceSeconds: 0n,
  smsCount: 0,
  durationSec: 7 * 86_400,
  price: 12_500_000n,
  unitPrice: 0n,
  unit: 'mb',
  activation: 'on_first_use',
  validFrom: 1_800_000_000_000n,
  validUntil: 1_850_000_000_000n,
  capacity: 1000,
  encryptionKey: goldenEncKey('op-visited').publicKey,
});

/** A consensus vote on the golden chain, signed with op-home's node key. */
const goldenVote = (v: UnsignedVote): Vote => ({
  ...v,
  signature: sign(goldenKey('op-home/node').secretKey, voteSignBytes(GOLDEN_CHAIN_ID, v)),
});

/** One or more transactions per operation type; the name is the vector's name. */
export function goldenOps(): [string, Operation[]][] {
  return [
    [
      'transfer',
      [
        {
          type: 'transfer',
          from: 'alice',
          to: 'bob',
          token: 'UMT',
          amount: 1_500_000n,
          memo: utf8('invoice 42'),
        },
      ],
    ],
    [
      'transfer_sdr_empty_memo',
      [{ type: 'transfer', from: 'bob', to: 'alice', token: 'SDR', amount: 1n, memo: new Uint8Array() }],
    ],
    [
      'account_create',
      [
        {
          type: 'account_create',
          creator: 'op-home',
          name: 'sub-carol',
          signingKey: goldenKey('sub-carol').publicKey,
          encryptionKey: goldenEncKey('sub-carol').publicKey,
          homeOperator: 'op-home',
        },
      ],
    ],
    [
      'account_create_no_home',
      [
        {
          type: 'account_create',
          creator: 'alice',
          name: 'dave-01',
          signingKey: goldenKey('dave-01').publicKey,
          encryptionKey: goldenEncKey('dave-01').publicKey,
        },
      ],
    ],
    [
      'account_update_keys',
      [{ type: 'account_update_keys', account: 'alice', signingKey: goldenKey('alice/rotated').publicKey }],
    ],
    [
      'sdr_issue',
      [
        {
          type: 'sdr_issue',
          gateway: 'gw-sdr',
          to: 'op-home',
          amount: 250_000_000n,
          paymentRef: 'SEPA/2030-01-01/0001',
        },
      ],
    ],
    ['sdr_burn', [{ type: 'sdr_burn', gateway: 'gw-sdr', amount: 100_000_000n, redemptionRef: 'REDEEM-7' }]],
    [
      'offer_publish',
      [
        {
          type: 'offer_publish',
          operator: 'op-visited',
          terms: terms('Alps 10 GB / 7 days'),
          demand: h('demand'),
        },
      ],
    ],
    [
      'offer_replace',
      [
        {
          type: 'offer_replace',
          operator: 'op-visited',
          offer: h('offer'),
          terms: terms('Alps 10 GB / 7 days v2'),
        },
      ],
    ],
    ['offer_withdraw', [{ type: 'offer_withdraw', operator: 'op-visited', offer: h('offer') }]],
    [
      'request_open',
      [
        {
          type: 'request_open',
          issuer: 'op-home',
          payer: 'sub-carol',
          subscriber: 'sub-carol',
          offer: h('offer'),
          prev: h('prev'),
          deposit: 13_000_000n,
          issuerFeeBps: 150,
          feeDeposit: 20_000n,
          attestation: h('attestation'),
          ephemeralKey: goldenEncKey('ephemeral').publicKey,
          payload: utf8('sealed request payload'),
          stepTimeoutSec: 3600,
          lifetimeSec: 7 * 86_400,
        },
      ],
    ],
    [
      'request_open_issuer_pays',
      [
        {
          type: 'request_open',
          issuer: 'op-home',
          payer: 'op-home',
          subscriber: 'sub-carol',
          offer: h('offer'),
          prev: new Uint8Array(32),
          deposit: 13_000_000n,
          issuerFeeBps: 0,
          feeDeposit: 0n,
          ephemeralKey: goldenEncKey('ephemeral-2').publicKey,
          payload: new Uint8Array(),
          stepTimeoutSec: 60,
          lifetimeSec: 300,
        },
      ],
    ],
    [
      'charge',
      [
        {
          type: 'charge',
          assignee: 'op-visited',
          contract: h('contract'),
          prev: h('head-1'),
          record: {
            seq: 1,
            usageType: 'data',
            start: 1_800_000_100_000n,
            duration: 600,
            volumeUp: 1_000_000n,
            volumeDown: 9_000_000n,
            units: 10n,
            amount: 125_000n,
          },
          sealed: utf8('sealed usage detail'),
        },
      ],
    ],
    [
      'provision',
      [
        {
          type: 'provision',
          assignee: 'op-visited',
          contract: h('contract'),
          prev: h('head-1'),
          iccidHash: sha256(utf8('89410000000000000001')),
          forRequester: utf8('sealed for the requester'),
          forIssuer: utf8('sealed for the issuer'),
          forSubscriber: utf8('sealed for the subscriber'),
        },
      ],
    ],
    [
      'refund',
      [
        {
          type: 'refund',
          by: 'sub-carol',
          contract: h('contract'),
          prev: h('head-2'),
          badService: true,
          reason: 7,
        },
      ],
    ],
    ['rate', [{ type: 'rate', subscriber: 'sub-carol', contract: h('contract'), score: 4 }]],
    [
      'demand_post',
      [
        {
          type: 'demand_post',
          subscriber: 'sub-carol',
          kind: 'bundle',
          countries: ['CH'],
          networks: [],
          dataBytes: 5_000_000_000n,
          startAt: 1_800_000_000_000n,
          endAt: 1_800_604_800_000n,
          maxPrice: 20_000_000n,
          note: 'Roaming in Zürich — 5 GB ✓',
        },
      ],
    ],
    ['demand_cancel', [{ type: 'demand_cancel', subscriber: 'sub-carol', demand: h('demand') }]],
    [
      'identity_attest',
      [
        {
          type: 'identity_attest',
          operator: 'op-home',
          subscriber: 'sub-carol',
          digests: [h('disclosure/name'), h('disclosure/birthdate'), h('disclosure/nationality')],
          level: 2,
          expiresAt: 1_900_000_000_000n,
        },
      ],
    ],
    [
      'identity_revoke',
      [{ type: 'identity_revoke', operator: 'op-home', subscriber: 'sub-carol', reason: 3 }],
    ],
    [
      'validator_set_candidate',
      [
        {
          type: 'validator_set',
          authority: 'op-home',
          account: 'op-visited',
          status: 'candidate',
          nodeKey: goldenKey('op-visited/node').publicKey,
        },
      ],
    ],
    [
      'validator_set_active',
      [{ type: 'validator_set', authority: 'op-home', account: 'op-visited', status: 'active' }],
    ],
    ['validator_bond', [{ type: 'validator_bond', account: 'op-visited', amount: 1_000_000n * UNIT }]],
    ['validator_unbond', [{ type: 'validator_unbond', account: 'op-home', amount: 250_000n * UNIT }]],
    [
      'evidence',
      [
        {
          type: 'evidence',
          a: goldenVote({ type: 'prevote', height: 1234n, round: 0, value: null, validator: 0 }),
          b: goldenVote({ type: 'prevote', height: 1234n, round: 0, value: h('block-1234'), validator: 0 }),
        },
      ],
    ],
    [
      'proposal_create',
      [
        {
          type: 'proposal_create',
          proposer: 'op-home',
          action: {
            kind: 'admit',
            account: 'op-visited',
            role: 'operator',
            displayName: 'Visited Mobile',
            country: 'FR',
            networks: ['208-01'],
            param: '',
            value: 0n,
            version: 0,
          },
          deadline: 1_767_312_000_000n,
          note: 'admit op-visited',
        },
      ],
    ],
    [
      'proposal_vote',
      [{ type: 'proposal_vote', voter: 'op-visited', proposal: h('proposal'), approve: true }],
    ],
    [
      'price_feed',
      [
        {
          type: 'price_feed',
          validator: 'op-home',
          rates: { EUR: 1_085_000_000n, CNY: 7_250_000_000n, JPY: 149_500_000_000n, GBP: 1_270_000_000n },
        },
      ],
    ],
    [
      'contract_topup',
      [
        {
          type: 'contract_topup',
          issuer: 'op-home',
          payer: 'sub-carol',
          contract: h('contract'),
          prev: h('contract-head'),
          amount: 5n * UNIT,
          feeDeposit: 100_000n,
        },
      ],
    ],
    ['offer_pause', [{ type: 'offer_pause', operator: 'op-visited', offer: h('offer'), paused: true }]],
    [
      'multi_op',
      [
        {
          type: 'transfer',
          from: 'sub-carol',
          to: 'op-home',
          token: 'SDR',
          amount: 42n,
          memo: new Uint8Array([0, 255]),
        },
        { type: 'rate', subscriber: 'sub-carol', contract: h('contract'), score: 5 },
        {
          type: 'transfer',
          from: 'alice',
          to: 'sub-carol',
          token: 'UMT',
          amount: UNIT,
          memo: new Uint8Array(),
        },
      ],
    ],
  ];
}

function signGolden(ops: Operation[]): SignedTx {
  const keys: Record<string, Uint8Array> = {};
  for (const n of requiredSigners(ops)) keys[n] = goldenKey(n).secretKey;
  return signTx(
    {
      chainId: GOLDEN_CHAIN_ID,
      refBlockNum: GOLDEN_REF_BLOCK_NUM,
      refBlockPrefix: GOLDEN_REF_BLOCK_PREFIX,
      expiration: GOLDEN_EXPIRATION,
      ops,
    },
    keys,
  );
}

const signerVector = (account: string): SignerVector => ({
  account,
  publicKey: bytesToHex(goldenKey(account).publicKey),
});

function txVector(name: string, tx: SignedTx): TxVector {
  return {
    name,
    ops: tx.ops.map((o) => o.type),
    json: signedTx.toJSON(tx),
    hex: bytesToHex(encodeTx(tx)),
    id: bytesToHex(txId(tx)),
    signers: requiredSigners(tx.ops).map(signerVector),
  };
}

export function goldenGenesis(): Genesis {
  const account = (name: string, roles: Genesis['accounts'][number]['roles'], homeOperator?: string) => ({
    name,
    signingKey: goldenKey(name).publicKey,
    encryptionKey: goldenEncKey(name).publicKey,
    roles,
    ...(homeOperator === undefined ? {} : { homeOperator }),
  });
  const share = (bps: bigint) => (UMT_SUPPLY * bps) / 10_000n;
  return {
    chainName: 'golden-chain',
    genesisTime: 1_767_225_600_000n,
    params: { ...defaultParams(), governance: 'op-home' },
    accounts: [
      account('alice', []),
      account('bob', []),
      account('gw-sdr', ['gateway']),
      account('op-home', ['operator', 'node_owner']),
      account('op-visited', ['operator']),
      account('sub-carol', ['subscriber'], 'op-home'),
      account('tcdf', []),
    ],
    allocations: [
      { bucket: 'crowdsale', account: 'alice', amount: share(5000n) },
      { bucket: 'bounty', account: 'bob', amount: share(20n) },
      { bucket: 'tcdf', account: 'tcdf', amount: share(780n) },
      { bucket: 'ndf', account: 'op-home', amount: share(2200n) },
      { bucket: 'founders', account: 'alice', amount: share(1000n) },
      { bucket: 'founders', account: 'bob', amount: share(1000n) },
    ],
    validators: [
      { account: 'op-home', nodeKey: goldenKey('op-home/node').publicKey, bond: 1_000_000n * UNIT },
    ],
  };
}

export function goldenBlock(txs: SignedTx[]): Block {
  const producer = 'op-home';
  const header: BlockHeader = {
    version: 1,
    chainId: GOLDEN_CHAIN_ID,
    height: 1235n,
    prev: h('block-1234'),
    time: 1_899_999_000_000n,
    producer,
    txRoot: merkleRoot(txs.map((t) => txId(t))),
    stateRoot: h('state-1235'),
    txCount: txs.length,
    lastCommitHash: new Uint8Array(32),
  };
  return {
    header,
    txs,
    signature: sign(goldenKey(producer).secretKey, blockId(header)),
    lastCommit: new Uint8Array(0),
  };
}

export function buildVectors(): GoldenVectors {
  const txs = goldenOps().map(([name, ops]) => [name, signGolden(ops)] as const);
  const transactions = txs.map(([name, tx]) => txVector(name, tx));
  const byName = new Map(txs);
  const blockTxs = [byName.get('transfer')!, byName.get('request_open')!];
  const b = goldenBlock(blockTxs);
  const g = goldenGenesis();
  return {
    format: GOLDEN_FORMAT,
    chainId: bytesToHex(GOLDEN_CHAIN_ID),
    expiration: GOLDEN_EXPIRATION.toString(),
    tags: Object.fromEntries(Object.entries(OPS).map(([n, d]) => [n, d.tag])),
    transactions,
    block: {
      name: 'block_two_txs',
      json: blockCodec.toJSON(b),
      hex: bytesToHex(encodeBlock(b)),
      id: bytesToHex(blockId(b.header)),
      txIds: blockTxs.map((t) => bytesToHex(txId(t))),
      producer: signerVector(b.header.producer),
    },
    genesis: {
      name: 'genesis',
      json: genesisCodec.toJSON(g),
      hex: bytesToHex(encode(genesisCodec, g, 4096)),
      chainId: bytesToHex(chainIdOf(g)),
    },
  };
}

export const VECTORS_URL = new URL('../test/golden/vectors.json', import.meta.url);

export function serialize(v: GoldenVectors): string {
  return `${JSON.stringify(v, null, 2)}\n`;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const v = buildVectors();
  writeFileSync(VECTORS_URL, serialize(v));
  console.log(`wrote ${VECTORS_URL.pathname}: ${v.transactions.length} transactions, 1 block, 1 genesis`);
}
