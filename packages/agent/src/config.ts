/**
 * Agent configuration (a JSON file; amounts are decimal SDR strings like "25" or "0.5").
 *
 * {
 *   "operator": "telco-de",
 *   "api": "http://127.0.0.1:8080",
 *   "keystore": ".devnet/keystore.json",        // passphrase from ROAMCHAIN_KEYSTORE_PASSPHRASE (or passphraseEnv)
 *   "stateDir": "./agent-telco-de",
 *   "host": "127.0.0.1", "port": 8090,
 *   "policy": { "maxDepositPerSubscriber": "100", "allowedCountries": ["DE","FR"], "feeBps": 100, "maxOpenPerSubscriber": 3,
 *               "maxFeeDeposit": "1", "maxLifetimeSec": 2592000, "maxStepTimeoutSec": 86400,
 *               "maxRequestsPerSubscriberPerHour": 20 },
 *   "billing": { "stepBytes": 500000000, "stepSeconds": 3600, "maxLineRateBps": 10000000000 },
 *   "clients": [{ "id": "billing", "keys": ["sha256:<hex of the key>"], "scopes": ["usage", "statement", "admin"] }],
 *   "corsOrigins": ["https://wallet.example"],            // CORS on the public routes only; none by default
 *   "limits": { "countersignPerMinute": 60, "countersignConcurrent": 64 },
 *   "usageDir": "./usage",
 *   "webhooks": [{ "url": "https://ops.example/hook", "secret": "s3cret" }],
 *   "pricing": { "demandDiscountBps": 500 },
 *   "smdpUrl": "https://smdp.example",                  // required unless "simulation": true
 *   "simulation": false,                                // true: made-up ICCIDs/EIDs (devnet only)
 *   "requireIdentity": true,                           // false: serve Requests that disclose no identity
 *   "webhookRetry": { "initialMs": 500, "maxMs": 60000, "maxAttempts": 30 },
 *   "tickMs": 500,
 *   "signup": { "enabled": true, "kyc": "external", "perAddressPerHour": 5, "perHour": 200,
 *               "attestationDays": 365 }   // "kyc": "simulated" only with "simulation": true
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
  /** Most UMT (base units) of this operator a single Request may lock as its fee deposit. */
  maxFeeDeposit: bigint;
  /** Longest contract lifetime / step timeout the operator countersigns (seconds). */
  maxLifetimeSec: number;
  maxStepTimeoutSec: number;
  /** Countersigned Requests per subscriber in any sliding hour. */
  maxRequestsPerSubscriberPerHour: number;
}

/** An API client of the agent's authenticated routes (see docs/AGENT.md, "Credentials"). */
export interface AgentClient {
  id: string;
  /** Accepted keys: the key itself (at least 24 characters) or `sha256:<hex>` of it. Several at once for rotation. */
  keys: string[];
  scopes: AgentScope[];
}
export const AGENT_SCOPES = ['usage', 'statement', 'admin'] as const;
export type AgentScope = (typeof AGENT_SCOPES)[number];

export interface AgentLimits {
  /** Countersign requests per client address per minute (token bucket, burst = the same number). */
  countersignPerMinute: number;
  /** Countersign requests checked at once; more get 429 at once instead of queueing. */
  countersignConcurrent: number;
  /** Most usage records in one post. */
  recordsPerPost: number;
}

export interface BillingStep {
  /** Charge once this many bytes (up + down) are pending. */
  stepBytes: bigint;
  /** Or once the oldest pending record is this old (seconds; 0 = off). */
  stepSeconds: number;
  /** Fastest line (bits per second): a record's bytes x 8 may not exceed its duration x this. */
  maxLineRateBps: bigint;
}

export interface PricingRules {
  /** Discount from the operator's cheapest matching offer when answering a demand (basis points). */
  demandDiscountBps: number;
  /** Countries whose demands the agent answers (default: those of its offers). */
  countries?: string[];
}

export interface WebhookTarget {
  url: string;
  /** HMAC-SHA-256 key, at least 16 characters (a webhook without one is refused). */
  secret: string;
}

