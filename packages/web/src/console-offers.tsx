/**
 * The operator's offers with all their terms (unit price, networks, capacity, validity), paused and
 * (on request) withdrawn ones too: edit (offer_replace), pause and resume (offer_pause: a paused
 * offer cannot be bought), duplicate (a prefilled new-offer form), withdraw, publish.
 */
import { GB, type OfferJson, type OfferTermsInput, signerFromSecret } from '@roamchain/sdk';
import { type FormEvent, useEffect, useRef, useState } from 'react';
import type { Keys } from './keys.js';
import { amt, client, gb, sdr, time, toUnits, useAsync } from './lib.js';
import { ErrorBox, Feedback, Panel, useAct } from './ui.js';

const DAY_MS = 86_400_000;

export interface Draft {
  title: string;
  country: string;
  networks: string;
  tech: string;
  volume: string;
  days: string;
  price: string;
  unitPrice: string;
  capacity: string;
  validDays: string;
}

export const EMPTY_DRAFT: Draft = {
  title: '',
  country: 'DE',
  networks: '',
  tech: '4G,5G',
  volume: '5',
  days: '7',
  price: '6.00',
  unitPrice: '0',
  capacity: '1000',
  validDays: '30',
};

/** An offer's terms as a draft: a copy (to duplicate it) or the same title (to edit it). */
export function draftOf(o: OfferJson, copy = true, now = Date.now()): Draft {
  const left = Math.ceil((Number(o.terms.validUntil) - now) / DAY_MS);
  return {
    title: copy ? `${o.terms.title} (copy)` : o.terms.title,
    country: o.terms.countries.join(','),
    networks: o.terms.networks.join(','),
    tech: o.terms.technologies.join(','),
    volume: String(Number(BigInt(o.terms.dataBytes) / 1_000_000n) / 1000),
    days: String(Math.round(o.terms.durationSec / 86_400)),
    price: amt(o.terms.price),
    unitPrice: amt(o.terms.unitPrice),
    capacity: String(o.terms.capacity),
    validDays: String(Math.max(1, left)),
  };
}

const list = (s: string) =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);

/** The terms a draft stands for (the edited offer's other terms are kept). */
export function termsOf(d: Draft, base?: OfferJson, now = Date.now()): OfferTermsInput {
  const t = base?.terms;
  return {
    title: d.title,
    ...(t
      ? { kind: t.kind, category: t.category, voiceSeconds: BigInt(t.voiceSeconds), smsCount: t.smsCount }
      : {}),
    countries: list(d.country).map((c) => c.toUpperCase()),
    networks: list(d.networks),
    technologies: list(d.tech),
    dataBytes: BigInt(Math.round(Number(d.volume) * 1000)) * (GB / 1000n),
    durationSec: Math.round(Number(d.days) * 86_400),
    price: toUnits(d.price),
    unitPrice: toUnits(d.unitPrice || '0'),
    capacity: Math.max(1, Math.round(Number(d.capacity))),
    ...(t ? { validFrom: BigInt(t.validFrom) } : {}),
    validUntil: BigInt(now) + BigInt(Math.max(1, Math.round(Number(d.validDays)))) * BigInt(DAY_MS),
  };
}

function PublishForm(props: {
  k: Keys;
  draft: Draft;
  editing: OfferJson | undefined;
  focus: boolean;
  onDone: () => void;
  onCancel: () => void;
}) {
  const { k, editing } = props;
  const [d, setD] = useState<Draft>(props.draft);
  const first = useRef<HTMLInputElement>(null);
  useEffect(() => {
    if (props.focus) first.current?.focus();
  }, [props.focus]);
  const { act, err, ok, busy } = useAct(props.onDone);
  const set = (f: keyof Draft) => (e: { target: { value: string } }) => setD({ ...d, [f]: e.target.value });
  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    const signer = signerFromSecret(k.name, k.signingSecret);
    void act(
      () =>
        editing
          ? client.replaceOffer({ operator: k.name, offer: editing.id, terms: termsOf(d, editing) }, signer)
          : client.publishOffer({ operator: k.name, terms: termsOf(d) }, signer),
      editing ? `Saved “${d.title}”: new Requests get these terms.` : `Published “${d.title}”.`,
    );
  };
  const field = (id: keyof Draft, label: string, extra: Record<string, string | boolean> = {}) => (
    <>
      <label htmlFor={`pub-${id}`}>{label}</label>
      <input
        id={`pub-${id}`}
        ref={id === 'title' ? first : undefined}
        value={d[id]}
        onChange={set(id)}
        {...extra}
      />
    </>
  );
  return (
    <form onSubmit={onSubmit} className="form-grid">
      {field('title', 'Title', { required: true })}
      {field('country', 'Country (ISO code)', {
        required: true,
        pattern: '[A-Za-z]{2}(\\s*,\\s*[A-Za-z]{2})*',
      })}
      {field('networks', 'Networks (MCC-MNC, optional)', {
        pattern: '(\\d{3}-\\d{2,3})?(\\s*,\\s*\\d{3}-\\d{2,3})*',
      })}
      {field('tech', 'Technologies')}
      {field('volume', 'Data (GB)', { type: 'number', min: '0', step: 'any' })}
      {field('days', 'Days', { type: 'number', min: '1', step: '1' })}
      {field('price', 'Price (SDR)', { inputMode: 'decimal', required: true })}
      {field('unitPrice', 'Extra data (SDR per MB)', { inputMode: 'decimal' })}
      {field('capacity', 'Capacity (open contracts)', { type: 'number', min: '1', step: '1' })}
      {field('validDays', 'On sale for (days)', { type: 'number', min: '1', step: '1' })}
      <span />
      <div className="row wrap">
        <button type="submit" disabled={busy}>
          {editing ? (busy ? 'Saving…' : 'Save changes') : busy ? 'Publishing…' : 'Publish offer'}
        </button>
        {editing ? (
          <button type="button" className="secondary" onClick={props.onCancel}>
            Done editing
          </button>
        ) : null}
      </div>
      <span />
      <div>
        <Feedback err={err} ok={ok} />
      </div>
    </form>
  );
}

