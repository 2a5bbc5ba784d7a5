/**
 * A usage simulator for the devnet: feeds synthetic TAP-like records for every provisioned, open
 * contract of the given agents (a fifth of the package per record by default), so a purchase
 * completes by itself. Record ids are derived from the contract and a counter kept in the agent's
 * state, so a restart does not invent usage twice.
 */
import type { Agent } from './agent.js';

export interface SimulatorOptions {
  intervalMs?: number;
  /** Records per package (default 5). */
  stepsPerPackage?: number;
}

export function startUsageSimulator(agents: Agent[], opts: SimulatorOptions = {}): { stop(): void } {
  const interval = opts.intervalMs ?? 2000;
  const steps = BigInt(opts.stepsPerPackage ?? 5);
  const sizes = new Map<string, bigint>();
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    void (async () => {
      for (const a of agents) {
        for (const [cid, u] of a.store.activeContracts()) {
          if (!u.provisioned || u.closed || u.refused) continue;
          let size = sizes.get(cid);
          if (size === undefined) {
            try {
              const c = (await a.client.contract(cid)).contract;
              const data = BigInt(c.dataBytes);
              size = data > 0n ? data / steps : 50_000_000n;
              if (size < 1_000_000n) size = 1_000_000n;
              sizes.set(cid, size);
            } catch {
              continue;
            }
          }
          const up = size / 10n;
          // A duration consistent with the line rate (the agent quarantines faster-than-light usage).
          const rate = a.cfg.billing.maxLineRateBps;
          const minSec = Number((size * 8n + rate - 1n) / rate);
          a.ingest([
            {
              recordId: `sim-${cid.slice(0, 16)}-${u.records + 1}`,
              contractId: cid,
              usageType: 'data',
              start: Date.now(),
              durationSec: Math.max(Math.round(interval / 1000), minSec),
              bytesUp: up.toString(),
              bytesDown: (size - up).toString(),
            },
          ]);
        }
      }
    })().finally(() => {
      busy = false;
    });
  }, interval);
  timer.unref?.();
  return { stop: () => clearInterval(timer) };
}
