/**
 * What every command shares: global options, the API client, the keystore (opened lazily, once),
 * and output (readable by default, JSON with --json).
 */
import { existsSync, mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { jsonSafe, RoamError } from '@roamchain/protocol';
import { DEFAULT_API_URL, RoamClient, type Signer, signerFromKeystore } from '@roamchain/sdk';
import { DEFAULT_SCRYPT, Keystore } from '@roamchain/sdk/keystore';

export const ENV_API = 'ROAMCHAIN_API';
export const ENV_KEYSTORE = 'ROAMCHAIN_KEYSTORE';
export const ENV_PASSPHRASE = 'ROAMCHAIN_KEYSTORE_PASSPHRASE';
/** Test-only: scrypt cost (log2 N) of keystores this CLI creates. */
export const ENV_SCRYPT_LOG_N = 'ROAMCHAIN_KEYSTORE_SCRYPT_LOG_N';

export interface Io {
  stdout(s: string): void;
  stderr(s: string): void;
  env: Record<string, string | undefined>;
  /** Whether a person is at the terminal (prompts allowed). */
  interactive: boolean;
  /** Reads a line without echo (passphrase). */
  promptSecret?(question: string): Promise<string>;
  /** Registers a Ctrl-C handler; returns a function that removes it. */
  onInterrupt?(handler: () => void): () => void;
}

export interface GlobalOptions {
  api?: string;
  keystore?: string;
  json?: boolean;
  wait?: boolean;
  waitTimeout?: number;
}

export function defaultKeystorePath(env: Record<string, string | undefined>): string {
  return env[ENV_KEYSTORE] || join(env.HOME || homedir(), '.roamchain', 'keystore.json');
}

export class Ctx {
  readonly apiUrl: string;
  readonly keystorePath: string;
  readonly json: boolean;
  readonly wait: boolean;
  readonly waitTimeoutMs: number;
  readonly client: RoamClient;
  #keystore: Keystore | undefined;

  constructor(
    readonly io: Io,
    g: GlobalOptions,
  ) {
    this.apiUrl = g.api || io.env[ENV_API] || DEFAULT_API_URL;
    this.keystorePath = g.keystore || defaultKeystorePath(io.env);
    this.json = g.json ?? false;
    this.wait = g.wait ?? true;
    this.waitTimeoutMs = g.waitTimeout ?? 10_000;
    this.client = new RoamClient({ url: this.apiUrl });
  }

  /** Options for SDK actions. */
  get submit(): { wait: boolean; timeoutMs: number } {
    return { wait: this.wait, timeoutMs: this.waitTimeoutMs };
  }

  async #passphrase(confirm: boolean): Promise<string> {
    const env = this.io.env[ENV_PASSPHRASE];
    if (env) return env;
    if (!this.io.interactive || !this.io.promptSecret) {
      throw new RoamError(
        'KEYSTORE_BAD_PASSPHRASE',
        `no keystore passphrase: set ${ENV_PASSPHRASE} or run in a terminal to be asked`,
      );
    }
    const p = await this.io.promptSecret(`Passphrase for ${this.keystorePath}: `);
    if (!p) throw new RoamError('KEYSTORE_BAD_PASSPHRASE', 'empty passphrase');
    if (confirm) {
      const again = await this.io.promptSecret('Repeat the passphrase: ');
      if (again !== p) throw new RoamError('KEYSTORE_BAD_PASSPHRASE', 'the passphrases differ');
    }
    return p;
  }

  /** The keystore; with `create`, a missing file is created (asking for a new passphrase). */
  async keystore(opts: { create?: boolean } = {}): Promise<Keystore> {
    if (this.#keystore) return this.#keystore;
    if (!existsSync(this.keystorePath)) {
      if (!opts.create) {
        throw new RoamError(
          'KEYSTORE_NO_KEY',
          `no keystore at ${this.keystorePath}; create one with "roamchain keys new <name>" or "roamchain keys import-devnet <name…>"`,
        );
      }
      mkdirSync(dirname(this.keystorePath), { recursive: true, mode: 0o700 });
      const logN = Number(this.io.env[ENV_SCRYPT_LOG_N] ?? '');
      const scrypt =
        Number.isInteger(logN) && logN >= 10 && logN <= 20 ? { N: 2 ** logN } : { N: DEFAULT_SCRYPT.N };
      this.#keystore = await Keystore.create(this.keystorePath, await this.#passphrase(true), { scrypt });
      return this.#keystore;
    }
    this.#keystore = await Keystore.open(this.keystorePath, await this.#passphrase(false));
    return this.#keystore;
  }

  async signer(name: string): Promise<Signer> {
    return signerFromKeystore(await this.keystore(), name);
  }

  /** Prints `human()` or, with --json, the value as JSON (bigints as strings, bytes as hex). */
  out(value: unknown, human: () => string): void {
    if (this.json) this.io.stdout(`${JSON.stringify(jsonSafe(value), null, 2)}\n`);
    else this.io.stdout(`${human()}\n`);
  }

  /** One JSON object per line with --json (streams). */
  line(value: unknown, human: () => string): void {
    if (this.json) this.io.stdout(`${JSON.stringify(jsonSafe(value))}\n`);
    else this.io.stdout(`${human()}\n`);
  }

  /** A note for people (stderr, so it never mixes with --json output). */
  note(s: string): void {
    this.io.stderr(`${s}\n`);
  }

  close(): void {
    this.#keystore?.close();
    this.#keystore = undefined;
  }
}
