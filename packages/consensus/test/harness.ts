/** Test kit: four validators with real Ed25519 keys, a recording host, message builders. */
import { generateSigningKey, nobleVerifier, sha256, utf8 } from '@roamchain/protocol';
import {
  type Commit,
  type ConsensusMessage,
  type Evidence,
  ed25519Signer,
  type Host,
  makeCommit,
  type Proposal,
  proposerIndex,
  type Signer,
  type SignState,
  signProposal,
  signVote,
  Tendermint,
  type TendermintOptions,
  type TimeoutKind,
  type ValidatorSet,
  type Value,
  type Vote,
  type VoteType,
} from '../src/index.js';

export const CHAIN = sha256(utf8('roamchain-test-chain'));
export const OTHER_CHAIN = sha256(utf8('another-chain'));
export const N = 4;

export const signers: Signer[] = [];
export const set: ValidatorSet = {
  validators: Array.from({ length: N }, (_, i) => {
    const k = generateSigningKey(sha256(utf8(`validator-${i}`)));
    signers.push(ed25519Signer(k.secretKey));
    return { publicKey: k.publicKey, name: `v${i}` };
  }),
};

export const A = sha256(utf8('block A'));
export const B = sha256(utf8('block B'));
export const C = sha256(utf8('block C'));
/** A block id the app rejects. */
export const BAD = sha256(utf8('bad block'));

export function vote(
  validator: number,
  type: VoteType,
  height: bigint,
  round: number,
  value: Value | null,
): Vote {
  return signVote(CHAIN, signers[validator]!, { type, height, round, value, validator });
}

export function proposal(height: bigint, round: number, value: Value, validRound = -1): Proposal {
  const proposer = proposerIndex(height, round, N);
  return signProposal(CHAIN, signers[proposer]!, { height, round, value, validRound, proposer });
}

export function commitOf(height: bigint, round: number, value: Value, validators: number[]): Commit {
  return makeCommit(
    height,
    round,
    value,
    validators.map((i) => vote(i, 'precommit', height, round, value)),
  );
}

/** Records every host call; `log` keeps the order of persist/broadcast for the persist-first check. */
export class RecordingHost implements Host {
  sent: ConsensusMessage[] = [];
  timeouts: { kind: TimeoutKind; height: bigint; round: number; ms: number }[] = [];
  decisions: { height: bigint; value: Value; commit: Commit }[] = [];
  persisted: SignState[] = [];
  evidences: Evidence[] = [];
  log: string[] = [];
  nextValues: Value[] = [A, B, C];
  getValueCalls = 0;
  disk: SignState | null = null;

  getValue(): Value {
    this.getValueCalls++;
    return this.nextValues.shift() ?? C;
  }
  validValue(value: Value): boolean {
    return !value.every((b, i) => b === BAD[i]);
  }
  timely?: (value: Value, height: bigint, round: number) => boolean;
  broadcast(msg: ConsensusMessage): void {
    this.sent.push(msg);
    this.log.push(`broadcast ${describe(msg)}`);
  }
  scheduleTimeout(kind: TimeoutKind, height: bigint, round: number, ms: number): void {
    this.timeouts.push({ kind, height, round, ms });
  }
  decide(height: bigint, value: Value, commit: Commit): void {
    this.decisions.push({ height, value, commit });
  }
  persist(state: SignState): void {
    this.persisted.push(state);
    this.disk = state;
    this.log.push(`persist ${state.height}/${state.round}/${state.step}`);
  }
  evidence(ev: Evidence): void {
    this.evidences.push(ev);
  }

  votes(type?: VoteType): Vote[] {
    return this.sent.flatMap((m) => (m.kind === 'vote' && (!type || m.vote.type === type) ? [m.vote] : []));
  }
  proposals(): Proposal[] {
    return this.sent.flatMap((m) => (m.kind === 'proposal' ? [m.proposal] : []));
  }
  lastVote(): Vote | undefined {
    return this.votes().at(-1);
  }
}

export function describe(m: ConsensusMessage): string {
  if (m.kind === 'proposal') return `proposal ${m.proposal.height}/${m.proposal.round}`;
  if (m.kind === 'vote') return `${m.vote.type} ${m.vote.height}/${m.vote.round}`;
  return `commit ${m.commit.height}`;
}

export function node(
  self: number | null,
  host = new RecordingHost(),
  extra: Partial<TendermintOptions> = {},
): { core: Tendermint; host: RecordingHost } {
  const core = new Tendermint({
    chainId: CHAIN,
    validators: set,
    self,
    signer: self === null ? null : signers[self]!,
    verifier: nobleVerifier,
    host,
    signState: host.disk,
    ...extra,
  });
  return { core, host };
}

export const hex = (v: Value | null | undefined): string =>
  v === null ? 'nil' : v === undefined ? 'none' : Buffer.from(v).toString('hex').slice(0, 8);
