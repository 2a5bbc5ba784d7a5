/** Small shared components. */
import { type ReactNode, useState } from 'react';
import { errText, href } from './lib.js';

export function Panel(props: { title: string; children: ReactNode; id?: string; actions?: ReactNode }) {
  const hid = `${props.id ?? props.title.toLowerCase().replace(/[^a-z0-9]+/g, '-')}-h`;
  return (
    <section className="panel" aria-labelledby={hid} id={props.id}>
      <div className="panel-head">
        <h2 id={hid}>{props.title}</h2>
        {props.actions}
      </div>
      {props.children}
    </section>
  );
}

export function ErrorBox({ error }: { error: unknown }) {
  if (error === undefined || error === null) return null;
  return (
    <p className="error" role="alert">
      {errText(error)}
    </p>
  );
}

export function Loading({ what }: { what?: string }) {
  return <p className="muted">Loading{what ? ` ${what}` : ''}…</p>;
}

export function Id({ id, to }: { id: string | null | undefined; to?: string[] }) {
  if (!id) return <span className="muted">–</span>;
  const text = id.length > 20 ? `${id.slice(0, 10)}…${id.slice(-6)}` : id;
  return to ? (
    <a href={href(...to)} className="mono" title={id}>
      {text}
    </a>
  ) : (
    <span className="mono" title={id}>
      {text}
    </span>
  );
}

export function Account({ name }: { name: string | null | undefined }) {
  if (!name) return <span className="muted">–</span>;
  return <a href={href('explorer', 'account', name)}>{name}</a>;
}

export function KV({ rows }: { rows: [string, ReactNode][] }) {
  return (
    <dl className="kv">
      {rows.map(([k, v]) => (
        <div key={k}>
          <dt>{k}</dt>
          <dd>{v}</dd>
        </div>
      ))}
    </dl>
  );
}

export function Stars({ x100 }: { x100: number }) {
  const v = x100 / 100;
  return (
    <span title={`${v.toFixed(2)} of 5`} role="img" aria-label={`${v.toFixed(2)} of 5 stars`}>
      {'★'.repeat(Math.round(v))}
      {'☆'.repeat(5 - Math.round(v))} <span className="muted">{v.toFixed(2)}</span>
    </span>
  );
}

/** Stars from real ratings only: an operator nobody rated yet has "no ratings yet", not 3.5 stars. */
export function RatingStars({ r }: { r: { starsX100: number; ratingCount: number } }) {
  if (r.ratingCount === 0) return <span className="muted">new · no ratings yet</span>;
  return (
    <span>
      <Stars x100={r.starsX100} /> <span className="muted small">({r.ratingCount})</span>
    </span>
  );
}

/** Copies `text` to the clipboard; says so (politely) where the button is. */
export function CopyButton({ text, label }: { text: string; label: string }) {
  const [done, setDone] = useState<string>();
  return (
    <>
      <button
        type="button"
        className="secondary small-btn"
        aria-label={`Copy ${label}`}
        onClick={() => {
          navigator.clipboard?.writeText(text).then(
            () => setDone('Copied'),
            () => setDone('Copy failed: select the text instead'),
          );
        }}
      >
        Copy
      </button>
      <span role="status" className="small muted">
        {done ?? ''}
      </span>
    </>
  );
}

export type Act = (f: () => Promise<unknown>, ok: string) => Promise<void>;

/** Runs an action; its error or its success message is shown where the action is (`Feedback`). */
export function useAct(after: () => void): { act: Act; err: unknown; ok: string | undefined; busy: boolean } {
  const [err, setErr] = useState<unknown>();
  const [ok, setOk] = useState<string>();
  const [busy, setBusy] = useState(false);
  const act: Act = async (f, okText) => {
    setErr(undefined);
    setOk(undefined);
    setBusy(true);
    try {
      await f();
      setOk(okText);
      after();
    } catch (e) {
      setErr(e);
    } finally {
      setBusy(false);
    }
  };
  return { act, err, ok, busy };
}

export function Feedback({ err, ok }: { err: unknown; ok: string | undefined }) {
  return (
    <>
      <p role="status" className="ok small">
        {err ? '' : (ok ?? '')}
      </p>
      <ErrorBox error={err} />
    </>
  );
}
