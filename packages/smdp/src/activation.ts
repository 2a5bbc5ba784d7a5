/**
 * SGP.22 activation codes (§4.1): `LPA:1$<SM-DP+ address>$<Matching ID>[$<SM-DP+ OID>[$<Confirmation
 * Code Required Flag>]]`. The "LPA:" prefix is what a QR code carries; "1" is the format version.
 */

/** Characters SGP.22 allows in a Matching ID: upper-case letters, digits and '-'. */
export const MATCHING_ID_RE = /^[0-9A-Z-]{1,255}$/;
/** An SM-DP+ address: a host name (and, for this simulation, an optional port). */
export const SMDP_ADDRESS_RE = /^[A-Za-z0-9.-]{1,253}(:[0-9]{1,5})?$/;

/** `LPA:1$<address>$<matchingId>`, plus `$$1` when the end user must enter a confirmation code. */
export function activationCode(address: string, matchingId: string, confirmationRequired: boolean): string {
  if (!SMDP_ADDRESS_RE.test(address)) throw new TypeError(`bad SM-DP+ address ${JSON.stringify(address)}`);
  if (!MATCHING_ID_RE.test(matchingId)) throw new TypeError(`bad matching id ${JSON.stringify(matchingId)}`);
  return `LPA:1$${address}$${matchingId}${confirmationRequired ? '$$1' : ''}`;
}

export interface ActivationCode {
  address: string;
  matchingId: string;
  /** SM-DP+ OID, when given. */
  oid?: string;
  confirmationRequired: boolean;
}

/** Parses an activation code (with or without the `LPA:` prefix); throws a TypeError when malformed. */
export function parseActivationCode(code: string): ActivationCode {
  const body = code.startsWith('LPA:') ? code.slice(4) : code;
  const parts = body.split('$');
  if (parts.length < 3 || parts.length > 5 || parts[0] !== '1')
    throw new TypeError('not an SGP.22 activation code');
  const [, address = '', matchingId = '', oid = '', flag = ''] = parts;
  if (!SMDP_ADDRESS_RE.test(address)) throw new TypeError('bad SM-DP+ address');
  if (!MATCHING_ID_RE.test(matchingId)) throw new TypeError('bad matching id');
  if (flag !== '' && flag !== '1') throw new TypeError('bad confirmation code flag');
  return {
    address,
    matchingId,
    ...(oid !== '' ? { oid } : {}),
    confirmationRequired: flag === '1',
  };
}
