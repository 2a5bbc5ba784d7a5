/**
 * The local devnet: one producing node in-process on the embedded store, with demo operators in
 * five countries, an SDR gateway and subscribers. Its keys are derived from the public seed
 * "roamchain-devnet": they are demo keys, for this machine only.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Node } from '@roamchain/node';
import {
  bytesToHex,
  encodeTx,
  type Genesis,
  genesisFromJSON,
  genesisToJSON,
  hexToBytes,
  makeDisclosures,
  type OfferTerms,
  type Operation,
  opHash,
  RoamError,
  refPrefixOf,
  signTx,
  UNIT,
} from '@roamchain/protocol';
import { type DisclosuresFile, disclosuresFile } from '@roamchain/sdk';
import { type AccountKeys, buildGenesis, derivedKeys } from '@roamchain/state';

export const DEVNET_SEED = 'roamchain-devnet';

export interface DemoOperator {
  name: string;
  country: string;
  network: string;
  display: string;
  /** The fee its agent charges as a home operator (bps; default 100): they differ, as in life. */
  feeBps?: number;
  offers: { title: string; gb: number; days: number; price: string; tech: string[]; unitPrice?: string }[];
}

export const DEMO_OPERATORS: DemoOperator[] = [
  {
    name: 'telco-de',
    country: 'DE',
    network: '262-01',
    display: 'Rhein Mobil (Germany)',
    feeBps: 150,
    offers: [
      {
        title: 'Germany 5 GB / 7 days',
        gb: 5,
        days: 7,
        price: '8.50',
        tech: ['4G', '5G'],
        unitPrice: '0.004',
      },
      { title: 'Germany 20 GB / 30 days', gb: 20, days: 30, price: '22', tech: ['4G', '5G'] },
    ],
  },
  {
    name: 'telco-fr',
    country: 'FR',
    network: '208-01',
    display: 'Seine Telecom (France)',
    offers: [
      { title: 'France 3 GB / 7 days', gb: 3, days: 7, price: '6', tech: ['4G'] },
      {
        title: 'France 10 GB / 15 days',
        gb: 10,
        days: 15,
        price: '14',
        tech: ['4G', '5G'],
        unitPrice: '0.003',
      },
    ],
  },
  {
    name: 'telco-tr',
    country: 'TR',
    network: '286-01',
    display: 'Bosphorus GSM (Türkiye)',
    offers: [
      { title: 'Türkiye 5 GB / 7 days', gb: 5, days: 7, price: '5.50', tech: ['4G'] },
      { title: 'Türkiye 15 GB / 30 days', gb: 15, days: 30, price: '12', tech: ['4G', '5G'] },
    ],
  },
  {
    name: 'telco-th',
    country: 'TH',
    network: '520-01',
    display: 'Chao Phraya Mobile (Thailand)',
    offers: [
      { title: 'Thailand 8 GB / 8 days', gb: 8, days: 8, price: '7', tech: ['4G', '5G'] },
      { title: 'Thailand unlimited-ish 50 GB / 15 days', gb: 50, days: 15, price: '18', tech: ['5G'] },
    ],
  },
  {
    name: 'telco-us',
    country: 'US',
    network: '310-260',
    display: 'Liberty Wireless (USA)',
    offers: [
      { title: 'USA 5 GB / 10 days', gb: 5, days: 10, price: '15', tech: ['4G', '5G'], unitPrice: '0.006' },
      { title: 'USA 15 GB / 30 days', gb: 15, days: 30, price: '32', tech: ['5G'] },
    ],
  },
];

/** Second operators in two countries, so that ranking has a choice to explain. */
export const EXTRA_OPERATORS: DemoOperator[] = [
  {
    name: 'telco-de2',
    country: 'DE',
    network: '262-02',
    display: 'Spree Net (Germany)',
    offers: [{ title: 'Germany 5 GB / 7 days budget', gb: 5, days: 7, price: '7.20', tech: ['4G'] }],
  },
  {
    name: 'telco-fr2',
    country: 'FR',
    network: '208-10',
    display: 'Loire Connect (France)',
    offers: [{ title: 'France 5 GB / 10 days', gb: 5, days: 10, price: '7.90', tech: ['4G', '5G'] }],
  },
];

