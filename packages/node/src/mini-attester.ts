/**
 * The Mini Node side of `roamchain node --mini <owner>` (docs/GOVERNANCE.md §8). A Mini Node is a
 * full node: it syncs blocks from its peers and re-validates each (state root included) before it
 * commits it, and it never votes or proposes. After it commits a block whose height is a multiple
 * of `miniAttestInterval`, it signs (height, its own state root) with its node key and hands the
 * attestation to its Super Node's API (POST /v1/mininodes/attestations), which puts it on chain.
 *
 * Bounded: at most MAX_BACKLOG attestations wait (older ones are dropped: an attestation only
 * needs to be recent), each is tried at most MAX_TRIES times with a growing pause.
 */
import {
  bytesToHex,
  type ChainParams,
  generateSigningKey,
  type MiniAttestation,
  miniAttestSignBytes,
  sign,
} from '@roamchain/protocol';
import { K } from '@roamchain/state';
import type { AppliedBlock } from './interfaces.js';
import type { Node } from './node.js';

const MAX_BACKLOG = 16;
const MAX_TRIES = 8;

export interface MiniAttesterOptions {
  /** The Mini Node's owner account (its id on chain). */
  owner: string;
  /** The node key's 32-byte secret (the key registered by `mini_bond`). */
  secretKey: Uint8Array;
  /** Base URL of the Super Node's API. */
  superUrl: string;
  log: (level: 'info' | 'warn' | 'debug', msg: string, data?: Record<string, unknown>) => void;
  fetch?: typeof fetch;
}

export interface MiniAttester {
  readonly publicKey: Uint8Array;
  /** Attestations the Super Node accepted, and the last height sent. */
  readonly stats: { sent: number; lastHeight: number; failures: number };
  stop(): void;
}

export function startMiniAttester(node: Node, opts: MiniAttesterOptions): MiniAttester {
  const { publicKey } = generateSigningKey(opts.secretKey);
  const doFetch = opts.fetch ?? fetch;
  const stats = { sent: 0, lastHeight: 0, failures: 0 };
  const backlog: { a: MiniAttestation; tries: number }[] = [];
  let stopped = false;
  let busy = false;
  let timer: NodeJS.Timeout | null = null;

  const schedule = (ms: number) => {
    if (stopped || timer) return;
    timer = setTimeout(() => {
      timer = null;
      void flush();
    }, ms);
    timer.unref();
  };

  async function flush(): Promise<void> {
    if (busy || stopped || backlog.length === 0) return;
    busy = true;
    const batch = backlog.splice(0, backlog.length);
    try {
      const res = await doFetch(`${opts.superUrl.replace(/\/$/, '')}/v1/mininodes/attestations`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          attestations: batch.map(({ a }) => ({
            mini: a.mini,
            height: a.height.toString(),
            stateRoot: bytesToHex(a.stateRoot),
            signature: bytesToHex(a.signature),
          })),
        }),
        signal: AbortSignal.timeout(10_000),
      });
      const body = (await res.json().catch(() => ({}))) as Record<string, unknown>;
      if (!res.ok) throw Object.assign(new Error(String(body.message ?? res.status)), { code: body.code });
      stats.sent += batch.length;
      stats.lastHeight = Number(batch[batch.length - 1]!.a.height);
      opts.log('info', 'mini attestation handed to the Super Node', {
        height: stats.lastHeight,
        tx: body.attestTx,
      });
    } catch (e) {
      stats.failures++;
      const again = batch.filter((x) => ++x.tries < MAX_TRIES);
      backlog.unshift(...again);
      backlog.splice(0, Math.max(0, backlog.length - MAX_BACKLOG));
      opts.log('warn', 'mini attestation not accepted yet', {
        err: (e as Error).message,
        code: (e as { code?: unknown }).code,
        retrying: again.length,
      });
      schedule(Math.min(30_000, 500 * 2 ** Math.min(6, again[0]?.tries ?? 0)));
    } finally {
      busy = false;
    }
    if (backlog.length > 0) schedule(0);
  }

  const off = node.onBlock((b: AppliedBlock) => {
    const p = node.state.get<ChainParams>(K.params)!;
    if (b.height % p.miniAttestInterval !== 0) return;
    // The node applied this block itself and found the header's state root equal to its own.
    const body = { mini: opts.owner, height: BigInt(b.height), stateRoot: b.block.header.stateRoot };
    const signature = sign(opts.secretKey, miniAttestSignBytes(node.chainId, body));
    backlog.push({ a: { ...body, signature }, tries: 0 });
    backlog.splice(0, Math.max(0, backlog.length - MAX_BACKLOG));
    void flush();
  });

  return {
    publicKey,
    stats,
    stop() {
      stopped = true;
      off();
      if (timer) clearTimeout(timer);
    },
  };
}
