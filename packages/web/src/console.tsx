/**
 * Operator console, signed in with the operator's own keystore file (decrypted in the browser) or a
 * devnet demo key: offers (console-offers.tsx), incoming requests (provision them), live contracts
 * and their charges, the contracts it issued as home operator, its rating and agent, and a
 * settlement statement for a period computed from the API (CSV download). Each action answers
 * where it was taken.
 */
import { bytesToHex, randomBytes, utf8 } from '@roamchain/protocol';
import { allContracts, type ContractJson, signerFromSecret, statementCsv, statementOf } from '@roamchain/sdk';
import { type FormEvent, useState } from 'react';
import { GovernanceVotes } from './console-governance.js';
import { Offers } from './console-offers.js';
import { ContractsTable, serviceWords } from './explorer.js';
import { DEMO_OPERATORS, demoKeys, importKeys, type Keys } from './keys.js';
import { openKeystoreFile } from './keystore-file.js';
import { amt, client, download, listedAgentUrls, sdr, time, toUnits, useAsync, useEventFeed } from './lib.js';
import { ErrorBox, Feedback, Id, KV, Panel, RatingStars, useAct } from './ui.js';

function Contracts({ k, items, reload }: { k: Keys; items: ContractJson[]; reload: () => void }) {
  const inc = useAct(reload);
  const { act, err, ok, busy } = useAct(reload);
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
    return inc.act(
      () =>
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
      `Provisioned ${c.id.slice(0, 10)}…: the traveller can install the eSIM.`,
    );
  };
  return (
    <>
      <Panel title="Incoming requests">
        <Feedback err={inc.err} ok={inc.ok} />
        {incoming.length === 0 ? <p className="muted">No request waiting for provisioning.</p> : null}
        <ul className="plain">
          {incoming.map((c) => (
            <li key={c.id} className="row wrap">
              <Id id={c.id} to={['explorer', 'contract', c.id]} /> {c.subscriber} (home {c.issuer}) · deposit{' '}
              {sdr(c.deposit)}
              <button type="button" disabled={inc.busy} onClick={() => void provision(c)}>
                Provision eSIM
              </button>
            </li>
          ))}
        </ul>
      </Panel>
      <Panel title="Live contracts">
        <Feedback err={err} ok={ok} />
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
                  void act(
                    () =>
                      client.charge(
                        { assignee: k.name, contract: c.id, amount: toUnits(v), usageType: 'data' },
                        signer,
                      ),
                    `Charged ${v} SDR on ${c.id.slice(0, 10)}….`,
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
                  onClick={() =>
                    void act(
                      () => client.refund({ by: k.name, contract: c.id }, signer),
                      `Closed ${c.id.slice(0, 10)}….`,
                    )
                  }
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

function Statement({ k, n }: { k: Keys; n: number }) {
  const today = new Date().toISOString().slice(0, 10);
  const [from, setFrom] = useState(new Date(Date.now() - 30 * 86_400_000).toISOString().slice(0, 10));
  const [to, setTo] = useState(today);
  const fromMs = Date.parse(`${from}T00:00:00Z`);
  const toMs = Date.parse(`${to}T00:00:00Z`) + 86_400_000;
  const all = useAsync(() => allContracts(client, k.name), [k.name, n]);
  const s =
    all.data && Number.isFinite(fromMs) && Number.isFinite(toMs)
      ? statementOf(k.name, all.data, fromMs, toMs)
      : undefined;
  const file = `statement-${k.name}-${from}-${to}`;
  return (
    <Panel title="Settlement statement">
      <form className="row wrap" onSubmit={(e) => e.preventDefault()}>
        <label htmlFor="st-from">From</label>
        <input id="st-from" type="date" value={from} onChange={(e) => setFrom(e.target.value)} />
        <label htmlFor="st-to">To</label>
        <input id="st-to" type="date" value={to} onChange={(e) => setTo(e.target.value)} />
        <button type="button" disabled={!s} onClick={() => s && download(`${file}.csv`, statementCsv(s))}>
          Download CSV
        </button>
        <button
          type="button"
          className="secondary"
          disabled={!s}
          onClick={() => s && download(`${file}.json`, `${JSON.stringify(s, null, 2)}\n`, 'application/json')}
        >
          Download JSON
        </button>
      </form>
      <p className="small muted">The same format as the agent's GET /v1/statement and the CLI.</p>
      <ErrorBox error={all.error} />
      {s ? (
        <KV
          rows={[
            ['Settled contracts', String(s.totals.settledContracts)],
            ['Received as visited operator', `${sdr(s.served.charged)} (${s.served.contracts} contracts)`],
            ['Fees received as home operator', `${sdr(s.issuerFees)} (${s.consumed.contracts} contracts)`],
            [
              'Bad-service refunds',
              `${s.badServiceRefunds.contracts} (${sdr(s.badServiceRefunds.refunded)})`,
            ],
            ['Total received', <strong key="t">{sdr(s.totals.received)}</strong>],
          ]}
        />
      ) : null}
      {s && s.contracts.length > 0 ? (
        <table>
          <thead>
            <tr>
              <th scope="col">Closed (UTC)</th>
              <th scope="col">Contract</th>
              <th scope="col">Role</th>
              <th scope="col">Charged</th>
            </tr>
          </thead>
          <tbody>
            {s.contracts.map((r) => (
              <tr key={`${r.id}:${r.role}`}>
                <td>{time(r.closedAt)}</td>
                <td>
                  <Id id={r.id} to={['explorer', 'contract', r.id]} />
                </td>
                <td>
                  {r.role} · {r.counterparty}
                </td>
                <td>{sdr(r.charged)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </Panel>
  );
}

/** The operator's agent as the node lists it, and whether it answers its health check. */
async function agentHealth(operator: string): Promise<string> {
  const agents = await listedAgentUrls();
  if (!agents) return 'this node lists no agents';
  const url = agents[operator];
  if (typeof url !== 'string')
    return 'no agent listed by this node: nobody countersigns or provisions for you';
  try {
    const r = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(3000) });
    const j = (await r.json()) as { ok?: boolean; cursor?: string | null };
    return r.ok && j.ok
      ? `running at ${url} (feed at ${j.cursor ?? '–'})`
      : `at ${url}: unhealthy (${r.status})`;
  } catch {
    return `listed at ${url}, not reachable from this browser`;
  }
}

function IssuedContracts({ k, items }: { k: Keys; items: ContractJson[] }) {
  const [q, setQ] = useState('');
  const issued = items.filter((c) => c.issuer === k.name);
  const x = q.trim().toLowerCase();
  const shown = issued.filter(
    (c) => !x || c.id.startsWith(x) || c.subscriber.includes(x) || c.assignee.includes(x) || c.status === x,
  );
  return (
    <Panel title="Contracts you issued (home operator)">
      <label htmlFor="issued-q">Search by id start, subscriber, visited operator or status</label>
      <input id="issued-q" type="search" value={q} onChange={(e) => setQ(e.target.value)} />
      <p className="small muted">
        {shown.length} of {issued.length} contract(s) your subscribers opened with you as home operator.
      </p>
      <ContractsTable items={shown.slice(0, 50)} />
    </Panel>
  );
}

function OperatorView({ k }: { k: Keys }) {
  const n = useEventFeed({ account: k.name });
  const [tick, setTick] = useState(0);
  const rating = useAsync(() => client.operatorRating(k.name), [k.name, n]);
  const cs = useAsync(() => client.contracts({ party: k.name, limit: 200 }), [k.name, n, tick]);
  const health = useAsync(() => agentHealth(k.name), [k.name]);
  const items = cs.data?.items ?? [];
  return (
    <div className="grid">
      <Panel title={`Operator ${k.name}`}>
        {k.demo ? <p className="warn-box">Public demo keys (devnet only).</p> : null}
        {rating.data ? (
          <KV
            rows={[
              ['Rating', <RatingStars key="r" r={rating.data} />],
              ['Contracts', `${rating.data.contracts} (${rating.data.closed} closed)`],
              ['Bad-service refunds', String(rating.data.badService)],
              ['Serves?', serviceWords(rating.data.service, rating.data.closed)],
              [
                'Agent',
                <span key="h" data-testid="agent-health">
                  {health.data ?? '…'}
                </span>,
              ],
            ]}
          />
        ) : null}
        <ErrorBox error={rating.error ?? cs.error} />
      </Panel>
      <Contracts k={k} items={items} reload={() => setTick((x) => x + 1)} />
      <Offers k={k} n={n} />
      <IssuedContracts k={k} items={items} />
      <GovernanceVotes k={k} />
      <Statement k={k} n={n + tick} />
    </div>
  );
}

function KeystoreSignIn({ onOpen }: { onOpen: (k: Keys) => void }) {
  const [text, setText] = useState('');
  const [pass, setPass] = useState('');
  const [name, setName] = useState('');
  const [accounts, setAccounts] = useState<Keys[]>([]);
  const [err, setErr] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const onSubmit = async (e: FormEvent) => {
    e.preventDefault();
    setErr(undefined);
    setBusy(true);
    try {
      const all = await openKeystoreFile(text, pass);
      const keys = all.map((a) =>
        importKeys(a.name, bytesToHex(a.signingSecret), bytesToHex(a.encryptionSecret)),
      );
      const ops = await Promise.all(
        keys.map((x) =>
          client.account(x.name).then(
            (acc) => (acc.roles.includes('operator') ? x : undefined),
            () => undefined,
          ),
        ),
      );
      const found = ops.filter((x): x is Keys => x !== undefined);
      const pick = found.find((x) => x.name === name) ?? (found.length === 1 ? found[0] : undefined);
      if (pick) onOpen(pick);
      else if (found.length === 0) throw new Error('no operator account of this chain is in the keystore');
      else setAccounts(found);
    } catch (x) {
      setErr(x);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form onSubmit={onSubmit}>
      <p className="small muted">
        Your keystore file (from the CLI, <span className="mono">roamchain keys new</span>) is decrypted here,
        in this browser; the key never leaves it.
      </p>
      <label htmlFor="ks-file">Keystore file</label>
      <input
        id="ks-file"
        type="file"
        accept="application/json,.json"
        onChange={(e) => {
          const f = e.target.files?.[0];
          if (f) void f.text().then(setText);
        }}
      />
      <label htmlFor="ks-pass">Keystore passphrase</label>
      <input
        id="ks-pass"
        type="password"
        autoComplete="current-password"
        value={pass}
        onChange={(e) => setPass(e.target.value)}
      />
      {accounts.length > 1 ? (
        <>
          <label htmlFor="ks-name">Operator account</label>
          <select id="ks-name" value={name} onChange={(e) => setName(e.target.value)}>
            <option value="">choose…</option>
            {accounts.map((a) => (
              <option key={a.name}>{a.name}</option>
            ))}
          </select>
        </>
      ) : null}
      <button type="submit" disabled={busy || !text || !pass}>
        {busy ? 'Opening…' : 'Sign in with keystore'}
      </button>
      <ErrorBox error={err} />
    </form>
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
    <div className="grid">
      <Panel title="Sign in with your operator key">
        <KeystoreSignIn onOpen={setK} />
      </Panel>
      <Panel title="Devnet demo operator">
        <p className="warn-box">
          The devnet's demo operators sign with public demo keys (seed “roamchain-devnet”): for the local
          devnet only.
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
    </div>
  );
}
