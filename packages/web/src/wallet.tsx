/**
 * Subscriber wallet: keys kept encrypted in the browser (or the devnet's public demo keys),
 * balances, ranked offers for a destination, buying (the wallet signs the subscriber's consent
 * locally; the home operator's agent countersigns), the live contract (activation code as a QR
 * code, charges, funds left), rating and closing with the change coming back.
 */
import {
  bytesToHex,
  contractIdOf,
  encode,
  generateX25519,
  hexToBytes,
  parseDisclosure,
  unsignedTx,
} from '@roamchain/protocol';
import {
  type AccountJson,
  type ContractJson,
  disclosureStrings,
  fetchAttestation,
  type OpenRequestArgs,
  openProvisioningAsRequester,
  type Preference,
  type RankedOfferJson,
  readDisclosures,
  sealRequestPayload,
  signerFromSecret,
  signUnsigned,
  signWith,
} from '@roamchain/sdk';
import QRCode from 'qrcode';
import { type ReactNode, useEffect, useState } from 'react';
import { Timeline } from './explorer.js';
import { demoKeys, randomEid, type Wallet } from './keys.js';
import { apiPaths, client, gb, sdr, useAsync, useEventFeed } from './lib.js';
import { OpenWallet } from './open-wallet.js';
import { Account, ErrorBox, Id, KV, Loading, Panel, Stars } from './ui.js';

const COUNTRIES: [string, string][] = [
  ['DE', 'Germany'],
  ['FR', 'France'],
  ['TR', 'Türkiye'],
  ['TH', 'Thailand'],
  ['US', 'United States'],
];
export const ISSUER_FEE_BPS = 100;
const FEE_DEPOSIT_UMT = 1_000_000n;

// ---------- SDR → local currency (only from an on-chain rate) ----------

/** Currency → units per SDR, from the node's rates route when it has one; empty when none is known. */
async function sdrRates(): Promise<Record<string, number>> {
  const paths = await apiPaths();
  const path = ['/v1/rates', '/v1/prices', '/v1/sdr'].find((p) => paths.has(p));
  if (!path) return {};
  try {
    const j = await client.get<Record<string, unknown>>(path);
    const src = (j.rates ?? j.sdr ?? j) as Record<string, unknown>;
    const out: Record<string, number> = {};
    for (const [k, v] of Object.entries(src)) {
      const n = Number(v);
      if (/^[A-Z]{3}$/.test(k) && Number.isFinite(n) && n > 0) out[k] = n;
    }
    return out;
  } catch {
    return {};
  }
}

const LOCAL: Record<string, string> = { DE: 'EUR', FR: 'EUR', TR: 'USD', TH: 'USD', US: 'USD' };

function Price({ units, rates, country }: { units: string; rates: Record<string, number>; country: string }) {
  const cur = navigator.language.startsWith('en-GB') ? 'GBP' : (LOCAL[country] ?? 'USD');
  const r = rates[cur];
  return (
    <span>
      {sdr(units)}
      {r ? (
        <span className="muted">
          {' '}
          ≈ {(Number(units) / 1e6 / r).toFixed(2)} {cur}
        </span>
      ) : null}
    </span>
  );
}

// ---------- buying ----------

interface AgentsJson {
  [operator: string]: string;
}

async function agentUrlOf(operator: string): Promise<string | undefined> {
  const paths = await apiPaths();
  if (!paths.has('/v1/agents')) return undefined;
  try {
    const j = await client.get<AgentsJson | { agents?: AgentsJson }>('/v1/agents');
    const map = ((j as { agents?: AgentsJson }).agents ?? j) as AgentsJson;
    return typeof map[operator] === 'string' ? map[operator] : undefined;
  } catch {
    return undefined;
  }
}

