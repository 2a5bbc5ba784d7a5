/**
 * @roamchain/sdk: a typed client of the roamchain Web-API with local signing. Browser-safe; the
 * encrypted file keystore (Node only) is a separate entry point: `@roamchain/sdk/keystore`.
 */

export {
  type Disclosure,
  type ErrorCode,
  encodeDisclosure,
  formatAmount,
  isErrorCode,
  makeDisclosures,
  parseAmount,
  parseDisclosure,
  RoamError,
  type SignedTx,
  type UnsignedTx,
  verifyDisclosures,
} from '@roamchain/protocol';
export * from './build.js';
export * from './client.js';
export * from './errors.js';
export * from './governance.js';
export * from './identity.js';
export * from './lists.js';
export * from './mini.js';
export * from './provision.js';
export * from './signer.js';
export * from './signup.js';
export * from './statement.js';
export * from './topup.js';
export type * from './types.js';
export * from './ws.js';
