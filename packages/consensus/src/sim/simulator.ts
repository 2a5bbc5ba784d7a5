/**
 * Deterministic simulation of a validator network running the consensus core.
 *
 * One seeded PRNG, one virtual clock and one event queue drive everything: per-message random
 * delays (hence reordering), drops, duplicates, partitions that start and heal, crashes that lose
 * all memory but the disk (sign state and decided blocks, as after kill -9) followed by restarts,
 * and one byzantine validator that equivocates (conflicting proposals and votes to different
 * peers). A run is a pure function of (seed, params); `runSeed(seed)` derives the params from
 * the seed too, so a failing seed reproduces from its number.
 *
 * The "app": a block id is sha256(height, proposer, counter); every id ever produced is in a
 * registry (the block pool), and valid(v) at height h means "v was produced for h". Each decided
 * height's state root is sha256(previous root, value).
 */
import {
  bytesToHex,
  concatBytes,
  generateSigningKey,
  nobleVerifier,
  type SignatureVerifier,
  sha256,
} from '@roamchain/protocol';
import {
  type Commit,
  type ConsensusMessage,
  type Evidence,
  type SignState,
  signProposal,
  signVote,
  valueKey,
  verifyCommit,
  verifyEvidence,
} from '../messages.js';
import { type Host, Tendermint } from '../tendermint.js';
import {
  ed25519Signer,
  type Signer,
  type TimeoutConfig,
  type TimeoutKind,
  type ValidatorSet,
  type Value,
} from '../types.js';
import { fakeSigner, fakeVerifier } from './fakesig.js';
import { Rng } from './prng.js';
import { EventQueue } from './queue.js';

export interface PartitionSpec {
  /** Virtual ms at which the partition starts and heals. */
  from: number;
  to: number;
  /** Nodes in different groups cannot talk. */
  groups: number[][];
}

export interface CrashSpec {
  node: number;
  at: number;
  restartAt: number;
}

/** Messages sent by `node` during [from, to) take `extraMin..extraMax` ms longer (a slow uplink). */
export interface SlowSpec {
  node: number;
  from: number;
  to: number;
  extraMin: number;
  extraMax: number;
}

export interface SimParams {
  /** A label for reports: 'mixed' (random faults) or 'lock-attack' (see paramsForSeed). */
  scenario: string;
  n: number;
  realSignatures: boolean;
  minDelay: number;
  maxDelay: number;
  dropRate: number;
  dupRate: number;
  /** Probability that a message is a straggler, delayed by lateMinMs..lateMaxMs (asynchrony). */
  lateRate: number;
  lateMinMs: number;
  lateMaxMs: number;
  partitions: PartitionSpec[];
  crashes: CrashSpec[];
  /** Probability that an honest validator is killed right after it precommits a value (restarts 1-30 ms later). */
  crashAfterPrecommit: number;
  /**
   * Slow uplinks: the node hears everyone at once but is heard late, so it can decide while the
   * others move to the next round without knowing; the locks must then keep them on its value.
   */
  slow: SlowSpec[];
  /** Index of the equivocating validator, or null. */
  byzantine: number | null;
  /** The byzantine validator ignores precommits (and so keeps playing in later rounds). */
  byzantineDeaf: boolean;
  /** Probability that the byzantine validator equivocates on a given message. */
  equivocateRate: number;
  /** Faults (partitions, crashes) happen before this time; the liveness window starts after it. */
  faultHorizon: number;
  /** Interval of each node's gossip (retransmission) tick. */
  gossipMs: number;
  /** Gossip on every tick, or only on ticks where the node decided nothing since the last one. */
  gossipWhen: 'always' | 'stalled';
  /** After the network heals: every honest node must decide this many more heights... */
  livenessHeights: number;
  /** ...within this much virtual time. */
  livenessBoundMs: number;
  timeouts: Partial<TimeoutConfig>;
  /** Safety valve against runaway runs. */
  maxEvents: number;
}

