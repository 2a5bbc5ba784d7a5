/** Starting a node or the devnet for `roamchain node` / `roamchain devnet`. */
import { RoamError } from '@roamchain/protocol';

/**
 * `roamchain node` and `roamchain devnet` (loaded on demand: the other commands never load the node).
 * A keystore producer's key is read here, where keystores are known (the node does not depend on the SDK).
 */
export async function loadLauncher(
  fn: 'runNode' | 'runDevnet',
): Promise<(opts: Record<string, unknown>) => unknown> {
  if (fn === 'runDevnet') {
    const { runDevnet } = await import('@roamchain/devnet');
    return runDevnet as (opts: Record<string, unknown>) => unknown;
  }
  const { runNode } = await import('@roamchain/node');
  const loadProducerKey = async (path: string, account: string): Promise<Uint8Array> => {
    const { Keystore, passphraseFromEnv } = await import('@roamchain/sdk/keystore');
    const pass = passphraseFromEnv();
    if (!pass) {
      throw new RoamError('KEYSTORE_NO_KEY', 'a producer needs --keystore and ROAMCHAIN_KEYSTORE_PASSPHRASE');
    }
    const ks = await Keystore.open(path, pass);
    try {
      return ks.get(account).signingSecret;
    } finally {
      ks.close();
    }
  };
  return (opts) => runNode({ ...(opts as Parameters<typeof runNode>[0]), loadProducerKey });
}

/** Starts the node or the devnet and serves until SIGINT/SIGTERM (runNode / runDevnet close and exit). */
export async function runForever(fn: 'runNode' | 'runDevnet', opts: Record<string, unknown>): Promise<never> {
  const start = await loadLauncher(fn);
  await start(Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined)));
  return new Promise<never>(() => {});
}
