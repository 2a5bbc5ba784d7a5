/**
 * Subscriber wallet: keys kept encrypted in the browser (or the devnet's public demo keys),
 * balances and adding SDR, buying a package (shop.tsx), the live contract (contract-view.tsx),
 * the identity disclosures sent with each purchase.
 */
import { bytesToHex, parseDisclosure, randomBytes } from '@roamchain/protocol';
import { disclosureStrings, readDisclosures, type SignupResult, signerFromSecret } from '@roamchain/sdk';
import { useState } from 'react';
import { MyContract } from './contract-view.js';
import { demoKeys, randomEid, type Wallet } from './keys.js';
import { client, isNotFound, sdr, useAsync, useEventFeed } from './lib.js';
import { OpenWallet } from './open-wallet.js';
import { Shop } from './shop.js';
import { SignUp } from './signup.js';
import { CopyButton, ErrorBox, KV, Panel } from './ui.js';

/** The devnet's SDR gateway (packages/devnet/src/devnet.ts), whose demo key is public. */
const DEVNET_GATEWAY = 'sdr-gateway';
const TOP_UP = 50_000_000n;

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

// ---------- adding SDR ----------

function AddSdr({ w, onDone }: { w: Wallet; onDone: () => void }) {
  const status = useAsync(() => client.status(), []);
  const devnet = /devnet/i.test(status.data?.chainName ?? '');
  const [busy, setBusy] = useState(false);
  const [err, setErr] = useState<unknown>();
  const [done, setDone] = useState<string>();
  const topUp = async () => {
    setBusy(true);
    setErr(undefined);
    setDone(undefined);
    try {
      const g = demoKeys(DEVNET_GATEWAY);
      const r = await client.issueSdr(
        {
          gateway: DEVNET_GATEWAY,
          to: w.keys.name,
          amount: TOP_UP,
          paymentRef: `wallet-${bytesToHex(randomBytes(8))}`,
        },
        signerFromSecret(DEVNET_GATEWAY, g.signingSecret),
      );
      await client.waitForTx(r.txId, 15_000);
      setDone(`${sdr(TOP_UP)} added to ${w.keys.name}.`);
      onDone();
    } catch (e) {
      setErr(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Panel title="Add SDR" id="add-sdr">
      <p className="small">
        SDR come from a gateway: you pay it in your currency and it credits your account{' '}
        <strong>{w.keys.name}</strong> on the chain. Ask your home operator which gateways it works with.
      </p>
      {devnet ? (
        <button type="button" disabled={busy} onClick={() => void topUp()}>
          {busy ? 'Adding…' : `Devnet: get ${sdr(TOP_UP)} from the gateway`}
        </button>
      ) : null}
      <p role="status" className="ok small">
        {done ?? ''}
      </p>
      <ErrorBox error={err} />
    </Panel>
  );
}

// ---------- the wallet ----------

function NoAccount({ w, onSignedUp }: { w: Wallet; onSignedUp: (r: SignupResult) => void }) {
  return (
    <div data-testid="no-account">
      <p>
        This key has no account on the chain yet. To become a subscriber, sign up with a home operator below
        (or give one your account name and these two public keys); it creates the account and checks your
        identity.
      </p>
      <SignUp w={w} onDone={onSignedUp} />
      <h3>Your public keys</h3>
      <KV
        rows={[
          ['Account name', w.keys.name],
          [
            'Signing key',
            <span key="sk">
              <span className="mono break">{w.keys.signingKey}</span>{' '}
              <CopyButton text={w.keys.signingKey} label="signing key" />
            </span>,
          ],
          [
            'Encryption key',
            <span key="ek">
              <span className="mono break">{w.keys.encryptionKey}</span>{' '}
              <CopyButton text={w.keys.encryptionKey} label="encryption key" />
            </span>,
          ],
        ]}
      />
    </div>
  );
}

function OpenedWallet({ w, onClose }: { w: Wallet; onClose: () => void }) {
  const [tick, setTick] = useState(0);
  const n = useEventFeed({ account: w.keys.name });
  const acc = useAsync(() => client.account(w.keys.name), [w.keys.name, n, tick]);
  const cs = useAsync(() => client.contracts({ party: w.keys.name, limit: 20 }), [w.keys.name, n, tick]);
  const [current, setCurrent] = useState<{ id: string; focus: boolean } | undefined>();
  const [signedUp, setSignedUp] = useState<SignupResult>();
  const a = acc.data;
  const missing = !a && isNotFound(acc.error);
  // A key stored under a name that another key holds on chain (e.g. a taken name): it signs nothing.
  const foreign = a !== undefined && a.signingKey !== w.keys.signingKey;
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
        {missing ? (
          <NoAccount
            w={w}
            onSignedUp={(r) => {
              setSignedUp(r);
              setTick((x) => x + 1);
            }}
          />
        ) : (
          <ErrorBox error={acc.error} />
        )}
        {foreign ? (
          <p className="error" role="alert" data-testid="foreign-account">
            The account “{w.keys.name}” on the chain belongs to another key: this key cannot sign for it.
            Create a key under another name and sign up with a home operator.
          </p>
        ) : null}
        {signedUp && a ? (
          <div className="ok-box" role="status" data-testid="signed-up">
            <p>
              Welcome: <strong>{signedUp.account}</strong> is now a subscriber of {signedUp.homeOperator},
              with its identity attested. Add SDR below, then choose a package.
            </p>
            {signedUp.kyc.simulated ? <p className="small">{signedUp.kyc.note}</p> : null}
          </div>
        ) : null}
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
              ['Home operator', a.homeOperator ?? '–'],
            ]}
          />
        ) : null}
        <h3>My contracts</h3>
        <ul className="plain">
          {(cs.data?.items ?? []).map((c) => (
            <li key={c.id}>
              <button type="button" className="link" onClick={() => setCurrent({ id: c.id, focus: true })}>
                {c.assignee} · {sdr(c.charged)} charged of {sdr(c.deposit)} · {c.status}
              </button>
            </li>
          ))}
        </ul>
        {cs.data && cs.data.items.length === 0 ? <p className="muted">None yet.</p> : null}
      </Panel>
      {current ? (
        <MyContract
          key={current.id}
          w={w}
          id={current.id}
          focus={current.focus}
          onChange={() => setTick((x) => x + 1)}
        />
      ) : null}
      {a && !foreign ? <Shop w={w} account={a} onBought={(id) => setCurrent({ id, focus: true })} /> : null}
      {a && !foreign ? <AddSdr w={w} onDone={() => setTick((x) => x + 1)} /> : null}
      {/* Re-read after a sign-up, which stores the disclosures the home operator attested. */}
      <IdentityPanel key={signedUp?.attestation ?? 'before'} w={w} />
    </div>
  );
}

export function WalletApp() {
  const [w, setW] = useState<Wallet | undefined>();
  return w ? <OpenedWallet w={w} onClose={() => setW(undefined)} /> : <OpenWallet onOpen={setW} />;
}
