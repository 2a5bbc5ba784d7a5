/**
 * Deterministic simulation: many seeds, each a network of 4 to 7 validators with random delays,
 * drops, duplicates, partitions, crashes with restarts and (mostly) one equivocating validator.
 *
 *   SEEDS=5000 npx vitest run packages/consensus/test/sim.test.ts   # more seeds (default 1000)
 *   SEED=123 npx vitest run packages/consensus/test/sim.test.ts     # one seed, with its report
 */
import { describe, expect, it } from 'vitest';
import { paramsForSeed, runSeed, runSim, type SimParams, type SimReport } from '../src/sim/index.js';

const one = process.env.SEED;
const count = Number(process.env.SEEDS ?? 1000);
const seeds = one !== undefined ? [Number(one)] : Array.from({ length: count }, (_, i) => i + 1);

function problems(r: SimReport): string[] {
  const out = [...r.safetyViolations];
  if (!r.liveness.ok) {
    out.push(
      `liveness: honest nodes did not all reach height ${r.liveness.target} within ` +
        `${r.params.livenessBoundMs} ms after the last fault ended (${r.liveness.healedAt} ms)`,
    );
  }
  if (r.evidence.equivocations > 0 && !r.evidence.detected) out.push('the equivocation was never detected');
  return out;
}

function explain(r: SimReport, p: string[]): string {
  const { params: q } = r;
  return [
    `seed ${r.seed} FAILED (n=${q.n}, byzantine=${q.byzantine}, ${q.partitions.length} partition(s), ` +
      `${q.crashes.length} crash(es), drop=${q.dropRate.toFixed(3)}, delay ${q.minDelay}-${q.maxDelay} ms, ` +
      `real signatures: ${q.realSignatures})`,
    ...p.map((x) => `  - ${x}`),
    ...r.nodes.map((x) => `  node ${x}`),
    `  reproduce: ${r.reproduce}`,
  ].join('\n');
}

describe('deterministic simulation', () => {
  it(`${seeds.length} seed(s): no safety violation, liveness after the network heals, equivocation detected`, () => {
    const started = performance.now();
    const failures: string[] = [];
    let real = 0;
    let heights = 0;
    let byzantine = 0;
    let equivocating = 0;
    let detected = 0;
    let crashes = 0;
    let partitions = 0;
    let refused = 0;
    let attacks = 0;
    let lockedNil = 0;
    let resumed = 0;
    let maxLatency = 0;
    const byN = new Map<number, number>();
    for (const seed of seeds) {
      const r = runSeed(seed);
      const p = problems(r);
      if (p.length > 0) failures.push(explain(r, p));
      if (one !== undefined) {
        const { nodes, params, ...rest } = r;
        console.log(JSON.stringify({ params, ...rest }, null, 2), `\n${nodes.join('\n')}`);
      }
      if (r.params.realSignatures) real++;
      heights += r.minHeight;
      if (r.params.byzantine !== null) byzantine++;
      if (r.evidence.equivocations > 0) equivocating++;
      if (r.evidence.equivocations > 0 && r.evidence.detected) detected++;
      crashes += r.params.crashes.length;
      partitions += r.params.partitions.length;
      refused += r.refusedSignatures;
      if (r.params.scenario === 'lock-attack') attacks++;
      lockedNil += r.coverage.lockedNil;
      resumed += r.coverage.resumedRounds;
      if (r.liveness.latencyMs !== null && r.liveness.latencyMs > maxLatency)
        maxLatency = r.liveness.latencyMs;
      byN.set(r.params.n, (byN.get(r.params.n) ?? 0) + 1);
    }
    console.log(
      `simulated ${seeds.length} seed(s) in ${((performance.now() - started) / 1000).toFixed(1)} s: ` +
        `n=${[...byN].map(([n, c]) => `${n}:${c}`).join(' ')}, ${real} with real Ed25519, ` +
        `${heights} heights decided, ${byzantine} with a byzantine validator (${equivocating} equivocated, ${detected} detected), ` +
        `${attacks} lock-attack seeds, ${lockedNil} prevotes kept nil by a lock, ` +
        `${partitions} partitions, ${crashes} scheduled crash/restarts, ${resumed} restarts inside a height ` +
        `(${refused} signatures refused), ` +
        `slowest recovery after heal ${maxLatency} ms (bound ${paramsForSeed(1).livenessBoundMs} ms), ` +
        `${failures.length} failing seed(s)`,
    );
    expect(failures, failures.join('\n\n')).toEqual([]);
  }, 900_000);

  it('a run is a pure function of its seed', () => {
    const a = runSeed(77);
    const b = runSeed(77);
    expect(JSON.stringify(b)).toBe(JSON.stringify(a));
    expect(JSON.stringify(runSeed(78))).not.toBe(JSON.stringify(a));
  });

  it('happy path: a block is final milliseconds after it is proposed (5 ms links, no timeout waited for)', () => {
    for (const n of [4, 7]) {
      const params: SimParams = {
        scenario: 'happy path',
        n,
        realSignatures: n === 4,
        minDelay: 5,
        maxDelay: 5,
        dropRate: 0,
        dupRate: 0,
        lateRate: 0,
        lateMinMs: 0,
        lateMaxMs: 0,
        partitions: [],
        crashes: [],
        crashAfterPrecommit: 0,
        slow: [],
        byzantine: null,
        byzantineDeaf: false,
        equivocateRate: 0,
        faultHorizon: 300,
        gossipMs: 100,
        gossipWhen: 'always',
        livenessHeights: 3,
        livenessBoundMs: 10_000,
        timeouts: {},
        maxEvents: 1_000_000,
      };
      const r = runSim(1, params);
      console.log(
        `happy path n=${n}: ${r.finality.heights} heights in ${r.virtualMs} virtual ms, proposal -> final at every ` +
          `node: mean ${r.finality.meanMs.toFixed(1)} ms, max ${r.finality.maxMs} ms`,
      );
      expect(problems(r)).toEqual([]);
      expect(r.finality.heights).toBeGreaterThanOrEqual(10);
      // proposal, prevotes, precommits: three 5 ms hops; far below timeoutPropose (300 ms)
      expect(r.finality.maxMs).toBeLessThanOrEqual(15);
    }
  });
});
