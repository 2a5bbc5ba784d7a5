/**
 * Contract top-up and offer pause (docs/CONTRACT.md): operation builders. The actions are RoamClient
 * methods (`prepareTopUp`, `topUp`, `pauseOffer`, `resumeOffer`).
 */
import { type OpOf, validateOp } from '@roamchain/protocol';
import { type BytesLike, toBytes } from './build.js';

export interface TopUpArgs {
  /** The contract's issuer (the subscriber's home operator); signs and pays the operation fee. */
  issuer: string;
  /** The contract's payer (usually the subscriber); signs when not the issuer. */
  payer: string;
  contract: BytesLike;
  /** The contract head; fetched when omitted. */
  prev?: BytesLike;
  /** SDR base units added to the deposit (at least one unit of the terms plus the issuer fee). */
  amount: bigint;
  /** UMT base units the issuer adds to the contract's fee deposit (default 0). */
  feeDeposit?: bigint;
}

export function topUpOp(a: TopUpArgs & { prev: BytesLike }): OpOf<'contract_topup'> {
  const op: OpOf<'contract_topup'> = {
    type: 'contract_topup',
    issuer: a.issuer,
    payer: a.payer,
    contract: toBytes(a.contract, 'contract', 32),
    prev: toBytes(a.prev, 'prev', 32),
    amount: a.amount,
    feeDeposit: a.feeDeposit ?? 0n,
  };
  validateOp(op);
  return op;
}

export interface PauseOfferArgs {
  operator: string;
  offer: BytesLike;
}

export function pauseOfferOp(a: PauseOfferArgs, paused: boolean): OpOf<'offer_pause'> {
  const op: OpOf<'offer_pause'> = {
    type: 'offer_pause',
    operator: a.operator,
    offer: toBytes(a.offer, 'offer', 32),
    paused,
  };
  validateOp(op);
  return op;
}
