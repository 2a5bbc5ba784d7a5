/** Explorer: chain status, blocks, transactions, accounts, contracts (as timelines), ratings, search. */
import { type ContractTxRefJson, listAccounts, type OperationJson, type SignedTxJson } from '@roamchain/sdk';
import { type FormEvent, type ReactNode, useEffect, useState } from 'react';
import { FeesPage, GovernancePage, PricesPage, ProposalPage, SuperNodesPage } from './explorer-gov.js';
import {
  AccountHistory,
  AccountsList,
  ContractsList,
  OffersList,
  TransactionsList,
  ValidatorsList,
} from './explorer-lists.js';
import { MiniNodesList } from './explorer-mini.js';
import { Amount, CopyId, When } from './explorer-ui.js';
import {
  client,
  duration,
  go,
  href,
  isNotFound,
  sdr,
  short,
  time,
  useAsync,
  useEventFeed,
  useLive,
  volume,
} from './lib.js';
import { Account, CopyButton, ErrorBox, Id, KV, Loading, Panel, RatingStars } from './ui.js';

const AMOUNT_FIELDS = new Set([
  'amount',
  'deposit',
  'feeDeposit',
  'price',
  'unitPrice',
  'maxPrice',
  'charged',
  'paidAssignee',
  'paidIssuer',
  'paidPayer',
]);

function fieldValue(k: string, v: unknown): ReactNode {
  if (v === null || v === undefined) return <span className="muted">–</span>;
  if (typeof v === 'string') {
    if (AMOUNT_FIELDS.has(k) && /^\d+$/.test(v)) return sdr(v);
    if (/^[0-9a-f]{64,}$/.test(v)) {
      if (k === 'contract') return <Id id={v} to={['explorer', 'contract', v]} />;
      return <Id id={v} />;
    }
    if (['from', 'to', 'issuer', 'assignee', 'payer', 'subscriber', 'operator', 'gateway', 'by'].includes(k))
      return <Account name={v} />;
    return v;
  }
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return v.length === 0 ? <span className="muted">[]</span> : v.map(String).join(', ');
  return (
    <dl className="kv nested">
      {Object.entries(v as Record<string, unknown>).map(([kk, vv]) => (
        <div key={kk}>
          <dt>{kk}</dt>
          <dd>{fieldValue(kk, vv)}</dd>
        </div>
      ))}
    </dl>
  );
}

function OpView({ op }: { op: OperationJson }) {
  const { type, ...rest } = op;
  return (
    <div className="op">
      <span className={`tag tag-${type}`}>{type}</span>
      <dl className="kv">
        {Object.entries(rest).map(([k, v]) => (
          <div key={k}>
            <dt>{k}</dt>
            <dd>{fieldValue(k, v)}</dd>
          </div>
        ))}
      </dl>
    </div>
  );
}

// ---------- status ----------

/** Sets the tab's title for an explorer page. */
function usePageTitle(title: string): void {
  useEffect(() => {
    document.title = `${title} · Explorer · roamchain`;
  }, [title]);
}

/** Raw JSON of what a page shows (as the API returned it). */
function Raw({ value }: { value: unknown }) {
  return (
    <details className="raw">
      <summary>Raw JSON</summary>
      <pre className="mono">{JSON.stringify(value, null, 2)}</pre>
    </details>
  );
}