export const DEMO_SUBSCRIBERS = [
  { name: 'alice', home: 'telco-fr' },
  { name: 'bob', home: 'telco-de' },
  { name: 'chen', home: 'telco-th' },
  { name: 'deniz', home: 'telco-tr' },
  { name: 'emma', home: 'telco-us' },
];

export const DEVNET_GATEWAY = 'sdr-gateway';
export const DEVNET_VALIDATOR = 'node-1';

/** Owner accounts of the devnet's Super Nodes: node-1 … node-N. */
export function devnetValidators(n: number): string[] {
  return Array.from({ length: n }, (_, i) => (i === 0 ? DEVNET_VALIDATOR : `node-${i + 1}`));
}

/**
 * A devnet Super Node's node key (32-byte seed): its own key, not its owner account's — the node
 * signs blocks and votes with it and its libp2p peer id derives from it. Public demo keys.
 */
export function devnetNodeKey(validator: string): Uint8Array {
  return devnetNodeKeyPair(validator).secretKey;
}

const devnetNodeKeyPair = (validator: string) => derivedKeys(validator, `${DEVNET_SEED}/node-key`).signing;

/**
 * Devnet genesis: built once per data directory and stored there, so a resumed devnet is the same
 * chain. `validators` Super Nodes (node-1 … node-N), each bonding the minimum from its allocation.
 */
export function devnetGenesis(
  dataDir: string,
  validators = 1,
): {
  genesis: Genesis;
  keys: Map<string, AccountKeys>;
  fresh: boolean;
} {
  const file = join(dataDir, 'genesis.json');
  const owners = devnetValidators(validators);
  const ops = [...DEMO_OPERATORS, ...EXTRA_OPERATORS];
  const built = buildGenesis({
    chainName: 'roamchain-devnet',
    genesisTime: BigInt(Date.now()),
    seed: DEVNET_SEED,
    accounts: [
      ...owners.map((name) => ({ name, roles: ['node_owner' as const] })),
      { name: DEVNET_GATEWAY, roles: ['gateway'] },
      { name: 'stream-music', roles: ['provider'] },
      ...ops.map((o) => ({ name: o.name, roles: ['operator' as const] })),
      ...DEMO_SUBSCRIBERS.map((s) => ({
        name: s.name,
        roles: ['subscriber' as const],
        homeOperator: s.home,
      })),
    ],
    umt: {
      ...Object.fromEntries(owners.map((name) => [name, 1_000_000n * UNIT])),
      [DEVNET_GATEWAY]: 10_000n * UNIT,
      'stream-music': 10_000n * UNIT,
      ...Object.fromEntries(ops.map((o) => [o.name, 100_000n * UNIT])),
      ...Object.fromEntries(DEMO_SUBSCRIBERS.map((s) => [s.name, 50n * UNIT])),
    },
    validators: owners,
  });
  built.genesis.validators = built.genesis.validators.map((v) => ({
    ...v,
    nodeKey: devnetNodeKeyPair(v.account).publicKey,
  }));
  if (existsSync(file)) {
    const genesis = genesisFromJSON(JSON.parse(readFileSync(file, 'utf8')));
    if (genesis.validators.length !== validators) {
      throw new RoamError(
        'GENESIS_INVALID',
        `${dataDir} holds a devnet of ${genesis.validators.length} validator(s), not ${validators}: ` +
          'use another --data-dir or delete it',
      );
    }
    return { genesis, keys: built.keys, fresh: false };
  }
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(file, `${JSON.stringify(genesisToJSON(built.genesis), null, 2)}\n`);
  return { genesis: built.genesis, keys: built.keys, fresh: true };
}

const GB = 1_000_000_000n;

function amount(s: string): bigint {
  const [w, f = ''] = s.split('.');
  return BigInt(w!) * UNIT + BigInt((f + '000000').slice(0, 6));
}

export function demoOfferTerms(o: DemoOperator, i: number, keys: AccountKeys, now: bigint): OfferTerms {
  const x = o.offers[i]!;
  return {
    title: x.title,
    kind: 'data',
    category: '',
    countries: [o.country],
    networks: [o.network],
    technologies: x.tech,
    dataBytes: BigInt(x.gb) * GB,
    voiceSeconds: 0n,
    smsCount: 0,
    durationSec: x.days * 86_400,
    price: amount(x.price),
    unitPrice: x.unitPrice ? amount(x.unitPrice) : 0n,
    unit: 'mb',
    activation: 'on_provision',
    validFrom: now - 60_000n,
    validUntil: now + 365n * 86_400_000n,
    capacity: 10_000,
    encryptionKey: keys.encryption.publicKey,
  };
}

