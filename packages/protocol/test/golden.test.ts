/**
 * Golden vectors: the stored hex and JSON in golden/vectors.json are the contract of the encoding.
 * If one of these tests fails, the encoding changed: that is a protocol break, not a test to update.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildVectors, type GoldenVectors, serialize } from '../scripts/gen-golden.js';
import { block, blockId, decodeBlock, encodeBlock, merkleRoot } from '../src/block.js';
import { decode, encode } from '../src/codec.js';
import { sha256, verify } from '../src/crypto.js';
import { chainIdOf, genesisCodec, genesisFromJSON, genesisToJSON } from '../src/genesis.js';
import { bytesToHex, hexToBytes } from '../src/hex.js';
import { OP_NAMES, OPS, RESERVED_TAGS } from '../src/ops.js';
import { decodeTx, encodeTx, requiredSigners, signedTx, txId, validateTxStateless } from '../src/tx.js';

/**
 * The tag table, frozen. A tag is never renumbered and never reused: a new operation gets a new
 * tag (add it here), a retired one moves to RETIRED_OR_RESERVED and keeps its number forever.
 */
const FROZEN_TAGS: Record<string, number> = {
  transfer: 1,
  account_create: 2,
  account_update_keys: 3,
  sdr_issue: 4,
  sdr_burn: 5,
  offer_publish: 10,
  offer_replace: 11,
  offer_withdraw: 12,
  request_open: 20,
  charge: 21,
  refund: 22,
  rate: 23,
  provision: 24,
  demand_post: 30,
  demand_cancel: 31,
  identity_attest: 40,
  identity_revoke: 41,
  validator_set: 50,
  evidence: 51,
  validator_bond: 52,
  validator_unbond: 53,
  proposal_create: 60,
  proposal_vote: 61,
  price_feed: 62,
  contract_topup: 80,
  offer_pause: 81,
};
/**
 * Every tag ever reserved, with the name it was reserved for. A reserved tag may later be taken by
 * exactly that operation (as identity_attest/identity_revoke did), never by anything else.
 */
const RESERVATIONS: Record<number, string> = {
  40: 'identity_attest',
  41: 'identity_revoke',
  50: 'validator_set',
  51: 'evidence',
};

const FILE = new URL('./golden/vectors.json', import.meta.url);
const raw = readFileSync(FILE, 'utf8');
const V = JSON.parse(raw) as GoldenVectors;

/** Offset of the first op's u16 tag: version, chainId, refBlockNum, refBlockPrefix, expiration, op count. */
const FIRST_TAG_OFFSET = 1 + 32 + 4 + 4 + 8 + 2;

describe('golden vectors: operation tags', () => {
  it('the tag table equals the frozen table (no renumbering, no reuse)', () => {
    const live = Object.fromEntries(Object.entries(OPS).map(([n, d]) => [n, d.tag]));
    expect(live).toEqual(FROZEN_TAGS);
    expect(V.tags).toEqual(FROZEN_TAGS);
  });

  it('a reserved tag is still reserved or taken by the operation it was reserved for', () => {
    for (const [tag, n] of Object.entries(RESERVATIONS)) {
      const live = Object.entries(OPS).find(([, d]) => d.tag === Number(tag));
      if (live) expect(live[0], `tag ${tag}`).toBe(n);
      else expect(RESERVED_TAGS[Number(tag)], `tag ${tag}`).toBe(n);
    }
    // Nothing is reserved that this test does not know about (a new reservation is added above).
    for (const [tag, n] of Object.entries(RESERVED_TAGS)) expect(RESERVATIONS[Number(tag)]).toBe(n);
    const live = Object.values(FROZEN_TAGS);
    expect(new Set(live).size).toBe(live.length);
    for (const t of Object.keys(RESERVED_TAGS)) expect(live).not.toContain(Number(t));
    for (const t of live) expect(t).toBeGreaterThan(0);
    for (const t of live) expect(t).toBeLessThanOrEqual(0xffff);
  });

  it('every operation type has at least one golden transaction', () => {
    const covered = new Set(V.transactions.flatMap((t) => t.ops));
    for (const n of OP_NAMES) expect(covered.has(n), n).toBe(true);
  });
});

