/**
 * Explorer lists with pages (cursor pagination, newest first): offers (active or all),
 * transactions, contracts, accounts, validators, and an account's history. Each list's first page
 * reloads when the tab's one WebSocket reports what changes it (a block with transactions, an
 * event of the right type); pages further back stay as they were. No polling.
 */
import {
  accountTransactions,
  listAccounts,
  listContracts,
  listTransactions,
  listValidators,
  type OfferJson,
  type TxRowJson,
} from '@roamchain/sdk';
import { useEffect, useState } from 'react';
import { Amount, Table, useEventCount, usePaged, useTitle, When } from './explorer-ui.js';
import { client, duration, href, sdr, time, useAsync, useEventFeed, useLive, volume } from './lib.js';
import { Account, ErrorBox, Id, Panel } from './ui.js';

const PAGE = 20;

/** Height of the newest block with transactions seen on the WebSocket (a refresh key). */
function useTxBlock(): number | undefined {
  const live = useLive();
  return live.recent.filter((b) => b.txCount > 0).at(-1)?.height;
}

export function TxRows({ items }: { items: TxRowJson[] }) {
  if (items.length === 0) return <p className="muted">No transactions.</p>;
  return (
    <Table head={['Transaction', 'Operations', 'Block', 'Time (UTC)', 'Signers', 'Fee']} opt={[3, 4, 5]}>
      {items.map((t) => (
        <tr key={t.txId}>
          <td>
            <Id id={t.txId} to={['explorer', 'tx', t.txId]} />
          </td>
          <td>
            {t.types.map((x, i) => (
              // biome-ignore lint/suspicious/noArrayIndexKey: operations are positional
              <span key={i} className={`tag tag-${x}`}>
                {x}
              </span>
            ))}
          </td>
          <td>
            <a href={href('explorer', 'block', String(t.height))}>#{t.height}</a>
          </td>
          <td className="opt">
            <When ms={t.time} short />
          </td>
          <td className="opt">
            {t.signers.map((s, i) => (
              <span key={s}>
                {i > 0 ? ', ' : ''}
                <Account name={s} />
              </span>
            ))}
          </td>
          <td className="opt">
            <Amount v={t.fee} token="UMT" />
          </td>
        </tr>
      ))}
    </Table>
  );
}

export function TransactionsList() {
  useTitle('Transactions');
  const live = useTxBlock();
  const p = usePaged(
    (before) => listTransactions(client, { limit: PAGE, ...(before ? { before } : {}) }),
    [],
    live,
    (pg) => live !== undefined && (pg.items[0]?.height ?? 0) < live,
  );
  return (
    <Panel title="Transactions">
      <ErrorBox error={p.page.error} />
      <TxRows items={p.items} />
      {p.pager}
    </Panel>
  );
}

/** An account's transactions (signed by it or naming it), live on its events. */
export function AccountHistory({ name }: { name: string }) {
  const n = useEventFeed({ account: name });
  const p = usePaged(
    (before) => accountTransactions(client, name, { limit: PAGE, ...(before ? { before } : {}) }),
    [name],
    n,
  );
  return (
    <Panel title="Transaction history">
      <ErrorBox error={p.page.error} />
      <TxRows items={p.items} />
      {p.pager}
    </Panel>
  );
}

export function ContractsList() {
  useTitle('Contracts');
  const n = useEventCount(['contract_', 'charge', 'provision']);
  const p = usePaged(
    (before) => listContracts(client, { limit: PAGE, ...(before ? { before } : {}) }),
    [],
    n,
  );
  return (
    <Panel title="Contracts">
      <ErrorBox error={p.page.error} />
      {p.items.length === 0 && p.page.data ? <p className="muted">No contracts yet.</p> : null}
      <Table
        head={['Contract', 'Subscriber', 'Home → visited', 'Charged / deposit', 'Opened (UTC)', 'Status']}
        opt={[2, 4]}
      >
        {p.items.map((c) => (
          <tr key={c.id}>
            <td>
              <Id id={c.id} to={['explorer', 'contract', c.id]} />
            </td>
            <td>
              <Account name={c.subscriber} />
            </td>
            <td className="opt">
              <Account name={c.issuer} /> → <Account name={c.assignee} />
            </td>
            <td>
              <Amount v={c.charged} /> / <Amount v={c.deposit} />
            </td>
            <td className="opt">
              <When ms={c.openedTime} />
            </td>
            <td>{c.status}</td>
          </tr>
        ))}
      </Table>
      {p.pager}
    </Panel>
  );
}

export function AccountsList() {
  useTitle('Accounts');
  const n = useEventCount(['account_']);
  const p = usePaged((after) => listAccounts(client, { limit: PAGE, ...(after ? { after } : {}) }), [], n);
  return (
    <Panel title="Accounts">
      <ErrorBox error={p.page.error} />
      <Table head={['Account', 'Roles', 'SDR', 'UMT', 'Home operator']} opt={[1, 4]}>
        {p.items.map((a) => (
          <tr key={a.name}>
            <td>
              <Account name={a.name} />
            </td>
            <td className="opt">{a.roles.join(', ') || '–'}</td>
            <td>
              <Amount v={a.balances.SDR} />
            </td>
            <td>
              <Amount v={a.balances.UMT} token="UMT" />
            </td>
            <td className="opt">
              <Account name={a.homeOperator ?? null} />
            </td>
          </tr>
        ))}
      </Table>
      {p.pager}
    </Panel>
  );
}

export function ValidatorsList() {
  useTitle('Validators');
  const n = useEventCount(['validator_', 'evidence']);
  const p = usePaged((after) => listValidators(client, { limit: PAGE, ...(after ? { after } : {}) }), [], n);
  return (
    <Panel title="Validators">
      <ErrorBox error={p.page.error} />
      <Table head={['Validator', 'Status', 'Bond', 'In the next set', 'SLA days (of 100)']} opt={[4]}>
        {p.items.map((v) => (
          <tr key={v.account}>
            <td>
              <Account name={v.account} />
            </td>
            <td>{v.status}</td>
            <td>
              <Amount v={v.bond} token="UMT" />
            </td>
            <td>{v.inSet ? 'yes' : 'no'}</td>
            <td className="opt">{v.slaDays}</td>
          </tr>
        ))}
      </Table>
      {p.pager}
    </Panel>
  );
}

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
