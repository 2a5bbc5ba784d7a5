/**
 * Agent configuration (a JSON file; amounts are decimal SDR strings like "25" or "0.5").
 *
 * {
 *   "operator": "telco-de",
 *   "api": "http://127.0.0.1:8080",
 *   "keystore": ".devnet/keystore.json",        // passphrase from ROAMCHAIN_KEYSTORE_PASSPHRASE (or passphraseEnv)
 *   "stateDir": "./agent-telco-de",
 *   "host": "127.0.0.1", "port": 8090,
 *   "policy": { "maxDepositPerSubscriber": "100", "allowedCountries": ["DE","FR"], "feeBps": 100, "maxOpenPerSubscriber": 3 },
 *   "billing": { "stepBytes": 500000000, "stepSeconds": 3600 },
 *   "usageDir": "./usage",
 *   "webhooks": [{ "url": "https://ops.example/hook", "secret": "s3cret" }],
 *   "pricing": { "demandDiscountBps": 500 },
 *   "smdpUrl": "http://127.0.0.1:8300",                 // without it: a local SM-DP+ simulation
 *   "requireIdentity": true,                           // false: serve Requests that disclose no identity
 *   "webhookRetry": { "initialMs": 500, "maxMs": 60000, "maxAttempts": 30 },
 *   "tickMs": 500
 * }
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseAmount } from '@roamchain/protocol';

export interface CountersignPolicy {
  /** Most SDR (base units) a subscriber may have frozen in open contracts at once. */
  maxDepositPerSubscriber: bigint;
  /** Countries the home operator lets its subscribers buy in (empty: any). */
  allowedCountries: string[];
  /** The issuer fee (basis points) a Request must carry. */
  feeBps: number;
  maxOpenPerSubscriber: number;
}

export interface BillingStep {
  /** Charge once this many bytes (up + down) are pending. */
  stepBytes: bigint;
  /** Or once the oldest pending record is this old (seconds; 0 = off). */
  stepSeconds: number;
}

export interface PricingRules {
  /** Discount from the operator's cheapest matching offer when answering a demand (basis points). */
  demandDiscountBps: number;
  /** Countries whose demands the agent answers (default: those of its offers). */
  countries?: string[];
}

export interface WebhookTarget {
  url: string;
  secret: string;
}

export interface AgentConfig {
  operator: string;
  api: string;
  keystore?: string;
  passphraseEnv?: string;
  stateDir: string;
  host: string;
  port: number;
  policy: CountersignPolicy;
  billing: BillingStep;
  usageDir?: string;
  webhooks: WebhookTarget[];
  pricing: PricingRules;
  smdpUrl?: string;
  /** Webhook retry: first delay and bound (ms), and attempts before giving up. */
  webhookRetry: { initialMs: number; maxMs: number; maxAttempts: number };
  /** Period of the billing / closing / usage-folder loop (ms). */
  tickMs: number;
  /** Refund requests whose disclosed identity cannot be checked (default true). */
  requireIdentity: boolean;
}

type Raw = Record<string, unknown>;

const str = (v: unknown, what: string): string => {
  if (typeof v !== 'string' || v.length === 0) throw new Error(`agent config: ${what} must be a string`);
  return v;
};

/** Fills defaults; amounts given as SDR strings or base-unit bigints. */
export function parseConfig(raw: Raw, baseDir = process.cwd()): AgentConfig {
  const operator = str(raw.operator, 'operator');
  const p = (raw.policy ?? {}) as Raw;
  const b = (raw.billing ?? {}) as Raw;
  const pr = (raw.pricing ?? {}) as Raw;
  const wr = (raw.webhookRetry ?? {}) as Raw;
  const amt = (v: unknown, d: string) =>
    typeof v === 'bigint' ? v : parseAmount(typeof v === 'number' ? String(v) : ((v as string) ?? d));
  const path = (v: unknown) => (typeof v === 'string' ? resolve(baseDir, v) : undefined);
  const cfg: AgentConfig = {
    operator,
    api: typeof raw.api === 'string' ? raw.api : 'http://127.0.0.1:8080',
    stateDir: path(raw.stateDir) ?? resolve(baseDir, `agent-${operator}`),
    host: typeof raw.host === 'string' ? raw.host : '127.0.0.1',
    port: typeof raw.port === 'number' ? raw.port : 8090,
    policy: {
      maxDepositPerSubscriber: amt(p.maxDepositPerSubscriber, '100'),
      allowedCountries: Array.isArray(p.allowedCountries) ? (p.allowedCountries as string[]) : [],
      feeBps: typeof p.feeBps === 'number' ? p.feeBps : 100,
      maxOpenPerSubscriber: typeof p.maxOpenPerSubscriber === 'number' ? p.maxOpenPerSubscriber : 5,
    },
    billing: {
      stepBytes: BigInt((b.stepBytes as number | string | undefined) ?? 100_000_000),
      stepSeconds: typeof b.stepSeconds === 'number' ? b.stepSeconds : 0,
    },
    webhooks: Array.isArray(raw.webhooks) ? (raw.webhooks as WebhookTarget[]) : [],
    pricing: {
      demandDiscountBps: typeof pr.demandDiscountBps === 'number' ? pr.demandDiscountBps : 500,
      ...(Array.isArray(pr.countries) ? { countries: pr.countries as string[] } : {}),
    },
    webhookRetry: {
      initialMs: typeof wr.initialMs === 'number' ? wr.initialMs : 500,
      maxMs: typeof wr.maxMs === 'number' ? wr.maxMs : 60_000,
      maxAttempts: typeof wr.maxAttempts === 'number' ? wr.maxAttempts : 30,
    },
    tickMs: typeof raw.tickMs === 'number' ? raw.tickMs : 500,
    requireIdentity: raw.requireIdentity !== false,
  };
  const keystore = path(raw.keystore);
  if (keystore) cfg.keystore = keystore;
  if (typeof raw.passphraseEnv === 'string') cfg.passphraseEnv = raw.passphraseEnv;
  const usageDir = path(raw.usageDir);
  if (usageDir) cfg.usageDir = usageDir;
  if (typeof raw.smdpUrl === 'string') cfg.smdpUrl = raw.smdpUrl;
  return cfg;
}

export function loadConfig(file: string): AgentConfig {
  const abs = resolve(file);
  return parseConfig(JSON.parse(readFileSync(abs, 'utf8')) as Raw, dirname(abs));
}
