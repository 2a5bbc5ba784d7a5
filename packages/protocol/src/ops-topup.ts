/**
 * Contract top-up and offer pause (issue 14, items 2 and 5; tags 80-84). Same contract as ops.ts:
 * data plus a stateless `validate`; the evaluators live in @roamchain/state topup.ts. Kept apart
 * from ops.ts, which spreads `TOPUP_OPS` into its registry (this module may not import it).
 */
import { bool, bytes32, type Codec, type Infer, struct, u64 } from './codec.js';
import { RoamError } from './errors.js';
import { name } from './primitives.js';

/** Same bound as ops.ts's MAX_AMOUNT (1e15 base units = 1 billion SDR). */
const MAX_TOPUP = 1_000_000_000_000_000n;

export interface TopupOpDef<C extends Codec<any>> {
  tag: number;
  codec: C;
  signers(op: Infer<C>): string[];
  feePayer(op: Infer<C>): { account: string };
  validate(op: Infer<C>): void;
}
const def = <C extends Codec<any>>(d: TopupOpDef<C>): TopupOpDef<C> => d;

export const TOPUP_OPS = {
  /**
   * More SDR deposit frozen on an open contract (the traveller buys more of the same package),
   * signed by the payer and the issuer (the home operator), under the bounds of opening. The issuer
   * may add UMT to the contract's fee deposit for the extra steps. Moves the contract's head.
   */
  contract_topup: def({
    tag: 80,
    codec: struct({
      issuer: name,
      payer: name,
      contract: bytes32,
      prev: bytes32,
      amount: u64,
      feeDeposit: u64,
    }),
    signers: (o) => (o.payer === o.issuer ? [o.issuer] : [o.issuer, o.payer]),
    feePayer: (o) => ({ account: o.issuer }),
    validate(o) {
      if (o.amount === 0n || o.amount > MAX_TOPUP)
        throw new RoamError('AMOUNT_INVALID', `amount must be 1..${MAX_TOPUP}`);
      if (o.feeDeposit > MAX_TOPUP)
        throw new RoamError('AMOUNT_INVALID', `feeDeposit must be 0..${MAX_TOPUP}`);
    },
  }),
  /**
   * The publishing operator pauses (`paused` true) or resumes its offer. A paused offer keeps its
   * terms and open contracts but cannot be bought (`OFFER_PAUSED`) nor topped up until resumed.
   */
  offer_pause: def({
    tag: 81,
    codec: struct({ operator: name, offer: bytes32, paused: bool }),
    signers: (o) => [o.operator],
    feePayer: (o) => ({ account: o.operator }),
    validate() {},
  }),
} as const;
