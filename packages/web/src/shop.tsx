/**
 * Buying a roaming package as a traveller: destinations from the offers on chain (searchable),
 * cards in plain words with the total including the home operator's fee (and the local-currency
 * value when the chain has a fresh SDR price), whether the operator is known to serve, a checkout
 * summary, Buy disabled with the reason when the balance is short.
 */
import type { AccountJson, Preference, RankedOfferJson } from '@roamchain/sdk';
import { useEffect, useRef, useState } from 'react';
import { agentUrlOf, buy, issuerFeeBpsOf } from './buy.js';
import type { Wallet } from './keys.js';
import { apiPaths, client, isNotFound, listedAgentUrls, sdr, useAsync, volume } from './lib.js';
import {
  CURRENCIES,
  type Currency,
  countryName,
  currencyForLanguage,
  destinationsOf,
  ISSUER_FEE_BPS,
  issuerFee,
  matchesDestination,
  pricesFrom,
  priceText,
  type SdrPrices,
  totalOf,
} from './pricing.js';
import { serviceSentence } from './service-words.js';
import { Account, ErrorBox, Loading, Panel, RatingStars } from './ui.js';

/** Fresh SDR prices from GET /v1/prices; empty when the route is missing, 404 or not fresh. */
async function sdrPrices(): Promise<SdrPrices> {
  const paths = await apiPaths();
  if (!paths.has('/v1/prices')) return {};
  try {
    return pricesFrom(await client.get('/v1/prices'));
  } catch (e) {
    if (isNotFound(e)) return {};
    return {};
  }
}

/** Operators with an agent listed by this node (undefined: the node lists none at all). */
async function listedAgents(): Promise<Set<string> | undefined> {
  const names = Object.keys((await listedAgentUrls()) ?? {});
  return names.length ? new Set(names) : undefined;
}

/**
 * Whether the operator is known to serve, in words: the chain's 30-day service record (orders
 * provisioned in time, mean time) and the node's agent list.
 */
export function ServiceNote({ o, agents }: { o: RankedOfferJson; agents: Set<string> | undefined }) {
  const r = o.rating;
  const said = serviceSentence(r);
  const noAgent = agents !== undefined && !agents.has(o.offer.operator);
  return (
    <>
      {said ? (
        <p className={`${said.tone} small`} data-testid="service-record">
          {said.tone === 'warn' ? '⚠ ' : said.tone === 'ok' ? '✓ ' : ''}
          {said.text}
        </p>
      ) : r.service === 'unproven' ? (
        <p className="warn small" data-testid="service-record">
          ⚠ {o.offer.operator} has not delivered service yet.
        </p>
      ) : null}
      {noAgent && (
        <p className="warn small" data-testid="service-warning">
          ⚠ This node knows no running agent of {o.offer.operator}: nobody may set up your eSIM. If nothing
          happens, you can close the purchase and get your deposit back.
        </p>
      )}
    </>
  );
}

interface Query {
  country: string;
  gb: string;
  pref: Preference;
}

