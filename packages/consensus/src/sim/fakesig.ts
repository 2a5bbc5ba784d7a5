/**
 * A fast stand-in for Ed25519, for the simulator only: real Ed25519 in pure JS (@noble) costs about
 * 1-2 ms per signature and per verification, which would make 1,000 seeds take many minutes. The
 * scheme is a keyed non-cryptographic hash (anyone who knows the public key could forge), which is
 * enough because the simulated byzantine validator only signs with its own key; what the
 * simulator checks is the protocol, not the signature scheme. Seeds with real Ed25519 run too.
 */
import type { SignatureVerifier } from '@roamchain/protocol';
import type { Signer } from '../types.js';

function mix(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** 64 "signature" bytes from key and message. */
export function fakeSign(publicKey: Uint8Array, message: Uint8Array): Uint8Array {
  let a = 0x811c9dc5;
  let b = 0x01000193;
  for (let i = 0; i < publicKey.length; i++) {
    a = Math.imul(a ^ publicKey[i]!, 0x01000193);
    b = Math.imul(b ^ publicKey[i]!, 0x5bd1e995);
  }
  for (let i = 0; i < message.length; i++) {
    a = Math.imul(a ^ message[i]!, 0x01000193);
    b = Math.imul(b ^ message[i]!, 0x5bd1e995);
  }
  a = mix(a ^ message.length);
  b = mix(b ^ a);
  const out = new Uint8Array(64);
  const view = new DataView(out.buffer);
  for (let i = 0; i < 16; i++) {
    a = mix(a + 0x9e3779b9 + i);
    b = mix(b ^ a);
    view.setUint32(i * 4, i % 2 === 0 ? a : b);
  }
  return out;
}

export function fakeSigner(publicKey: Uint8Array): Signer {
  return { sign: (m) => fakeSign(publicKey, m) };
}

export const fakeVerifier: SignatureVerifier = {
  verify(publicKey, message, signature) {
    if (signature.length !== 64) return false;
    const expect = fakeSign(publicKey, message);
    for (let i = 0; i < 64; i++) if (expect[i] !== signature[i]) return false;
    return true;
  },
};
