/**
 * Pieces of the explorer's pages: ids with a copy button, times and amounts in human units with
 * the raw value on hover (title), the raw JSON of any object, and cursor pagination for lists that
 * refresh their first page when the tab's one WebSocket says something changed (no polling).
 */
import { type ReactNode, useEffect, useState } from 'react';
import { amt, duration, href, time, useAsync, useEventFeed } from './lib.js';
import { CopyButton } from './ui.js';

/** A full id (block, transaction, contract, offer, key) in short form, linked if `to`, with a copy button. */
export function CopyId({ id, to, label }: { id: string | null | undefined; to?: string[]; label?: string }) {
  if (!id) return <span className="muted">–</span>;
  const text = id.length > 20 ? `${id.slice(0, 10)}…${id.slice(-6)}` : id;
  return (
    <span className="copy-id">
      {to ? (
        <a href={href(...to)} className="mono" title={id}>
          {text}
        </a>
      ) : (
        <span className="mono" title={id}>
          {text}
        </span>
      )}{' '}
      <CopyButton text={id} label={label ?? `id ${text}`} />
    </span>
  );
}

/** A time (unix ms) as "YYYY-MM-DD hh:mm:ss" (UTC: say so in the label); the raw value on hover. */
export function When({ ms, short }: { ms: string | number | bigint | undefined | null; short?: boolean }) {
  if (ms === undefined || ms === null || String(ms) === '0') return <span className="muted">–</span>;
  const t = time(String(ms));
  return <span title={`${String(ms)} (unix ms)`}>{short ? t.slice(11) : t}</span>;
}

/** An amount in base units as "12.50 SDR"; the base units on hover. */
export function Amount({
  v,
  token = 'SDR',
}: {
  v: string | bigint | undefined | null;
  token?: 'SDR' | 'UMT';
}) {
  if (v === undefined || v === null || v === '') return <span className="muted">–</span>;
  return <span title={`${String(v)} ${token} base units`}>{`${amt(v)} ${token}`}</span>;
}

/** A duration in ms in words; the raw value on hover. */
export function Span({ ms }: { ms: number }) {
  return <span title={`${ms} ms`}>{duration(ms)}</span>;
}

/** The raw JSON of an object, as the API returned it, folded. */
export function RawJson({ value, label = 'Raw JSON' }: { value: unknown; label?: string }) {
  return (
    <details className="raw">
      <summary>{label}</summary>
      <pre className="mono">{JSON.stringify(value, null, 2)}</pre>
    </details>
  );
}

export interface PageAnswer<T> {
  items: T[];
  next?: string | null;
}

/**
 * A cursor-paginated list: `fetchPage(cursor)` loads a page; the first page reloads when `liveKey`
 * changes (a block or event counter from the WebSocket), later pages stay as they were.
 */
export function usePaged<T>(
  fetchPage: (cursor: string | undefined) => Promise<PageAnswer<T>>,
  deps: unknown[],
  liveKey: unknown,
  /**
   * True when a first page answered is older than what the WebSocket already announced (the node's
   * list index answers after a bounded wait, so under load it can lag the block feed): the page is
   * asked again, every 500 ms, at most 20 times per `liveKey`.
   */
  isStale?: (page: PageAnswer<T>) => boolean,
) {
  const [cursors, setCursors] = useState<string[]>([]);
  const cursor = cursors.at(-1);
  const page = useAsync(() => fetchPage(cursor), [...deps, cursor, cursor === undefined ? liveKey : 0]);
  const [retries, setRetries] = useState({ key: liveKey, n: 0 });
  const stale =
    cursor === undefined && page.data !== undefined && !page.loading && isStale?.(page.data) === true;
  const { reload } = page;
  useEffect(() => {
    if (!stale) return;
    const n = retries.key === liveKey ? retries.n : 0;
    if (n >= 20) return;
    const t = setTimeout(() => {
      setRetries({ key: liveKey, n: n + 1 });
      reload();
    }, 500);
    return () => clearTimeout(t);
  }, [stale, liveKey, retries, reload]);
  return {
    page,
    items: page.data?.items ?? [],
    pageNo: cursors.length + 1,
    reset: () => setCursors([]),
    pager: (
      <Pager
        pageNo={cursors.length + 1}
        hasPrev={cursors.length > 0}
        next={page.data?.next ?? undefined}
        onPrev={() => setCursors((c) => c.slice(0, -1))}
        onFirst={() => setCursors([])}
        onNext={(n) => setCursors((c) => [...c, n])}
      />
    ),
  };
}

function Pager(p: {
  pageNo: number;
  hasPrev: boolean;
  next: string | undefined;
  onPrev: () => void;
  onFirst: () => void;
  onNext: (next: string) => void;
}) {
  return (
    <nav className="row wrap pager" aria-label="Pages">
      <button type="button" className="secondary" disabled={!p.hasPrev} onClick={p.onFirst}>
        Newest
      </button>
      <button type="button" className="secondary" disabled={!p.hasPrev} onClick={p.onPrev}>
        Previous page
      </button>
      <span className="small muted">Page {p.pageNo}</span>
      <button
        type="button"
        className="secondary"
        disabled={!p.next}
        onClick={() => {
          if (p.next) p.onNext(p.next);
        }}
      >
        Next page
      </button>
    </nav>
  );
}

/** A table with a header row; `opt` columns are hidden on phones (no sideways scrolling). */
export function Table({ head, opt = [], children }: { head: string[]; opt?: number[]; children: ReactNode }) {
  return (
    <table>
      <thead>
        <tr>
          {head.map((h, i) => (
            <th key={h} scope="col" className={opt.includes(i) ? 'opt' : undefined}>
              {h}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>{children}</tbody>
    </table>
  );
}

/** Counts ledger events whose type starts with one of `prefixes` (a refresh key). */
export function useEventCount(prefixes: string[]): number {
  const [n, setN] = useState(0);
  useEventFeed({}, (e) => {
    if (prefixes.some((p) => e.event.type.startsWith(p))) setN((x) => x + 1);
  });
  return n;
}

/** Sets the tab's title of an explorer page. */
export function useTitle(t: string): void {
  useEffect(() => {
    document.title = `${t} · Explorer · roamchain`;
  }, [t]);
}
