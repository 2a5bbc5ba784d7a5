/**
 * The Provision step's boxes (issue 14 item 2): the subscriber's copy opens with the subscriber
 * account's encryption secret alone (any device holding the wallet key), the requester's with the
 * Request's ephemeral secret; a box never opens as another's, another key opens nothing.
 */
import { bytesToHex, generateX25519, randomBytes, utf8 } from '@roamchain/protocol';
import { describe, expect, it } from 'vitest';
import {
  openProvisioningAsIssuer,
  openProvisioningAsSubscriber,
  openProvisioningForSubscriber,
  sealProvisioning,
} from '../src/provision.js';

describe('provisioning boxes', () => {
  const contractId = bytesToHex(randomBytes(32));
  const assignee = generateX25519();
  const eph = generateX25519();
  const issuer = generateX25519();
  const subscriber = generateX25519();
  const plaintext = utf8('{"activationCode":"LPA:1$smdp.example$ABC"}');
  const boxes = sealProvisioning({
    contractId,
    assigneeEncryptionSecret: assignee.secretKey,
    requesterEphemeralKey: eph.publicKey,
    issuerEncryptionKey: issuer.publicKey,
    subscriberEncryptionKey: subscriber.publicKey,
    plaintext,
  });
  const text = (b: Uint8Array) => new TextDecoder().decode(b);

  it('the subscriber opens its copy with its account key, without the ephemeral secret', () => {
    const out = openProvisioningForSubscriber({
      contractId,
      assigneeEncryptionKey: assignee.publicKey,
      subscriberEncryptionSecret: subscriber.secretKey,
      forRequester: boxes.forRequester,
      forSubscriber: boxes.forSubscriber,
    });
    expect(text(out)).toBe(text(plaintext));
    const viaEph = openProvisioningForSubscriber({
      contractId,
      assigneeEncryptionKey: assignee.publicKey,
      ephemeralSecret: eph.secretKey,
      forRequester: boxes.forRequester,
    });
    expect(text(viaEph)).toBe(text(plaintext));
  });

  it('a wrong key, another contract or the issuer box in the subscriber slot opens nothing', () => {
    expect(() =>
      openProvisioningAsSubscriber({
        contractId,
        subscriberEncryptionSecret: randomBytes(32),
        box: boxes.forSubscriber,
      }),
    ).toThrow();
    expect(() =>
      openProvisioningAsSubscriber({
        contractId: bytesToHex(randomBytes(32)),
        subscriberEncryptionSecret: subscriber.secretKey,
        box: boxes.forSubscriber,
      }),
    ).toThrow();
    // Domain separation: the issuer's box (same sealing, other context) is no subscriber box.
    const asIssuer = sealProvisioning({
      contractId,
      assigneeEncryptionSecret: assignee.secretKey,
      requesterEphemeralKey: eph.publicKey,
      issuerEncryptionKey: subscriber.publicKey,
      subscriberEncryptionKey: issuer.publicKey,
      plaintext,
    });
    expect(() =>
      openProvisioningAsSubscriber({
        contractId,
        subscriberEncryptionSecret: subscriber.secretKey,
        box: asIssuer.forIssuer,
      }),
    ).toThrow();
    expect(
      text(
        openProvisioningAsIssuer({
          contractId,
          issuerEncryptionSecret: issuer.secretKey,
          box: boxes.forIssuer,
        }),
      ),
    ).toBe(text(plaintext));
    expect(() =>
      openProvisioningForSubscriber({
        contractId,
        assigneeEncryptionKey: assignee.publicKey,
        forSubscriber: new Uint8Array(0),
      }),
    ).toThrow(/no provisioning box/);
  });
});
