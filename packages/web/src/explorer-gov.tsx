/**
 * Governance in the explorer (docs/GOVERNANCE.md): proposals and their votes, the admitted operators
 * and their participation, Super Nodes with their Proof of Importance (SLA days of the last 100)
 * and place in the next set, the fee distribution of each block (its `fees_paid` event), the SDR
 * rate and the Super Node price feeds behind it. Live on the tab's one WebSocket: a page reloads
 * when an event of its kind arrives.
 */
import { type GovernanceJson, listFees, listProposals, type ProposalJson } from '@roamchain/sdk';
import { type ReactNode, useState } from 'react';
import { Amount, CopyId, RawJson, Table, useEventCount, usePaged, useTitle, When } from './explorer-ui.js';
import { client, href, short, useAsync, useLive } from './lib.js';
import { Account, ErrorBox, Id, KV, Loading, Panel } from './ui.js';

const GOV_EVENTS = ['proposal_', 'operator_', 'param', 'upgrade_', 'role_'];

/** What a proposal does, in words. */
export function actionWords(a: ProposalJson['action']): string {
  switch (a.kind) {
    case 'admit':
      return `admit ${a.account} as ${a.role}${a.displayName ? ` (${a.displayName}${a.country ? `, ${a.country}` : ''})` : ''}`;
    case 'remove':
      return `remove ${a.role} ${a.account}`;
    case 'validator_register':
      return `register Super Node ${a.account}`;
    case 'validator_remove':
      return `remove Super Node ${a.account}`;
    case 'param':
      return `set ${a.param} to ${a.value}`;
    case 'upgrade':
      return `upgrade to protocol version ${a.version} at block #${a.value}`;
    default:
      return String((a as { kind: string }).kind);
  }
}

export function ProposalStatus({
  p,
}: {
  p: Pick<ProposalJson, 'status' | 'yes' | 'no' | 'needed' | 'electorate'>;
}) {
  return (
    <span title={`${p.yes} yes, ${p.no} no of ${p.electorate} operators; ${p.needed} yes votes pass it`}>
      <span className={`tag tag-gov-${p.status}`}>{p.status}</span> {p.yes} yes / {p.no} no · needs {p.needed}{' '}
      of {p.electorate}
    </span>
  );
}

export function ProposalsTable({
  items,
  actions,
}: {
  items: ProposalJson[];
  actions?: (p: ProposalJson) => ReactNode;
}) {
  if (items.length === 0) return <p className="muted">No proposals.</p>;
  return (
    <Table
      head={['Proposal', 'Action', 'Proposer', 'Votes', 'Deadline (UTC)', ...(actions ? ['Your vote'] : [])]}
      opt={[2, 4]}
    >
      {items.map((p) => (
        <tr key={p.id} data-testid="proposal">
          <td>
            <Id id={p.id} to={['explorer', 'proposal', p.id]} />
          </td>
          <td>{actionWords(p.action)}</td>
          <td className="opt">
            <Account name={p.proposer} />
          </td>
          <td>
            <ProposalStatus p={p} />
          </td>
          <td className="opt">
            <When ms={p.deadline} />
          </td>
          {actions ? <td>{actions(p)}</td> : null}
        </tr>
      ))}
    </Table>
  );
}

export function GovernancePage() {
  useTitle('Governance');
  const n = useEventCount(GOV_EVENTS);
  const [status, setStatus] = useState<'open' | 'all'>('all');
  const props = usePaged(
    (before) =>
      listProposals(client, {
        limit: 20,
        ...(status === 'open' ? { status } : {}),
        ...(before ? { before } : {}),
      }),
    [status],
    n,
  );
  const gov = useAsync(() => client.governance(), [n]);
  return (
    <>
      <Panel title="Proposals">
        <label className="check">
          <input
            type="checkbox"
            checked={status === 'open'}
            onChange={(e) => {
              props.reset();
              setStatus(e.target.checked ? 'open' : 'all');
            }}
          />{' '}
          Open proposals only
        </label>
        <ErrorBox error={props.page.error} />
        {props.page.data ? <ProposalsTable items={props.items} /> : <Loading what="proposals" />}
        {props.pager}
        <p className="small muted">
          Newest first. One admitted operator, one vote; more than 2/3 of the operators admitted when it was
          made pass it before its deadline.
        </p>
      </Panel>
      <Panel title="Operators">
        <ErrorBox error={gov.error} />
        {gov.data ? <Operators g={gov.data} /> : <Loading />}
      </Panel>
    </>
  );
}

