/** The operator's offers: all their terms, withdrawn ones on request, withdraw, duplicate, publish. */
import { GB, type OfferJson, signerFromSecret } from '@roamchain/sdk';
import { type FormEvent, useState } from 'react';
import type { Keys } from './keys.js';
import { amt, client, gb, sdr, time, toUnits, useAsync } from './lib.js';
import { ErrorBox, Feedback, Panel, useAct } from './ui.js';

export interface Draft {
  title: string;
  country: string;
  tech: string;
  volume: string;
  days: string;
  price: string;
}

export const EMPTY_DRAFT: Draft = {
  title: '',
  country: 'DE',
  tech: '4G,5G',
  volume: '5',
  days: '7',
  price: '6.00',
};

/** An offer's terms as a draft (to duplicate it). */
export function draftOf(o: OfferJson): Draft {
  return {
    title: `${o.terms.title} (copy)`,
    country: o.terms.countries[0] ?? '',
    tech: o.terms.technologies.join(','),
    volume: String(Number(BigInt(o.terms.dataBytes) / 1_000_000n) / 1000),
    days: String(Math.round(o.terms.durationSec / 86_400)),
    price: amt(o.terms.price),
  };
}

function PublishForm({ k, draft, onDone }: { k: Keys; draft: Draft; onDone: () => void }) {
  const [title, setTitle] = useState(draft.title);
  const [country, setCountry] = useState(draft.country);
  const [tech, setTech] = useState(draft.tech);
  const [volume, setVolume] = useState(draft.volume);
  const [days, setDays] = useState(draft.days);
  const [price, setPrice] = useState(draft.price);
  const { act, err, ok, busy } = useAct(onDone);
  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    void act(
      () =>
        client.publishOffer(
          {
            operator: k.name,
            terms: {
              title,
              countries: [country.toUpperCase()],
              technologies: tech
                .split(',')
                .map((t) => t.trim())
                .filter(Boolean),
              dataBytes: BigInt(Math.round(Number(volume) * 1000)) * (GB / 1000n),
              durationSec: Math.round(Number(days) * 86_400),
              price: toUnits(price),
              capacity: 1000,
            },
          },
          signerFromSecret(k.name, k.signingSecret),
        ),
      `Published “${title}”.`,
    );
  };
  return (
    <form onSubmit={onSubmit} className="form-grid">
      <label htmlFor="pub-title">Title</label>
      <input id="pub-title" required value={title} onChange={(e) => setTitle(e.target.value)} />
      <label htmlFor="pub-country">Country (ISO code)</label>
      <input
        id="pub-country"
        required
        pattern="[A-Za-z]{2}"
        value={country}
        onChange={(e) => setCountry(e.target.value)}
      />
      <label htmlFor="pub-tech">Technologies</label>
      <input id="pub-tech" value={tech} onChange={(e) => setTech(e.target.value)} />
      <label htmlFor="pub-gb">Data (GB)</label>
      <input
        id="pub-gb"
        type="number"
        min="0"
        step="any"
        value={volume}
        onChange={(e) => setVolume(e.target.value)}
      />
      <label htmlFor="pub-days">Days</label>
      <input
        id="pub-days"
        type="number"
        min="1"
        step="1"
        value={days}
        onChange={(e) => setDays(e.target.value)}
      />
      <label htmlFor="pub-price">Price (SDR)</label>
      <input
        id="pub-price"
        inputMode="decimal"
        required
        value={price}
        onChange={(e) => setPrice(e.target.value)}
      />
      <span />
      <button type="submit" disabled={busy}>
        {busy ? 'Publishing…' : 'Publish offer'}
      </button>
      <span />
      <div>
        <Feedback err={err} ok={ok} />
      </div>
    </form>
  );
}

export function Offers({ k, n }: { k: Keys; n: number }) {
  const [tick, setTick] = useState(0);
  const [show, setShow] = useState<'active' | 'all'>('active');
  const [draft, setDraft] = useState<{ d: Draft; n: number }>({ d: EMPTY_DRAFT, n: 0 });
  const offers = useAsync(
    () => client.offers({ operator: k.name, status: show, limit: 100 }),
    [k.name, n, tick, show],
  );
  const { act, err, ok, busy } = useAct(() => setTick((x) => x + 1));
  return (
    <>
      <Panel title="My offers">
        <label className="check">
          <input
            type="checkbox"
            checked={show === 'all'}
            onChange={(e) => setShow(e.target.checked ? 'all' : 'active')}
          />{' '}
          Show withdrawn offers too
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
            {(offers.data?.items ?? []).map((o) => (
              <tr key={o.id}>
                <td>
                  <a href={`#/explorer/offer/${o.id}`}>{o.terms.title}</a>
                </td>
                <td>{sdr(o.terms.price)}</td>
                <td>
                  {gb(o.terms.dataBytes)} / {Math.round(o.terms.durationSec / 86400)} d ·{' '}
                  {[...o.terms.countries, ...o.terms.networks].join(' ')}
                </td>
                <td className="small">
                  {o.terms.unitPrice === '0' ? 'no extra data' : `extra ${sdr(o.terms.unitPrice)}/MB`} ·
                  capacity {o.terms.capacity} · until {time(o.terms.validUntil).slice(0, 10)}
                  {o.terms.networks.length ? ` · networks ${o.terms.networks.join(' ')}` : ''}
                </td>
                <td>
                  {o.openContracts} open / {o.totalContracts}
                  {o.status === 'withdrawn' ? <strong className="warn"> · withdrawn</strong> : null}
                </td>
                <td className="actions">
                  <button
                    type="button"
                    className="secondary"
                    aria-label={`Duplicate ${o.terms.title}`}
                    onClick={() => {
                      setDraft((x) => ({ d: draftOf(o), n: x.n + 1 }));
                      document.getElementById('pub-title')?.focus();
                    }}
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
                          () =>
                            client.withdrawOffer(
                              { operator: k.name, offer: o.id },
                              signerFromSecret(k.name, k.signingSecret),
                            ),
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
      <Panel title="Publish an offer">
        <PublishForm key={draft.n} k={k} draft={draft.d} onDone={() => setTick((x) => x + 1)} />
      </Panel>
    </>
  );
}
