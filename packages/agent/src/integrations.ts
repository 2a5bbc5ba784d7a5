/**
 * The agent's pluggable back-ends: identity checking of a Request's disclosed data and eSIM
 * provisioning through an SM-DP+. By default the SDK's `verifyRequestIdentity` and the simulated
 * SM-DP+ of `@roamchain/smdp`; tests and integrations can pass their own.
 */
import { bytesToHex, sha256, utf8 } from '@roamchain/protocol';
import { REFUND_REASONS, type RoamClient, verifyRequestIdentity } from '@roamchain/sdk';
import { activationCode, smdpClient } from '@roamchain/smdp';

/** Refund reason codes (the SDK's REFUND_REASONS). */
export const REASONS = REFUND_REASONS;

export type IdentityResult =
  | { ok: true; claims: Record<string, string>; eid?: string | undefined }
  | { ok: false; reason: string; refundReason: number; message: string };

export type IdentityVerifier = (
  client: RoamClient,
  a: { contractId: string; assigneeEncryptionSecret: Uint8Array },
) => Promise<IdentityResult>;

export interface ProvisioningResult {
  iccid: string;
  activationCode: string;
  apn: string;
}

export type Provisioner = (a: {
  contractId: string;
  eid: string;
  operator: string;
}) => Promise<ProvisioningResult>;

/** A contract's EID when the identity disclosed none: a stable synthetic one (simulation only). */
export function syntheticEid(contractId: string): string {
  const digits = BigInt(`0x${contractId.slice(0, 24)}`)
    .toString()
    .padStart(24, '0')
    .slice(0, 24);
  return `89049032${digits}`;
}

/** The SDK's `verifyRequestIdentity` (opens the Request payload, checks the disclosures on chain). */
export function defaultIdentityVerifier(): IdentityVerifier {
  return async (client, a) => {
    const r = await verifyRequestIdentity(client, a);
    return r.ok ? { ok: true, claims: r.claims, eid: r.eid } : r;
  };
}

/**
 * Provisioning through the SM-DP+ at `url` (ES2+ DownloadOrder + ConfirmOrder with the device's EID),
 * or, only when `simulation` is set explicitly, a local simulation that makes up an ICCID and a
 * matching id. Neither: an error (an agent never invents profiles by default).
 */
export function defaultProvisioner(url: string | undefined, simulation = false): Provisioner {
  if (url) {
    const client = smdpClient(url);
    return async ({ eid }) => {
      const { iccid } = await client.downloadOrder({ eid, profileType: 'roaming-data' });
      const { matchingId, smdpAddress } = await client.confirmOrder({ iccid, eid, releaseFlag: true });
      return { iccid, activationCode: activationCode(smdpAddress, matchingId, false), apn: 'internet' };
    };
  }
  if (!simulation) throw new Error('provisioning: no smdpUrl and no simulation configured');
  return async ({ contractId, eid, operator }) => {
    const h = bytesToHex(sha256(utf8(`${eid}/${contractId}`)));
    const iccid = `8949${BigInt(`0x${h.slice(0, 20)}`)
      .toString()
      .padStart(15, '0')
      .slice(0, 15)}`;
    const matchingId = `MATCH-${h.slice(0, 12).toUpperCase()}`;
    return { iccid, activationCode: `LPA:1$smdp.${operator}.example$${matchingId}`, apn: 'internet' };
  };
}