function Operators({ g }: { g: GovernanceJson }) {
  return (
    <>
      <Table
        head={['Operator', 'Admitted (UTC)', 'Proposals skipped in a row', 'Votes', 'Last vote (UTC)']}
        opt={[1, 4]}
      >
        {g.operators.map((o) => (
          <tr key={o.account}>
            <td>
              <Account name={o.account} />
            </td>
            <td className="opt">
              <When ms={o.admittedAt} />
            </td>
            <td>{o.skipped}</td>
            <td>
              {o.idle ? <span className="warn">idle: its Super Nodes are out of the set</span> : 'votes'}
            </td>
            <td className="opt">
              <When ms={o.lastVoteAt} />
            </td>
          </tr>
        ))}
      </Table>
      {g.pending.length > 0 ? (
        <p>
          Pending parameter changes: {g.pending.map((p) => `${p.param} = ${p.value}`).join(', ')} (at the next
          safe boundary).
        </p>
      ) : null}
      {g.upgrade ? (
        <p className={g.upgrade.supported ? '' : 'warn'}>
          Protocol version {g.upgrade.version} from block #{g.upgrade.height} ({g.upgrade.blocksLeft} blocks
          left)
          {g.upgrade.supported
            ? ''
            : `: this node implements version ${g.upgrade.implemented} and stops before it`}
          .
        </p>
      ) : null}
      <RawJson value={g} label="Raw JSON (governance)" />
    </>
  );
}

export function ProposalPage({ id }: { id: string }) {
  useTitle(`Proposal ${short(id)}`);
  const n = useEventCount(['proposal_']);
  const p = useAsync(() => client.proposal(id), [id, n]);
  if (p.error) return <ErrorBox error={p.error} />;
  if (!p.data) return <Loading what="proposal" />;
  const d = p.data;
  return (
    <Panel title={`Proposal #${d.seq}`}>
      <KV
        rows={[
          ['Id', <CopyId key="id" id={d.id} label="proposal id" />],
          [
            'Action',
            <span key="a" data-testid="proposal-action">
              {actionWords(d.action)}
            </span>,
          ],
          ['Proposer', <Account key="p" name={d.proposer} />],
          ['Note', d.note || '–'],
          [
            'Status',
            <span key="s" data-testid="proposal-status">
              <ProposalStatus p={d} />
            </span>,
          ],
          ['Made (UTC)', <When key="c" ms={d.createdAt} />],
          ['Deadline (UTC)', <When key="d" ms={d.deadline} />],
          ...(d.result ? ([['Result', d.result]] as [string, ReactNode][]) : []),
        ]}
      />
      <h3>Votes</h3>
      {(d.votes ?? []).length === 0 ? <p className="muted">No votes yet.</p> : null}
      <Table head={['Operator', 'Vote', 'At (UTC)']}>
        {(d.votes ?? []).map((v) => (
          <tr key={v.voter} data-testid="vote">
            <td>
              <Account name={v.voter} />
            </td>
            <td>{v.approve ? 'yes' : 'no'}</td>
            <td>
              <When ms={v.at} />
            </td>
          </tr>
        ))}
      </Table>
      <RawJson value={d} />
    </Panel>
  );
}

export function SuperNodesPage() {
  useTitle('Super Nodes');
  const n = useEventCount(['validator_', 'operator_', 'sdr_fixing', 'ndf_payout']);
  const sn = useAsync(() => client.superNodes(), [n]);
  return (
    <Panel title="Super Nodes">
      <ErrorBox error={sn.error} />
      {!sn.data ? (
        <Loading />
      ) : (
        <>
          <p className="small muted">
            Importance: the days of the last 100 on which a Super Node produced at least half its fair share
            of the day's blocks (its SLA); the next set takes the most important ones. Day {sn.data.day} since
            1970.
          </p>
          <Table
            head={['Super Node', 'Importance (SLA days of 100)', 'Bond', 'Status', 'In the next set']}
            opt={[2]}
          >
            {sn.data.items.map((v, i) => (
              <tr key={v.account} data-testid="supernode">
                <td>
                  {i + 1}. <Account name={v.account} />
                </td>
                <td>
                  <span className="bar" style={{ width: `${Math.max(2, v.slaDays)}px` }} aria-hidden="true" />{' '}
                  {v.slaDays}
                </td>
                <td className="opt">
                  <Amount v={v.bond} token="UMT" />
                </td>
                <td>
                  {v.status}
                  {v.idle ? ' (owner idle in governance)' : ''}
                </td>
                <td>{v.inSet ? 'yes' : 'no'}</td>
              </tr>
            ))}
          </Table>
          <RawJson value={sn.data} />
        </>
      )}
    </Panel>
  );
}

