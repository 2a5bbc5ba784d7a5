/**
 * The operator console's governance view: the open proposals, how far each is from passing, and
 * this operator's vote; a yes or no vote is a `proposal_vote` transaction signed in the browser with
 * the key the console signed in with (the node checks that the voter is an admitted operator,
 * eligible and voting once, before the deadline). Live on the tab's WebSocket: proposal events
 * reload it.
 */
import { type ProposalJson, signerFromSecret } from '@roamchain/sdk';
import { actionWords, ProposalStatus } from './explorer-gov.js';
import { useEventCount, When } from './explorer-ui.js';
import type { Keys } from './keys.js';
import { client, href, useAsync } from './lib.js';
import { ErrorBox, Feedback, Id, Loading, Panel, useAct } from './ui.js';

/** Open proposals with their votes (at most 20: detail reads are bounded). */
async function openProposals(): Promise<ProposalJson[]> {
  const list = await client.proposals({ status: 'open', limit: 20 });
  return Promise.all(list.items.map((p) => client.proposal(p.id)));
}

export function GovernanceVotes({ k }: { k: Keys }) {
  const n = useEventCount(['proposal_', 'operator_', 'role_']);
  const props = useAsync(() => openProposals(), [n]);
  const gov = useAsync(() => client.governance(), [n]);
  const { act, err, ok, busy } = useAct(() => props.reload());
  const admitted = gov.data?.operators.find((o) => o.account === k.name);
  const vote = (p: ProposalJson, approve: boolean) =>
    act(
      () =>
        client.vote({ voter: k.name, proposal: p.id, approve }, signerFromSecret(k.name, k.signingSecret)),
      `You voted ${approve ? 'yes' : 'no'} on proposal #${p.seq} (${actionWords(p.action)}).`,
    );
  const items = props.data ?? [];
  return (
    <Panel title="Governance: open proposals">
      <Feedback err={err} ok={ok} />
      <ErrorBox error={props.error ?? gov.error} />
      {gov.data && !admitted ? (
        <p className="warn-box">{k.name} is not an admitted operator: it cannot vote.</p>
      ) : null}
      {admitted?.idle ? (
        <p className="warn-box">
          {k.name} skipped {admitted.skipped} proposals in a row: its Super Nodes are out of the active set
          until it votes again.
        </p>
      ) : null}
      {!props.data ? <Loading what="proposals" /> : null}
      {props.data && items.length === 0 ? <p className="muted">No open proposal.</p> : null}
      <ul className="plain">
        {items.map((p) => {
          const mine = p.votes?.find((v) => v.voter === k.name);
          return (
            <li key={p.id} className="contract-row" data-testid="open-proposal">
              <div>
                <strong>#{p.seq}</strong> {actionWords(p.action)} · by {p.proposer} ·{' '}
                <Id id={p.id} to={['explorer', 'proposal', p.id]} />
              </div>
              <div className="small">
                <ProposalStatus p={p} /> · deadline <When ms={p.deadline} /> UTC
                {p.note ? ` · “${p.note}”` : ''}
              </div>
              {mine ? (
                <p className="small" data-testid="my-vote">
                  You voted {mine.approve ? 'yes' : 'no'} (<When ms={mine.at} /> UTC).{' '}
                  <a href={href('explorer', 'proposal', p.id)}>See it in the explorer</a>
                </p>
              ) : (
                <div className="row wrap">
                  <button
                    type="button"
                    disabled={busy || !admitted}
                    onClick={() => void vote(p, true)}
                    aria-label={`Vote yes on proposal #${p.seq}`}
                  >
                    Vote yes
                  </button>
                  <button
                    type="button"
                    className="secondary"
                    disabled={busy || !admitted}
                    onClick={() => void vote(p, false)}
                    aria-label={`Vote no on proposal #${p.seq}`}
                  >
                    Vote no
                  </button>
                </div>
              )}
            </li>
          );
        })}
      </ul>
    </Panel>
  );
}
