/**
 * The traveller's contract, live: its progress (ordered → provisioned → in use → closed), a hint
 * when the visited operator does not set up the eSIM in time, install by QR or by SM-DP+ address and
 * matching id (copy buttons), a data meter and time left with alerts at 75 % / 90 % and before
 * expiry, what closing returns, a receipt; rating once closed.
 */
import { hexToBytes } from '@roamchain/protocol';
import { type ContractJson, openProvisioningForSubscriber, signerFromSecret } from '@roamchain/sdk';
import QRCode from 'qrcode';
import { useEffect, useState } from 'react';
import { Timeline } from './explorer.js';
import type { Wallet } from './keys.js';
import { client, download, duration, sdr, time, useAsync, useEventFeed, useLive, volume } from './lib.js';
import { TopUp } from './topup.js';
import { Account, CopyButton, ErrorBox, Id, KV, Loading, Panel } from './ui.js';

interface Provisioning {
  activationCode?: string;
  apn?: string;
  iccid?: string;
}

/** "LPA:1$smdp.example.com$MATCHING-ID[$…]" → its SM-DP+ address and matching id. */
export function parseLpa(code: string): { smdp: string; matchingId: string } | undefined {
  const m = /^LPA:1\$([^$]+)\$([^$]*)/.exec(code.trim());
  return m ? { smdp: m[1]!, matchingId: m[2]! } : undefined;
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
    <img src={url} width={220} height={220} alt="QR code of your eSIM activation code" data-testid="qr" />
  ) : null;
}

async function provisioningOf(
  w: Wallet,
  c: ContractJson,
  txs: { txId: string; type: string; opIndex: number }[],
) {
  const step = txs.find((t) => t.type === 'provision');
  if (!step) return undefined;
  const tx = await client.tx(step.txId);
  const op = tx.tx?.ops[step.opIndex] as { forRequester?: string; forSubscriber?: string } | undefined;
  if (!op?.forRequester) return { error: 'no provisioning data in the transaction' } as const;
  // The browser that made the Request holds its ephemeral secret; any device holding the wallet's key
  // opens the copy sealed to the subscriber's account key.
  const secret = w.ephemeralSecret(c.id);
  const mine = c.subscriber === w.keys.name && op.forSubscriber;
  if (!secret && !mine)
    return {
      error:
        'This browser does not hold the secret that opens this activation code. Open the wallet where you bought it, or restore that wallet’s encrypted backup here.',
    } as const;
  const assignee = await client.account(c.assignee);
  const plain = openProvisioningForSubscriber({
    contractId: c.id,
    assigneeEncryptionKey: assignee.encryptionKey,
    ephemeralSecret: secret,
    subscriberEncryptionSecret: w.keys.encryptionSecret,
    forRequester: hexToBytes(op.forRequester),
    forSubscriber: op.forSubscriber ? hexToBytes(op.forSubscriber) : undefined,
  });
  const text = new TextDecoder().decode(plain);
  try {
    return { data: JSON.parse(text) as Provisioning } as const;
  } catch {
    return { data: { activationCode: text } as Provisioning } as const;
  }
}

function Install({ p }: { p: Provisioning }) {
  const code = p.activationCode ?? '';
  const lpa = parseLpa(code);
  return (
    <div className="provision" data-testid="activation">
      <h3>Install your eSIM</h3>
      <ol className="small">
        <li>On your phone: Settings → Mobile data → Add eSIM.</li>
        <li>Scan this QR code, or type the SM-DP+ address and activation code below.</li>
        <li>Turn on data roaming for the new line when you arrive.</li>
      </ol>
      <Qr text={code} />
      <KV
        rows={[
          ...(lpa
            ? ([
                [
                  'SM-DP+ address',
                  <span key="s">
                    <span className="mono break">{lpa.smdp}</span>{' '}
                    <CopyButton text={lpa.smdp} label="SM-DP+ address" />
                  </span>,
                ],
                [
                  'Activation code',
                  <span key="m">
                    <span className="mono break">{lpa.matchingId}</span>{' '}
                    <CopyButton text={lpa.matchingId} label="activation code" />
                  </span>,
                ],
              ] as [string, React.ReactNode][])
            : []),
          [
            'Full code',
            <span key="f">
              <span className="mono break">{code}</span>{' '}
              <CopyButton text={code} label="full activation code" />
            </span>,
          ],
          ...(p.apn ? ([['APN', p.apn]] as [string, React.ReactNode][]) : []),
        ]}
      />
    </div>
  );
}

