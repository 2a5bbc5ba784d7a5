/** Explorer: Mini Nodes with their bond, importance and attestations (docs/GOVERNANCE.md §8). */
import type { MiniNodeDetailJson, MiniNodeJson } from '@roamchain/sdk';
import { useEffect, useState } from 'react';
import { amt, client, href, time, useAsync, useEventFeed } from './lib.js';
import { Account, ErrorBox, KV, Panel } from './ui.js';

function MiniDetail({ owner }: { owner: string }) {
  const d = useAsync<MiniNodeDetailJson>(() => client.miniNode(owner), [owner]);
  const m = d.data;
  return (
    <Panel title={`Mini Node ${owner}`}>
      <ErrorBox error={d.error} />
      {m ? (
        <KV
          rows={[
            ['Status', m.status],
            ['Super Node', <Account key="s" name={m.superNode} />],
            ['Bond', `${amt(m.bond)} UMT`],
            ['Unbonding', `${amt(m.unbonding)} UMT`],
            ['Slashed', `${amt(m.slashed)} UMT`],
            ['Importance', `${m.importance} (computed ${time(m.importanceAt)} UTC)`],
            ['Attestations', `${m.attestations}, last at height ${m.lastAttested}`],
            ['Earns fees', m.attesting ? 'yes (attested recently)' : 'no (no recent attestation)'],
            ['Transactions (30 days, newest first)', m.activity.txs.join(' ')],
            ['Node key', <code key="k">{m.nodeKey}</code>],
          ]}
        />
      ) : null}
    </Panel>
  );
}

export function MiniNodesList({ owner }: { owner?: string | undefined }) {
  useEffect(() => {
    document.title = 'Mini Nodes · Explorer · roamchain';
  }, []);
  const [n, setN] = useState(0);
  useEventFeed({}, (e) => {
    if (e.event.type.startsWith('mini_')) setN((x) => x + 1);
  });
  const list = useAsync(() => client.miniNodes(), [n]);
  const items: MiniNodeJson[] = list.data?.items ?? [];
  return (
    <div className="grid">
      {owner ? <MiniDetail owner={owner} /> : null}
      <Panel title="Mini Nodes">
        <p className="small">
          Each attests the state root every {list.data?.interval ?? '…'} blocks; the producing Super
          Node&apos;s attesting Mini Nodes share 30 % of its blocks&apos; fees by importance.
        </p>
        <ErrorBox error={list.error} />
        <table>
          <thead>
            <tr>
              <th scope="col">Mini Node</th>
              <th scope="col">Super Node</th>
              <th scope="col">Bond (UMT)</th>
              <th scope="col">Importance</th>
              <th scope="col">Attestations</th>
              <th scope="col">Last attested</th>
              <th scope="col">Earns</th>
            </tr>
          </thead>
          <tbody>
            {items.map((m) => (
              <tr key={m.owner}>
                <td>
                  <a href={href('explorer', 'mininodes', m.owner)}>{m.owner}</a>
                </td>
                <td>
                  <Account name={m.superNode} />
                </td>
                <td>{amt(m.bond)}</td>
                <td>{m.importance}</td>
                <td>{m.attestations}</td>
                <td>{m.lastAttested}</td>
                <td>{m.attesting ? 'yes' : 'no'}</td>
              </tr>
            ))}
          </tbody>
        </table>
        {list.data && items.length === 0 ? <p>No Mini Nodes yet.</p> : null}
      </Panel>
    </div>
  );
}
