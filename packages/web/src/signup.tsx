/**
 * Sign-up with a home operator, for a key that has no account yet: lists the operators whose agents
 * offer sign-up (GET /v1/agents, then each agent's GET /v1/policy), sends the KYC claims signed by
 * the new key (proof of possession), and keeps the identity disclosures the agent seals to this key.
 * A simulated KYC (devnet) is labelled as such, before and after.
 */

import {
  disclosureStrings,
  openSignupDisclosures,
  postSignup,
  readDisclosures,
  type SignupResult,
  signupBody,
} from '@roamchain/sdk';
import { type FormEvent, useState } from 'react';
import { randomEid, type Wallet } from './keys.js';
import { agentPolicy, client, listedAgentUrls, useAsync } from './lib.js';
import { ErrorBox } from './ui.js';

export interface SignupOperator {
  operator: string;
  url: string;
  kyc: 'simulated' | 'external';
  claims: string[];
}

const LABELS: Record<string, string> = {
  given_name: 'Given name',
  family_name: 'Family name',
  birthdate: 'Date of birth (YYYY-MM-DD)',
  nationality: 'Nationality (ISO code, e.g. DE)',
};

/** Operators whose agents (as listed by this node) offer sign-up. */
export async function signupOperators(): Promise<SignupOperator[]> {
  const entries = Object.entries((await listedAgentUrls()) ?? {});
  const out = await Promise.all(
    entries.map(async ([operator, url]) => {
      const p = (await agentPolicy(url)) as
        | { signup?: { enabled?: boolean; kyc?: string; claims?: unknown } }
        | undefined;
      const s = p?.signup;
      if (!s?.enabled) return undefined;
      const claims = Array.isArray(s.claims)
        ? s.claims.filter((c): c is string => typeof c === 'string' && /^[a-z_]{1,32}$/.test(c)).slice(0, 8)
        : [];
      return {
        operator,
        url,
        kyc: s.kyc === 'simulated' ? 'simulated' : 'external',
        claims,
      } as SignupOperator;
    }),
  );
  return out
    .filter((x): x is SignupOperator => x !== undefined)
    .sort((a, b) => a.operator.localeCompare(b.operator));
}

export function SignUp({ w, onDone }: { w: Wallet; onDone: (r: SignupResult) => void }) {
  const ops = useAsync(signupOperators, []);
  const [which, setWhich] = useState('');
  const [claims, setClaims] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState(false);
  const [err, setErr] = useState<unknown>();
  const list = ops.data ?? [];
  const op = list.find((o) => o.operator === which) ?? list[0];
  const fields = op ? (op.claims.length > 0 ? op.claims : Object.keys(LABELS)) : [];
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!op) return;
    setBusy(true);
    setErr(undefined);
    try {
      const status = await client.status();
      const body = signupBody(
        {
          operator: op.operator,
          chainId: status.chainId,
          name: w.keys.name,
          signingKey: w.keys.signingKey,
          encryptionKey: w.keys.encryptionKey,
          claims: Object.fromEntries(fields.map((f) => [f, (claims[f] ?? '').trim()])),
        },
        w.keys.signingSecret,
      );
      const r = await postSignup(op.url, body);
      const file = openSignupDisclosures(w.keys.encryptionSecret, w.keys.name, r.disclosuresSealed);
      await w.setIdentity({
        disclosures: disclosureStrings(readDisclosures(file)),
        eid: w.identity?.eid ?? randomEid(),
      });
      onDone(r);
    } catch (x) {
      setErr(x);
    } finally {
      setBusy(false);
    }
  };
  if (ops.loading) return <p className="muted">Looking for operators that offer sign-up…</p>;
  if (!op)
    return (
      <p className="muted" data-testid="no-signup">
        No operator known to this node offers sign-up through its agent. Ask a home operator to create your
        account from the public keys below.
      </p>
    );
  return (
    <form onSubmit={(e) => void submit(e)} data-testid="signup" aria-label="Sign up with a home operator">
      <h3>Become a subscriber</h3>
      <p className="small">
        A home operator creates your account on the chain and, after checking your identity, attests it, so
        visited operators can serve you without a second check. Only salted digests of your details go on
        chain; the details stay in this wallet.
      </p>
      <label htmlFor="signup-op">Home operator</label>
      <select id="signup-op" value={op.operator} onChange={(e) => setWhich(e.target.value)}>
        {list.map((o) => (
          <option key={o.operator} value={o.operator}>
            {o.operator}
            {o.kyc === 'simulated' ? ' (simulated KYC)' : ''}
          </option>
        ))}
      </select>
      {op.kyc === 'simulated' ? (
        <p className="warn-box" data-testid="kyc-simulated">
          Simulated KYC (devnet): {op.operator} checks only the form of what you type; no identity document is
          seen. Do not enter real personal data.
        </p>
      ) : null}
      {fields.map((f) => (
        <div key={f}>
          <label htmlFor={`signup-${f}`}>{LABELS[f] ?? f}</label>
          <input
            id={`signup-${f}`}
            value={claims[f] ?? ''}
            maxLength={100}
            autoComplete="off"
            onChange={(e) => setClaims((c) => ({ ...c, [f]: e.target.value }))}
          />
        </div>
      ))}
      <button type="submit" disabled={busy}>
        {busy ? 'Signing up…' : `Sign up with ${op.operator}`}
      </button>
      <ErrorBox error={err} />
    </form>
  );
}