const STAGES = ['ordered', 'provisioned', 'in use', 'closed'] as const;

function Progress({ stage }: { stage: (typeof STAGES)[number] }) {
  const at = STAGES.indexOf(stage);
  return (
    <ol className="stepper" aria-label="Progress">
      {STAGES.map((s, i) => (
        <li key={s} className={i <= at ? 'done' : ''} aria-current={i === at ? 'step' : undefined}>
          {s}
        </li>
      ))}
    </ol>
  );
}

function receipt(c: ContractJson, fee: bigint): string {
  return `${JSON.stringify(
    {
      receipt: 'roamchain contract',
      contract: c.id,
      offer: c.offer,
      subscriber: c.subscriber,
      visitedOperator: c.assignee,
      homeOperator: c.issuer,
      openedUtc: time(c.openedAt),
      closedUtc: c.status === 'closed' ? time(c.closedAt) : null,
      depositSdr: sdr(c.deposit),
      chargedSdr: sdr(c.charged),
      charges: c.chargeCount,
      homeOperatorFeeSdr: sdr(fee),
      returnedSdr: c.status === 'closed' ? sdr(c.paidPayer) : null,
      dataUsed: volume(BigInt(c.volumeUp) + BigInt(c.volumeDown)),
    },
    null,
    2,
  )}\n`;
}

