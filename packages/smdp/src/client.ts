/** A client of the simulated SM-DP+ (ES2+ for operators, the ES9+ authenticateClient step for devices). */
import type { FunctionExecutionStatus } from './server.js';

export class SmdpError extends Error {
  constructor(
    message: string,
    readonly subjectCode: string,
    readonly reasonCode: string,
  ) {
    super(message);
    this.name = 'SmdpError';
  }
}

export interface SmdpClient {
  readonly url: string;
  downloadOrder(a: { eid?: string; profileType?: string }): Promise<{ iccid: string }>;
  confirmOrder(a: {
    iccid: string;
    eid: string;
    matchingId?: string;
    confirmationCode?: string;
    releaseFlag: boolean;
  }): Promise<{ eid: string; matchingId: string; smdpAddress: string }>;
  releaseProfile(a: { iccid: string }): Promise<void>;
  cancelOrder(a: { iccid: string }): Promise<void>;
  /** What the device's LPA does with an activation code: refused unless the matching id is bound to `eid`. */
  authenticate(a: {
    matchingId: string;
    eid: string;
    confirmationCode?: string;
  }): Promise<{ transactionId: string; profileMetadata: { iccid: string; profileType: string } }>;
}

export function smdpClient(url: string): SmdpClient {
  const base = url.replace(/\/+$/, '');
  async function call<T>(path: string, body: Record<string, unknown>): Promise<T> {
    const res = await fetch(`${base}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({
        header: { functionRequesterIdentifier: 'roamchain', functionCallIdentifier: path.split('/').pop() },
        ...body,
      }),
    });
    const text = await res.text();
    let j: { header?: { functionExecutionStatus?: FunctionExecutionStatus } } & Record<string, unknown>;
    try {
      j = JSON.parse(text);
    } catch {
      throw new SmdpError(`SM-DP+ answered ${res.status}: ${text.slice(0, 200)}`, '8.1', '1.1');
    }
    const st = j.header?.functionExecutionStatus;
    if (!res.ok || st?.status !== 'Executed-Success') {
      const d = st?.statusCodeData;
      throw new SmdpError(
        `SM-DP+ ${path.split('/').pop()}: ${d?.message ?? `HTTP ${res.status}`}`,
        d?.subjectCode ?? '8.1',
        d?.reasonCode ?? '1.1',
      );
    }
    const { header: _h, ...rest } = j;
    return rest as T;
  }
  const drop = (o: Record<string, unknown>) =>
    Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
  return {
    url: base,
    downloadOrder: (a) => call('/gsma/rsp2/es2plus/downloadOrder', drop({ ...a })),
    confirmOrder: (a) => call('/gsma/rsp2/es2plus/confirmOrder', drop({ ...a })),
    releaseProfile: async (a) => {
      await call('/gsma/rsp2/es2plus/releaseProfile', { ...a });
    },
    cancelOrder: async (a) => {
      await call('/gsma/rsp2/es2plus/cancelOrder', { ...a });
    },
    authenticate: (a) => call('/gsma/rsp2/es9plus/authenticateClient', drop({ ...a })),
  };
}