async function myOffers(operator: string, withdrawn: boolean): Promise<OfferJson[]> {
  const statuses = withdrawn ? (['active', 'paused', 'withdrawn'] as const) : (['active', 'paused'] as const);
  const pages = await Promise.all(statuses.map((status) => client.offers({ operator, status, limit: 100 })));
  return pages.flatMap((p) => p.items).sort((a, b) => Number(BigInt(b.createdAt) - BigInt(a.createdAt)));
}

export function Offers({ k, n }: { k: Keys; n: number }) {
  const [tick, setTick] = useState(0);
  const [withdrawn, setWithdrawn] = useState(false);
  const [form, setForm] = useState<{ d: Draft; n: number; editing?: OfferJson }>({ d: EMPTY_DRAFT, n: 0 });
  const offers = useAsync(() => myOffers(k.name, withdrawn), [k.name, n, tick, withdrawn]);
  const { act, err, ok, busy } = useAct(() => setTick((x) => x + 1));
  const signer = signerFromSecret(k.name, k.signingSecret);
  const open = (d: Draft, editing?: OfferJson) =>
    setForm((x) => ({ d, n: x.n + 1, ...(editing ? { editing } : {}) }));
  return (
    <>
      <Panel title="My offers">
        <label className="check">
          <input type="checkbox" checked={withdrawn} onChange={(e) => setWithdrawn(e.target.checked)} /> Show
          withdrawn offers too
        </label>
        <ErrorBox error={offers.error} />
        <Feedback err={err} ok={ok} />
        <table>
          <thead>
            <tr>
              <th scope="col">Offer</th>
              <th scope="col">Price</th>
              <th scope="col">Package</th>
              <th scope="col">Terms</th>
              <th scope="col">Contracts</th>
              <th scope="col">
                <span className="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {(offers.data ?? []).map((o) => (
              <tr key={o.id}>
                <td>
                  <a href={`#/explorer/offer/${o.id}`}>{o.terms.title}</a>
                  {o.status !== 'active' ? (
                    <strong className="warn" data-testid="offer-status">
                      {' '}
                      · {o.status === 'paused' ? 'paused (not on sale)' : 'withdrawn'}
                    </strong>
                  ) : null}
                </td>
                <td>{sdr(o.terms.price)}</td>
                <td>
                  {gb(o.terms.dataBytes)} / {Math.round(o.terms.durationSec / 86400)} d ·{' '}
                  {o.terms.countries.join(' ')}
                </td>
                <td className="small">
                  {o.terms.unitPrice === '0' ? 'no extra data' : `extra ${sdr(o.terms.unitPrice)}/MB`} ·
                  capacity {o.terms.capacity} · on sale {time(o.terms.validFrom).slice(0, 10)} to{' '}
                  {time(o.terms.validUntil).slice(0, 10)}
                  {o.terms.networks.length ? ` · networks ${o.terms.networks.join(' ')}` : ' · all networks'}
                </td>
                <td>
                  {o.openContracts} open / {o.totalContracts}
                </td>
                <td className="actions">
                  {o.status !== 'withdrawn' ? (
                    <button
                      type="button"
                      className="secondary"
                      aria-label={`Edit ${o.terms.title}`}
                      onClick={() => open(draftOf(o, false), o)}
                    >
                      Edit
                    </button>
                  ) : null}
                  {o.status !== 'withdrawn' ? (
                    <button
                      type="button"
                      className="secondary"
                      disabled={busy}
                      aria-label={`${o.status === 'paused' ? 'Resume' : 'Pause'} ${o.terms.title}`}
                      onClick={() =>
                        void act(
                          () =>
                            o.status === 'paused'
                              ? client.resumeOffer({ operator: k.name, offer: o.id }, signer)
                              : client.pauseOffer({ operator: k.name, offer: o.id }, signer),
                          o.status === 'paused'
                            ? `Resumed “${o.terms.title}”: it is on sale again.`
                            : `Paused “${o.terms.title}”: travellers cannot buy it until you resume it.`,
                        )
                      }
                    >
                      {o.status === 'paused' ? 'Resume' : 'Pause'}
                    </button>
                  ) : null}
                  <button
                    type="button"
                    className="secondary"
                    aria-label={`Duplicate ${o.terms.title}`}
                    onClick={() => open(draftOf(o))}
                  >
                    Duplicate
                  </button>
                  {o.status === 'withdrawn' ? null : (
                    <button
                      type="button"
                      className="secondary"
                      disabled={busy}
                      aria-label={`Withdraw ${o.terms.title}`}
                      onClick={() =>
                        void act(
                          () => client.withdrawOffer({ operator: k.name, offer: o.id }, signer),
                          `Withdrew “${o.terms.title}”.`,
                        )
                      }
                    >
                      Withdraw
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </Panel>
      <Panel title={form.editing ? 'Edit an offer' : 'Publish an offer'}>
        {form.editing ? (
          <p className="small">
            Editing “{form.editing.terms.title}”. Open contracts keep the terms they were bought on.
          </p>
        ) : null}
        <PublishForm
          key={form.n}
          k={k}
          draft={form.d}
          editing={form.editing}
          focus={form.n > 0}
          onDone={() => setTick((x) => x + 1)}
          onCancel={() => open(EMPTY_DRAFT)}
        />
      </Panel>
    </>
  );
}