export function MyContract({
  w,
  id,
  focus,
  onChange,
}: {
  w: Wallet;
  id: string;
  focus: boolean;
  onChange: () => void;
}) {
  const live = useLive();
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
  const [done, setDone] = useState<string>();
  const loaded = c !== undefined;
  // After a purchase: show the new contract and move focus to it (not to <body>).
  useEffect(() => {
    if (!focus || !loaded) return;
    const h = document.getElementById('my-contract-h');
    if (!h) return;
    h.setAttribute('tabindex', '-1');
    h.scrollIntoView({ block: 'start' });
    h.focus();
  }, [focus, loaded]);
  const signer = signerFromSecret(w.keys.name, w.keys.signingSecret);
  const act = async (f: () => Promise<unknown>, ok: string) => {
    setErr(undefined);
    setDone(undefined);
    setBusy(true);
    try {
      await f();
      setDone(ok);
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
  const now = Number(live.block?.time ?? Date.now());
  const fee = (BigInt(c.charged) * BigInt(c.issuerFeeBps)) / 10_000n;
  const left = BigInt(c.deposit) - BigInt(c.charged) - fee;
  const open = c.status === 'open';
  const stage = !open ? 'closed' : provisioned ? (c.chargeCount > 0 ? 'in use' : 'provisioned') : 'ordered';
  const deadline = Number(c.lastStepAt) + c.stepTimeoutSec * 1000;
  const stuck = open && !provisioned && now > deadline;
  const pkg = BigInt(c.dataBytes);
  const used = BigInt(c.volumeUp) + BigInt(c.volumeDown);
  const usedPct = pkg > 0n ? Number((used * 100n) / pkg) : 0;
  const msLeft = Number(c.expiresAt) - now;
  return (
    <Panel title="My contract" id="my-contract">
      <Progress stage={stage} />
      <p className="small" data-testid="wallet-contract-state-text">
        State:{' '}
        <strong data-testid="wallet-contract-state">
          {stage === 'ordered' ? 'waiting for the visited operator' : stage}
        </strong>
      </p>
      {open && !provisioned && !stuck ? (
        <p className="small">
          Waiting for {c.assignee} to set up your eSIM: it has until {time(deadline).slice(11)} UTC (
          {duration(deadline - now)} left).
        </p>
      ) : null}
      {stuck ? (
        <div className="warn-box" role="alert" data-testid="stuck">
          {c.assignee} did not set up your eSIM within its time limit ({duration(c.stepTimeoutSec * 1000)}).
          It can no longer charge this contract: close it to get your whole deposit ({sdr(left)}) back.
        </div>
      ) : null}
      {open && pkg > 0n && provisioned ? (
        <div data-testid="meter">
          <label htmlFor="data-meter">
            Data used: {volume(used)} of {volume(pkg)} ({volume(used > pkg ? 0n : pkg - used)} left)
          </label>
          <meter
            id="data-meter"
            min={0}
            max={100}
            low={75}
            high={90}
            optimum={0}
            value={Math.min(usedPct, 100)}
          />
          {usedPct >= 90 ? (
            <p className="warn small" data-testid="usage-alert">
              90 % of your data is used.
            </p>
          ) : usedPct >= 75 ? (
            <p className="warn small" data-testid="usage-alert">
              75 % of your data is used.
            </p>
          ) : null}
          <p className="small">
            Time left: {duration(msLeft)} (until {time(c.expiresAt)} UTC)
            {msLeft < 86_400_000 ? <strong className="warn"> — ends within a day</strong> : null}
          </p>
        </div>
      ) : null}
      <KV
        rows={[
          ['Contract', <Id key="id" id={c.id} to={['explorer', 'contract', c.id]} />],
          ['Visited operator', <Account key="a" name={c.assignee} />],
          ['Home operator', <Account key="i" name={c.issuer} />],
          ['Paid in (deposit)', sdr(c.deposit)],
          [
            'Charged so far',
            <span key="ch" data-testid="charged">{`${sdr(c.charged)} in ${c.chargeCount} step(s)`}</span>,
          ],
          ['Home operator fee', `${sdr(fee)} (${c.issuerFeeBps / 100} % of the charges)`],
          open
            ? [
                'Not charged yet (yours back on closing)',
                <strong key="l" data-testid="funds-left">
                  {sdr(left)}
                </strong>,
              ]
            : [
                'Returned to you',
                <strong key="r" data-testid="change">
                  {sdr(c.paidPayer)}
                </strong>,
              ],
        ]}
      />
      {open && prov.data && 'data' in prov.data && prov.data.data.activationCode ? (
        <Install p={prov.data.data} />
      ) : null}
      {prov.data && 'error' in prov.data ? (
        <p className="warn" data-testid="no-secret">
          {prov.data.error}
        </p>
      ) : null}
      <ErrorBox error={prov.error} />
      <h3>History</h3>
      <Timeline offerId={c.offer} steps={d.data.transactions} />
      <div className="row wrap">
        <button
          type="button"
          className="secondary"
          onClick={() => download(`receipt-${c.id.slice(0, 12)}.json`, receipt(c, fee), 'application/json')}
        >
          Download receipt
        </button>
      </div>
      {open && !stuck && now < Number(c.expiresAt) && c.payer === w.keys.name ? (
        <TopUp
          w={w}
          c={c}
          onDone={() => {
            d.reload();
            onChange();
          }}
        />
      ) : null}
      {open ? (
        <div>
          <p className="small" data-testid="close-explained">
            {left > 0n
              ? `Closing now ends the package and returns ${sdr(left)} (what has not been charged).`
              : 'The package was charged in full when the eSIM was set up: closing now returns nothing, and ends the package.'}
          </p>
          <div className="row wrap">
            <label className="check">
              <input type="checkbox" checked={bad} onChange={(e) => setBad(e.target.checked)} /> The service
              was bad
            </label>
            <button
              type="button"
              disabled={busy}
              onClick={() =>
                void act(
                  () => client.refund({ by: w.keys.name, contract: c.id, badService: bad }, signer),
                  'Contract closed.',
                )
              }
            >
              Close and get the change back
            </button>
          </div>
        </div>
      ) : c.score === 0 ? (
        <form
          className="row"
          onSubmit={(e) => {
            e.preventDefault();
            void act(
              () => client.rate({ subscriber: w.keys.name, contract: c.id, score: Number(score) }, signer),
              'Thank you for rating.',
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
      <p role="status" className="ok small">
        {done ?? ''}
      </p>
      <ErrorBox error={err} />
    </Panel>
  );
}
