/**
 * Top-up of an open contract from the wallet (docs/CONTRACT.md, `contract_topup`): more SDR on the
 * same eSIM. The wallet signs as the payer; the home operator's agent countersigns under its policy
 * (or, on the devnet only and when asked, the home operator's public demo key). A summary shows
 * what is added, the deposit after and the balance after; the button is disabled with the reason
 * when the amount is below the minimum or above the balance.
 */
import { bytesToHex, encode, isErrorCode, RoamError, unsignedTx } from '@roamchain/protocol';
import { type ContractJson, signerFromSecret, signUnsigned, signWith } from '@roamchain/sdk';
import { useState } from 'react';
import { agentUrlOf } from './buy.js';
import { demoKeys, type Wallet } from './keys.js';
import { client, sdr, toUnits, useAsync } from './lib.js';
import { Feedback, useAct } from './ui.js';

/** The chain's least top-up: one unit of the terms (unit price, else package price) plus the issuer fee. */
export function topupMinimum(c: Pick<ContractJson, 'price' | 'unitPrice' | 'issuerFeeBps'>): bigint {
  const base = BigInt(c.unitPrice) > 0n ? BigInt(c.unitPrice) : BigInt(c.price);
  return base + (base * BigInt(c.issuerFeeBps)) / 10_000n;
}

/** Why the amount cannot be topped up, or undefined. */
export function topupProblem(amount: bigint | undefined, min: bigint, balance: bigint): string | undefined {
  if (amount === undefined) return 'Enter an amount in SDR, e.g. 5 or 2.50.';
  if (amount < min) return `The least you can add is ${sdr(min)}.`;
  if (amount > balance) return `You need ${sdr(amount)}; your balance is ${sdr(balance)}.`;
  return undefined;
}

/**
 * Signs the top-up as the payer and has the issuer countersign it; resolves once it is included.
 * The visited operator's steps move the contract's head: on SSC_NOT_HEAD it is signed again on the
 * new head (at most three times).
 */
export async function topUpContract(
  w: Wallet,
  c: ContractJson,
  amount: bigint,
  allowDemoIssuer: boolean,
): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await topUpOnce(w, c, amount, allowDemoIssuer);
    } catch (e) {
      const code = (e as { code?: unknown }).code;
      if (code !== 'SSC_NOT_HEAD' || attempt >= 3) throw e;
    }
  }
}

async function topUpOnce(
  w: Wallet,
  c: ContractJson,
  amount: bigint,
  allowDemoIssuer: boolean,
): Promise<void> {
  // The head is fetched now (not the one on screen): the visited operator may have moved it.
  const p = await client.prepareTopUp({ issuer: c.issuer, payer: w.keys.name, contract: c.id, amount });
  const agent = await agentUrlOf(c.issuer);
  if (agent) {
    const res = await fetch(`${agent.replace(/\/+$/, '')}/v1/countersign`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        tx: bytesToHex(encode(unsignedTx, p.tx)),
        subscriber: w.keys.name,
        signature: bytesToHex(signUnsigned(p.tx, w.keys.signingSecret)),
      }),
    });
    const j = (await res.json().catch(() => ({}))) as { code?: unknown; message?: unknown };
    if (!res.ok)
      throw new RoamError(
        isErrorCode(j.code) ? j.code : 'BAD_REQUEST',
        typeof j.message === 'string' ? j.message : `the home operator refused (${res.status})`,
      );
    await client.waitForTx(p.txId, 15_000);
    return;
  }
  if (!allowDemoIssuer)
    throw new Error(`no agent of ${c.issuer} is listed by the node (GET /v1/agents); it cannot countersign`);
  const signed = signWith(p.tx, [
    signerFromSecret(w.keys.name, w.keys.signingSecret),
    signerFromSecret(c.issuer, demoKeys(c.issuer).signingSecret),
  ]);
  await client.submitTx(signed, { wait: true, timeoutMs: 15_000 });
}

export function TopUp({ w, c, onDone }: { w: Wallet; c: ContractJson; onDone: () => void }) {
  const [text, setText] = useState('5');
  const [demoIssuer, setDemoIssuer] = useState(false);
  const [tick, setTick] = useState(0);
  const acc = useAsync(() => client.account(w.keys.name), [w.keys.name, tick, c.deposit]);
  const agent = useAsync(() => agentUrlOf(c.issuer), [c.issuer]);
  const { act, err, ok, busy } = useAct(() => {
    setTick((x) => x + 1);
    onDone();
  });
  let amount: bigint | undefined;
  try {
    amount = toUnits(text);
  } catch {
    amount = undefined;
  }
  const balance = BigInt(acc.data?.balances.SDR ?? '0');
  const min = topupMinimum(c);
  const problem = acc.data ? topupProblem(amount, min, balance) : 'Loading your balance…';
  const noAgent = agent.data === undefined && !agent.loading;
  return (
    <section className="topup" aria-labelledby="topup-h" data-testid="topup">
      <h3 id="topup-h">Top up this eSIM</h3>
      <p className="small">
        {BigInt(c.unitPrice) > 0n
          ? `Adds credit to this same eSIM (nothing new to install): ${c.assignee} charges data beyond the package at ${sdr(c.unitPrice)} per MB from it.`
          : 'This package has no paid extra data: a top-up only adds credit to its contract.'}{' '}
        Whatever is not charged comes back to you when the contract closes.
      </p>
      <form
        className="row wrap"
        onSubmit={(e) => {
          e.preventDefault();
          if (problem || amount === undefined) return;
          const a = amount;
          void act(
            () => topUpContract(w, c, a, demoIssuer),
            `Topped up ${sdr(a)}: the contract now holds ${sdr(BigInt(c.deposit) + a)}; your balance is ${sdr(balance - a)}.`,
          );
        }}
      >
        <label htmlFor="topup-amount">Amount (SDR)</label>
        <input
          id="topup-amount"
          inputMode="decimal"
          value={text}
          aria-describedby="topup-why"
          onChange={(e) => setText(e.target.value)}
        />
        <button type="submit" disabled={busy || problem !== undefined} aria-describedby="topup-why">
          {busy ? 'Topping up…' : 'Top up'}
        </button>
      </form>
      {amount !== undefined ? (
        <dl className="kv" data-testid="topup-summary">
          <div>
            <dt>Adds</dt>
            <dd>{sdr(amount)}</dd>
          </div>
          <div>
            <dt>Contract holds after</dt>
            <dd>{sdr(BigInt(c.deposit) + amount)}</dd>
          </div>
          <div>
            <dt>Your balance after</dt>
            <dd data-testid="topup-balance-after">{sdr(balance - amount)}</dd>
          </div>
        </dl>
      ) : null}
      <p id="topup-why" className="small muted" data-testid="topup-why">
        {problem ?? `Signed by you and countersigned by your home operator ${c.issuer}.`}
      </p>
      {noAgent && w.keys.demo ? (
        <label className="check">
          <input type="checkbox" checked={demoIssuer} onChange={(e) => setDemoIssuer(e.target.checked)} />{' '}
          Devnet only: countersign as {c.issuer} with its public demo key in this browser
        </label>
      ) : null}
      <Feedback err={err} ok={ok} />
    </section>
  );
}
