/**
 * Test and benchmark kit: deterministic keys, a genesis builder that satisfies SPEC §2, and an
 * in-memory chain that produces real signed blocks with the same BlockBuilder a node uses.
 * Deterministic keys are for tests and the local devnet only; real accounts use the keystore.
 */
import {
  type Block,
  type BlockHeader,
  blockId,
  type ChainParams,
  commitCodec,
  defaultParams,
  encode,
  envelope,
  equalBytes,
  type Genesis,
  type GenesisAccount,
  generateEncryptionKey,
  generateSigningKey,
  type KeyPair,
  lastCommitHashOf,
  merkleRoot,
  nobleVerifier,
  type Operation,
  type Role,
  refPrefixOf,
  type SignatureVerifier,
  sha256,
  sign,
  signTx,
  type TxEnvelope,
  UMT_ALLOCATION_BPS,
  UMT_SUPPLY,
  utf8,
  voteSignBytes,
} from '@roamchain/protocol';
import { BlockBuilder, type BlockResult, headerVersion, type TxReceipt } from './apply.js';
import { genesisState } from './genesis.js';
import { protocolVersionAt } from './governance.js';
import type { LedgerState } from './ledger.js';
import { validatorSetFor } from './validators.js';

export interface AccountKeys {
  signing: KeyPair;
  encryption: KeyPair;
}

/** Keys derived from a name and a seed phrase: reproducible, never for production. */
export function derivedKeys(name: string, seed = 'roamchain-devnet'): AccountKeys {
  return {
    signing: generateSigningKey(sha256(utf8(`${seed}/sign/${name}`))),
    encryption: generateEncryptionKey(sha256(utf8(`${seed}/enc/${name}`))),
  };
}

let ephemeralCounter = 0;
/**
 * A distinct 32-byte Request ephemeral key for tests (a contract's id derives from it). Unique
 * within a process; not a real X25519 key, since state tests never decrypt.
 */
export function freshEphemeralKey(): Uint8Array {
  return sha256(utf8(`test-ephemeral/${ephemeralCounter++}`));
}

export interface GenesisSpec {
  chainName?: string;
  genesisTime?: bigint;
  accounts: { name: string; roles?: Role[]; homeOperator?: string }[];
  /** UMT from the crowdsale bucket per account; the rest of the bucket stays with "crowdsale". */
  umt?: Record<string, bigint>;
  /**
   * Validator owners of epoch 0 (default: the first node_owner, else "ndf"). Each bonds
   * `params.minValidatorBond`, allocated from the crowdsale bucket on top of its `umt` entry (a fund
   * account bonds from its own bucket), so its free balance is still what `umt` says. Its node key
   * is its account signing key here (a node signs blocks with it); real deployments use a
   * separate node key.
   */
  validators?: string[];
  seed?: string;
  /** Overrides of the default chain parameters (e.g. a short epoch or unbonding delay). */
  params?: Partial<ChainParams>;
}

export const FUND_ACCOUNTS = ['crowdsale', 'bounty', 'tcdf', 'ndf', 'founders'] as const;

export function buildGenesis(spec: GenesisSpec): { genesis: Genesis; keys: Map<string, AccountKeys> } {
  const keys = new Map<string, AccountKeys>();
  const accounts: GenesisAccount[] = [];
  const add = (name: string, roles: Role[] = [], homeOperator?: string) => {
    if (keys.has(name)) return;
    const k = derivedKeys(name, spec.seed);
    keys.set(name, k);
    accounts.push({
      name,
      signingKey: k.signing.publicKey,
      encryptionKey: k.encryption.publicKey,
      roles,
      ...(homeOperator !== undefined ? { homeOperator } : {}),
    });
  };
  for (const f of FUND_ACCOUNTS) add(f);
  for (const a of spec.accounts) add(a.name, a.roles ?? [], a.homeOperator);
  const validators = spec.validators ?? [
    spec.accounts.find((a) => a.roles?.includes('node_owner'))?.name ?? 'ndf',
  ];
  const params: ChainParams = { ...defaultParams(), ...spec.params };
  const bond = params.minValidatorBond;
  const bucket = (b: keyof typeof UMT_ALLOCATION_BPS) => (UMT_SUPPLY * UMT_ALLOCATION_BPS[b]) / 10_000n;
  const allocations: Genesis['allocations'] = [];
  const crowdsale = new Map(Object.entries(spec.umt ?? {}));
  for (const v of validators) {
    if (!(FUND_ACCOUNTS as readonly string[]).includes(v)) crowdsale.set(v, (crowdsale.get(v) ?? 0n) + bond);
  }
  let crowd = bucket('crowdsale');
  for (const [name, amount] of crowdsale) {
    allocations.push({ bucket: 'crowdsale', account: name, amount });
    crowd -= amount;
  }
  if (crowd < 0n) throw new Error('crowdsale bucket exceeded');
  if (crowd > 0n) allocations.push({ bucket: 'crowdsale', account: 'crowdsale', amount: crowd });
  allocations.push({ bucket: 'bounty', account: 'bounty', amount: bucket('bounty') });
  allocations.push({ bucket: 'tcdf', account: 'tcdf', amount: bucket('tcdf') });
  allocations.push({ bucket: 'ndf', account: 'ndf', amount: bucket('ndf') });
  allocations.push({ bucket: 'founders', account: 'founders', amount: bucket('founders') });
  const genesis: Genesis = {
    chainName: spec.chainName ?? 'roamchain-test',
    genesisTime: spec.genesisTime ?? 1_767_225_600_000n, // 2026-01-01T00:00:00Z
    params,
    accounts,
    allocations,
    validators: validators.map((account) => ({
      account,
      nodeKey: keys.get(account)!.signing.publicKey,
      bond,
    })),
  };
  return { genesis, keys };
}