describe('golden vectors: transactions', () => {
  it('the chain id of the vectors is sha256("golden-chain")', () => {
    expect(V.chainId).toBe(bytesToHex(sha256(new TextEncoder().encode('golden-chain'))));
  });

  it('vector names are unique', () => {
    const names = V.transactions.map((t) => t.name);
    expect(new Set(names).size).toBe(names.length);
  });

  for (const v of V.transactions) {
    describe(v.name, () => {
      it('fromJSON(json) encodes to exactly the stored hex', () => {
        const tx = signedTx.fromJSON(v.json, 'tx');
        expect(bytesToHex(encodeTx(tx))).toBe(v.hex);
      });

      it('decoding the hex gives back the same JSON, ops and id', () => {
        const env = decodeTx(hexToBytes(v.hex));
        expect(signedTx.toJSON(env.tx)).toEqual(v.json);
        expect(env.tx.ops.map((o) => o.type)).toEqual(v.ops);
        expect(env.idHex).toBe(v.id);
        expect(bytesToHex(env.bytes)).toBe(v.hex);
      });

      it('the id is SHA-256 of the unsigned encoding', () => {
        const tx = signedTx.fromJSON(v.json, 'tx');
        expect(bytesToHex(txId(tx))).toBe(v.id);
        // The unsigned encoding is the signed one without the signature list (u16 count + 64 each).
        const unsignedHex = v.hex.slice(0, v.hex.length - 2 * (2 + 64 * tx.signatures.length));
        expect(bytesToHex(sha256(hexToBytes(unsignedHex)))).toBe(v.id);
      });

      it('the first operation tag on the wire is the frozen tag', () => {
        const tag = Number.parseInt(v.hex.slice(2 * FIRST_TAG_OFFSET, 2 * FIRST_TAG_OFFSET + 4), 16);
        expect(tag).toBe(FROZEN_TAGS[v.ops[0]!]);
      });

      it('signatures verify with the stored public keys, in required-signer order', () => {
        const tx = signedTx.fromJSON(v.json, 'tx');
        expect(v.signers.map((s) => s.account)).toEqual(requiredSigners(tx.ops));
        expect(tx.signatures).toHaveLength(v.signers.length);
        const id = hexToBytes(v.id);
        v.signers.forEach((s, i) => {
          expect(verify(hexToBytes(s.publicKey), id, tx.signatures[i]!), s.account).toBe(true);
        });
        validateTxStateless(tx);
      });

      it('a signature does not verify for another id or another signer', () => {
        const tx = signedTx.fromJSON(v.json, 'tx');
        if (v.signers.length === 0) {
          // Self-authenticating operations (evidence) need no signature at all.
          expect(tx.signatures).toHaveLength(0);
          return;
        }
        const id = hexToBytes(v.id);
        const other = id.slice();
        other[0]! ^= 1;
        const pk = hexToBytes(v.signers[0]!.publicKey);
        expect(verify(pk, other, tx.signatures[0]!)).toBe(false);
        const wrong = hexToBytes(V.block.producer.publicKey);
        if (v.signers[0]!.publicKey !== V.block.producer.publicKey) {
          expect(verify(wrong, id, tx.signatures[0]!)).toBe(false);
        }
      });
    });
  }
});

describe('golden vectors: block', () => {
  const v = V.block;

  it('fromJSON(json) encodes to exactly the stored hex', () => {
    expect(bytesToHex(encodeBlock(block.fromJSON(v.json, 'block')))).toBe(v.hex);
  });

  it('decoding the hex gives back the same JSON', () => {
    expect(block.toJSON(decodeBlock(hexToBytes(v.hex)))).toEqual(v.json);
  });

  it('block id, tx ids, tx root and tx count agree', () => {
    const b = decodeBlock(hexToBytes(v.hex));
    expect(bytesToHex(blockId(b.header))).toBe(v.id);
    const ids = b.txs.map((t) => txId(t));
    expect(ids.map(bytesToHex)).toEqual(v.txIds);
    expect(b.header.txCount).toBe(b.txs.length);
    expect(bytesToHex(b.header.txRoot)).toBe(bytesToHex(merkleRoot(ids)));
    expect(b.header.chainId).toEqual(hexToBytes(V.chainId));
    // The block's transactions are golden transactions, byte for byte.
    const byId = new Map(V.transactions.map((t) => [t.id, t.hex]));
    for (const t of b.txs) expect(bytesToHex(encodeTx(t))).toBe(byId.get(bytesToHex(txId(t))));
  });

  it('the producer signature verifies over the block id', () => {
    const b = decodeBlock(hexToBytes(v.hex));
    expect(b.header.producer).toBe(v.producer.account);
    expect(verify(hexToBytes(v.producer.publicKey), hexToBytes(v.id), b.signature)).toBe(true);
    const other = hexToBytes(v.id);
    other[31]! ^= 0x80;
    expect(verify(hexToBytes(v.producer.publicKey), other, b.signature)).toBe(false);
  });
});

describe('golden vectors: genesis', () => {
  const v = V.genesis;

  it('fromJSON(json) encodes to exactly the stored hex', () => {
    expect(bytesToHex(encode(genesisCodec, genesisFromJSON(v.json)))).toBe(v.hex);
  });

  it('decoding the hex gives back the same JSON', () => {
    expect(genesisToJSON(decode(genesisCodec, hexToBytes(v.hex)))).toEqual(v.json);
  });

  it('chain id is SHA-256 of the canonical genesis bytes', () => {
    const g = decode(genesisCodec, hexToBytes(v.hex));
    expect(bytesToHex(chainIdOf(g))).toBe(v.chainId);
    expect(bytesToHex(sha256(hexToBytes(v.hex)))).toBe(v.chainId);
  });
});

describe('golden vectors: file', () => {
  it('the generator reproduces the stored file byte for byte (deterministic, not hand-edited)', () => {
    expect(serialize(buildVectors())).toBe(raw);
  });
});
