/**
 * What the caller can decrypt of a contract's private data with its keystore (contract show,
 * contract provisioning, tx).
 */
import { hexToBytes } from '@roamchain/protocol';
import { openProvisioningAsIssuer, openProvisioningAsRequester, verifyRequestIdentity } from '@roamchain/sdk';
import type { Ctx } from '../context.js';

/** Keystore entry holding a contract's ephemeral X25519 secret (as its encryption secret). */
export const contractKeyName = (contractId: string) => `ssc/${contractId}`;

/** The keystore if it can be opened without asking (for best-effort decryption), else undefined. */
export async function quietKeystore(ctx: Ctx) {
  try {
    return await ctx.keystore();
  } catch {
    return undefined;
  }
}

/**
 * What the caller can read of a contract's private data with its keystore: the Request payload (as
 * the assignee, verified against the attestation) and the provisioning (as the requester, with the
 * ephemeral key kept by "request open", or as the issuer).
 */
export async function privateView(
  ctx: Ctx,
  id: string,
  want: { request: boolean; provisioning: boolean },
): Promise<Record<string, unknown>[]> {
  const ks = await quietKeystore(ctx);
  if (!ks) return [];
  const out: Record<string, unknown>[] = [];
  const d = await ctx.client.contract(id);
  const c = d.contract;
  if (want.request && ks.has(c.assignee)) {
    const check = await verifyRequestIdentity(ctx.client, {
      contractId: id,
      assigneeEncryptionSecret: ks.get(c.assignee).encryptionSecret,
    }).catch(() => undefined);
    if (check && !(check.ok === false && check.reason === 'PAYLOAD_UNREADABLE')) {
      out.push({ what: 'request payload', as: c.assignee, ...check });
    }
  }
  const ref = d.transactions.find((t) => t.type === 'provision');
  if (want.provisioning && ref) {
    const t = await ctx.client.tx(ref.txId);
    const op = t.tx?.ops[ref.opIndex] as { forRequester?: string; forIssuer?: string } | undefined;
    let plain: Uint8Array | undefined;
    let as = '';
    try {
      if (op?.forRequester && ks.has(contractKeyName(id))) {
        as = 'requester';
        plain = openProvisioningAsRequester({
          contractId: id,
          ephemeralSecret: ks.get(contractKeyName(id)).encryptionSecret,
          assigneeEncryptionKey: (await ctx.client.account(c.assignee)).encryptionKey,
          box: hexToBytes(op.forRequester),
        });
      } else if (op?.forIssuer && ks.has(c.issuer)) {
        as = c.issuer;
        plain = openProvisioningAsIssuer({
          contractId: id,
          issuerEncryptionSecret: ks.get(c.issuer).encryptionSecret,
          box: hexToBytes(op.forIssuer),
        });
      }
    } catch {
      plain = undefined;
    }
    if (plain) {
      const text = new TextDecoder().decode(plain);
      let value: unknown = text;
      try {
        value = JSON.parse(text);
      } catch {
        // not JSON
      }
      out.push({ what: 'provisioning', as, provisioning: value });
    }
  }
  return out;
}

export function privateLine(p: Record<string, unknown>): string {
  if (p.what === 'provisioning') {
    const v = p.provisioning;
    const body =
      typeof v === 'object' && v !== null
        ? Object.entries(v)
            .map(([k, x]) => `${k}=${String(x)}`)
            .join('  ')
        : String(v);
    return `decrypted provisioning (as ${String(p.as)}): ${body}`;
  }
  if (p.ok === true) {
    const claims = Object.entries(p.claims as Record<string, string>)
      .map(([k, v]) => `${k}=${v}`)
      .join('  ');
    return `decrypted request payload (as ${String(p.as)}): eid=${String(p.eid)}  ${claims}  [verified against the attestation]`;
  }
  return `decrypted request payload (as ${String(p.as)}): NOT VERIFIED ${String(p.reason)} (refund reason ${String(p.refundReason)}): ${String(p.message)}`;
}