async function buy(
  w: Wallet,
  account: AccountJson,
  offer: RankedOfferJson,
  deposit: bigint,
  allowDemoIssuer: boolean,
): Promise<string> {
  const issuer = account.homeOperator;
  if (!issuer) throw new Error('this account has no home operator');
  const args: OpenRequestArgs = {
    issuer,
    subscriber: w.keys.name,
    offer: offer.offerId,
    deposit,
    issuerFeeBps: ISSUER_FEE_BPS,
    feeDeposit: FEE_DEPOSIT_UMT,
  };
  const status = await client.status();
  let ephemeralSecret: Uint8Array | undefined;
  const id = w.identity;
  if (id && id.disclosures.length > 0) {
    // The identity payload is sealed for the visited operator on the contract channel, which the
    // ephemeral key fixes: so the key is made here, before the Request.
    const kp = generateX25519();
    const contractId = contractIdOf(hexToBytes(status.chainId), kp.publicKey);
    const assignee = await client.account(offer.offer.operator);
    args.ephemeralKey = kp.publicKey;
    args.payload = sealRequestPayload({
      ephemeralSecret: kp.secretKey,
      assigneeEncryptionKey: hexToBytes(assignee.encryptionKey),
      contractId,
      payload: { v: 1, disclosures: id.disclosures, eid: id.eid },
    });
    const paths = await apiPaths();
    if ([...paths].some((x) => x.startsWith('/v1/identity/'))) {
      const att = await fetchAttestation(client, w.keys.name);
      if (att) args.attestation = att.id;
    }
    ephemeralSecret = kp.secretKey;
  }
  const prepared = await client.prepareOpenRequest(args, { status });
  const p = { ...prepared, ephemeralSecret: ephemeralSecret ?? prepared.ephemeralSecret };
  if (!p.ephemeralSecret) throw new Error('no ephemeral key generated');
  // Keep the ephemeral secret before anything is sent: it opens the provisioning data later.
  await w.keepEphemeral(p.contractId, p.ephemeralSecret);
  const signature = signUnsigned(p.tx, w.keys.signingSecret);
  const agent = await agentUrlOf(issuer);
  if (agent) {
    const res = await fetch(`${agent.replace(/\/+$/, '')}/v1/countersign`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        tx: bytesToHex(encode(unsignedTx, p.tx)),
        subscriber: w.keys.name,
        signature: bytesToHex(signature),
      }),
    });
    const j = (await res.json().catch(() => ({}))) as {
      code?: string;
      message?: string;
      contractId?: string;
    };
    if (!res.ok) throw new Error(`${j.code ?? res.status}: ${j.message ?? 'the home operator refused'}`);
    await client.waitForTx(p.txId, 15_000);
    return j.contractId ?? p.contractId;
  }
  if (!allowDemoIssuer) {
    throw new Error(`no agent of ${issuer} is listed by the node (GET /v1/agents); it cannot countersign`);
  }
  const signed = signWith(p.tx, [
    signerFromSecret(w.keys.name, w.keys.signingSecret),
    signerFromSecret(issuer, demoKeys(issuer).signingSecret),
  ]);
  await client.submitTx(signed);
  return p.contractId;
}

