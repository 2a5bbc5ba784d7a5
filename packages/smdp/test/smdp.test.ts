/**
 * The simulated SM-DP+: ES2+ DownloadOrder / ConfirmOrder bind a Matching ID to an EID; the ES9+
 * authenticateClient step refuses any other EID, an unreleased profile, a wrong confirmation code and
 * a second download. Activation codes follow SGP.22 (LPA:1$address$matchingId[$oid$flag]).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  activationCode,
  luhnDigit,
  parseActivationCode,
  type RunningSmdp,
  type SmdpClient,
  SmdpError,
  smdpClient,
  startSmdp,
} from '../src/index.js';

const EID_A = '89049032000001000000001234567890';
const EID_B = '89049032000001000000009876543210';

async function refused(p: Promise<unknown>): Promise<SmdpError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(SmdpError);
    return e as SmdpError;
  }
  throw new Error('expected a refusal');
}

describe('activation codes', () => {
  it('builds the SGP.22 format with and without the confirmation code flag', () => {
    expect(activationCode('smdp.example.com', 'ABCD-1234', false)).toBe('LPA:1$smdp.example.com$ABCD-1234');
    expect(activationCode('smdp.example.com', 'ABCD-1234', true)).toBe('LPA:1$smdp.example.com$ABCD-1234$$1');
    expect(parseActivationCode('LPA:1$smdp.example.com$ABCD-1234$$1')).toEqual({
      address: 'smdp.example.com',
      matchingId: 'ABCD-1234',
      confirmationRequired: true,
    });
    expect(parseActivationCode('LPA:1$127.0.0.1:8081$X1$1.3.6.1.4.1.31746')).toEqual({
      address: '127.0.0.1:8081',
      matchingId: 'X1',
      oid: '1.3.6.1.4.1.31746',
      confirmationRequired: false,
    });
    expect(() => activationCode('bad address$', 'X', false)).toThrow();
    expect(() => activationCode('smdp.example', 'lower-case', false)).toThrow();
    expect(() => parseActivationCode('LPA:2$a$b')).toThrow();
    expect(() => parseActivationCode('LPA:1$a')).toThrow();
  });
});

describe('simulated SM-DP+ (ES2+ / ES9+)', () => {
  let smdp: RunningSmdp;
  let c: SmdpClient;
  beforeAll(async () => {
    smdp = await startSmdp({ address: 'smdp.roamchain.test' });
    c = smdpClient(smdp.url);
  });
  afterAll(async () => {
    await smdp?.close();
  });

  it('downloadOrder gives a Luhn-valid ICCID; confirmOrder a matching id bound to the EID', async () => {
    const { iccid } = await c.downloadOrder({ eid: EID_A, profileType: 'roaming-data' });
    expect(iccid).toMatch(/^8949[0-9]{15}$/);
    expect(luhnDigit(iccid.slice(0, -1))).toBe(Number(iccid.at(-1)));
    const conf = await c.confirmOrder({ iccid, eid: EID_A, releaseFlag: true });
    expect(conf.smdpAddress).toBe('smdp.roamchain.test');
    expect(conf.eid).toBe(EID_A);
    expect(conf.matchingId).toMatch(/^[0-9A-Z]{5}(-[0-9A-Z]{5}){3}$/);
    // Another EID cannot download it.
    const e = await refused(c.authenticate({ matchingId: conf.matchingId, eid: EID_B }));
    expect(e.message).toMatch(/another EID/);
    // The right EID can, once.
    const auth = await c.authenticate({ matchingId: conf.matchingId, eid: EID_A });
    expect(auth.profileMetadata).toEqual({ iccid, profileType: 'roaming-data' });
    await refused(c.authenticate({ matchingId: conf.matchingId, eid: EID_A }));
  });

  it('an order confirmed for one EID refuses a different EID at confirmation', async () => {
    const { iccid } = await c.downloadOrder({ eid: EID_A });
    await refused(c.confirmOrder({ iccid, eid: EID_B, releaseFlag: true }));
    await refused(c.confirmOrder({ iccid: '8949000000000000000', eid: EID_A, releaseFlag: true }));
  });

  it('a confirmation code is required when set; an unreleased profile is refused until released', async () => {
    const { iccid } = await c.downloadOrder({ profileType: 'default' });
    const conf = await c.confirmOrder({
      iccid,
      eid: EID_B,
      matchingId: 'ROAM-0001',
      confirmationCode: '1234',
      releaseFlag: false,
    });
    expect(conf.matchingId).toBe('ROAM-0001');
    expect(activationCode(conf.smdpAddress, conf.matchingId, true)).toBe(
      'LPA:1$smdp.roamchain.test$ROAM-0001$$1',
    );
    await refused(c.authenticate({ matchingId: 'ROAM-0001', eid: EID_B, confirmationCode: '1234' }));
    await c.releaseProfile({ iccid });
    await refused(c.authenticate({ matchingId: 'ROAM-0001', eid: EID_B, confirmationCode: '9999' }));
    await refused(c.authenticate({ matchingId: 'ROAM-0001', eid: EID_B }));
    const ok = await c.authenticate({ matchingId: 'ROAM-0001', eid: EID_B, confirmationCode: '1234' });
    expect(ok.profileMetadata.iccid).toBe(iccid);
    // A matching id is used once.
    const again = await c.downloadOrder({});
    await refused(
      c.confirmOrder({ iccid: again.iccid, eid: EID_A, matchingId: 'ROAM-0001', releaseFlag: true }),
    );
  });

  it('rejects malformed input and unknown matching ids', async () => {
    await refused(c.downloadOrder({ eid: '123' }));
    await refused(c.authenticate({ matchingId: 'NOPE-0000', eid: EID_A }));
    const res = await fetch(`${smdp.url}/gsma/rsp2/es9plus/authenticateClient?matchingId=NOPE&eid=${EID_A}`);
    const body = (await res.json()) as { header: { functionExecutionStatus: { status: string } } };
    expect(body.header.functionExecutionStatus.status).toBe('Failed');
  });
});