export interface SimReport {
  seed: number;
  params: SimParams;
  /** Lowest decided height over honest nodes at the end. */
  minHeight: number;
  maxHeight: number;
  virtualMs: number;
  events: number;
  messagesSent: number;
  safetyViolations: string[];
  liveness: {
    ok: boolean;
    /** When the last fault ended (network healed, all crashed nodes restarted). */
    healedAt: number;
    /** Height every honest node had to reach. */
    target: number;
    /** Virtual ms from heal until every honest node reached the target (null if never). */
    latencyMs: number | null;
  };
  evidence: {
    /** Conflicting vote pairs the byzantine node sent to honest nodes. */
    equivocations: number;
    /** Evidence reports by honest nodes (all verified, all against the byzantine node). */
    reports: number;
    detected: boolean;
    /** Virtual ms of the first report. */
    detectedAt: number | null;
  };
  refusedSignatures: number;
  /** How much of the algorithm the run exercised (sums over honest nodes). */
  coverage: { lockedNil: number; polPrevotes: number; maxRound: number; resumedRounds: number };
  /** Virtual ms from a height's first round-0 proposal until every honest node decided it. */
  finality: { heights: number; meanMs: number; maxMs: number };
  /** Each node at the end of the run (for failure reports). */
  nodes: string[];
  reproduce: string;
}

const hexOrNil = (v: Value | null): string => (v === null ? 'nil' : bytesToHex(v));

const CHAIN_ID = sha256(new TextEncoder().encode('roamchain-sim'));

/**
 * Derives a fault schedule and network conditions from the seed. One seed in four is a "lock
 * attack": a deaf byzantine validator (it ignores precommits, so it keeps proposing fresh blocks
 * in later rounds and backs them with its votes), a slow honest validator (it hears everyone at
 * once but is heard late, so it can decide while the others time out) and timeouts below the
 * message delays. Without the locks of L23/L29 these runs break agreement within a few heights.
 */
export function paramsForSeed(seed: number): SimParams {
  const rng = new Rng(seed ^ 0x5eed);
  const n = 4 + (((seed % 4) + 4) % 4);
  const attack = rng.chance(0.25);
  const horizon = rng.int(500, 3000);
  const byzantine = attack || rng.chance(0.8) ? rng.int(0, n - 1) : null;
  const honest = [...Array(n).keys()].filter((i) => i !== byzantine);
  const partitions: PartitionSpec[] = [];
  let t = rng.int(0, 500);
  const np = attack ? rng.int(0, 1) : rng.int(0, 2);
  for (let i = 0; i < np && t < horizon; i++) {
    const to = t + rng.int(100, 1500);
    const order = rng.shuffle([...Array(n).keys()]);
    const groups: number[][] = [];
    if (rng.chance(0.3) && n >= 6) {
      const a = rng.int(1, n - 2);
      const b = rng.int(a + 1, n - 1);
      groups.push(order.slice(0, a), order.slice(a, b), order.slice(b));
    } else {
      const a = rng.int(1, n - 1);
      groups.push(order.slice(0, a), order.slice(a));
    }
    partitions.push({ from: t, to, groups });
    t = to + rng.int(0, 800);
  }
  const crashes: CrashSpec[] = [];
  // long outages, and short kill -9/restart cycles that land inside a height (the node must
  // come back with its lock and must not sign anything conflicting)
  const nc = rng.int(0, 2);
  const nf = attack ? rng.int(3, 12) : rng.int(0, 3);
  for (let i = 0; i < nc + nf; i++) {
    const node = rng.pick(honest);
    const at = rng.int(0, horizon);
    const restartAt = at + (i < nc ? rng.int(20, 1500) : rng.int(1, 30));
    if (crashes.some((c) => c.node === node && c.restartAt >= at && c.at <= restartAt)) continue;
    crashes.push({ node, at, restartAt });
  }
  const slow: SlowSpec[] = [];
  if (attack) {
    const from = rng.int(0, 300);
    slow.push({
      node: rng.pick(honest),
      from,
      to: Math.max(horizon, from + 500),
      extraMin: 100,
      extraMax: 400,
    });
  } else if (rng.chance(0.5)) {
    const from = rng.int(0, horizon);
    slow.push({ node: rng.pick(honest), from, to: from + rng.int(200, 2000), extraMin: 50, extraMax: 600 });
  }
  // Some seeds use timeouts far below the message delays, so rounds fail often and the locking
  // rules (L23, L29, L36) carry the safety argument; timeouts still grow with the round.
  const aggressive = attack || rng.chance(0.4);
  const timeouts: Partial<TimeoutConfig> = attack
    ? {
        proposeBase: rng.int(5, 20),
        proposeDelta: rng.int(5, 15),
        prevoteBase: rng.int(2, 10),
        prevoteDelta: rng.int(2, 10),
        precommitBase: rng.int(2, 10),
        precommitDelta: rng.int(2, 10),
      }
    : aggressive
      ? {
          proposeBase: rng.int(5, 40),
          proposeDelta: rng.int(5, 30),
          prevoteBase: rng.int(2, 20),
          prevoteDelta: rng.int(5, 20),
          precommitBase: rng.int(2, 20),
          precommitDelta: rng.int(5, 20),
        }
      : {};
  return {
    scenario: attack ? 'lock-attack' : 'mixed',
    n,
    realSignatures: seed % 200 === 0,
    minDelay: 1,
    maxDelay: attack ? rng.int(5, 15) : aggressive ? rng.int(20, 80) : rng.int(5, 50),
    dropRate: attack ? rng.next() * 0.05 : rng.chance(0.25) ? 0 : rng.next() * 0.2,
    dupRate: rng.next() * 0.1,
    lateRate: !attack && rng.chance(0.5) ? rng.next() * 0.1 : 0,
    lateMinMs: 100,
    lateMaxMs: 1000,
    partitions,
    crashes,
    crashAfterPrecommit: attack ? 0.05 : rng.chance(0.2) ? 0.02 : 0,
    slow,
    byzantine,
    byzantineDeaf: attack || rng.chance(0.3),
    equivocateRate: attack ? 0.7 + rng.next() * 0.3 : 0.2 + rng.next() * 0.8,
    faultHorizon: horizon,
    gossipMs: 100,
    gossipWhen: 'always',
    livenessHeights: 3,
    livenessBoundMs: 10_000,
    timeouts,
    maxEvents: 2_000_000,
  };
}