/** Sign-up of new subscribers through the agent (signup.ts, docs/AGENT.md "Sign-up"). */
export interface SignupConfig {
  enabled: boolean;
  /** 'simulated': a devnet stand-in that checks only the claims' form (allowed only in a simulation); 'external': AgentOptions.kyc. */
  kyc: 'simulated' | 'external';
  /** Sign-ups per client address per hour (token bucket). */
  perAddressPerHour: number;
  /** Sign-ups of the whole agent per sliding hour (each costs the operator fees). */
  perHour: number;
  /** Validity of the identity attestation (days). */
  attestationDays: number;
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
  /** Provisioning simulation (made-up ICCIDs, a synthetic EID when none is disclosed): devnet only. */
  simulation: boolean;
  clients: AgentClient[];
  /** Origins allowed by CORS on the public routes (countersign, policy, healthz); "*" any. */
  corsOrigins: string[];
  limits: AgentLimits;
  /** Webhook retry: first delay and bound (ms), and attempts before giving up. */
  webhookRetry: { initialMs: number; maxMs: number; maxAttempts: number };
  /** Period of the billing / closing / usage-folder loop (ms). */
  tickMs: number;
  /** Refund requests whose disclosed identity cannot be checked (default true). */
  requireIdentity: boolean;
  signup: SignupConfig;
  /** Alert webhook this long before a watched contract ends (ms; alerts.ts). */
  alertBeforeExpiryMs: number;
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
  const li = (raw.limits ?? {}) as Raw;
  const int = (v: unknown, d: number, what: string) => {
    if (v === undefined) return d;
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0)
      throw new Error(`agent config: ${what} must be a non-negative integer`);
    return v;
  };
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
      maxFeeDeposit: amt(p.maxFeeDeposit, '1'),
      maxLifetimeSec: int(p.maxLifetimeSec, 30 * 86_400, 'policy.maxLifetimeSec'),
      maxStepTimeoutSec: int(p.maxStepTimeoutSec, 86_400, 'policy.maxStepTimeoutSec'),
      maxRequestsPerSubscriberPerHour: int(
        p.maxRequestsPerSubscriberPerHour,
        20,
        'policy.maxRequestsPerSubscriberPerHour',
      ),
    },
    billing: {
      stepBytes: BigInt((b.stepBytes as number | string | undefined) ?? 100_000_000),
      stepSeconds: typeof b.stepSeconds === 'number' ? b.stepSeconds : 0,
      maxLineRateBps: BigInt((b.maxLineRateBps as number | string | undefined) ?? 10_000_000_000),
    },
    webhooks: parseWebhooks(raw.webhooks),
    simulation: raw.simulation === true,
    clients: parseClients(raw.clients),
    corsOrigins: Array.isArray(raw.corsOrigins)
      ? (raw.corsOrigins as unknown[]).map((o) => str(o, 'corsOrigins[]'))
      : [],
    limits: {
      countersignPerMinute: int(li.countersignPerMinute, 60, 'limits.countersignPerMinute'),
      countersignConcurrent: int(li.countersignConcurrent, 64, 'limits.countersignConcurrent'),
      recordsPerPost: int(li.recordsPerPost, 1000, 'limits.recordsPerPost'),
    },
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
    signup: parseSignup(raw.signup, raw.simulation === true),
    alertBeforeExpiryMs: int(raw.alertBeforeExpiryMs, 86_400_000, 'alertBeforeExpiryMs'),
  };
  const keystore = path(raw.keystore);
  if (keystore) cfg.keystore = keystore;
  if (typeof raw.passphraseEnv === 'string') cfg.passphraseEnv = raw.passphraseEnv;
  const usageDir = path(raw.usageDir);
  if (usageDir) cfg.usageDir = usageDir;
  if (typeof raw.smdpUrl === 'string') cfg.smdpUrl = raw.smdpUrl;
  return cfg;
}

function parseSignup(v: unknown, simulation: boolean): SignupConfig {
  const r = (v ?? {}) as Raw;
  const n = (x: unknown, d: number, what: string, min = 1) => {
    if (x === undefined) return d;
    if (typeof x !== 'number' || !Number.isSafeInteger(x) || x < min)
      throw new Error(`agent config: signup.${what} must be an integer of at least ${min}`);
    return x;
  };
  const kyc = r.kyc ?? 'external';
  if (kyc !== 'simulated' && kyc !== 'external')
    throw new Error('agent config: signup.kyc is "simulated" or "external"');
  const enabled = r.enabled === true;
  // A simulated KYC attests whatever is typed in: never outside an explicit simulation.
  if (enabled && kyc === 'simulated' && !simulation)
    throw new Error('agent config: signup.kyc "simulated" needs "simulation": true (devnet only)');
  return {
    enabled,
    kyc,
    perAddressPerHour: n(r.perAddressPerHour, 5, 'perAddressPerHour'),
    perHour: n(r.perHour, 200, 'perHour'),
    attestationDays: n(r.attestationDays, 365, 'attestationDays'),
  };
}

/** Webhook targets: an http(s) URL and a secret of at least 16 characters each, else the config is refused. */
function parseWebhooks(v: unknown): WebhookTarget[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw new Error('agent config: webhooks must be a list');
  return v.map((w: Raw, i) => {
    const url = str(w?.url, `webhooks[${i}].url`);
    if (!/^https?:\/\//.test(url)) throw new Error(`agent config: webhooks[${i}].url must be http(s)`);
    if (typeof w.secret !== 'string' || w.secret.length < 16)
      throw new Error(`agent config: webhooks[${i}] needs a secret of at least 16 characters`);
    return { url, secret: w.secret };
  });
}

/** API clients: an id, one or more keys (rotation), scopes. */
export function parseClients(v: unknown): AgentClient[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw new Error('agent config: clients must be a list');
  return v.map((c: Raw, i) => {
    const id = str(c?.id, `clients[${i}].id`);
    if (!Array.isArray(c.keys) || c.keys.length === 0)
      throw new Error(`agent config: clients[${i}].keys must list at least one key`);
    const keys = (c.keys as unknown[]).map((k) => {
      const s = str(k, `clients[${i}].keys[]`);
      if (s.startsWith('sha256:') ? !/^sha256:[0-9a-f]{64}$/.test(s) : s.length < 24)
        throw new Error(`agent config: clients[${i}]: a key is "sha256:<64 hex>" or at least 24 characters`);
      return s;
    });
    const scopes = Array.isArray(c.scopes) ? (c.scopes as unknown[]) : [];
    for (const s of scopes)
      if (!(AGENT_SCOPES as readonly unknown[]).includes(s))
        throw new Error(`agent config: clients[${i}]: unknown scope ${String(s)}`);
    return { id, keys, scopes: scopes as AgentScope[] };
  });
}

export function loadConfig(file: string): AgentConfig {
  const abs = resolve(file);
  return parseConfig(JSON.parse(readFileSync(abs, 'utf8')) as Raw, dirname(abs));
}
