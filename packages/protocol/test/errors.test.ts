import { describe, expect, it } from 'vitest';
import { check, ERRORS, type ErrorCode, fail, httpStatusOf, isErrorCode, RoamError } from '../src/errors.js';

const CODES = Object.keys(ERRORS) as ErrorCode[];

/**
 * Codes that clients already depend on. Codes are stable: one may be added, never renamed or
 * removed, so every code here must still exist with the same HTTP status.
 */
const STABLE: Partial<Record<ErrorCode, number>> = {
  CODEC_TRUNCATED: 400,
  CODEC_TRAILING: 400,
  CODEC_TOO_LARGE: 413,
  CODEC_NONCANONICAL: 400,
  CODEC_BAD_VALUE: 400,
  CODEC_BAD_JSON: 400,
  CODEC_UNKNOWN_OP: 400,
  CODEC_VERSION: 400,
  TX_WRONG_CHAIN: 400,
  TX_EXPIRED: 400,
  TX_DUPLICATE: 409,
  TX_TOO_LARGE: 413,
  SIG_MISSING: 401,
  SIG_INVALID: 401,
  SIG_EXTRA: 400,
  ACCOUNT_UNKNOWN: 404,
  BALANCE_LOW: 422,
  NOT_FOUND: 404,
  UNSUPPORTED_MEDIA_TYPE: 415,
  MEMPOOL_FULL: 503,
  INTERNAL: 500,
};

describe('ERRORS table', () => {
  it('has codes', () => {
    expect(CODES.length).toBeGreaterThan(0);
  });

  it.each(CODES)('%s has an HTTP status in 400..599 and a non-empty message', (code) => {
    const [status, message] = ERRORS[code];
    expect(Number.isInteger(status)).toBe(true);
    expect(status).toBeGreaterThanOrEqual(400);
    expect(status).toBeLessThanOrEqual(599);
    expect(typeof message).toBe('string');
    expect(message.trim().length).toBeGreaterThan(0);
    expect(httpStatusOf(code)).toBe(status);
  });

  it('codes are unique and SCREAMING_SNAKE', () => {
    expect(new Set(CODES).size).toBe(CODES.length);
    for (const c of CODES) expect(c).toMatch(/^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$/);
    // Unique even ignoring case and separators (no near-duplicates such as SIG_MISSING / SIGMISSING).
    const folded = CODES.map((c) => c.replace(/_/g, ''));
    expect(new Set(folded).size).toBe(CODES.length);
  });

  it('messages are unique, so a message never hides which code it was', () => {
    const messages = CODES.map((c) => ERRORS[c][1]);
    expect(new Set(messages).size).toBe(messages.length);
  });

  it('stable codes still exist with the same status', () => {
    for (const [code, status] of Object.entries(STABLE)) {
      expect(isErrorCode(code), code).toBe(true);
      expect(httpStatusOf(code as ErrorCode), code).toBe(status);
    }
  });

  it('isErrorCode accepts exactly the table keys', () => {
    for (const c of CODES) expect(isErrorCode(c)).toBe(true);
    for (const c of [
      '',
      'codec_truncated',
      'NOPE',
      'toString',
      'constructor',
      '__proto__',
      1,
      null,
      undefined,
    ]) {
      expect(isErrorCode(c), String(c)).toBe(false);
    }
  });
});

describe('RoamError', () => {
  it('carries code, default message, status; is an Error', () => {
    const e = new RoamError('CODEC_TRAILING');
    expect(e).toBeInstanceOf(Error);
    expect(e).toBeInstanceOf(RoamError);
    expect(e.name).toBe('RoamError');
    expect(e.code).toBe('CODEC_TRAILING');
    expect(e.message).toBe(ERRORS.CODEC_TRAILING[1]);
    expect(e.status).toBe(400);
    expect(e.details).toBeUndefined();
    expect(new RoamError('MEMPOOL_FULL').status).toBe(503);
  });

  it('toJSON has the shape {code, message, details}', () => {
    const plain = new RoamError('BALANCE_LOW').toJSON();
    expect(plain).toEqual({ code: 'BALANCE_LOW', message: 'Balance too low', details: {} });
    expect(Object.keys(plain).sort()).toEqual(['code', 'details', 'message']);

    const detailed = new RoamError('SIG_MISSING', 'missing signature of bob', { account: 'bob', need: 2 });
    expect(detailed.toJSON()).toEqual({
      code: 'SIG_MISSING',
      message: 'missing signature of bob',
      details: { account: 'bob', need: 2 },
    });
    // Serialises cleanly (no stack, no name) through JSON.stringify.
    expect(JSON.parse(JSON.stringify(detailed))).toEqual(detailed.toJSON());
  });

  it('fail and check throw RoamErrors', () => {
    expect(() => fail('NOT_FOUND')).toThrow(RoamError);
    try {
      fail('TX_INVALID', 'bad', { i: 1 });
    } catch (e) {
      expect(e).toBeInstanceOf(RoamError);
      expect((e as RoamError).toJSON()).toEqual({ code: 'TX_INVALID', message: 'bad', details: { i: 1 } });
    }
    expect(() => check(true, 'INTERNAL')).not.toThrow();
    expect(() => check(0, 'RATE_INVALID')).toThrow(expect.objectContaining({ code: 'RATE_INVALID' }));
  });
});