export interface TestChainOptions {
  verifier?: SignatureVerifier | null;
  producer?: string;
  blockMs?: bigint;
  /** The highest protocol version the chain's "software" implements (default PROTOCOL_VERSION). */
  protocolVersion?: number;
}

/** A single-producer chain in memory, producing real blocks. */
export class TestChain {
  readonly state: LedgerState;
  readonly chainId: Uint8Array;
  headId: Uint8Array;
  readonly blocks: { block: Block; envelopes: TxEnvelope[] }[] = [];
  readonly producer: string;
  private readonly verifier: SignatureVerifier | null;
  readonly blockMs: bigint;
  private readonly protocolVersion: number | undefined;
  /**
   * Validators whose precommits the next blocks' parent commits leave out (a Super Node that misses
   * votes). Every other member of the parent's set signs a round-0 precommit with its node key when
   * the kit knows it (genesis validators: their account key), else a zero signature — the state
   * machine reads who signed; the Application verifies signatures.
   */
  readonly absentVoters = new Set<string>();

  constructor(
    readonly genesis: Genesis,
    readonly keys: Map<string, AccountKeys>,
    opts: TestChainOptions = {},
  ) {
    const g = genesisState(genesis);
    this.state = g.state;
    this.chainId = g.chainId;
    this.headId = g.chainId;
    this.producer = opts.producer ?? genesis.validators[0]!.account;
    this.verifier = opts.verifier === undefined ? nobleVerifier : opts.verifier;
    this.blockMs = opts.blockMs ?? 500n;
    this.protocolVersion = opts.protocolVersion;
  }

  get height(): bigint {
    return this.state.meta.height;
  }
  get time(): bigint {
    return this.state.meta.time;
  }

  /** A signed transaction referencing the current head (TaPoS), expiring in 10 minutes. */
  tx(
    ops: Operation[],
    opts: { signers?: Record<string, Uint8Array>; expiration?: bigint; chainId?: Uint8Array } = {},
  ): TxEnvelope {
    const signers: Record<string, Uint8Array> = opts.signers ?? {};
    if (!opts.signers) for (const [n, k] of this.keys) signers[n] = k.signing.secretKey;
    const tx = signTx(
      {
        chainId: opts.chainId ?? this.chainId,
        refBlockNum: Number(this.height),
        refBlockPrefix: refPrefixOf(this.headId),
        expiration: opts.expiration ?? this.time + 600_000n,
        ops,
      },
      signers,
    );
    return envelope(tx);
  }

  /** The commit of the head block the next block carries (empty at genesis or if nobody signs). */
  parentCommit(): Uint8Array {
    const height = this.height;
    if (height === 0n) return new Uint8Array(0);
    const signatures = validatorSetFor(this.state, height).flatMap((m, validator) => {
      if (this.absentVoters.has(m.account)) return [];
      const key = [...this.keys.values()].find((k) => equalBytes(k.signing.publicKey, m.nodeKey));
      const bytes = voteSignBytes(this.chainId, {
        type: 'precommit',
        height,
        round: 0,
        value: this.headId,
        validator,
      });
      return [{ validator, signature: key ? sign(key.signing.secretKey, bytes) : new Uint8Array(64) }];
    });
    if (signatures.length === 0) return new Uint8Array(0);
    return encode(commitCodec, { height, round: 0, value: this.headId, signatures });
  }

  /** Produce a block with the given transactions; all must be valid. */
  block(envs: TxEnvelope[], opts: { time?: bigint } = {}): { block: Block; result: BlockResult } {
    const time = opts.time ?? this.time + this.blockMs;
    const lastCommit = this.parentCommit();
    const version = headerVersion(protocolVersionAt(this.state, this.height + 1n));
    const b = new BlockBuilder(
      this.state,
      { height: this.height + 1n, time, prev: this.headId, producer: this.producer, lastCommit },
      {
        verifier: this.verifier,
        ...(this.protocolVersion !== undefined ? { protocolVersion: this.protocolVersion } : {}),
      },
    );
    for (const e of envs) b.apply(e);
    const result = b.finish();
    const header: BlockHeader = {
      version,
      chainId: this.chainId,
      height: this.height,
      prev: this.headId,
      time,
      producer: this.producer,
      txRoot: merkleRoot(envs.map((e) => e.id)),
      stateRoot: result.stateRoot,
      txCount: envs.length,
      lastCommitHash: lastCommitHashOf(lastCommit),
    };
    const id = blockId(header);
    const block: Block = {
      header,
      txs: envs.map((e) => e.tx),
      signature: sign(this.keys.get(this.producer)!.signing.secretKey, id),
      lastCommit,
    };
    this.headId = id;
    this.blocks.push({ block, envelopes: envs });
    return { block, result };
  }

  /** Submit operations as one transaction in a block of its own; returns its receipt (throws its error). */
  submit(ops: Operation[], opts: Parameters<TestChain['tx']>[1] & { time?: bigint } = {}): TxReceipt {
    const env = this.tx(ops, opts);
    return this.block([env], opts.time !== undefined ? { time: opts.time } : {}).result.receipts[0]!;
  }
}