// Status: fetched once; afterwards the head, tx/s and block time come from the tab's one WebSocket
// (no request per block).
function StatusPanel() {
  const live = useLive();
  const status = useAsync(() => client.status(), []);
  const blocks = useAsync(() => client.blocks({ limit: 60 }), []);
  const s = status.data;
  const fetched = (blocks.data?.items ?? []).map((b) => ({
    height: b.height,
    time: Number(b.time),
    txCount: b.txCount,
  }));
  const seen = new Set(live.recent.map((b) => b.height));
  const all = [
    ...fetched.filter((b) => !seen.has(b.height)).reverse(),
    ...live.recent.map((b) => ({ height: b.height, time: Number(b.time), txCount: b.txCount })),
  ].slice(-60);
  let tps = 0;
  let blockMs = 0;
  if (all.length >= 2) {
    const oldest = all[0]!.time;
    const newest = all[all.length - 1]!.time;
    const txs = all.slice(1).reduce((n, b) => n + b.txCount, 0);
    tps = newest > oldest ? (txs * 1000) / (newest - oldest) : 0;
    blockMs = (newest - oldest) / (all.length - 1);
  }
  const validators = new Map<string, number>();
  for (const b of blocks.data?.items ?? [])
    if (!validators.has(b.producer)) validators.set(b.producer, b.height);
  const height = live.block?.height ?? s?.height;
  return (
    <Panel title="Chain status">
      <ErrorBox error={status.error} />
      {!s ? (
        <Loading />
      ) : (
        <>
          <div className="stats">
            <Stat label="Height" value={String(height)} testid="height" />
            <Stat label="tx/s (last blocks)" value={tps.toFixed(2)} />
            <Stat label="Block time" value={blockMs ? `${(blockMs / 1000).toFixed(2)} s` : '–'} />
            <Stat label="Mempool (at load)" value={String(s.mempool)} />
          </div>
          <Chart points={all} />
          <p className="muted small">
            {s.chainName} · chain <span className="mono">{short(s.chainId)}</span> · head{' '}
            {time(live.block?.time ?? s.headTime)} UTC ·{' '}
            <span className={live.connected ? 'ok' : 'warn'}>{live.connected ? 'live' : 'connecting…'}</span>
          </p>
          <h3>Validators</h3>
          <table>
            <thead>
              <tr>
                <th scope="col">Validator</th>
                <th scope="col">Last signed block (at load)</th>
              </tr>
            </thead>
            <tbody>
              {[...validators].map(([v, h]) => (
                <tr key={v}>
                  <td>
                    <Account name={v} />
                  </td>
                  <td>
                    <a href={href('explorer', 'block', String(h))}>#{h}</a>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </Panel>
  );
}

/**
 * tx/s and block time of the recent blocks (the ones the page already has from the WebSocket), as a
 * small SVG chart: each point is one block, its transactions over the time since its parent.
 */
function Chart({ points }: { points: { height: number; time: number; txCount: number }[] }) {
  if (points.length < 3) return null;
  const W = 300;
  const H = 60;
  const gaps = points.slice(1).map((p, i) => Math.max(1, p.time - points[i]!.time));
  const rates = points.slice(1).map((p, i) => (p.txCount * 1000) / gaps[i]!);
  const maxRate = Math.max(1, ...rates);
  const maxGap = Math.max(1, ...gaps);
  const x = (i: number, n: number) => (i * W) / Math.max(1, n - 1);
  const path = (vs: number[], max: number) =>
    vs.map((v, i) => `${x(i, vs.length).toFixed(1)},${(H - (v * H) / max).toFixed(1)}`).join(' ');
  const first = points[1]!.height;
  const last = points[points.length - 1]!.height;
  return (
    <figure className="chart">
      <svg
        viewBox={`0 0 ${W} ${H}`}
        width="100%"
        height="60"
        role="img"
        aria-label={`tx/s and block time of blocks #${first} to #${last}: up to ${maxRate.toFixed(1)} tx/s, block time up to ${(maxGap / 1000).toFixed(2)} s`}
        data-testid="chart"
      >
        <polyline points={path(rates, maxRate)} fill="none" stroke="#1f56c9" strokeWidth="2" />
        <polyline
          points={path(gaps, maxGap)}
          fill="none"
          stroke="#9a5a00"
          strokeWidth="1.5"
          strokeDasharray="4 3"
        />
      </svg>
      <figcaption className="small muted">
        Blocks #{first}–#{last}. Blue: tx/s (max {maxRate.toFixed(1)}). Dashed: block time (max{' '}
        {(maxGap / 1000).toFixed(2)} s).
      </figcaption>
    </figure>
  );
}

function Stat({ label, value, testid }: { label: string; value: string; testid?: string }) {
  return (
    <div className="stat">
      <div className="stat-v" data-testid={testid}>
        {value}
      </div>
      <div className="stat-l">{label}</div>
    </div>
  );
}

// Blocks: the newest from the WebSocket, older pages on request (no request per block).
function BlocksPanel() {
  const live = useLive();
  const [before, setBefore] = useState<number | undefined>();
  const page = useAsync(() => client.blocks({ limit: 15, ...(before ? { before } : {}) }), [before]);
  const fetched = page.data?.items ?? [];
  const top = fetched[0]?.height ?? 0;
  const fresh = before
    ? []
    : live.recent
        .filter((b) => b.height > top)
        .reverse()
        .slice(0, 15)
        .map((b) => ({ id: b.id, height: b.height, time: String(b.time), producer: '', txCount: b.txCount }));
  const rows = [...fresh, ...fetched].slice(0, 15);
  const last = rows.at(-1)?.height;
  return (
    <Panel title="Latest blocks">
      <ErrorBox error={page.error} />
      <table>
        <thead>
          <tr>
            <th scope="col">Height</th>
            <th scope="col">Time (UTC)</th>
            <th scope="col">Producer</th>
            <th scope="col">Txs</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((b) => (
            <tr key={b.id}>
              <td>
                <a href={href('explorer', 'block', String(b.height))}>#{b.height}</a>
              </td>
              <td title={String(b.time)}>{time(b.time).slice(11)}</td>
              <td>{b.producer || <span className="muted">new</span>}</td>
              <td>{b.txCount}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <div className="row">
        <button type="button" className="secondary" disabled={!before} onClick={() => setBefore(undefined)}>
          Newest
        </button>
        <button
          type="button"
          className="secondary"
          disabled={!last || last <= 1}
          onClick={() => setBefore(last)}
        >
          Older blocks
        </button>
      </div>
    </Panel>
  );
}

function RecentTxsPanel() {
  const [items, setItems] = useState<{ cursor: string; txId: string | null; type: string; height: number }[]>(
    [],
  );
  useEventFeed({}, (e) =>
    setItems((xs) =>
      [{ cursor: e.cursor, txId: e.txId, type: e.event.type, height: e.height }, ...xs].slice(0, 12),
    ),
  );
  return (
    <Panel title="Live events">
      {items.length === 0 ? (
        <p className="muted">Waiting for transactions…</p>
      ) : (
        <ul className="plain">
          {items.map((x) => (
            <li key={x.cursor}>
              <span className="tag">{x.type}</span> #{x.height}{' '}
              {x.txId ? <Id id={x.txId} to={['explorer', 'tx', x.txId]} /> : null}
            </li>
          ))}
        </ul>
      )}
    </Panel>
  );
}

export function RatingsPanel() {
  const [n, setN] = useState(0);
  useEventFeed({}, (e) => {
    if (e.event.type === 'contract_settled' || e.event.type === 'contract_rated') setN((x) => x + 1);
  });
  const ratings = useAsync(() => client.ratings(), [n]);
  return (
    <Panel title="Operator ratings">
      <ErrorBox error={ratings.error} />
      <table>
        <thead>
          <tr>
            <th scope="col">Operator</th>
            <th scope="col">Rating</th>
            <th scope="col">Ratings</th>
            <th scope="col">Contracts</th>
            <th scope="col">Bad service</th>
            <th scope="col">Serves?</th>
          </tr>
        </thead>
        <tbody>
          {(ratings.data?.items ?? []).map((r) => (
            <tr key={r.operator}>
              <td>
                <Account name={r.operator} />
              </td>
              <td>
                <RatingStars r={r} />
              </td>
              <td>{r.ratingCount}</td>
              <td>
                {r.contracts} ({r.closed} closed)
              </td>
              <td>{r.badService}</td>
              <td>{serviceWords(r.service, r.closed)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </Panel>
  );
}

export function serviceWords(service: string | undefined, closed: number): string {
  if (service === 'serving') return 'yes (provisioned its orders in the last 30 days)';
  if (service === 'unproven') return 'no: provisioned none of its orders in the last 30 days';
  if (service === 'failing') return 'poorly: more orders timed out than provisioned (30 days)';
  if (service === 'new') return `new (no order settled in 30 days; ${closed} closed contract(s))`;
  return '–';
}

// ---------- pages ----------

function BlockPage({ refId }: { refId: string }) {
  const live = useLive();
  const wanted = /^\d+$/.test(refId) ? Number(refId) : undefined;
  const head = live.block?.height;
  const future = wanted !== undefined && head !== undefined && wanted > head;
  usePageTitle(`Block #${refId}`);
  const b = useAsync(
    () => (future ? Promise.resolve(undefined) : client.block(wanted ?? refId)),
    [refId, future],
  );
  if (future || (wanted !== undefined && isNotFound(b.error)))
    return (
      <Panel title={`Block #${refId}`}>
        <p data-testid="not-yet">
          Block #{refId} is not yet produced{head !== undefined ? `: the chain is at #${head}` : ''}
          {future && head !== undefined ? ` (about ${wanted - head} block(s) to go)` : ''}. This page shows it
          when it arrives.
        </p>
      </Panel>
    );
  if (b.error) return <ErrorBox error={b.error} />;
  if (!b.data) return <Loading what="block" />;
  const d = b.data;
  return (
    <Panel title={`Block #${d.height}`}>
      <KV
        rows={[
          ['Id', <CopyId key="id" id={d.id} label="block id" />],
          ['Time (UTC)', <When key="t" ms={d.header.time} />],
          ['Producer', <Account key="p" name={d.header.producer} />],
          [
            'Previous',
            d.height > 0 ? (
              <a key="prev" href={href('explorer', 'block', String(d.height - 1))}>
                #{d.height - 1}
              </a>
            ) : (
              '–'
            ),
          ],
          ['Transactions', String(d.txs.length)],
          ['State root', <CopyId key="s" id={d.header.stateRoot} label="state root" />],
          ...feeRows(d.endEvents),
        ]}
      />
      <Raw value={d} />
      <h3>Transactions</h3>
      {d.txs.length === 0 ? <p className="muted">No transactions.</p> : null}
      <ul className="plain">
        {d.txs.map((t) => (
          <li key={t.id}>
            <Id id={t.id} to={['explorer', 'tx', t.id]} /> {t.tx.ops.map((o) => o.type).join(', ')}
          </li>
        ))}
      </ul>
      {d.endEvents.length > 0 ? (
        <>
          <h3>End-of-block events</h3>
          <ul className="plain">
            {d.endEvents.map((e, i) => (
              // biome-ignore lint/suspicious/noArrayIndexKey: events have no id
              <li key={i}>
                <span className="tag">{e.type}</span>
              </li>
            ))}
          </ul>
        </>
      ) : null}
    </Panel>
  );
}

/** The fee distribution of a block, from its fees_paid event. */
function feeRows(events: { type: string }[]): [string, ReactNode][] {
  const f = events.find((e) => e.type === 'fees_paid') as Record<string, string> | undefined;
  // A block of fee-free transactions only (ratings, evidence, audit attestations) pays no fees.
  if (!f)
    return [
      [
        'Fees',
        <span key="fees" data-testid="block-fees">
          none (no fee-paying transaction in this block)
        </span>,
      ],
    ];
  return [
    [
      'Fees',
      <span key="fees" data-testid="block-fees">
        <Amount v={f.total} token="UMT" />: Super Nodes <Amount v={f.superNodes} token="UMT" />, Mini Nodes{' '}
        <Amount v={f.miniNodes} token="UMT" />, community fund <Amount v={f.community} token="UMT" />
      </span>,
    ],
  ];
}

function TxPage({ id }: { id: string }) {
  const live = useLive();
  const t = useAsync(() => client.tx(id), [id, live.block?.height === undefined]);
  usePageTitle(`Transaction ${short(id)}`);
  if (t.error) return <ErrorBox error={t.error} />;
  if (!t.data) return <Loading what="transaction" />;
  const d = t.data;
  const tx = d.tx as SignedTxJson | undefined;
  return (
    <Panel title="Transaction">
      <KV
        rows={[
          [
            'Id',
            <span key="id" className="mono break">
              {d.txId} <CopyButton text={d.txId} label="transaction id" />
            </span>,
          ],
          [
            'Status',
            <span key="s" className={d.status === 'rejected' ? 'error-inline' : 'ok'}>
              {d.status}
            </span>,
          ],
          ...(d.code ? ([['Error', `${d.code}: ${d.message ?? ''}`]] as [string, ReactNode][]) : []),
          ...(d.height !== undefined
            ? ([
                [
                  'Block',
                  <a key="b" href={href('explorer', 'block', String(d.height))}>
                    #{d.height}
                  </a>,
                ],
              ] as [string, ReactNode][])
            : []),
          ...(d.receipt
            ? ([['Fee', <Amount key="f" v={d.receipt.fee} token="UMT" />]] as [string, ReactNode][])
            : []),
          ...(tx ? ([['Expires (UTC)', <When key="e" ms={tx.expiration} />]] as [string, ReactNode][]) : []),
        ]}
      />
      <h3>Operations</h3>
      {(tx?.ops ?? []).map((op, i) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: operations are positional
        <OpView key={i} op={op} />
      ))}
      {d.receipt && d.receipt.events.length > 0 ? (
        <>
          <h3>Events</h3>
          {d.receipt.events.map((e, i) => (
            // biome-ignore lint/suspicious/noArrayIndexKey: events are positional
            <OpView key={i} op={e} />
          ))}
        </>
      ) : null}
      <Raw value={d} />
    </Panel>
  );
}

function AccountPage({ name }: { name: string }) {
  const n = useEventFeed({ account: name });
  const a = useAsync(() => client.account(name), [name, n]);
  const cs = useAsync(() => client.contracts({ party: name, limit: 20 }), [name, n]);
  const isOp = a.data?.roles.includes('operator') ?? false;
  const rating = useAsync(
    () => (isOp ? client.operatorRating(name) : Promise.resolve(undefined)),
    [name, isOp, n],
  );
  usePageTitle(`Account ${name}`);
  if (a.error) return <ErrorBox error={a.error} />;
  if (!a.data) return <Loading what="account" />;
  const d = a.data;
  return (
    <>
      <Panel title={`Account ${d.name}`}>
        <KV
          rows={[
            ['Roles', d.roles.join(', ') || '–'],
            ['Home operator', <Account key="h" name={d.homeOperator ?? null} />],
            ['Name', <CopyId key="n" id={d.name} label="account name" />],
            ['SDR', <Amount key="sdr" v={d.balances.SDR} />],
            ['UMT', <Amount key="umt" v={d.balances.UMT} token="UMT" />],
            ['Locked UMT', <Amount key="l" v={d.lockedUMT} token="UMT" />],
            ['Created (UTC)', <When key="c" ms={d.createdAt} />],
            ['Signing key', <CopyId key="sk" id={d.signingKey} label="signing key" />],
            ['Encryption key', <CopyId key="ek" id={d.encryptionKey} label="encryption key" />],
            ...(rating.data
              ? ([
                  ['Rating', <RatingStars key="r" r={rating.data} />],
                  ['Serves?', serviceWords(rating.data.service, rating.data.closed)],
                ] as [string, ReactNode][])
              : []),
          ]}
        />
      </Panel>
      <AccountHistory name={name} />
      <Panel title="Contracts">
        <ContractsTable items={cs.data?.items ?? []} />
      </Panel>
      <Raw value={d} />
    </>
  );
}

export function ContractsTable({
  items,
}: {
  items: {
    id: string;
    issuer: string;
    assignee: string;
    subscriber: string;
    status: string;
    charged: string;
    deposit: string;
  }[];
}) {
  if (items.length === 0) return <p className="muted">No contracts.</p>;
  return (
    <table>
      <thead>
        <tr>
          <th scope="col">Contract</th>
          <th scope="col">Subscriber</th>
          <th scope="col">Issuer → Assignee</th>
          <th scope="col">Charged / deposit</th>
          <th scope="col">Status</th>
        </tr>
      </thead>
      <tbody>
        {items.map((c) => (
          <tr key={c.id}>
            <td>
              <Id id={c.id} to={['explorer', 'contract', c.id]} />
            </td>
            <td>{c.subscriber}</td>
            <td>
              {c.issuer} → {c.assignee}
            </td>
            <td>
              {sdr(c.charged)} / {sdr(c.deposit)}
            </td>
            <td>{c.status}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

const STEP_LABEL: Record<string, string> = {
  request_open: 'Request',
  provision: 'Provision',
  charge: 'Charge',
  refund: 'Refund',
  rate: 'Rate',
  contract_topup: 'Top-up',
};

/** Offer → Request → Provision → Charge … → Refund, with each step's details. */
export function Timeline({ offerId, steps }: { offerId: string; steps: ContractTxRefJson[] }) {
  const txs = useAsync(
    () => Promise.all(steps.map((s) => client.tx(s.txId).catch(() => undefined))),
    [steps.map((s) => s.txId).join()],
  );
  return (
    <ol className="timeline" aria-label="Contract timeline">
      <li>
        <span className="tag tag-offer_publish">Offer</span>{' '}
        <Id id={offerId} to={['explorer', 'offer', offerId]} />
      </li>
      {steps.map((s, i) => {
        const op = txs.data?.[i]?.tx?.ops[s.opIndex] as Record<string, unknown> | undefined;
        const rec = op?.record as { amount?: string; volumeDown?: string; seq?: number } | undefined;
        return (
          <li key={`${s.txId}:${s.opIndex}`}>
            <span className={`tag tag-${s.type}`}>{STEP_LABEL[s.type] ?? s.type}</span>{' '}
            <a href={href('explorer', 'block', String(s.height))}>#{s.height}</a> ·{' '}
            <Id id={s.txId} to={['explorer', 'tx', s.txId]} />
            {s.type === 'charge' && rec ? (
              <span>
                {' '}
                · step {rec.seq} · {sdr(rec.amount)}
                {rec.volumeDown && rec.volumeDown !== '0' ? ` · ${Number(rec.volumeDown) / 1e6} MB` : ''}
              </span>
            ) : null}
            {s.type === 'request_open' && op ? <span> · deposit {sdr(op.deposit as string)}</span> : null}
            {s.type === 'refund' && op ? (
              <span>
                {' '}
                · by {String(op.by)}
                {op.badService ? ' · bad service' : ''}
              </span>
            ) : null}
            {s.type === 'rate' && op ? <span> · score {String(op.score)}</span> : null}
            {s.type === 'contract_topup' && op ? <span> · adds {sdr(op.amount as string)}</span> : null}
          </li>
        );
      })}
    </ol>
  );
}

function ContractPage({ id }: { id: string }) {
  const n = useEventFeed({ contract: id });
  const c = useAsync(() => client.contract(id), [id, n]);
  usePageTitle(`Contract ${short(id)}`);
  if (c.error) return <ErrorBox error={c.error} />;
  if (!c.data) return <Loading what="contract" />;
  const k = c.data.contract;
  return (
    <Panel title="Contract">
      <KV
        rows={[
          [
            'Id',
            <span key="id">
              <span className="mono break" data-testid="contract-id">
                {k.id}
              </span>{' '}
              <CopyButton text={k.id} label="contract id" />
            </span>,
          ],
          [
            'Status',
            <span key="s" data-testid="contract-status">
              {k.status}
            </span>,
          ],
          ['Subscriber', <Account key="sub" name={k.subscriber} />],
          ['Issuer (home)', <Account key="i" name={k.issuer} />],
          ['Assignee (visited)', <Account key="a" name={k.assignee} />],
          ['Payer', <Account key="p" name={k.payer} />],
          ['Package', `${volume(k.dataBytes)} for ${duration(k.durationSec * 1000)}`],
          ['Data used', volume(BigInt(k.volumeUp) + BigInt(k.volumeDown))],
          ['Price', <Amount key="p" v={k.price} />],
          ['Deposit', <Amount key="d" v={k.deposit} />],
          [
            'Charged',
            <span key="c">
              <Amount v={k.charged} /> in {k.chargeCount} step(s)
            </span>,
          ],
          ['Issuer fee', <span key="f" title={`${k.issuerFeeBps} bps`}>{`${k.issuerFeeBps / 100} %`}</span>],
          ['Opened (UTC)', <When key="o" ms={k.openedAt} />],
          ['Expires (UTC)', <When key="x" ms={k.expiresAt} />],
          ...(k.status === 'closed'
            ? ([
                ['Closed (UTC)', <When key="cl" ms={k.closedAt} />],
                [
                  'Closed by',
                  `${k.closedBy || 'the chain (end of lifetime)'}${k.badService ? ' (bad service)' : ''}${k.reason ? ` · reason ${k.reason}` : ''}`,
                ],
                [
                  'Settlement',
                  `assignee ${sdr(k.paidAssignee)} · issuer ${sdr(k.paidIssuer)} · payer ${sdr(k.paidPayer)}`,
                ],
                ['Score', k.score ? String(k.score) : '–'],
              ] as [string, ReactNode][])
            : []),
        ]}
      />
      <h3>Timeline</h3>
      <Timeline offerId={k.offer} steps={c.data.transactions} />
      <Raw value={c.data} />
    </Panel>
  );
}

function OfferPage({ id }: { id: string }) {
  const o = useAsync(() => client.offer(id), [id]);
  usePageTitle(`Offer ${short(id)}`);
  if (o.error) return <ErrorBox error={o.error} />;
  if (!o.data) return <Loading what="offer" />;
  const d = o.data;
  return (
    <Panel title={`Offer: ${d.terms.title}`}>
      <KV
        rows={[
          [
            'Id',
            <span key="id" className="mono break">
              {d.id} <CopyButton text={d.id} label="offer id" />
            </span>,
          ],
          ['Operator', <Account key="o" name={d.operator} />],
          ['Status', d.status],
          ['Coverage', [...d.terms.countries, ...d.terms.networks].join(', ')],
          ['Technology', d.terms.technologies.join(', ') || '–'],
          ['Package', `${volume(d.terms.dataBytes)} for ${duration(d.terms.durationSec * 1000)}`],
          ['Price', <Amount key="p" v={d.terms.price} />],
          ['Unit price', d.terms.unitPrice === '0' ? '–' : `${sdr(d.terms.unitPrice)} / ${d.terms.unit}`],
          ['Open / total contracts', `${d.openContracts} / ${d.totalContracts}`],
          ['Valid until (UTC)', <When key="v" ms={d.terms.validUntil} />],
        ]}
      />
      <Raw value={d} />
    </Panel>
  );
}

// ---------- search ----------

export interface SearchHit {
  route: string[];
  label: string;
}

/**
 * Height ("123" or "#123") → block; 64 hex (any case, optional 0x) → contract, transaction, block or
 * offer; a name (any case) → account. Otherwise a prefix: operator names, offer ids and titles, and
 * the ids of the latest blocks that start with it (case-insensitive).
 */
export async function resolveSearch(q: string): Promise<string[] | SearchHit[] | undefined> {
  const s = q.trim();
  if (s === '') return undefined;
  if (/^#?\d+$/.test(s)) return ['explorer', 'block', s.replace('#', '')];
  const h = s.toLowerCase().replace(/^0x/, '');
  if (/^[0-9a-f]{64}$/.test(h)) {
    const tries: [string, (id: string) => Promise<unknown>][] = [
      ['contract', (x) => client.contract(x)],
      ['tx', (x) => client.tx(x)],
      ['block', (x) => client.block(x)],
      ['offer', (x) => client.offer(x)],
    ];
    for (const [kind, f] of tries) {
      try {
        await f(h);
        return ['explorer', kind, h];
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
    }
    return undefined;
  }
  const name = s.toLowerCase();
  if (/^[a-z][a-z0-9-]{1,30}[a-z0-9]$/.test(name)) {
    try {
      await client.account(name);
      return ['explorer', 'account', name];
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }
  if (name.length < 2) return undefined;
  const [accounts, offers, blocks] = await Promise.all([
    /^[a-z0-9-]{1,32}$/.test(name)
      ? listAccounts(client, { after: name, limit: 20 }).catch(() => ({ items: [] }))
      : Promise.resolve({ items: [] }),
    client.offers({ status: 'all', limit: 500 }).catch(() => ({ items: [] })),
    client.blocks({ limit: 100 }).catch(() => ({ items: [] })),
  ]);
  const hits: SearchHit[] = [];
  // Accounts by name from the prefix on (GET /v1/lists/accounts), those that start with it.
  for (const a of accounts.items)
    if (a.name.startsWith(name))
      hits.push({ route: ['explorer', 'account', a.name], label: `account ${a.name}` });
  for (const o of offers.items)
    if (o.id.startsWith(h) || o.terms.title.toLowerCase().includes(name))
      hits.push({ route: ['explorer', 'offer', o.id], label: `offer “${o.terms.title}” (${short(o.id)})` });
  if (/^[0-9a-f]{4,}$/.test(h))
    for (const b of blocks.items)
      if (b.id.startsWith(h))
        hits.push({ route: ['explorer', 'block', String(b.height)], label: `block #${b.height}` });
  if (hits.length === 0) return undefined;
  return hits.length === 1 ? hits[0]!.route : hits.slice(0, 20);
}

function SearchBox() {
  const [q, setQ] = useState('');
  const [msg, setMsg] = useState<string | undefined>();
  const [hits, setHits] = useState<SearchHit[]>([]);
  const onSubmit = async (e: FormEvent) => {
    e.preventDefault();
    setMsg(undefined);
    setHits([]);
    try {
      const r = await resolveSearch(q);
      if (!r) setMsg(`Nothing found for “${q}”.`);
      else if (typeof r[0] === 'string') go(...(r as string[]));
      else {
        setHits(r as SearchHit[]);
        setMsg(`${r.length} matches for “${q}”:`);
      }
    } catch (err) {
      setMsg(String(err));
    }
  };
  return (
    <form className="search" onSubmit={onSubmit} aria-label="Search the chain">
      <label htmlFor="search">Search</label>
      <input
        id="search"
        value={q}
        onChange={(e) => setQ(e.target.value)}
        placeholder="height, id or its start, account or offer title"
      />
      <button type="submit">Find</button>
      <div role="status">
        {msg ? <p className="muted">{msg}</p> : null}
        {hits.length ? (
          <ul className="plain" aria-label="Search results">
            {hits.map((x) => (
              <li key={x.route.join('/')}>
                <a href={href(...x.route)} onClick={() => setHits([])}>
                  {x.label}
                </a>
              </li>
            ))}
          </ul>
        ) : null}
      </div>
    </form>
  );
}

function HomeTitle() {
  usePageTitle('Chain status');
  return null;
}

const EXPLORER_LINKS = [
  ['txs', 'Transactions'],
  ['contracts', 'Contracts'],
  ['offers', 'All offers'],
  ['accounts', 'Accounts'],
  ['validators', 'Validators'],
  ['supernodes', 'Super Nodes'],
  ['mininodes', 'Mini Nodes'],
  ['governance', 'Governance'],
  ['fees', 'Fees'],
  ['prices', 'SDR rate'],
] as const;

export function Explorer({ route }: { route: string[] }) {
  const [kind, id] = route;
  let page: ReactNode;
  if (kind === 'block' && id) page = <BlockPage refId={id} />;
  else if (kind === 'tx' && id) page = <TxPage id={id} />;
  else if (kind === 'account' && id) page = <AccountPage name={id} />;
  else if (kind === 'contract' && id) page = <ContractPage id={id} />;
  else if (kind === 'offer' && id) page = <OfferPage id={id} />;
  else if (kind === 'offers') page = <OffersList />;
  else if (kind === 'mininodes') page = <MiniNodesList owner={id} />;
  else if (kind === 'txs') page = <TransactionsList />;
  else if (kind === 'contracts') page = <ContractsList />;
  else if (kind === 'accounts') page = <AccountsList />;
  else if (kind === 'validators') page = <ValidatorsList />;
  else if (kind === 'governance') page = <GovernancePage />;
  else if (kind === 'proposal' && id) page = <ProposalPage id={id} />;
  else if (kind === 'supernodes') page = <SuperNodesPage />;
  else if (kind === 'fees') page = <FeesPage />;
  else if (kind === 'prices') page = <PricesPage />;
  else
    page = (
      <div className="grid">
        <HomeTitle />
        <StatusPanel />
        <BlocksPanel />
        <RecentTxsPanel />
        <RatingsPanel />
      </div>
    );
  return (
    <div>
      <SearchBox />
      <nav aria-label="Explorer" className="row wrap small">
        {kind ? <a href={href('explorer')}>← Explorer home</a> : null}
        {EXPLORER_LINKS.map(([k, text]) => (
          <a key={k} href={href('explorer', k)} aria-current={kind === k ? 'page' : undefined}>
            {text}
          </a>
        ))}
      </nav>
      {page}
    </div>
  );
}