function Shop({
  w,
  account,
  onBought,
}: {
  w: Wallet;
  account: AccountJson;
  onBought: (contractId: string) => void;
}) {
  const [country, setCountry] = useState('DE');
  const [volume, setVolume] = useState('5');
  const [pref, setPref] = useState<Preference>('balanced');
  const [query, setQuery] = useState<{ country: string; volume: string; pref: Preference } | undefined>();
  const [busy, setBusy] = useState<string | undefined>();
  const [err, setErr] = useState<unknown>();
  const [demoIssuer, setDemoIssuer] = useState(false);
  const home = account.homeOperator ?? '';
  const rates = useAsync(sdrRates, []);
  const agent = useAsync(() => agentUrlOf(home), [home]);
  const ranked = useAsync(
    () =>
      query
        ? client.rankOffers({
            country: query.country,
            volume: BigInt(Math.round(Number(query.volume) * 1000)) * 1_000_000n,
            preference: query.pref,
            limit: 10,
          })
        : Promise.resolve(undefined),
    [query],
  );
  const onBuy = async (o: RankedOfferJson) => {
    setErr(undefined);
    setBusy(o.offerId);
    try {
      const cost = BigInt(o.cost);
      const deposit = cost + (cost * BigInt(ISSUER_FEE_BPS) + 9_999n) / 10_000n;
      const cid = await buy(w, account, o, deposit, demoIssuer);
      onBought(cid);
    } catch (e) {
      setErr(e);
    } finally {
      setBusy(undefined);
    }
  };
  return (
    <Panel title="Buy a roaming package">
      <form
        className="row wrap"
        onSubmit={(e) => {
          e.preventDefault();
          setQuery({ country, volume, pref });
        }}
      >
        <div>
          <label htmlFor="dest">Destination</label>
          <select id="dest" value={country} onChange={(e) => setCountry(e.target.value)}>
            {COUNTRIES.map(([c, n]) => (
              <option key={c} value={c}>
                {n} ({c})
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
            value={volume}
            onChange={(e) => setVolume(e.target.value)}
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
        <button type="submit">Show offers</button>
      </form>
      {Object.keys(rates.data ?? {}).length === 0 ? (
        <p className="muted small">No on-chain SDR exchange rate yet: prices are shown in SDR only.</p>
      ) : null}
      {agent.data === undefined && !agent.loading ? (
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
      <ErrorBox error={ranked.error ?? err} />
      {ranked.loading && query ? <Loading what="offers" /> : null}
      {ranked.data && ranked.data.items.length === 0 ? <p>No live offers for this destination.</p> : null}
      <ol className="offers">
        {(ranked.data?.items ?? []).map((o, i) => (
          <li key={o.offerId} className="offer" data-testid="offer">
            <div className="offer-head">
              <strong>
                {i + 1}. {o.offer.terms.title}
              </strong>
              <span className="score">score {(o.score / 100).toFixed(0)}</span>
            </div>
            <div className="muted small">
              <Account name={o.offer.operator} /> · {o.offer.terms.technologies.join('/') || '–'} ·{' '}
              {gb(o.offer.terms.dataBytes)} / {Math.round(o.offer.terms.durationSec / 86400)} days ·{' '}
              <Stars x100={o.rating.starsX100} />
            </div>
            <div>
              Price <Price units={o.cost} rates={rates.data ?? {}} country={query?.country ?? country} />
            </div>
            <ul className="reasons">
              {o.reasons.map((r) => (
                <li key={r}>{r}</li>
              ))}
            </ul>
            <button
              type="button"
              onClick={() => void onBuy(o)}
              disabled={busy !== undefined}
              aria-label={`Buy ${o.offer.terms.title} from ${o.offer.operator}`}
            >
              {busy === o.offerId ? 'Buying…' : 'Buy'}
            </button>
          </li>
        ))}
      </ol>
    </Panel>
  );
}

// ---------- a contract, live ----------

interface Provisioning {
  activationCode?: string;
  apn?: string;
  iccid?: string;
}

function Qr({ text }: { text: string }) {
  const [url, setUrl] = useState<string>();
  useEffect(() => {
    let alive = true;
    QRCode.toDataURL(text, { margin: 1, width: 220 }).then((u) => alive && setUrl(u));
    return () => {
      alive = false;
    };
  }, [text]);
  return url ? (
    <img src={url} width={220} height={220} alt={`QR code of the activation code ${text}`} data-testid="qr" />
  ) : null;
}

async function provisioningOf(
  w: Wallet,
  c: ContractJson,
  txs: { txId: string; type: string; opIndex: number }[],
) {
  const step = txs.find((t) => t.type === 'provision');
  if (!step) return undefined;
  const secret = w.ephemeralSecret(c.id);
  if (!secret) return { error: 'this browser does not hold the ephemeral secret of this contract' } as const;
  const tx = await client.tx(step.txId);
  const op = tx.tx?.ops[step.opIndex] as { forRequester?: string } | undefined;
  if (!op?.forRequester) return { error: 'no provisioning data in the transaction' } as const;
  const assignee = await client.account(c.assignee);
  const plain = openProvisioningAsRequester({
    contractId: c.id,
    ephemeralSecret: secret,
    assigneeEncryptionKey: assignee.encryptionKey,
    box: hexToBytes(op.forRequester),
  });
  const text = new TextDecoder().decode(plain);
  try {
    return { data: JSON.parse(text) as Provisioning } as const;
  } catch {
    return { data: { activationCode: text } as Provisioning } as const;
  }
}

function MyContract({ w, id, onChange }: { w: Wallet; id: string; onChange: () => void }) {
  const n = useEventFeed({ contract: id }, () => onChange());
  const d = useAsync(() => client.contract(id), [id, n]);
  const c = d.data?.contract;
  const provisioned = d.data?.transactions.some((t) => t.type === 'provision') ?? false;
  const prov = useAsync(
    () => (c && d.data ? provisioningOf(w, c, d.data.transactions) : Promise.resolve(undefined)),
    [id, provisioned],
  );
  const [score, setScore] = useState('5');
  const [bad, setBad] = useState(false);
  const [err, setErr] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const signer = signerFromSecret(w.keys.name, w.keys.signingSecret);
  const act = async (f: () => Promise<unknown>) => {
    setErr(undefined);
    setBusy(true);
    try {
      await f();
      d.reload();
      onChange();
    } catch (e) {
      setErr(e);
    } finally {
      setBusy(false);
    }
  };
  if (d.error) return <ErrorBox error={d.error} />;
  if (!c || !d.data) return <Loading what="contract" />;
  const fee = (BigInt(c.charged) * BigInt(c.issuerFeeBps)) / 10_000n;
  const left = BigInt(c.deposit) - BigInt(c.charged) - fee;
  const stage =
    c.status === 'closed'
      ? 'closed'
      : provisioned
        ? c.chargeCount > 0
          ? 'in use'
          : 'provisioned'
        : 'waiting for the visited operator';
  return (
    <Panel title="My contract" id="my-contract">
      <KV
        rows={[
          ['Contract', <Id key="id" id={c.id} to={['explorer', 'contract', c.id]} />],
          [
            'State',
            <strong key="s" data-testid="wallet-contract-state">
              {stage}
            </strong>,
          ],
          ['Visited operator', <Account key="a" name={c.assignee} />],
          ['Home operator', <Account key="i" name={c.issuer} />],
          ['Deposit', sdr(c.deposit)],
          [
            'Charged',
            <span key="ch" data-testid="charged">{`${sdr(c.charged)} in ${c.chargeCount} step(s)`}</span>,
          ],
          ['Home operator fee', `${sdr(fee)} (${c.issuerFeeBps / 100} %)`],
          ...(c.status === 'open'
            ? ([
                [
                  'Funds left',
                  <strong key="l" data-testid="funds-left">
                    {sdr(left)}
                  </strong>,
                ],
              ] as [string, ReactNode][])
            : ([
                [
                  'Change returned',
                  <strong key="r" data-testid="change">
                    {sdr(c.paidPayer)}
                  </strong>,
                ],
              ] as [string, ReactNode][])),
        ]}
      />
      {prov.data && 'data' in prov.data && prov.data.data.activationCode ? (
        <div className="provision" data-testid="activation">
          <h3>Install your eSIM</h3>
          <Qr text={prov.data.data.activationCode} />
          <p className="mono break">{prov.data.data.activationCode}</p>
          {prov.data.data.apn ? <p>APN: {prov.data.data.apn}</p> : null}
        </div>
      ) : null}
      {prov.data && 'error' in prov.data ? <p className="warn">{prov.data.error}</p> : null}
      <ErrorBox error={prov.error ?? err} />
      <h3>History</h3>
      <Timeline offerId={c.offer} steps={d.data.transactions} />
      {c.status === 'open' ? (
        <div className="row wrap">
          <label className="check">
            <input type="checkbox" checked={bad} onChange={(e) => setBad(e.target.checked)} /> The service was
            bad
          </label>
          <button
            type="button"
            disabled={busy}
            onClick={() =>
              void act(() => client.refund({ by: w.keys.name, contract: c.id, badService: bad }, signer))
            }
          >
            Close and get the change back
          </button>
        </div>
      ) : c.score === 0 ? (
        <form
          className="row"
          onSubmit={(e) => {
            e.preventDefault();
            void act(() =>
              client.rate({ subscriber: w.keys.name, contract: c.id, score: Number(score) }, signer),
            );
          }}
        >
          <label htmlFor="score">Rate {c.assignee}</label>
          <select id="score" value={score} onChange={(e) => setScore(e.target.value)}>
            {['5', '4', '3', '2', '1'].map((s) => (
              <option key={s}>{s}</option>
            ))}
          </select>
          <button type="submit" disabled={busy}>
            Rate
          </button>
        </form>
      ) : (
        <p>You rated this contract {c.score} / 5. Thank you.</p>
      )}
    </Panel>
  );
}

// ---------- identity ----------

function IdentityPanel({ w }: { w: Wallet }) {
  const [identity, setIdentity] = useState(w.identity);
  const [text, setText] = useState('');
  const [err, setErr] = useState<unknown>();
  const load = async (json: string) => {
    setErr(undefined);
    try {
      const disclosures = disclosureStrings(readDisclosures(JSON.parse(json)));
      const next = { disclosures, eid: w.identity?.eid ?? randomEid() };
      await w.setIdentity(next);
      setIdentity(next);
      setText('');
    } catch (e) {
      setErr(e);
    }
  };
  const claims = (identity?.disclosures ?? []).map((d) => parseDisclosure(d).name);
  return (
    <Panel title="Identity">
      <p className="muted small">
        Your home operator attested your identity on chain as salted digests. The disclosures below (kept only
        in this browser) go, encrypted for the visited operator, with each purchase, so it can check them
        against the chain without a second KYC.
        {w.keys.demo ? ` The devnet writes them to .devnet/wallet/${w.keys.name}.disclosures.json.` : ''}
      </p>
      {identity ? (
        <KV
          rows={[
            ['Disclosed claims', claims.join(', ') || '–'],
            [
              'Device EID',
              <span key="eid" className="mono break">
                {identity.eid}
              </span>,
            ],
          ]}
        />
      ) : (
        <p className="warn" data-testid="no-identity">
          No disclosures loaded: a visited operator that requires identity will refund the Request.
        </p>
      )}
      <label htmlFor="disc-file">Load a disclosures file</label>
      <input
        id="disc-file"
        type="file"
        accept="application/json,.json"
        onChange={(e) => {
          const f = e.target.files?.[0];
          if (f) void f.text().then(load);
        }}
      />
      <details>
        <summary>Or paste its JSON</summary>
        <label htmlFor="disc-json">Disclosures JSON</label>
        <textarea id="disc-json" rows={4} value={text} onChange={(e) => setText(e.target.value)} />
        <button type="button" onClick={() => void load(text)}>
          Use these disclosures
        </button>
      </details>
      <ErrorBox error={err} />
    </Panel>
  );
}

// ---------- the wallet ----------

function OpenedWallet({ w, onClose }: { w: Wallet; onClose: () => void }) {
  const [tick, setTick] = useState(0);
  const n = useEventFeed({ account: w.keys.name });
  const acc = useAsync(() => client.account(w.keys.name), [w.keys.name, n, tick]);
  const cs = useAsync(() => client.contracts({ party: w.keys.name, limit: 20 }), [w.keys.name, n, tick]);
  const [current, setCurrent] = useState<string | undefined>();
  const a = acc.data;
  return (
    <div className="grid">
      <Panel
        title={`Wallet of ${w.keys.name}`}
        actions={
          <button type="button" className="secondary" onClick={onClose}>
            Lock
          </button>
        }
      >
        {w.keys.demo ? <p className="warn-box">Public demo keys (devnet only).</p> : null}
        <ErrorBox error={acc.error} />
        {a ? (
          <KV
            rows={[
              [
                'SDR',
                <strong key="sdr" data-testid="balance-sdr">
                  {sdr(a.balances.SDR)}
                </strong>,
              ],
              ['UMT', sdr(a.balances.UMT).replace(' SDR', ' UMT')],
              ['Home operator', <Account key="h" name={a.homeOperator ?? null} />],
            ]}
          />
        ) : null}
        {!a && acc.error ? (
          <KV
            rows={[
              [
                'Signing key',
                <span key="sk" className="mono break">
                  {w.keys.signingKey}
                </span>,
              ],
              [
                'Encryption key',
                <span key="ek" className="mono break">
                  {w.keys.encryptionKey}
                </span>,
              ],
            ]}
          />
        ) : null}
        <h3>My contracts</h3>
        <ul className="plain">
          {(cs.data?.items ?? []).map((c) => (
            <li key={c.id}>
              <button type="button" className="link" onClick={() => setCurrent(c.id)}>
                {c.assignee} · {sdr(c.charged)} of {sdr(c.deposit)} · {c.status}
              </button>
            </li>
          ))}
        </ul>
        {cs.data && cs.data.items.length === 0 ? <p className="muted">None yet.</p> : null}
      </Panel>
      {current ? <MyContract w={w} id={current} onChange={() => setTick((x) => x + 1)} /> : null}
      {a ? <Shop w={w} account={a} onBought={(id) => setCurrent(id)} /> : null}
      <IdentityPanel w={w} />
    </div>
  );
}

export function WalletApp() {
  const [w, setW] = useState<Wallet | undefined>();
  return w ? <OpenedWallet w={w} onClose={() => setW(undefined)} /> : <OpenWallet onOpen={setW} />;
}
