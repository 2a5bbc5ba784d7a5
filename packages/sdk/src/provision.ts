/**
 * Sealing of provisioning data (SGP.22 activation code, APN, ICCID) for a Provision step:
 *
 * - `forRequester`: sealed on the contract channel (sealForContract, purpose "provision") from the
 *   assignee's account encryption key to the Request's ephemeral key, so whoever made the Request
 *   (holding the ephemeral secret) opens it;
 * - `forIssuer`: sealed to the issuer's account encryption key (sealToKey, context = contract id);
 * - `forSubscriber`: sealed to the subscriber account's encryption key (sealToKey, context =
 *   "roamchain/provision/subscriber/v1" ‖ contract id), so any device holding the wallet's key opens
 *   it, not only the browser that kept the Request's ephemeral secret.
 *
 * Nodes store the boxes and cannot read them.
 */
import {
  concatBytes,
  openForContract,
  openWithKey,
  sealForContract,
  sealToKey,
  utf8,
} from '@roamchain/protocol';
import { type BytesLike, toBytes } from './build.js';

export const PROVISION_PURPOSE = 'provision';
const SUBSCRIBER_CONTEXT = utf8('roamchain/provision/subscriber/v1');

/** The context of the subscriber's box: distinct from the issuer's, so one box never opens as the other. */
function subscriberContext(contractId: Uint8Array): Uint8Array {
  return concatBytes(SUBSCRIBER_CONTEXT, contractId);
}

export function sealProvisioning(a: {
  contractId: BytesLike;
  /** The assignee's X25519 secret. */
  assigneeEncryptionSecret: Uint8Array;
  /** The contract's `ephemeralKey` (from the Request). */
  requesterEphemeralKey: BytesLike;
  /** The issuer's account encryption key. */
  issuerEncryptionKey: BytesLike;
  /** The subscriber account's encryption key (on chain). */
  subscriberEncryptionKey: BytesLike;
  plaintext: Uint8Array;
}): { forRequester: Uint8Array; forIssuer: Uint8Array; forSubscriber: Uint8Array } {
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
  const forSubscriber = sealToKey(
    toBytes(a.subscriberEncryptionKey, 'subscriberEncryptionKey', 32),
    a.plaintext,
    subscriberContext(contractId),
  );
  return { forRequester, forIssuer, forSubscriber };
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

/** Opens `forSubscriber` with the subscriber account's encryption secret (the wallet key, on any device). */
export function openProvisioningAsSubscriber(a: {
  contractId: BytesLike;
  subscriberEncryptionSecret: Uint8Array;
  box: Uint8Array;
}): Uint8Array {
  return openWithKey(
    a.subscriberEncryptionSecret,
    a.box,
    subscriberContext(toBytes(a.contractId, 'contractId', 32)),
  );
}

/**
 * Opens a Provision step's boxes as the subscriber: with the Request's ephemeral secret when this
 * device holds it, else with the subscriber's account encryption secret. Throws when neither opens.
 */
export function openProvisioningForSubscriber(a: {
  contractId: BytesLike;
  assigneeEncryptionKey: BytesLike;
  /** The Request's ephemeral secret, when this device made the Request. */
  ephemeralSecret?: Uint8Array | undefined;
  subscriberEncryptionSecret?: Uint8Array | undefined;
  forRequester?: Uint8Array | undefined;
  forSubscriber?: Uint8Array | undefined;
}): Uint8Array {
  let first: unknown;
  if (a.ephemeralSecret && a.forRequester && a.forRequester.length > 0) {
    try {
      return openProvisioningAsRequester({
        contractId: a.contractId,
        ephemeralSecret: a.ephemeralSecret,
        assigneeEncryptionKey: a.assigneeEncryptionKey,
        box: a.forRequester,
      });
    } catch (e) {
      first = e;
    }
  }
  if (a.subscriberEncryptionSecret && a.forSubscriber && a.forSubscriber.length > 0)
    return openProvisioningAsSubscriber({
      contractId: a.contractId,
      subscriberEncryptionSecret: a.subscriberEncryptionSecret,
      box: a.forSubscriber,
    });
  if (first) throw first;
  throw new Error(
    'no provisioning box this wallet can open (no ephemeral secret, no box for the subscriber)',
  );
}
