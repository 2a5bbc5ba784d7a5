/** The wallet card's service record in plain words (issue 14 item 3; docs/RATING.md "Service"). */
import { describe, expect, it } from 'vitest';
import { durationWords, serviceSentence } from '../src/service-words.js';

const r = (provisioned30d: number, failed30d: number, meanProvisionMs30d = 0) => ({
  provisioned30d,
  failed30d,
  meanProvisionMs30d,
});

describe('service record in words', () => {
  it('says what the operator did with its orders in the last 30 days', () => {
    expect(serviceSentence(r(18, 2, 2000))).toEqual({
      text: 'Provisioned 18 of 20 eSIMs in the last 30 days, in 2 s on average.',
      tone: 'ok',
    });
    expect(serviceSentence(r(0, 0))).toEqual({ text: 'New operator, no record yet.', tone: 'muted' });
    expect(serviceSentence(r(0, 5))).toEqual({
      text: 'Did not provision 5 of the last 5 orders in time (last 30 days).',
      tone: 'warn',
    });
    expect(serviceSentence(r(0, 1))?.text).toBe(
      'Did not provision 1 of the last 1 order in time (last 30 days).',
    );
    // Served, then stopped: more than one order in ten timed out is a warning.
    expect(serviceSentence(r(3, 10, 1500))).toEqual({
      text: 'Provisioned 3 of 13 eSIMs in the last 30 days, in 1.5 s on average.',
      tone: 'warn',
    });
    expect(serviceSentence(r(1, 0, 90_000))?.text).toBe(
      'Provisioned 1 of 1 eSIM in the last 30 days, in 2 min on average.',
    );
    // An older node without the counters: no sentence (the card falls back).
    expect(serviceSentence({})).toBeUndefined();
  });

  it('writes durations for travellers', () => {
    expect(durationWords(2000)).toBe('2 s');
    expect(durationWords(1540)).toBe('1.5 s');
    expect(durationWords(150_000)).toBe('3 min');
    expect(durationWords(5_400_000)).toBe('1.5 h');
  });
});
