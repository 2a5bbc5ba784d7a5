/**
 * Operator console (devnet demo operators, public demo keys): publish and withdraw offers, incoming
 * requests (provision them), live contracts and their charges, the operator's rating, and a
 * settlement statement for a period computed from the API (CSV download).
 */
import { randomBytes, utf8 } from '@roamchain/protocol';
import { type ContractJson, GB, signerFromSecret } from '@roamchain/sdk';
import { type FormEvent, useState } from 'react';
import { DEMO_OPERATORS, demoKeys, type Keys } from './keys.js';
import { amt, client, download, gb, sdr, time, toUnits, useAsync, useEventFeed } from './lib.js';
import { statementCsv, statementRows } from './statement.js';
import { ErrorBox, Id, KV, Panel, Stars } from './ui.js';

type Act = (f: () => Promise<unknown>) => Promise<void>;

function useAct(after: () => void): { act: Act; err: unknown; busy: boolean } {
  const [err, setErr] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const act: Act = async (f) => {
    setErr(undefined);
    setBusy(true);
    try {
      await f();
      after();
    } catch (e) {
      setErr(e);
    } finally {
      setBusy(false);
    }
  };
  return { act, err, busy };
}

function PublishForm({ k, onDone }: { k: Keys; onDone: () => void }) {
  const [title, setTitle] = useState('');
  const [country, setCountry] = useState('DE');
  const [tech, setTech] = useState('4G,5G');
  const [volume, setVolume] = useState('5');
  const [days, setDays] = useState('7');
  const [price, setPrice] = useState('6.00');
  const { act, err, busy } = useAct(onDone);
  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    void act(() =>
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
      <ErrorBox error={err} />
    </form>
  );
}

function Offers({ k, n }: { k: Keys; n: number }) {
  const [tick, setTick] = useState(0);
  const offers = useAsync(
    () => client.offers({ operator: k.name, status: 'active', limit: 100 }),
    [k.name, n, tick],
  );
  const { act, err, busy } = useAct(() => setTick((x) => x + 1));
  return (
    <>
      <Panel title="My offers">
        <ErrorBox error={offers.error ?? err} />
        <table>
          <thead>
            <tr>
              <th scope="col">Offer</th>
              <th scope="col">Price</th>
              <th scope="col">Package</th>
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
                <td>
                  {o.openContracts} open / {o.totalContracts}
                </td>
                <td>
                  <button
                    type="button"
                    className="secondary"
                    disabled={busy}
                    aria-label={`Withdraw ${o.terms.title}`}
                    onClick={() =>
                      void act(() =>
                        client.withdrawOffer(
                          { operator: k.name, offer: o.id },
                          signerFromSecret(k.name, k.signingSecret),
                        ),
                      )
                    }
                  >
                    Withdraw
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </Panel>
      <Panel title="Publish an offer">
        <PublishForm k={k} onDone={() => setTick((x) => x + 1)} />
      </Panel>
    </>
  );
}

function Contracts({ k, items, reload }: { k: Keys; items: ContractJson[]; reload: () => void }) {
  const { act, err, busy } = useAct(reload);
  const [amount, setAmount] = useState<Record<string, string>>({});
  const signer = signerFromSecret(k.name, k.signingSecret);
  const mine = items.filter((c) => c.status === 'open' && c.assignee === k.name);
  const incoming = mine.filter((c) => !c.provisionedAt || c.provisionedAt === '0');
  const live = mine.filter((c) => c.provisionedAt && c.provisionedAt !== '0');
  const provision = (c: ContractJson) => {
    const iccid = `89${Array.from(randomBytes(9), (b) => String(b % 100).padStart(2, '0')).join('')}`;
    const code = `LPA:1$smdp.${k.name}.example$${Array.from(randomBytes(6), (b) =>
      b.toString(16).padStart(2, '0'),
    )
      .join('')
      .toUpperCase()}`;
    return act(() =>
      client.provision(
        {
          assignee: k.name,
          contract: c.id,
          iccid,
          plaintext: utf8(JSON.stringify({ activationCode: code, iccid, apn: 'internet' })),
          encryptionSecret: k.encryptionSecret,
        },
        signer,
      ),
    );
  };
  return (
    <>
      <Panel title="Incoming requests">
        <ErrorBox error={err} />
        {incoming.length === 0 ? <p className="muted">No request waiting for provisioning.</p> : null}
        <ul className="plain">
          {incoming.map((c) => (
            <li key={c.id} className="row wrap">
              <Id id={c.id} to={['explorer', 'contract', c.id]} /> {c.subscriber} (home {c.issuer}) · deposit{' '}
              {sdr(c.deposit)}
              <button type="button" disabled={busy} onClick={() => void provision(c)}>
                Provision eSIM
              </button>
            </li>
          ))}
        </ul>
      </Panel>
      <Panel title="Live contracts">
        {live.length === 0 ? <p className="muted">No live contract.</p> : null}
        <ul className="plain">
          {live.map((c) => (
            <li key={c.id} className="contract-row">
              <div>
                <Id id={c.id} to={['explorer', 'contract', c.id]} /> {c.subscriber} · charged {sdr(c.charged)}{' '}
                of {sdr(c.deposit)} in {c.chargeCount} step(s)
              </div>
              <form
                className="row wrap"
                onSubmit={(e) => {
                  e.preventDefault();
                  const v = amount[c.id] ?? amt(c.price);
                  void act(() =>
                    client.charge(
                      { assignee: k.name, contract: c.id, amount: toUnits(v), usageType: 'data' },
                      signer,
                    ),
                  );
                }}
              >
                <label htmlFor={`amt-${c.id}`}>Charge (SDR)</label>
                <input
                  id={`amt-${c.id}`}
                  inputMode="decimal"
                  value={amount[c.id] ?? amt(c.price)}
                  onChange={(e) => setAmount((m) => ({ ...m, [c.id]: e.target.value }))}
                />
                <button type="submit" disabled={busy}>
                  Charge
                </button>
                <button
                  type="button"
                  className="secondary"
                  disabled={busy}
                  onClick={() => void act(() => client.refund({ by: k.name, contract: c.id }, signer))}
                >
                  Close
                </button>
              </form>
            </li>
          ))}
        </ul>
      </Panel>
    </>
  );
}

