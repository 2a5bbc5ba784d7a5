/**
 * Contract top-up and offer pause (issue 14, items 2 and 5; docs/CONTRACT.md). Checks in the
 * order documented there; each failure is a typed RoamError and writes nothing (the overlay of the
 * transaction is dropped).
 */
import { bytesToHex, equalBytes, type OpOf, RoamError } from '@roamchain/protocol';
import { type ApplyCtx, issuerFee } from './context.js';
import { type Contract, K, type Offer } from './objects.js';

/** Same bound as a Request's deposit (protocol MAX_AMOUNT). */
const MAX_DEPOSIT = 1_000_000_000_000_000n;

interface Env {
  ctx: ApplyCtx;
  opHash: Uint8Array;
}

/**
 * The least a top-up adds: one more unit of the contract's terms (its unit price, or the package
 * price when it has no unit price) plus the issuer's fee on it.
 */
export function topupMinimum(c: Pick<Contract, 'price' | 'unitPrice' | 'issuerFeeBps'>): bigint {
  const base = c.unitPrice > 0n ? c.unitPrice : c.price;
  return base + issuerFee(base, c.issuerFeeBps);
}

/** The offer a paused/withdrawn/expired check applies to; refuses with the typed reason. */
export function requireOfferOnSale(ctx: ApplyCtx, offer: Offer): void {
  if (offer.status === 'paused')
    throw new RoamError('OFFER_PAUSED', `offer ${bytesToHex(offer.id)} is paused by ${offer.operator}`);
  const t = offer.terms;
  if (offer.status !== 'active' || ctx.time < t.validFrom || ctx.time >= t.validUntil)
    throw new RoamError('OFFER_INACTIVE');
}

export function evalContractTopup(op: OpOf<'contract_topup'>, { ctx, opHash }: Env): void {
  const id = bytesToHex(op.contract);
  const c = ctx.o.get<Contract>(K.contract(id));
  if (!c) throw new RoamError('SSC_UNKNOWN', `contract ${id} does not exist`);
  if (op.issuer !== c.issuer || op.payer !== c.payer)
    throw new RoamError('SSC_NOT_PARTY', 'a top-up is signed by the contract issuer and its payer', {
      issuer: c.issuer,
      payer: c.payer,
    });
  if (c.status !== 'open') throw new RoamError('SSC_CLOSED', 'a closed contract cannot be topped up');
  if (!equalBytes(c.head, op.prev))
    throw new RoamError('SSC_NOT_HEAD', `prev is not the head ${bytesToHex(c.head)}`, {
      head: bytesToHex(c.head),
    });
  if (ctx.time >= c.expiresAt) throw new RoamError('SSC_EXPIRED', 'the contract lifetime is over');
  if (ctx.time > c.lastStepAt + BigInt(c.stepTimeoutSec) * 1000n)
    throw new RoamError('SSC_TIMEOUT', 'the assignee let the step timeout pass: close the contract');
  ctx.requireRole(c.issuer, 'operator');
  const sub = ctx.account(c.subscriber);
  if (!sub.roles.includes('subscriber') || sub.homeOperator !== c.issuer)
    throw new RoamError('SSC_NOT_SUBSCRIBER', `${c.subscriber} is no longer a subscriber of ${c.issuer}`);
  const offer = ctx.o.get<Offer>(K.offer(bytesToHex(c.offer)));
  if (!offer) throw new RoamError('OFFER_UNKNOWN', `offer ${bytesToHex(c.offer)} does not exist`);
  requireOfferOnSale(ctx, offer);
  const least = topupMinimum(c);
  if (op.amount < least)
    throw new RoamError('SSC_DEPOSIT_LOW', `a top-up adds at least ${least} (one unit plus the issuer fee)`, {
      needed: least.toString(),
    });
  const deposit = c.deposit + op.amount;
  if (deposit > MAX_DEPOSIT)
    throw new RoamError('AMOUNT_INVALID', `the deposit would pass ${MAX_DEPOSIT}`, {
      deposit: c.deposit.toString(),
    });
  ctx.debit(c.payer, 'SDR', op.amount);
  if (op.feeDeposit > 0n) ctx.debit(c.issuer, 'UMT', op.feeDeposit);
  // Not an assignee step: lastStepAt stays, so a top-up never extends the assignee's timeout.
  ctx.o.put(K.contract(id), { ...c, deposit, feeDeposit: c.feeDeposit + op.feeDeposit, head: opHash });
  ctx.emit({
    type: 'contract_topped_up',
    contract: id,
    issuer: c.issuer,
    assignee: c.assignee,
    payer: c.payer,
    subscriber: c.subscriber,
    amount: op.amount,
    deposit,
    feeDeposit: op.feeDeposit,
  });
}

export function evalOfferPause(op: OpOf<'offer_pause'>, { ctx }: Env): void {
  const id = bytesToHex(op.offer);
  const o = ctx.o.get<Offer>(K.offer(id));
  if (!o) throw new RoamError('OFFER_UNKNOWN', `offer ${id} does not exist`);
  if (o.operator !== op.operator) throw new RoamError('OFFER_NOT_OWNER');
  if (o.status === 'withdrawn') throw new RoamError('OFFER_INACTIVE', 'a withdrawn offer cannot be paused');
  if ((o.status === 'paused') === op.paused)
    throw new RoamError('OFFER_PAUSE_STATE', `offer is already ${op.paused ? 'paused' : 'on sale'}`);
  ctx.o.put(K.offer(id), { ...o, status: op.paused ? 'paused' : 'active', updatedAt: ctx.time });
  ctx.emit({ type: op.paused ? 'offer_paused' : 'offer_resumed', offer: id, operator: o.operator });
}
