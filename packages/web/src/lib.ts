/**
 * Shared helpers of the web app: the SDK client (same origin as the page unless `?api=` says
 * otherwise), amount formatting, live hooks over the SDK's WebSocket subscription.
 */
import { eventInvolves } from '@roamchain/protocol';
import {
  type BlockMessage,
  type EventFilter,
  type FeedEventJson,
  formatAmount,
  parseAmount,
  RoamApiError,
  RoamClient,
} from '@roamchain/sdk';
import { createContext, useCallback, useContext, useEffect, useRef, useState } from 'react';

function apiUrl(): string {
  if (typeof window === 'undefined') return 'http://127.0.0.1:8080'; // unit tests (no browser)
  const q = new URLSearchParams(window.location.search).get('api');
  return q ?? window.location.origin;
}

export const client = new RoamClient({ url: apiUrl() });

/** "12.5" for 12_500_000 base units (trailing zeros trimmed, at least 2 decimals). */
export function amt(v: string | bigint | undefined | null): string {
  if (v === undefined || v === null || v === '') return '–';
  const s = formatAmount(BigInt(v));
  const [w, f = ''] = s.split('.');
  const frac = f.replace(/0+$/, '').padEnd(2, '0');
  return `${w}.${frac}`;
}

export function sdr(v: string | bigint | undefined | null): string {
  return `${amt(v)} SDR`;
}

export function toUnits(s: string): bigint {
  return parseAmount(s.trim());
}

export function short(id: string | null | undefined, n = 8): string {
  if (!id) return '–';
  return id.length > n * 2 ? `${id.slice(0, n)}…${id.slice(-4)}` : id;
}

export function time(ms: string | number | undefined | null): string {
  if (ms === undefined || ms === null) return '–';
  const n = Number(ms);
  if (!Number.isFinite(n) || n === 0) return '–';
  return new Date(n).toISOString().replace('T', ' ').slice(0, 19);
}

