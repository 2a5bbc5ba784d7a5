/**
 * A simulated SM-DP+: a miniature of GSMA SGP.22 ES2+ (operator -> SM-DP+) and of the first step of
 * ES9+ (LPA -> SM-DP+), enough for the whole roaming flow to run on one machine.
 *
 * - `POST /gsma/rsp2/es2plus/downloadOrder {eid?, profileType}` reserves a profile: `{iccid}`.
 * - `POST /gsma/rsp2/es2plus/confirmOrder {iccid, eid, matchingId?, confirmationCode?, releaseFlag}`
 *   binds the order to the EID and a Matching ID (generated when not given): `{eid, matchingId,
 *   smdpAddress}`. With `releaseFlag: false` the profile waits for `releaseProfile {iccid}`.
 * - `POST /gsma/rsp2/es2plus/releaseProfile {iccid}`, `POST /gsma/rsp2/es2plus/cancelOrder {iccid}`.
 * - `POST|GET /gsma/rsp2/es9plus/authenticateClient {matchingId, eid, confirmationCode?}`: what the
 *   device's LPA does with the activation code. Refused unless the Matching ID was confirmed for THIS
 *   EID (an order confirmed for one EID cannot be downloaded by another), the profile is released and
 *   the confirmation code (if the order has one) matches. Success marks the profile downloaded.
 *
 * Every answer carries `header.functionExecutionStatus` as ES2+ does: `{status: 'Executed-Success'}`
 * or `{status: 'Failed', statusCodeData: {subjectCode, reasonCode, message}}` (with HTTP 200 for a
 * failed function, as in GSMA; 400 for a malformed request).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import { MATCHING_ID_RE } from './activation.js';

export const EID_RE = /^[0-9]{32}$/;
export const ICCID_RE = /^[0-9]{18,20}$/;

type OrderState = 'allocated' | 'confirmed' | 'released' | 'downloaded' | 'cancelled';

interface Order {
  iccid: string;
  profileType: string;
  eid?: string;
  matchingId?: string;
  /** SHA-256 of the confirmation code, when one is required. */
  ccHash?: Buffer;
  state: OrderState;
}

export interface FunctionExecutionStatus {
  status: 'Executed-Success' | 'Failed';
  statusCodeData?: { subjectCode: string; reasonCode: string; message: string };
}

const ok = (): { functionExecutionStatus: FunctionExecutionStatus } => ({
  functionExecutionStatus: { status: 'Executed-Success' },
});

class Es2Failure extends Error {
  constructor(
    readonly subjectCode: string,
    readonly reasonCode: string,
    message: string,
  ) {
    super(message);
  }
}

/** Luhn check digit of a string of digits (ICCIDs end with one). */
export function luhnDigit(digits: string): number {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 0) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return (10 - (sum % 10)) % 10;
}

function newIccid(prefix: string): string {
  const n = randomBytes(8).readBigUInt64BE() % 10n ** BigInt(18 - prefix.length);
  const body = prefix + n.toString().padStart(18 - prefix.length, '0');
  return body + String(luhnDigit(body));
}

const MID_ALPHABET = '0123456789ABCDEFGHJKLMNPQRSTUVWXYZ';
function newMatchingId(): string {
  const b = randomBytes(20);
  let s = '';
  for (let i = 0; i < 20; i++) {
    if (i > 0 && i % 5 === 0) s += '-';
    s += MID_ALPHABET[b[i]! % MID_ALPHABET.length];
  }
  return s;
}

const sha = (s: string) => createHash('sha256').update(s, 'utf8').digest();

export interface SmdpOptions {
  /** The SM-DP+ address written in activation codes (default: host:port it listens on). */
  address?: string;
  /** First digits of generated ICCIDs (default 8949 = telecom, Germany). */
  iccidPrefix?: string;
}