export function FeesPage() {
  useTitle('Fee distribution');
  const live = useLive();
  const key = live.recent.filter((b) => b.txCount > 0).at(-1)?.height;
  const p = usePaged((before) => listFees(client, { limit: 20, ...(before ? { before } : {}) }), [], key);
  return (
    <Panel title="Fee distribution per block">
      <p className="small muted">
        Each block's fees: the Super Nodes' and Mini Nodes' shares and the community development fund's (UMT).
      </p>
      <ErrorBox error={p.page.error} />
      {p.items.length === 0 && p.page.data ? <p className="muted">No block with fees yet.</p> : null}
      <Table
        head={['Block', 'Time (UTC)', 'Total', 'Super Nodes', 'Mini Nodes', 'Community fund', 'Producer']}
        opt={[1, 6]}
      >
        {p.items.map((f) => (
          <tr key={f.height} data-testid="fee-row">
            <td>
              <a href={href('explorer', 'block', String(f.height))}>#{f.height}</a>
            </td>
            <td className="opt">
              <When ms={f.time} short />
            </td>
            <td>
              <Amount v={f.event.total} token="UMT" />
            </td>
            <td>
              <Amount v={f.event.superNodes} token="UMT" />
            </td>
            <td>
              <Amount v={f.event.miniNodes} token="UMT" />
            </td>
            <td>
              <Amount v={f.event.community} token="UMT" />
            </td>
            <td className="opt">
              <Account name={f.event.producer} />
            </td>
          </tr>
        ))}
      </Table>
      {p.pager}
    </Panel>
  );
}

export function PricesPage() {
  useTitle('SDR rate');
  const n = useEventCount(['sdr_fixing', 'price_feed']);
  const p = useAsync(() => client.prices(), [n]);
  const h = useAsync(() => client.priceHistory(30), [n]);
  const d = p.data;
  return (
    <>
      <Panel title="SDR rate">
        <ErrorBox error={p.error} />
        {!d ? (
          <Loading />
        ) : (
          <>
            <KV
              rows={[
                [
                  'US dollars per SDR',
                  <span key="u" data-testid="usd-per-sdr">
                    {d.usdPerSdr || 'never fixed'}
                  </span>,
                ],
                ['Fresh', d.fresh ? 'yes' : 'no: too few fresh feeds'],
                [
                  'Fixed at',
                  <span key="t">
                    block #{d.height} · <When ms={d.time} /> UTC
                  </span>,
                ],
                ...(['EUR', 'CNY', 'JPY', 'GBP'] as const).map(
                  (c) => [`1 SDR in ${c}`, d.sdr[c] ?? '–'] as [string, ReactNode],
                ),
              ]}
            />
            <h3>Feeds of the Super Nodes (the chain takes their median)</h3>
            <Table
              head={[
                'Super Node',
                'Published (UTC)',
                'Fresh',
                'EUR (USD)',
                'GBP (USD)',
                'CNY per USD',
                'JPY per USD',
              ]}
              opt={[1, 5, 6]}
            >
              {d.feeds.map((f) => (
                <tr key={f.validator} data-testid="feed">
                  <td>
                    <Account name={f.validator} />
                  </td>
                  <td className="opt">
                    <When ms={f.time} />
                  </td>
                  <td>{f.fresh ? 'yes' : 'stale'}</td>
                  <td>{f.rates.EUR}</td>
                  <td>{f.rates.GBP}</td>
                  <td className="opt">{f.rates.CNY}</td>
                  <td className="opt">{f.rates.JPY}</td>
                </tr>
              ))}
            </Table>
            <RawJson value={d} />
          </>
        )}
      </Panel>
      <Panel title="Daily fixings">
        <ErrorBox error={h.error} />
        <Table head={['Day (UTC)', 'USD per SDR', 'Block', 'Feeds']} opt={[3]}>
          {(h.data?.items ?? []).map((x) => (
            <tr key={x.day}>
              <td title={String(x.time)}>{x.date}</td>
              <td>{x.usdPerSdr}</td>
              <td>
                <a href={href('explorer', 'block', String(x.height))}>#{x.height}</a>
              </td>
              <td className="opt">{x.feeders.join(', ')}</td>
            </tr>
          ))}
        </Table>
      </Panel>
    </>
  );
}
