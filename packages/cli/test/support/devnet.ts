/**
 * The set-up the CLI tests share: a real test node and a fresh keystore directory, started before
 * the suite's tests and closed after them, and the environment that points the CLI at both
 * (`ROAMCHAIN_API`, an scrypt-light keystore with a fixed passphrase). Call `useCliDevnet` inside a
 * `describe`: it registers the `beforeAll`/`afterAll` hooks (a suite's own `afterAll`, registered
 * later, runs before this one's, so what it closes goes before the node).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect } from 'vitest';
import { startTestNode, type TestNode } from '../../../sdk/test/testnode.js';
import { inProcessCli } from '../harness.js';

export function useCliDevnet(tag: string) {
  let tn: TestNode | undefined;
  let dir = '';
  let env: Record<string, string> = {};
  beforeAll(async () => {
    tn = await startTestNode();
    dir = mkdtempSync(join(tmpdir(), `roam-cli-${tag}-`));
    env = {
      ROAMCHAIN_API: tn.url,
      ROAMCHAIN_KEYSTORE: join(dir, 'keystore.json'),
      ROAMCHAIN_KEYSTORE_PASSPHRASE: 'e2e passphrase',
      ROAMCHAIN_KEYSTORE_SCRYPT_LOG_N: '10',
    };
  });
  afterAll(async () => {
    await tn?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  const { cli, ok } = inProcessCli(() => env);
  /** The command must fail with exit code 1 and the typed error `code` in its `--json` answer. */
  async function fails(code: string, ...args: string[]) {
    const r = await cli(...args);
    expect(r.code, `roamchain ${args.join(' ')}: ${r.stderr}`).toBe(1);
    expect(r.json?.error?.code).toBe(code);
  }
  return {
    cli,
    ok,
    fails,
    /** The CLI's environment (set once the node is up). */
    env: () => env,
    /** The suite's temporary directory (the keystore's and any files a test writes). */
    dir: () => dir,
  };
}