export function runSeed(seed: number, overrides: Partial<SimParams> = {}): SimReport {
  return runSim(seed, { ...paramsForSeed(seed), ...overrides });
}

type Event =
  | { t: 'msg'; from: number; to: number; msgs: ConsensusMessage[] }
  | { t: 'timeout'; node: number; epoch: number; kind: TimeoutKind; height: bigint; round: number }
  | { t: 'gossip'; node: number; epoch: number }
  | { t: 'crash'; node: number }
  | { t: 'restart'; node: number }
  | { t: 'partition'; groups: number[][] | null }
  | { t: 'healed' }
  | { t: 'deadline' };

interface Block {
  value: Value;
  root: Uint8Array;
  commit: Commit;
}

interface SimNode {
  index: number;
  byzantine: boolean;
  signer: Signer;
  up: boolean;
  epoch: number;
  core: Tendermint | null;
  /** Survives crashes. */
  disk: { signState: SignState | null; chain: Block[] };
  pendingStart: bigint | null;
  lastSyncTo: number[];
  /** Blocks at the previous gossip tick: gossip only re-sends when the node made no progress. */
  gossipMark: number;
}

/**
 * Caches verification results across simulated nodes. Verification is a pure function of (key,
 * message, signature); the simulator hands the same (never mutated) objects to every node, so a
 * result is reused only for the identical three arrays.
 */
function cachedVerifier(inner: SignatureVerifier): SignatureVerifier {
  const cache = new WeakMap<Uint8Array, { pk: Uint8Array; msg: Uint8Array; ok: boolean }[]>();
  return {
    verify(pk, msg, sig) {
      const list = cache.get(sig);
      const hit = list?.find((e) => e.pk === pk && e.msg === msg);
      if (hit) return hit.ok;
      const ok = inner.verify(pk, msg, sig);
      if (list) list.push({ pk, msg, ok });
      else cache.set(sig, [{ pk, msg, ok }]);
      return ok;
    },
  };
}