/** Demo identity claims (what a home operator checked at KYC) of the demo subscribers. */
export const DEMO_IDENTITIES: Record<string, Record<string, string>> = {
  alice: { name: 'Alice Martin', nationality: 'FR', birthdate: '1990-04-01', document: 'FR-P-19AC48213' },
  bob: { name: 'Bob Schneider', nationality: 'DE', birthdate: '1985-11-23', document: 'DE-P-C01X00T47' },
  chen: { name: 'Chen Wattana', nationality: 'TH', birthdate: '1993-02-14', document: 'TH-P-AA1234567' },
  deniz: { name: 'Deniz Yilmaz', nationality: 'TR', birthdate: '1988-07-30', document: 'TR-P-U09876543' },
  emma: { name: 'Emma Johnson', nationality: 'US', birthdate: '1995-09-05', document: 'US-P-567890123' },
};

export interface SeedOptions {
  /**
   * Where to write each subscriber's disclosures (`<subscriber>.disclosures.json`, mode 0600): its
   * wallet's private half of the attestation. Not written when omitted.
   */
  walletDir?: string;
}

/**
 * Seed a fresh devnet: SDR for subscribers, offers from every operator, and an identity attestation
 * of each subscriber by its home operator (the disclosures go to `walletDir`). Waits for inclusion.
 */
export async function seedDevnet(
  node: Node,
  keys: Map<string, AccountKeys>,
  opts: SeedOptions = {},
): Promise<void> {
  const now = BigInt(Date.now());
  const st = node.status();
  const secret = (n: string) =>
    keys.get(n)?.signing.secretKey ?? derivedKeys(n, DEVNET_SEED).signing.secretKey;
  const send = (ops: Operation[], signer: string) => {
    const tx = signTx(
      {
        chainId: node.chainId,
        refBlockNum: st.height,
        refBlockPrefix: refPrefixOf(Buffer.from(st.headId, 'hex')),
        expiration: now + 600_000n,
        ops,
      },
      { [signer]: secret(signer) },
    );
    return node.submit(encodeTx(tx));
  };
  const envs = [
    await send(
      DEMO_SUBSCRIBERS.map((s, i) => ({
        type: 'sdr_issue' as const,
        gateway: DEVNET_GATEWAY,
        to: s.name,
        amount: 100n * UNIT,
        paymentRef: `devnet-wire-${i + 1}`,
      })),
      DEVNET_GATEWAY,
    ),
  ];
  for (const o of [...DEMO_OPERATORS, ...EXTRA_OPERATORS]) {
    const k = keys.get(o.name) ?? derivedKeys(o.name, DEVNET_SEED);
    envs.push(
      await send(
        o.offers.map((_, i) => ({
          type: 'offer_publish' as const,
          operator: o.name,
          terms: demoOfferTerms(o, i, k, now),
        })),
        o.name,
      ),
    );
  }
  // KYC at home: each subscriber's home operator attests it (salted digests only on chain).
  const wallets: { name: string; file: DisclosuresFile }[] = [];
  for (const sub of DEMO_SUBSCRIBERS) {
    const claims = DEMO_IDENTITIES[sub.name];
    if (!claims) continue;
    const { disclosures, digests } = makeDisclosures(claims);
    const env = await send(
      [
        {
          type: 'identity_attest' as const,
          operator: sub.home,
          subscriber: sub.name,
          digests,
          level: 2,
          expiresAt: now + 365n * 86_400_000n,
        },
      ],
      sub.home,
    );
    envs.push(env);
    const attestation = bytesToHex(opHash(hexToBytes(env.idHex), 0));
    wallets.push({
      name: sub.name,
      file: disclosuresFile(disclosures, { subscriber: sub.name, operator: sub.home, attestation }),
    });
  }
  await Promise.all(envs.map((e) => node.waitFor(e.idHex, 30_000)));
  if (opts.walletDir) {
    mkdirSync(opts.walletDir, { recursive: true, mode: 0o700 });
    for (const w of wallets) {
      writeFileSync(
        join(opts.walletDir, `${w.name}.disclosures.json`),
        `${JSON.stringify(w.file, null, 2)}\n`,
        { mode: 0o600 },
      );
    }
  }
}
