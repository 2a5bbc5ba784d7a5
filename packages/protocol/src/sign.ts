import { sign as edSign } from './crypto.js';
import { RoamError } from './errors.js';
import type { Operation } from './ops.js';
import { requiredSigners, type SignedTx, TX_VERSION, txId, type UnsignedTx } from './tx.js';

export interface TxDraft {
  chainId: Uint8Array;
  refBlockNum: number;
  refBlockPrefix: number;
  expiration: bigint;
  ops: Operation[];
}

export function unsigned(d: TxDraft): UnsignedTx {
  return { version: TX_VERSION, ...d };
}

/** Signs a draft with the given secret keys (name -> Ed25519 seed); every required signer must be present. */
export function signTx(d: TxDraft, keys: Record<string, Uint8Array>): SignedTx {
  const u = unsigned(d);
  const id = txId(u);
  const signatures = requiredSigners(d.ops).map((n) => {
    const k = keys[n];
    if (!k) throw new RoamError('SIG_MISSING', `no key for required signer ${n}`);
    return edSign(k, id);
  });
  return { ...u, signatures };
}

/**
 * Multi-party signing: each party signs the id separately (e.g. subscriber's wallet, then the
 * home operator), and the signatures are assembled in required-signer order.
 */
export function assembleTx(u: UnsignedTx, sigs: Record<string, Uint8Array>): SignedTx {
  const signatures = requiredSigners(u.ops).map((n) => {
    const s = sigs[n];
    if (!s) throw new RoamError('SIG_MISSING', `missing signature of ${n}`);
    return s;
  });
  return { ...u, signatures };
}
