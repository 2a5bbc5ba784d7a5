/**
 * The batch route's answer is built as one string (api/txs.ts `resultsJson`): it must be the JSON of
 * the results, whatever a refusal's message holds (an admitted one's id is the node's own hex).
 */
import { describe, expect, it } from 'vitest';
import { resultsJson } from '../src/api/txs.js';
import type { SubmitResult } from '../src/interfaces.js';

describe('resultsJson', () => {
  it('is the JSON of the results, escapes included', () => {
    const results: SubmitResult[] = [
      { ok: true, txId: 'ab'.repeat(32) },
      { ok: false, code: 'SIG_INVALID', message: 'a signature does not verify' },
      {
        ok: false,
        code: 'CODEC_X',
        message: 'quote " backslash \\ newline \n tab \t nul \u0000 ü € 😀 \ud800',
      },
      { ok: true, txId: '0123456789abcdef'.repeat(4) },
    ];
    const text = resultsJson(results);
    expect(JSON.parse(text)).toEqual({ results });
    expect(text).toBe(JSON.stringify({ results }));
    expect(resultsJson([])).toBe('{"results":[]}');
  });
});
