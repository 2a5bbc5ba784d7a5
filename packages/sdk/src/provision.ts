/**
 * Sealing of provisioning data (SGP.22 activation code, APN, ICCID) for a Provision step:
 *
 * - `forRequester`: sealed on the contract channel (sealForContract, purpose "provision") from the
 *   assignee's account encryption key to the Request's ephemeral key, so whoever made the Request
 *   (holding the ephemeral secret) opens it;
 * - `forIssuer`: sealed to the issuer's account encryption key (sealToKey, context = contract id).
 *
 * Nodes store both boxes and cannot read them.
 */
import { openForContract, openWithKey, sealForContract, sealToKey } from '@roamchain/protocol';
import { type BytesLike, toBytes } from './build.js';

export const PROVISION_PURPOSE = 'provision';

export function sealProvisioning(a: {
  contractId: BytesLike;
  /** The assignee's X25519 secret. */
  assigneeEncryptionSecret: Uint8Array;
  /** The contract's `ephemeralKey` (from the Request). */
  requesterEphemeralKey: BytesLike;
  /** The issuer's account encryption key. */
  issuerEncryptionKey: BytesLike;
  plaintext: Uint8Array;
}): { forRequester: Uint8Array; forIssuer: Uint8Array } {
  const contractId = toBytes(a.contractId, 'contractId', 32);
  const forRequester = sealForContract({
    senderSecret: a.assigneeEncryptionSecret,
    recipientPublic: toBytes(a.requesterEphemeralKey, 'requesterEphemeralKey', 32),
    contractId,
    purpose: PROVISION_PURPOSE,
    plaintext: a.plaintext,
  });
  const forIssuer = sealToKey(
    toBytes(a.issuerEncryptionKey, 'issuerEncryptionKey', 32),
    a.plaintext,
    contractId,
  );
  return { forRequester, forIssuer };
}

/** Opens `forRequester` with the Request's ephemeral secret and the assignee's public encryption key. */
export function openProvisioningAsRequester(a: {
  contractId: BytesLike;
  ephemeralSecret: Uint8Array;
  assigneeEncryptionKey: BytesLike;
  box: Uint8Array;
}): Uint8Array {
  return openForContract({
    recipientSecret: a.ephemeralSecret,
    senderPublic: toBytes(a.assigneeEncryptionKey, 'assigneeEncryptionKey', 32),
    contractId: toBytes(a.contractId, 'contractId', 32),
    purpose: PROVISION_PURPOSE,
    box: a.box,
  });
}

/** Opens `forIssuer` with the issuer's encryption secret. */
export function openProvisioningAsIssuer(a: {
  contractId: BytesLike;
  issuerEncryptionSecret: Uint8Array;
  box: Uint8Array;
}): Uint8Array {
  return openWithKey(a.issuerEncryptionSecret, a.box, toBytes(a.contractId, 'contractId', 32));
}