/** "2 h 5 min", "3 days 4 h", "45 s" for a duration in ms (≤ 0 → "0 s"). */
export function duration(ms: number): string {
  if (!Number.isFinite(ms) || ms <= 0) return '0 s';
  const s = Math.floor(ms / 1000);
  const d = Math.floor(s / 86_400);
  const h = Math.floor((s % 86_400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d > 0) return `${d} day${d === 1 ? '' : 's'}${h ? ` ${h} h` : ''}`;
  if (h > 0) return `${h} h${m ? ` ${m} min` : ''}`;
  if (m > 0) return `${m} min`;
  return `${s} s`;
}

/** Bytes in MB / GB with up to 2 decimals ("512 MB", "4.75 GB"). */
export function volume(bytes: string | bigint): string {
  const b = BigInt(bytes);
  if (b < 1_000_000_000n) return `${Number(b / 10_000n) / 100} MB`;
  return `${Number(b / 10_000_000n) / 100} GB`;
}

export function gb(bytes: string | bigint): string {
  const n = Number(BigInt(bytes) / 1_000_000n) / 1000;
  return `${n} GB`;
}

/** "77275000 SDR base units" → "77.28 SDR" (readable amounts in the node's messages). */
export function humanUnits(msg: string): string {
  return msg.replace(/\b(\d+) (SDR|UMT) base units\b/g, (_m, n: string, t: string) => `${amt(n)} ${t}`);
}

/** Plain words for the codes a traveller or operator meets; other codes keep the node's message. */
const PLAIN: Record<string, string> = {
  BALANCE_LOW: 'Not enough funds',
  NOT_FOUND: 'Not found',
  ACCOUNT_UNKNOWN: 'No such account',
  SSC_CLOSED: 'This contract is already closed',
  SSC_NOT_HEAD: 'The contract moved on meanwhile; try again',
  SSC_TIMEOUT: 'Too late: the step timeout of this contract has passed',
  SSC_EXPIRED: 'This contract has expired',
  OFFER_CAPACITY: 'This offer is sold out',
  OFFER_PAUSED: 'The operator has paused this offer: it cannot be bought for now',
  SSC_DEPOSIT_LOW: 'The amount is too small',
  POLICY_DEPOSIT_LIMIT: 'Your home operator allows no more credit on your open contracts',
  SIG_INVALID: 'A signature did not verify',
};

export function errText(e: unknown): string {
  let code: string | undefined;
  let message: string;
  if (e instanceof RoamApiError) {
    code = e.code;
    message = e.message;
  } else if (e && typeof e === 'object' && 'code' in e && 'message' in e) {
    code = String((e as { code: unknown }).code);
    message = String((e as { message: unknown }).message);
  } else message = e instanceof Error ? e.message : String(e);
  message = humanUnits(message);
  if (!code) return message;
  const plain = PLAIN[code];
  return plain ? `${plain}: ${message} (${code})` : `${code}: ${message}`;
}

/** Is this an API 404 (unknown id)? */
export function isNotFound(e: unknown): boolean {
  return e instanceof RoamApiError && e.status === 404;
}

// ---------- routing (hash based: the node serves index.html at `/`) ----------

function readRoute(): string[] {
  return window.location.hash
    .replace(/^#\/?/, '')
    .split('/')
    .filter((s) => s.length > 0)
    .map(decodeURIComponent);
}

export function useRoute(): string[] {
  const read = readRoute;
  const [route, setRoute] = useState(read);
  useEffect(() => {
    const on = () => setRoute(readRoute());
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  return route;
}

export function go(...parts: string[]): void {
  window.location.hash = `#/${parts.map(encodeURIComponent).join('/')}`;
}

export const href = (...parts: string[]) => `#/${parts.map(encodeURIComponent).join('/')}`;

// ---------- live data ----------
//
// One WebSocket per tab carries both the blocks and the ledger events; every view that wants
// events registers a listener with a filter (matched here the way the node matches it). No view
// polls: they refetch when a block or a matching event arrives.

export interface Live {
  /** The latest block seen on the WebSocket. */
  block: BlockMessage | undefined;
  /** Recent blocks (newest last), for tx/s and block times. */
  recent: BlockMessage[];
  connected: boolean;
}

type EventListener = (e: FeedEventJson) => void;
const eventListeners = new Set<EventListener>();

export const LiveContext = createContext<Live>({ block: undefined, recent: [], connected: false });

export function useLive(): Live {
  return useContext(LiveContext);
}

/** The tab's one WebSocket: blocks and all ledger events, fanned out to `useEventFeed` listeners. */
export function useBlockFeed(): Live {
  const [live, setLive] = useState<Live>({ block: undefined, recent: [], connected: false });
  useEffect(() => {
    const sub = client.subscribe({
      blocks: true,
      events: true,
      onOpen: () => setLive((l) => ({ ...l, connected: true })),
      onReconnect: () => setLive((l) => ({ ...l, connected: false })),
      onBlock: (b) => setLive((l) => ({ block: b, recent: [...l.recent.slice(-119), b], connected: true })),
      onEvent: (e) => {
        for (const f of eventListeners) f(e);
      },
      onError: () => {},
    });
    return () => sub.close();
  }, []);
  return live;
}

export function eventMatches(e: FeedEventJson, f: EventFilter): boolean {
  const ev = e.event as unknown as Record<string, unknown>;
  if (f.contract !== undefined && ev.contract !== f.contract) return false;
  if (f.account !== undefined && !eventInvolves(ev, f.account)) return false;
  return true;
}

/** Counts ledger events matching `filter` (undefined = none); use it as a refresh key. */
export function useEventFeed(filter: EventFilter | undefined, onEvent?: (e: FeedEventJson) => void): number {
  const [n, setN] = useState(0);
  const cb = useRef(onEvent);
  cb.current = onEvent;
  const key = filter ? JSON.stringify(filter) : '';
  useEffect(() => {
    if (!key) return;
    const f = JSON.parse(key) as EventFilter;
    const l: EventListener = (e) => {
      if (!eventMatches(e, f)) return;
      cb.current?.(e);
      setN((x) => x + 1);
    };
    eventListeners.add(l);
    return () => {
      eventListeners.delete(l);
    };
  }, [key]);
  return n;
}

export interface Async<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  reload: () => void;
}

/** Runs `fn` when `deps` change; keeps the previous data while reloading (no flicker on live updates). */
export function useAsync<T>(fn: () => Promise<T>, deps: readonly unknown[]): Async<T> {
  const [state, setState] = useState<{ data: T | undefined; error: unknown; loading: boolean }>({
    data: undefined,
    error: undefined,
    loading: true,
  });
  const [nonce, setNonce] = useState(0);
  const reload = useCallback(() => setNonce((x) => x + 1), []);
  // biome-ignore lint/correctness/useExhaustiveDependencies: the caller lists the dependencies of fn
  useEffect(() => {
    let alive = true;
    setState((s) => ({ ...s, loading: true }));
    fn().then(
      (data) => alive && setState({ data, error: undefined, loading: false }),
      (error: unknown) => alive && setState((s) => ({ data: s.data, error, loading: false })),
    );
    return () => {
      alive = false;
    };
  }, [...deps, nonce]);
  return { ...state, reload };
}

/** Paths of the node's OpenAPI document (to use optional routes only when the node has them). */
let pathsPromise: Promise<Set<string>> | undefined;
export function apiPaths(): Promise<Set<string>> {
  pathsPromise ??= client
    .openapi()
    .then((d) => new Set(Object.keys((d.paths as Record<string, unknown> | undefined) ?? {})))
    .catch(() => new Set<string>());
  return pathsPromise;
}

/**
 * The operators' agents as this node lists them (GET /v1/agents, either shape it answers): only
 * http(s) URLs, at most 50; undefined when the node has no such route. Hostile until checked.
 */
export async function listedAgentUrls(): Promise<Record<string, string> | undefined> {
  const paths = await apiPaths();
  if (!paths.has('/v1/agents')) return undefined;
  try {
    const j = await client.get<Record<string, unknown>>('/v1/agents');
    const map = (typeof j.agents === 'object' && j.agents !== null ? j.agents : j) as Record<string, unknown>;
    const out: Record<string, string> = {};
    for (const [op, url] of Object.entries(map).slice(0, 50))
      if (typeof url === 'string' && /^https?:\/\//.test(url)) out[op] = url.replace(/\/+$/, '');
    return out;
  } catch {
    return {};
  }
}

/** An agent's public policy (GET <agent>/v1/policy, 5 s at most); undefined when it does not answer. */
export async function agentPolicy(url: string): Promise<Record<string, unknown> | undefined> {
  try {
    const res = await fetch(`${url}/v1/policy`, { signal: AbortSignal.timeout(5000) });
    if (!res.ok) return undefined;
    const j = (await res.json()) as unknown;
    return typeof j === 'object' && j !== null ? (j as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** Download `text` as a file. */
export function download(name: string, text: string, type = 'text/csv'): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