// ---------- settlement statement ----------

function Statement({ k, items }: { k: Keys; items: ContractJson[] }) {
  const today = new Date().toISOString().slice(0, 10);
  const [from, setFrom] = useState(new Date(Date.now() - 30 * 86_400_000).toISOString().slice(0, 10));
  const [to, setTo] = useState(today);
  const fromMs = Date.parse(`${from}T00:00:00Z`);
  const toMs = Date.parse(`${to}T00:00:00Z`) + 86_400_000;
  const rows =
    Number.isFinite(fromMs) && Number.isFinite(toMs) ? statementRows(k.name, items, fromMs, toMs) : [];
  const asAssignee = rows.filter((r) => r.role === 'assignee').reduce((s, r) => s + r.received, 0n);
  const asIssuer = rows.filter((r) => r.role === 'issuer').reduce((s, r) => s + r.received, 0n);
  return (
    <Panel title="Settlement statement">
      <form className="row wrap" onSubmit={(e) => e.preventDefault()}>
        <label htmlFor="st-from">From</label>
        <input id="st-from" type="date" value={from} onChange={(e) => setFrom(e.target.value)} />
        <label htmlFor="st-to">To</label>
        <input id="st-to" type="date" value={to} onChange={(e) => setTo(e.target.value)} />
        <button
          type="button"
          onClick={() => download(`statement-${k.name}-${from}-${to}.csv`, statementCsv(rows))}
        >
          Download CSV
        </button>
      </form>
      <KV
        rows={[
          ['Closed contracts', String(rows.length)],
          ['Received as visited operator', sdr(asAssignee)],
          ['Fees received as home operator', sdr(asIssuer)],
          ['Total', <strong key="t">{sdr(asAssignee + asIssuer)}</strong>],
        ]}
      />
      {rows.length > 0 ? (
        <table>
          <thead>
            <tr>
              <th scope="col">Closed (UTC)</th>
              <th scope="col">Contract</th>
              <th scope="col">Role</th>
              <th scope="col">Charged</th>
              <th scope="col">Received</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={`${r.contract}:${r.role}`}>
                <td>{time(r.closedAt)}</td>
                <td>
                  <Id id={r.contract} to={['explorer', 'contract', r.contract]} />
                </td>
                <td>{r.role}</td>
                <td>{sdr(r.charged)}</td>
                <td>{sdr(r.received)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </Panel>
  );
}

function OperatorView({ k }: { k: Keys }) {
  const n = useEventFeed({ account: k.name });
  const [tick, setTick] = useState(0);
  const rating = useAsync(() => client.operatorRating(k.name), [k.name, n]);
  const cs = useAsync(() => client.contracts({ party: k.name, limit: 200 }), [k.name, n, tick]);
  const items = cs.data?.items ?? [];
  return (
    <div className="grid">
      <Panel title={`Operator ${k.name}`}>
        <p className="warn-box">Public demo keys (devnet only).</p>
        {rating.data ? (
          <KV
            rows={[
              ['Rating', <Stars key="r" x100={rating.data.starsX100} />],
              ['Ratings', String(rating.data.ratingCount)],
              ['Contracts', `${rating.data.contracts} (${rating.data.closed} closed)`],
              ['Bad-service refunds', String(rating.data.badService)],
            ]}
          />
        ) : null}
        <ErrorBox error={rating.error ?? cs.error} />
      </Panel>
      <Contracts k={k} items={items} reload={() => setTick((x) => x + 1)} />
      <Offers k={k} n={n} />
      <Statement k={k} items={items} />
    </div>
  );
}

export function ConsoleApp() {
  const [pick, setPick] = useState('telco-de');
  const [k, setK] = useState<Keys | undefined>();
  if (k)
    return (
      <div>
        <p>
          <button type="button" className="secondary" onClick={() => setK(undefined)}>
            ← Switch operator
          </button>
        </p>
        <OperatorView k={k} />
      </div>
    );
  return (
    <Panel title="Operator console">
      <p className="warn-box">
        The devnet's demo operators sign with public demo keys (seed “roamchain-devnet”): for the local devnet
        only. A real operator uses the CLI or the SDK with its own keystore.
      </p>
      <form
        className="row"
        onSubmit={(e) => {
          e.preventDefault();
          setK(demoKeys(pick));
        }}
      >
        <label htmlFor="op-pick">Operator</label>
        <select id="op-pick" value={pick} onChange={(e) => setPick(e.target.value)}>
          {DEMO_OPERATORS.map((o) => (
            <option key={o}>{o}</option>
          ))}
        </select>
        <button type="submit">Open console as {pick}</button>
      </form>
    </Panel>
  );
}