export function Shop({
  w,
  account,
  onBought,
}: {
  w: Wallet;
  account: AccountJson;
  onBought: (contractId: string) => void;
}) {
  const offers = useAsync(() => client.offers({ limit: 500 }), []);
  const destinations = destinationsOf(offers.data?.items ?? []);
  const [find, setFind] = useState('');
  const [country, setCountry] = useState('');
  const [gbs, setGbs] = useState('5');
  const [pref, setPref] = useState<Preference>('balanced');
  const [query, setQuery] = useState<Query | undefined>();
  const [chosen, setChosen] = useState<RankedOfferJson | undefined>();
  const [busy, setBusy] = useState(false);
  const [err, setErr] = useState<unknown>();
  const [demoIssuer, setDemoIssuer] = useState(false);
  const [cur, setCur] = useState<Currency>(() => currencyForLanguage(navigator.language));
  const home = account.homeOperator ?? '';
  const prices = useAsync(sdrPrices, []);
  const agents = useAsync(listedAgents, []);
  const homeAgent = useAsync(() => agentUrlOf(home), [home]);
  const feeBps = useAsync(() => issuerFeeBpsOf(home), [home]);
  const bps = feeBps.data ?? ISSUER_FEE_BPS;
  const shown = destinations.filter((d) => matchesDestination(d, find));
  const dest = shown.some((d) => d.code === country) ? country : (shown[0]?.code ?? '');
  const ranked = useAsync(
    () =>
      query
        ? client.rankOffers({
            country: query.country,
            volume: BigInt(Math.round(Number(query.gb) * 1000)) * 1_000_000n,
            preference: query.pref,
            limit: 10,
            // Answers to this subscriber's own demands are ranked for it (and only for it).
            subscriber: w.keys.name,
          })
        : Promise.resolve(undefined),
    [query],
  );
  const balance = BigInt(account.balances.SDR ?? '0');
  const p = prices.data ?? {};
  const checkout = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    if (chosen) checkout.current?.focus();
  }, [chosen]);
  const confirm = async (o: RankedOfferJson) => {
    setErr(undefined);
    setBusy(true);
    try {
      // The fee the home operator's agent will countersign (asked again if the page has not got it yet).
      const b = feeBps.data ?? (await issuerFeeBpsOf(home)) ?? ISSUER_FEE_BPS;
      const cid = await buy(w, account, o, totalOf(BigInt(o.cost), b), demoIssuer, b);
      setChosen(undefined);
      onBought(cid);
    } catch (e) {
      setErr(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Panel title="Buy a roaming package" id="shop">
      <form
        className="row wrap"
        onSubmit={(e) => {
          e.preventDefault();
          if (dest) setQuery({ country: dest, gb: gbs, pref });
          setChosen(undefined);
        }}
      >
        <div>
          <label htmlFor="dest-find">Find a destination</label>
          <input
            id="dest-find"
            type="search"
            value={find}
            placeholder="country name or code"
            onChange={(e) => setFind(e.target.value)}
          />
        </div>
        <div>
          <label htmlFor="dest">Destination</label>
          <select id="dest" value={dest} onChange={(e) => setCountry(e.target.value)}>
            {shown.map((d) => (
              <option key={d.code} value={d.code}>
                {d.name} ({d.offers} offer{d.offers === 1 ? '' : 's'})
              </option>
            ))}
          </select>
        </div>
        <div>
          <label htmlFor="vol">Data (GB)</label>
          <input
            id="vol"
            type="number"
            min="0"
            step="1"
            inputMode="numeric"
            value={gbs}
            onChange={(e) => setGbs(e.target.value)}
          />
        </div>
        <div>
          <label htmlFor="pref">Preference</label>
          <select id="pref" value={pref} onChange={(e) => setPref(e.target.value as Preference)}>
            <option value="balanced">balanced</option>
            <option value="price">price</option>
            <option value="quality">quality</option>
          </select>
        </div>
        <div>
          <label htmlFor="cur">Also show prices in</label>
          <select id="cur" value={cur} onChange={(e) => setCur(e.target.value as Currency)}>
            {CURRENCIES.map((c) => (
              <option key={c}>{c}</option>
            ))}
          </select>
        </div>
        <button type="submit" disabled={!dest}>
          Show offers
        </button>
      </form>
      {offers.data && destinations.length === 0 ? <p>No live offers on the chain.</p> : null}
      {find && shown.length === 0 ? <p>No destination matches “{find}”.</p> : null}
      {prices.data && !p[cur] ? (
        <p className="muted small" data-testid="sdr-only">
          No fresh SDR price on the chain: prices are in SDR only.
        </p>
      ) : null}
      {homeAgent.data === undefined && !homeAgent.loading ? (
        <div className="warn-box">
          <p>The node lists no agent for your home operator {home}, so nobody can countersign a purchase.</p>
          {w.keys.demo ? (
            <label className="check">
              <input type="checkbox" checked={demoIssuer} onChange={(e) => setDemoIssuer(e.target.checked)} />{' '}
              Devnet only: countersign as {home} with its public demo key in this browser
            </label>
          ) : null}
        </div>
      ) : null}
      <ErrorBox error={ranked.error} />
      {ranked.loading && query ? <Loading what="offers" /> : null}
      {ranked.data && ranked.data.items.length === 0 ? <p>No live offers for this destination.</p> : null}
      <ol className="offers">
        {(ranked.data?.items ?? []).map((o) => {
          const cost = BigInt(o.cost);
          const total = totalOf(cost, bps);
          const short = total > balance;
          const t = o.offer.terms;
          const wantBytes = BigInt(Math.round(Number(query?.gb ?? '0') * 1000)) * 1_000_000n;
          const extra = wantBytes > BigInt(t.dataBytes) ? wantBytes - BigInt(t.dataBytes) : 0n;
          const reasonId = `short-${o.offerId.slice(0, 12)}`;
          const others = t.countries.filter((c) => c !== query?.country);
          return (
            <li key={o.offerId} className="offer" data-testid="offer">
              <div className="offer-head">
                <strong>{t.title}</strong>
              </div>
              <div className="small">
                {volume(t.dataBytes)} for {Math.round(t.durationSec / 86400)} days ·{' '}
                {t.technologies.join('/') || 'any network'} · by <Account name={o.offer.operator} /> ·{' '}
                <RatingStars r={o.rating} />
              </div>
              {others.length ? (
                <div className="small muted">Also covers {others.map(countryName).join(', ')}.</div>
              ) : null}
              {extra > 0n ? (
                <div className="small">
                  For your {query?.gb} GB: the {volume(t.dataBytes)} package plus {volume(extra)} extra at{' '}
                  {sdr(t.unitPrice)} per MB.
                </div>
              ) : null}
              <div>
                Total <strong data-testid="offer-total">{priceText(total, p, cur)}</strong>{' '}
                <span className="muted small">
                  ({sdr(cost)} + {sdr(issuerFee(cost, bps))} home operator fee)
                </span>
              </div>
              <ServiceNote o={o} agents={agents.data} />
              <details className="small">
                <summary>Why this rank</summary>
                <ul className="reasons">
                  {o.reasons.map((r) => (
                    <li key={r}>{r}</li>
                  ))}
                </ul>
              </details>
              {short ? (
                <p className="warn small" id={reasonId} data-testid="short">
                  You need {sdr(total)}; your balance is {sdr(balance)}.{' '}
                  <button
                    type="button"
                    className="link"
                    onClick={() => {
                      const el = document.getElementById('add-sdr-h');
                      el?.setAttribute('tabindex', '-1');
                      el?.scrollIntoView({ block: 'start' });
                      el?.focus();
                    }}
                  >
                    Add SDR
                  </button>
                </p>
              ) : null}
              <button
                type="button"
                onClick={() => {
                  setErr(undefined);
                  setChosen(o);
                }}
                disabled={busy || short}
                aria-describedby={short ? reasonId : undefined}
                aria-label={`Buy ${t.title} from ${o.offer.operator}`}
              >
                Buy
              </button>
            </li>
          );
        })}
      </ol>
      {chosen ? (
        <section className="checkout" aria-labelledby="checkout-h" data-testid="checkout">
          <h3 id="checkout-h" tabIndex={-1} ref={checkout}>
            Checkout: {chosen.offer.terms.title}
          </h3>
          <dl className="kv">
            <div>
              <dt>Package</dt>
              <dd>
                {volume(chosen.offer.terms.dataBytes)} for{' '}
                {Math.round(chosen.offer.terms.durationSec / 86400)} days in{' '}
                {chosen.offer.terms.countries.map(countryName).join(', ')}, by {chosen.offer.operator}
              </dd>
            </div>
            <div>
              <dt>Price</dt>
              <dd>{sdr(chosen.cost)}</dd>
            </div>
            <div>
              <dt>Home operator fee ({home})</dt>
              <dd>{sdr(issuerFee(BigInt(chosen.cost), bps))}</dd>
            </div>
            <div>
              <dt>Total (held as deposit)</dt>
              <dd>
                <strong>{priceText(totalOf(BigInt(chosen.cost), bps), p, cur)}</strong>
              </dd>
            </div>
            <div>
              <dt>Balance after</dt>
              <dd>{sdr(balance - totalOf(BigInt(chosen.cost), bps))}</dd>
            </div>
          </dl>
          <p className="small muted">
            The total is held on the contract. The visited operator charges it as you use the package;
            whatever it has not charged comes back when the contract closes.
          </p>
          <div className="row wrap">
            <button type="button" disabled={busy} onClick={() => void confirm(chosen)}>
              {busy ? 'Buying…' : 'Confirm purchase'}
            </button>
            <button type="button" className="secondary" disabled={busy} onClick={() => setChosen(undefined)}>
              Cancel
            </button>
          </div>
          <ErrorBox error={err} />
        </section>
      ) : (
        <ErrorBox error={err} />
      )}
    </Panel>
  );
}