/** The SM-DP+ state and its Fastify app (not listening). */
export function buildSmdpApp(opts: { address: () => string; iccidPrefix?: string }): FastifyInstance {
  const orders = new Map<string, Order>();
  const byMatchingId = new Map<string, string>();
  const prefix = opts.iccidPrefix ?? '8949';
  const app = Fastify({ logger: false });

  const str = (v: unknown, what: string, re?: RegExp): string => {
    if (typeof v !== 'string' || (re && !re.test(v)))
      throw new Es2Failure('8.1', '2.1', `${what} is invalid`);
    return v;
  };
  const order = (iccid: string): Order => {
    const o = orders.get(iccid);
    if (!o) throw new Es2Failure('8.2.1', '3.9', `profile ${iccid} unknown`);
    return o;
  };
  const handle =
    (fn: (body: Record<string, unknown>) => Record<string, unknown>) =>
    async (req: { body?: unknown; query?: unknown }) => {
      const body = (req.body && typeof req.body === 'object' ? req.body : req.query) as Record<
        string,
        unknown
      >;
      try {
        return { header: ok(), ...fn(body ?? {}) };
      } catch (e) {
        if (!(e instanceof Es2Failure)) throw e;
        return {
          header: {
            functionExecutionStatus: {
              status: 'Failed',
              statusCodeData: { subjectCode: e.subjectCode, reasonCode: e.reasonCode, message: e.message },
            },
          },
        };
      }
    };

  app.post(
    '/gsma/rsp2/es2plus/downloadOrder',
    handle((b) => {
      const profileType = b.profileType === undefined ? 'default' : str(b.profileType, 'profileType');
      const eid = b.eid === undefined ? undefined : str(b.eid, 'eid', EID_RE);
      let iccid = newIccid(prefix);
      while (orders.has(iccid)) iccid = newIccid(prefix);
      orders.set(iccid, { iccid, profileType, ...(eid ? { eid } : {}), state: 'allocated' });
      return { iccid };
    }),
  );

  app.post(
    '/gsma/rsp2/es2plus/confirmOrder',
    handle((b) => {
      const o = order(str(b.iccid, 'iccid', ICCID_RE));
      if (o.state !== 'allocated')
        throw new Es2Failure('8.2.1', '3.8', `profile ${o.iccid} already confirmed`);
      const eid = b.eid === undefined ? o.eid : str(b.eid, 'eid', EID_RE);
      if (!eid) throw new Es2Failure('8.1.1', '2.2', 'an EID is required: the matching id is bound to it');
      if (o.eid && o.eid !== eid)
        throw new Es2Failure('8.1.1', '3.10', 'EID differs from the download order');
      let matchingId =
        b.matchingId === undefined ? newMatchingId() : str(b.matchingId, 'matchingId', MATCHING_ID_RE);
      if (b.matchingId === undefined) while (byMatchingId.has(matchingId)) matchingId = newMatchingId();
      else if (byMatchingId.has(matchingId))
        throw new Es2Failure('8.2.6', '3.3', 'matching id already in use');
      const cc = b.confirmationCode === undefined ? undefined : str(b.confirmationCode, 'confirmationCode');
      if (typeof b.releaseFlag !== 'boolean') throw new Es2Failure('8.1', '2.1', 'releaseFlag is required');
      o.eid = eid;
      o.matchingId = matchingId;
      if (cc !== undefined) o.ccHash = sha(cc);
      o.state = b.releaseFlag ? 'released' : 'confirmed';
      byMatchingId.set(matchingId, o.iccid);
      return { eid, matchingId, smdpAddress: opts.address() };
    }),
  );

  app.post(
    '/gsma/rsp2/es2plus/releaseProfile',
    handle((b) => {
      const o = order(str(b.iccid, 'iccid', ICCID_RE));
      if (o.state !== 'confirmed') throw new Es2Failure('8.2.1', '3.5', `profile ${o.iccid} is ${o.state}`);
      o.state = 'released';
      return {};
    }),
  );

  app.post(
    '/gsma/rsp2/es2plus/cancelOrder',
    handle((b) => {
      const o = order(str(b.iccid, 'iccid', ICCID_RE));
      if (o.state === 'downloaded') throw new Es2Failure('8.2.1', '3.5', 'profile already downloaded');
      o.state = 'cancelled';
      if (o.matchingId) byMatchingId.delete(o.matchingId);
      return {};
    }),
  );

  const authenticate = handle((b) => {
    const matchingId = str(b.matchingId, 'matchingId', MATCHING_ID_RE);
    const eid = str(b.eid, 'eid', EID_RE);
    const iccid = byMatchingId.get(matchingId);
    const o = iccid ? orders.get(iccid) : undefined;
    if (!o) throw new Es2Failure('8.2.6', '3.8', 'matching id refused');
    if (o.eid !== eid) throw new Es2Failure('8.1.1', '3.8', 'matching id is bound to another EID');
    if (o.state === 'downloaded') throw new Es2Failure('8.2.6', '3.9', 'profile already downloaded');
    if (o.state !== 'released') throw new Es2Failure('8.2.1', '3.5', 'profile not released yet');
    if (o.ccHash) {
      const cc = b.confirmationCode;
      if (typeof cc !== 'string' || !timingSafeEqual(sha(cc), o.ccHash))
        throw new Es2Failure('8.2.7', '2.2', 'confirmation code refused');
    }
    o.state = 'downloaded';
    return {
      transactionId: randomBytes(16).toString('hex').toUpperCase(),
      profileMetadata: { iccid: o.iccid, profileType: o.profileType },
    };
  });
  app.post('/gsma/rsp2/es9plus/authenticateClient', authenticate);
  app.get('/gsma/rsp2/es9plus/authenticateClient', authenticate);

  app.get('/healthz', async () => ({ ok: true, orders: orders.size }));
  return app;
}

export interface RunningSmdp {
  url: string;
  /** The SM-DP+ address written in activation codes. */
  address: string;
  close(): Promise<void>;
}

/** Starts the simulated SM-DP+ (default 127.0.0.1, a free port). */
export async function startSmdp(
  opts: { host?: string; port?: number; address?: string } & SmdpOptions = {},
): Promise<RunningSmdp> {
  const host = opts.host ?? '127.0.0.1';
  let address = opts.address ?? '';
  const app = buildSmdpApp({
    address: () => address,
    ...(opts.iccidPrefix !== undefined ? { iccidPrefix: opts.iccidPrefix } : {}),
  });
  await app.listen({ host, port: opts.port ?? 0 });
  const a = app.server.address();
  const port = typeof a === 'object' && a ? a.port : (opts.port ?? 0);
  const shown = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  if (!address) address = `${shown}:${port}`;
  let closed: Promise<void> | undefined;
  return {
    url: `http://${shown}:${port}`,
    address,
    close() {
      closed ??= app.close();
      return closed;
    },
  };
}
