/**
 * The measured service signal in plain words (docs/RATING.md "Service"): what the operator did with
 * the orders (Requests) placed on its offers over the last 30 days, as the chain counted them.
 */
import type { OperatorRatingJson } from '@roamchain/sdk';

/** "2 s", "1.5 s", "3 min", "2 h": a provisioning time for travellers. */
export function durationWords(ms: number): string {
  if (ms < 60_000) {
    const tenths = Math.round(ms / 100);
    return `${tenths % 10 === 0 ? tenths / 10 : (tenths / 10).toFixed(1)} s`;
  }
  if (ms < 3_600_000) return `${Math.round(ms / 60_000)} min`;
  return `${Math.round(ms / 360_000) / 10} h`;
}

export type ServiceTone = 'ok' | 'warn' | 'muted';

/**
 * One sentence for a card, and its tone: "provisioned 18 of 20 eSIMs in the last 30 days, in 2 s on
 * average" / "new operator, no record yet" / "did not provision 5 of the last 5 orders".
 * Older nodes without the 30-day counters give undefined (the caller falls back).
 */
export function serviceSentence(
  r: Pick<OperatorRatingJson, 'service' | 'provisioned30d' | 'failed30d' | 'meanProvisionMs30d'>,
): { text: string; tone: ServiceTone } | undefined {
  if (r.provisioned30d === undefined || r.failed30d === undefined) return undefined;
  const p = r.provisioned30d;
  const f = r.failed30d;
  const n = p + f;
  if (n === 0) return { text: 'New operator, no record yet.', tone: 'muted' };
  if (p === 0)
    return {
      text: `Did not provision ${f} of the last ${f} order${f === 1 ? '' : 's'} in time (last 30 days).`,
      tone: 'warn',
    };
  const mean = r.meanProvisionMs30d ? `, in ${durationWords(r.meanProvisionMs30d)} on average` : '';
  const text = `Provisioned ${p} of ${n} eSIM${n === 1 ? '' : 's'} in the last 30 days${mean}.`;
  return { text, tone: p >= f && f * 10 <= n ? 'ok' : 'warn' };
}
