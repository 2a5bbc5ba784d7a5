/** Explorer lists with pages: offers (active or all), refreshed when an offer event arrives. */
import type { OfferJson } from '@roamchain/sdk';
import { useEffect, useState } from 'react';
import { client, duration, href, sdr, time, useAsync, useEventFeed, volume } from './lib.js';
import { Account, ErrorBox, Panel } from './ui.js';

export function OffersList() {
  useEffect(() => {
    document.title = 'Offers · Explorer · roamchain';
  }, []);
  const [status, setStatus] = useState<'active' | 'all'>('active');
  const [cursors, setCursors] = useState<string[]>([]);
  const [n, setN] = useState(0);
  useEventFeed({}, (e) => {
    if (e.event.type.startsWith('offer_')) setN((x) => x + 1);
  });
  const cursor = cursors.at(-1);
  const page = useAsync(
    () => client.offers({ status, limit: 20, ...(cursor ? { cursor } : {}) }),
    [status, cursor, n],
  );
  const items: OfferJson[] = page.data?.items ?? [];
  return (
    <Panel title="Offers">
      <label className="check">
        <input
          type="checkbox"
          checked={status === 'all'}
          onChange={(e) => {
            setCursors([]);
            setStatus(e.target.checked ? 'all' : 'active');
          }}
        />{' '}
        Include withdrawn offers
      </label>
      <ErrorBox error={page.error} />
      <table>
        <thead>
          <tr>
            <th scope="col">Offer</th>
            <th scope="col">Operator</th>
            <th scope="col">Coverage</th>
            <th scope="col">Package</th>
            <th scope="col">Price</th>
            <th scope="col">Status</th>
          </tr>
        </thead>
        <tbody>
          {items.map((o) => (
            <tr key={o.id}>
              <td>
                <a href={href('explorer', 'offer', o.id)}>{o.terms.title}</a>
              </td>
              <td>
                <Account name={o.operator} />
              </td>
              <td>{[...o.terms.countries, ...o.terms.networks].join(', ')}</td>
              <td>
                {volume(o.terms.dataBytes)} / {duration(o.terms.durationSec * 1000)}
              </td>
              <td>{sdr(o.terms.price)}</td>
              <td title={`valid until ${time(o.terms.validUntil)} UTC`}>{o.status}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <div className="row">
        <button
          type="button"
          className="secondary"
          disabled={cursors.length === 0}
          onClick={() => setCursors((c) => c.slice(0, -1))}
        >
          Previous page
        </button>
        <button
          type="button"
          className="secondary"
          disabled={!page.data?.next}
          onClick={() => {
            const next = page.data?.next;
            if (next) setCursors((c) => [...c, next]);
          }}
        >
          Next page
        </button>
      </div>
    </Panel>
  );
}
