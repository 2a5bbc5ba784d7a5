/**
 * Opening a wallet: the devnet's demo subscribers, the keys stored in this browser (several side by
 * side, each under its own passphrase), a new or imported key (never replacing a stored key of the
 * same name without an explicit confirmation), and restoring an encrypted backup.
 */
import { type FormEvent, useState } from 'react';
import {
  createVault,
  DEMO_SUBSCRIBERS,
  demoWallet,
  exportVault,
  forgetVault,
  freshKeys,
  importBackup,
  importKeys,
  KDF_ITERATIONS,
  storedVaults,
  unlockVault,
  VaultExistsError,
  type Wallet,
} from './keys.js';
import { download } from './lib.js';
import { ErrorBox, Panel } from './ui.js';

const NAME = /^[a-z][a-z0-9-]{1,30}[a-z0-9]$/;

/** Runs `f`; when it would replace a stored key, asks first and runs `again` only on a yes. */
async function withReplaceConfirm(f: () => Promise<Wallet>, again: () => Promise<Wallet>): Promise<Wallet> {
  try {
    return await f();
  } catch (e) {
    if (!(e instanceof VaultExistsError)) throw e;
    const ok = window.confirm(
      `A key named “${e.accountName}” is already stored in this browser. Replace it? Its saved activation secrets are lost unless you exported a backup.`,
    );
    if (!ok) throw new Error(`kept the stored key “${e.accountName}”; nothing was changed`);
    return again();
  }
}

export function OpenWallet({ onOpen }: { onOpen: (w: Wallet) => void }) {
  const [stored, setStored] = useState(storedVaults);
  const [demo, setDemo] = useState('alice');
  const [which, setWhich] = useState(stored[0]?.name ?? '');
  const [pass, setPass] = useState('');
  const [name, setName] = useState('');
  const [newPass, setNewPass] = useState('');
  const [sk, setSk] = useState('');
  const [ek, setEk] = useState('');
  const [backup, setBackup] = useState('');
  const [backupPass, setBackupPass] = useState('');
  const [err, setErr] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const run = (f: () => Promise<Wallet>) => async (e: FormEvent) => {
    e.preventDefault();
    setErr(undefined);
    setBusy(true);
    try {
      onOpen(await f());
    } catch (x) {
      setErr(x);
    } finally {
      setBusy(false);
      setStored(storedVaults());
    }
  };
  const current = stored.find((s) => s.name === which) ?? stored[0];
  return (
    <div className="grid">
      <Panel title="Devnet demo subscriber">
        <p className="warn-box">
          Public demo keys: derived from the public seed “roamchain-devnet”. Anyone can sign with them — use
          them only on the local devnet.
        </p>
        <form onSubmit={run(async () => demoWallet(demo))} className="row">
          <label htmlFor="demo-sub">Subscriber</label>
          <select id="demo-sub" value={demo} onChange={(e) => setDemo(e.target.value)}>
            {DEMO_SUBSCRIBERS.map((s) => (
              <option key={s}>{s}</option>
            ))}
          </select>
          <button type="submit">Use demo subscriber {demo}</button>
        </form>
      </Panel>
      {current ? (
        <Panel title="Keys in this browser">
          <form onSubmit={run(() => unlockVault(pass, current.name))}>
            <label htmlFor="unlock-which">Key</label>
            <select id="unlock-which" value={current.name} onChange={(e) => setWhich(e.target.value)}>
              {stored.map((s) => (
                <option key={s.name}>{s.name}</option>
              ))}
            </select>
            <label htmlFor="unlock-pass">Passphrase</label>
            <input
              id="unlock-pass"
              type="password"
              autoComplete="current-password"
              value={pass}
              onChange={(e) => setPass(e.target.value)}
            />
            {current.iterations < KDF_ITERATIONS ? (
              <p className="muted small">
                Stored with older, weaker key derivation: unlocking re-encrypts it with the current one.
              </p>
            ) : null}
            <div className="row wrap">
              <button type="submit" disabled={busy}>
                Unlock {current.name}
              </button>
              <button
                type="button"
                className="secondary"
                onClick={() =>
                  download(
                    `roamchain-${current.name}.backup.json`,
                    exportVault(current.name),
                    'application/json',
                  )
                }
              >
                Export encrypted backup
              </button>
              <button
                type="button"
                className="secondary"
                onClick={() => {
                  if (window.confirm(`Delete the key “${current.name}” from this browser?`)) {
                    forgetVault(current.name);
                    setStored(storedVaults());
                  }
                }}
              >
                Forget {current.name}
              </button>
            </div>
          </form>
        </Panel>
      ) : null}
      <Panel title="Create or import a key">
        <p className="muted small">
          Keys are encrypted in this browser (PBKDF2-SHA-256, {KDF_ITERATIONS.toLocaleString('en')} rounds →
          AES-256-GCM) and never sent anywhere. Other keys stored here are kept. A new key needs an account:
          your home operator creates it from the public keys shown after you create the key.
        </p>
        <form
          onSubmit={run(async () => {
            if (!NAME.test(name)) throw new Error('account names: 3 to 32 of a-z, 0-9 and -');
            const keys = sk || ek ? importKeys(name, sk, ek) : freshKeys(name);
            return withReplaceConfirm(
              () => createVault(keys, newPass),
              () => createVault(keys, newPass, { replace: true }),
            );
          })}
        >
          <label htmlFor="new-name">Account name</label>
          <input
            id="new-name"
            value={name}
            onChange={(e) => setName(e.target.value)}
            autoComplete="username"
          />
          <label htmlFor="new-pass">Passphrase (at least 8 characters)</label>
          <input
            id="new-pass"
            type="password"
            autoComplete="new-password"
            value={newPass}
            onChange={(e) => setNewPass(e.target.value)}
          />
          <details>
            <summary>Import existing secrets instead of generating new ones</summary>
            <label htmlFor="imp-sk">Ed25519 signing secret (hex)</label>
            <input id="imp-sk" value={sk} onChange={(e) => setSk(e.target.value)} autoComplete="off" />
            <label htmlFor="imp-ek">X25519 encryption secret (hex)</label>
            <input id="imp-ek" value={ek} onChange={(e) => setEk(e.target.value)} autoComplete="off" />
          </details>
          <button type="submit" disabled={busy}>
            {sk || ek ? 'Import and encrypt' : 'Create key'}
          </button>
        </form>
      </Panel>
      <Panel title="Restore an encrypted backup">
        <form
          onSubmit={run(() =>
            withReplaceConfirm(
              () => importBackup(backup, backupPass),
              () => importBackup(backup, backupPass, { replace: true }),
            ),
          )}
        >
          <label htmlFor="backup-file">Backup file</label>
          <input
            id="backup-file"
            type="file"
            accept="application/json,.json"
            onChange={(e) => {
              const f = e.target.files?.[0];
              if (f) void f.text().then(setBackup);
            }}
          />
          <label htmlFor="backup-pass">Its passphrase</label>
          <input
            id="backup-pass"
            type="password"
            autoComplete="current-password"
            value={backupPass}
            onChange={(e) => setBackupPass(e.target.value)}
          />
          <button type="submit" disabled={busy || !backup}>
            Restore backup
          </button>
        </form>
      </Panel>
      <ErrorBox error={err} />
    </div>
  );
}
