/**
 * Worker of `VerifierPool`: verifies packed batches with libsodium and replies with one byte per
 * item. Loaded as compiled JavaScript, or under tsx through the CommonJS hook (see verifier.ts).
 * Must not use `import.meta`: under tsx it runs as CommonJS.
 */
import { parentPort } from 'node:worker_threads';
import { type VerifyReply, type VerifyRequest, verifyPacked } from './packing.js';

const port = parentPort;
if (!port) throw new Error('verify-worker must run in a worker thread');

port.on('message', (m: VerifyRequest) => {
  let reply: VerifyReply;
  try {
    reply = { id: m.id, ok: verifyPacked(new Uint8Array(m.buf), m.n, m.layout) };
  } catch (e) {
    reply = { id: m.id, error: e instanceof Error ? e.message : String(e) };
  }
  if ('ok' in reply) port.postMessage(reply, [reply.ok.buffer as ArrayBuffer]);
  else port.postMessage(reply);
});