export function runSim(seed: number, params: SimParams): SimReport {
  const rng = new Rng(seed);
  const netRng = rng.fork();
  const byzRng = rng.fork();
  const faultRng = rng.fork();
  let dynamicCrashes = 0;
  const { n } = params;
  const queue = new EventQueue<Event>();
  let now = 0;
  let events = 0;
  let messagesSent = 0;
  const violations: string[] = [];
  const violation = (s: string) => {
    if (violations.length < 20) violations.push(`t=${now}ms: ${s}`);
  };

  // Keys and the validator set
  const signers: Signer[] = [];
  const validators: ValidatorSet['validators'][number][] = [];
  for (let i = 0; i < n; i++) {
    const seedBytes = sha256(new TextEncoder().encode(`sim-validator-${seed}-${i}`));
    if (params.realSignatures) {
      const k = generateSigningKey(seedBytes);
      signers.push(ed25519Signer(k.secretKey));
      validators.push({ publicKey: k.publicKey, name: `v${i}` });
    } else {
      signers.push(fakeSigner(seedBytes));
      validators.push({ publicKey: seedBytes, name: `v${i}` });
    }
  }
  const set: ValidatorSet = { validators };
  const verifier = cachedVerifier(params.realSignatures ? nobleVerifier : fakeVerifier);

  // The app: block pool and value derivation
  const pool = new Map<string, bigint>();
  const poolByHeight = new Map<bigint, Value[]>();
  let counter = 0;
  const newValue = (height: bigint, proposer: number): Value => {
    const b = new Uint8Array(14);
    const dv = new DataView(b.buffer);
    dv.setBigUint64(0, height);
    dv.setUint16(8, proposer);
    dv.setUint32(10, counter++);
    const v = sha256(b);
    pool.set(valueKey(v), height);
    const list = poolByHeight.get(height);
    if (list) list.push(v);
    else poolByHeight.set(height, [v]);
    return v;
  };

  // Global observations for the checker
  const final = new Map<bigint, { value: string; root: string; node: number }>();
  const signedBy = new Map<string, string>();
  const proposedAt = new Map<bigint, number>();
  const decidedBy = new Map<bigint, { count: number; last: number }>();
  let equivocations = 0;
  let evidenceReports = 0;
  let detectedAt: number | null = null;
  let refused = 0;
  const coverage = { lockedNil: 0, polPrevotes: 0, maxRound: 0, resumedRounds: 0 };
  const collect = (node: SimNode) => {
    if (!node.core) return;
    const st = node.core.stats;
    refused += st.refusedSignatures;
    if (node.byzantine) return;
    coverage.lockedNil += st.lockedNil;
    coverage.polPrevotes += st.polPrevotes;
    if (st.maxRound > coverage.maxRound) coverage.maxRound = st.maxRound;
  };

  // Network
  let groups: number[][] | null = null;
  const connected = (a: number, b: number): boolean =>
    groups === null || groups.some((g) => g.includes(a) && g.includes(b));
  const delay = () =>
    netRng.chance(params.lateRate)
      ? netRng.int(params.lateMinMs, params.lateMaxMs)
      : netRng.int(params.minDelay, params.maxDelay);
  const send = (from: number, to: number, msgs: ConsensusMessage[]) => {
    messagesSent++;
    if (!connected(from, to)) return;
    if (netRng.chance(params.dropRate)) return;
    let extra = 0;
    for (const sl of params.slow) {
      if (sl.node === from && now >= sl.from && now < sl.to) extra = netRng.int(sl.extraMin, sl.extraMax);
    }
    queue.push(now + extra + delay(), { t: 'msg', from, to, msgs });
    if (netRng.chance(params.dupRate)) queue.push(now + extra + delay(), { t: 'msg', from, to, msgs });
  };

  const nodes: SimNode[] = [];
  for (let i = 0; i < n; i++) {
    nodes.push({
      index: i,
      byzantine: params.byzantine === i,
      signer: signers[i]!,
      up: true,
      epoch: 0,
      core: null,
      disk: { signState: null, chain: [] },
      pendingStart: null,
      lastSyncTo: new Array<number>(n).fill(-1e9),
      gossipMark: -1,
    });
  }
  const honest = nodes.filter((x) => !x.byzantine);

  const recordSigned = (node: SimNode, m: ConsensusMessage) => {
    if (node.byzantine || m.kind === 'commit') return;
    const [k, v] =
      m.kind === 'proposal'
        ? [
            `${m.proposal.proposer}/${m.proposal.height}/${m.proposal.round}/proposal`,
            bytesToHex(m.proposal.value),
          ]
        : [`${m.vote.validator}/${m.vote.height}/${m.vote.round}/${m.vote.type}`, hexOrNil(m.vote.value)];
    const prev = signedBy.get(k);
    if (prev === undefined) signedBy.set(k, v);
    else if (prev !== v)
      violation(`honest validator double-signed ${k}: ${prev.slice(0, 8)} vs ${v.slice(0, 8)}`);
    if (m.kind === 'proposal' && m.proposal.round === 0 && !proposedAt.has(m.proposal.height)) {
      proposedAt.set(m.proposal.height, now);
    }
  };

  const byzBacks = new Map<string, Value>();
  const byzantineBroadcast = (node: SimNode, orig: ConsensusMessage) => {
    const peers = nodes.filter((p) => p.index !== node.index);
    let m = orig;
    if (m.kind === 'proposal' && m.proposal.validRound >= 0 && byzRng.chance(0.5)) {
      // amnesia: ignore its valid value and propose a fresh block, as if it had never seen a POL
      const { signature: _, ...u } = m.proposal;
      const value = newValue(u.height, node.index);
      m = {
        kind: 'proposal',
        proposal: signProposal(CHAIN_ID, node.signer, { ...u, value, validRound: -1 }),
      };
      byzBacks.set(`${u.height}/${u.round}`, value);
    } else if (m.kind === 'vote') {
      // ...and backs that block with its own votes in that round
      const backed = byzBacks.get(`${m.vote.height}/${m.vote.round}`);
      if (backed) {
        const { signature: _, ...u } = m.vote;
        m = { kind: 'vote', vote: signVote(CHAIN_ID, node.signer, { ...u, value: backed }) };
      }
    }
    if (m.kind === 'commit' || !byzRng.chance(params.equivocateRate)) {
      for (const p of peers) send(node.index, p.index, [m]);
      return;
    }
    const height = m.kind === 'proposal' ? m.proposal.height : m.vote.height;
    const pickOther = (v: Value | null): Value | null => {
      const r = byzRng.next();
      if (r < 0.25) return byzRng.bytes(32); // an invalid block id
      if (r < 0.5 && v !== null) return null;
      const fresh = byzRng.chance(0.5);
      const candidates = (poolByHeight.get(height) ?? []).filter(
        (x) => v === null || valueKey(x) !== valueKey(v),
      );
      return fresh || candidates.length === 0 ? newValue(height, node.index) : byzRng.pick(candidates);
    };
    let alt: ConsensusMessage;
    if (m.kind === 'proposal') {
      const p = m.proposal;
      const value = pickOther(p.value) ?? newValue(height, node.index);
      const { signature: _, ...u } = p;
      // often "forgets" its valid round: a fresh value with validRound -1 tests the locks
      const validRound = byzRng.chance(0.5) ? -1 : p.validRound;
      alt = { kind: 'proposal', proposal: signProposal(CHAIN_ID, node.signer, { ...u, value, validRound }) };
    } else {
      const v = m.vote;
      const { signature: _, ...u } = v;
      alt = { kind: 'vote', vote: signVote(CHAIN_ID, node.signer, { ...u, value: pickOther(v.value) }) };
    }
    let a = 0;
    let b = 0;
    for (const p of peers) {
      const r = byzRng.next();
      if (r < 0.15) {
        send(node.index, p.index, [m, alt]);
        a++;
        b++;
      } else if (r < 0.57) {
        send(node.index, p.index, [m]);
        a++;
      } else {
        send(node.index, p.index, [alt]);
        b++;
      }
    }
    if (m.kind === 'vote' && a > 0 && b > 0) equivocations++;
  };

  const makeHost = (node: SimNode, epoch: number): Host => ({
    getValue: (height) => newValue(height, node.index),
    validValue: (value, height) => pool.get(valueKey(value)) === height,
    broadcast: (m) => {
      if (!node.up || node.epoch !== epoch) return;
      recordSigned(node, m);
      if (node.byzantine) byzantineBroadcast(node, m);
      else for (const p of nodes) if (p.index !== node.index) send(node.index, p.index, [m]);
      // kill -9 right after a precommit left (the lock is on disk, everything else is lost)
      if (
        !node.byzantine &&
        m.kind === 'vote' &&
        m.vote.type === 'precommit' &&
        m.vote.value !== null &&
        now < params.faultHorizon - 50 &&
        dynamicCrashes < 10 &&
        faultRng.chance(params.crashAfterPrecommit)
      ) {
        dynamicCrashes++;
        queue.push(now, { t: 'crash', node: node.index });
        queue.push(now + faultRng.int(1, 30), { t: 'restart', node: node.index });
      }
    },
    scheduleTimeout: (kind, height, round, ms) => {
      queue.push(now + ms, { t: 'timeout', node: node.index, epoch, kind, height, round });
    },
    decide: (height, value, commit) => onDecide(node, height, value, commit),
    persist: (state) => {
      node.disk.signState = state;
    },
    evidence: (ev: Evidence) => {
      if (node.byzantine) return;
      evidenceReports++;
      detectedAt ??= now;
      const ok = verifyEvidence(ev, set, verifier, CHAIN_ID);
      if (!ok.ok) violation(`node ${node.index} reported invalid evidence: ${ok.reason}`);
      if (ev.a.validator !== params.byzantine)
        violation(`evidence against honest validator ${ev.a.validator}`);
    },
  });

  const onDecide = (node: SimNode, height: bigint, value: Value, commit: Commit) => {
    const chain = node.disk.chain;
    if (height !== BigInt(chain.length + 1)) {
      violation(`node ${node.index} decided height ${height} with ${chain.length} blocks`);
      return;
    }
    const vc = verifyCommit(commit, set, verifier, CHAIN_ID);
    if (!vc.ok) violation(`node ${node.index} decided with an invalid commit at ${height}: ${vc.reason}`);
    const prevRoot = chain.length > 0 ? chain[chain.length - 1]!.root : new Uint8Array(32);
    const root = sha256(concatBytes(prevRoot, value));
    chain.push({ value, root, commit });
    node.pendingStart = height + 1n;
    if (node.byzantine) return;
    const vk = bytesToHex(value);
    const rk = bytesToHex(root);
    const f = final.get(height);
    if (!f) final.set(height, { value: vk, root: rk, node: node.index });
    else {
      if (f.value !== vk) {
        violation(
          `two blocks final at height ${height}: ${f.value.slice(0, 8)} (node ${f.node}) and ${vk.slice(0, 8)} (node ${node.index})`,
        );
      }
      if (f.root !== rk) violation(`state roots differ at height ${height} (nodes ${f.node}, ${node.index})`);
    }
    const d = decidedBy.get(height) ?? { count: 0, last: 0 };
    d.count++;
    d.last = now;
    decidedBy.set(height, d);
  };

  const flush = (node: SimNode) => {
    while (node.pendingStart !== null && node.core) {
      const h = node.pendingStart;
      node.pendingStart = null;
      node.core.start(h);
    }
  };

  const boot = (node: SimNode) => {
    node.epoch++;
    node.up = true;
    node.pendingStart = null;
    node.core = new Tendermint({
      chainId: CHAIN_ID,
      validators: set,
      self: node.index,
      signer: node.signer,
      verifier,
      host: makeHost(node, node.epoch),
      signState: node.disk.signState,
      timeouts: params.timeouts,
    });
    const height = BigInt(node.disk.chain.length + 1);
    if (node.disk.signState?.height === height) coverage.resumedRounds++;
    node.core.start(height);
    flush(node);
    queue.push(now + netRng.int(1, params.gossipMs), { t: 'gossip', node: node.index, epoch: node.epoch });
  };

  const crash = (node: SimNode) => {
    collect(node);
    node.up = false;
    node.core = null;
    node.epoch++;
    node.pendingStart = null;
  };

  /** Block sync: a peer sent messages of a height below ours, so send it the commits it lacks. */
  const maybeSync = (node: SimNode, peer: number, peerHeight: bigint) => {
    const chain = node.disk.chain;
    if (peerHeight > BigInt(chain.length) || peerHeight < 1n) return;
    if (now - node.lastSyncTo[peer]! < 20) return;
    node.lastSyncTo[peer] = now;
    const msgs: ConsensusMessage[] = [];
    for (let h = Number(peerHeight); h <= chain.length && msgs.length < 32; h++) {
      msgs.push({ kind: 'commit', commit: chain[h - 1]!.commit });
    }
    send(node.index, peer, msgs);
  };

  // Schedule faults
  for (const p of params.partitions) {
    queue.push(p.from, { t: 'partition', groups: p.groups });
    queue.push(p.to, { t: 'partition', groups: null });
  }
  for (const c of params.crashes) {
    queue.push(c.at, { t: 'crash', node: c.node });
    queue.push(c.restartAt, { t: 'restart', node: c.node });
  }
  const healedAt = Math.max(
    params.faultHorizon,
    ...params.partitions.map((p) => p.to),
    ...params.crashes.map((c) => c.restartAt),
    ...params.slow.map((x) => x.to),
  );
  queue.push(healedAt, { t: 'healed' });
  queue.push(healedAt + params.livenessBoundMs, { t: 'deadline' });

  for (const node of nodes) boot(node);

  let target = -1;
  let latency: number | null = null;
  const minHonest = () => Math.min(...honest.map((x) => x.disk.chain.length));

  for (;;) {
    const next = queue.pop();
    if (!next) break;
    now = next.time;
    events++;
    if (events > params.maxEvents) {
      violation(`event budget of ${params.maxEvents} exhausted`);
      break;
    }
    const e = next.item;
    if (e.t === 'msg') {
      const node = nodes[e.to]!;
      if (!node.up || !node.core) continue;
      let peerHeight = 0n;
      for (const m of e.msgs) {
        const mh =
          m.kind === 'proposal' ? m.proposal.height : m.kind === 'vote' ? m.vote.height : m.commit.height;
        if (m.kind !== 'commit' && mh > peerHeight) peerHeight = mh;
        // a "deaf" byzantine validator ignores others' precommits, so it does not decide with
        // the others and keeps proposing and voting in later rounds of the height
        if (node.byzantine && params.byzantineDeaf && m.kind === 'vote' && m.vote.type === 'precommit')
          continue;
        node.core.onMessage(m);
        flush(node);
      }
      if (peerHeight > 0n && peerHeight < node.core.height) maybeSync(node, e.from, peerHeight);
    } else if (e.t === 'timeout') {
      const node = nodes[e.node]!;
      if (!node.up || !node.core || node.epoch !== e.epoch) continue;
      node.core.onTimeout(e.kind, e.height, e.round);
      flush(node);
    } else if (e.t === 'gossip') {
      const node = nodes[e.node]!;
      if (!node.up || !node.core || node.epoch !== e.epoch) continue;
      const stalled = node.gossipMark === node.disk.chain.length;
      node.gossipMark = node.disk.chain.length;
      const msgs = stalled || params.gossipWhen === 'always' ? node.core.gossip() : [];
      if (msgs.length > 0) for (const p of nodes) if (p.index !== node.index) send(node.index, p.index, msgs);
      queue.push(now + params.gossipMs, { t: 'gossip', node: node.index, epoch: e.epoch });
    } else if (e.t === 'crash') {
      crash(nodes[e.node]!);
    } else if (e.t === 'restart') {
      const node = nodes[e.node]!;
      if (!node.up) boot(node);
    } else if (e.t === 'partition') {
      groups = e.groups;
    } else if (e.t === 'healed') {
      target = Math.max(...honest.map((x) => x.disk.chain.length)) + params.livenessHeights;
    } else if (e.t === 'deadline') {
      break;
    }
    if (target >= 0 && latency === null && minHonest() >= target) latency = now - healedAt;
    // keep running until the equivocation is detected too (bounded by the same deadline)
    if (latency !== null && (equivocations === 0 || detectedAt !== null)) break;
  }
  for (const node of nodes) collect(node);

  let finalityN = 0;
  let finalitySum = 0;
  let finalityMax = 0;
  for (const [h, t0] of proposedAt) {
    const d = decidedBy.get(h);
    if (!d || d.count < honest.length) continue;
    const dt = d.last - t0;
    finalityN++;
    finalitySum += dt;
    if (dt > finalityMax) finalityMax = dt;
  }

  return {
    seed,
    params,
    minHeight: minHonest(),
    maxHeight: Math.max(...honest.map((x) => x.disk.chain.length)),
    virtualMs: now,
    events,
    messagesSent,
    safetyViolations: violations,
    liveness: { ok: latency !== null, healedAt, target, latencyMs: latency },
    evidence: { equivocations, reports: evidenceReports, detected: evidenceReports > 0, detectedAt },
    refusedSignatures: refused,
    coverage,
    nodes: nodes.map((x) => {
      const s = x.core?.snapshot();
      const state = s
        ? `h=${s.height} r=${s.round} ${s.step} locked=${s.lockedRound} valid=${s.validRound}${s.decided ? ' decided' : ''}`
        : 'down';
      return `${x.index}${x.byzantine ? ' (byzantine)' : ''}: blocks=${x.disk.chain.length} ${state}`;
    }),
    finality: { heights: finalityN, meanMs: finalityN ? finalitySum / finalityN : 0, maxMs: finalityMax },
    reproduce: `SEED=${seed} npx vitest run packages/consensus/test/sim.test.ts`,
  };
}
