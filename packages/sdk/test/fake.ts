/** A fake node API for unit tests: canned JSON answers and captured submissions. */
import { bytesToHex, decodeTx, hexToBytes, type TxEnvelope } from '@roamchain/protocol';
import type { StatusJson } from '../src/types.js';

export interface FakeCall {
  method: string;
  url: URL;
  body: unknown;
}

export type Route = (call: FakeCall) => { status?: number; body?: unknown; text?: string } | undefined;

export class FakeApi {
  readonly calls: FakeCall[] = [];
  readonly submitted: TxEnvelope[] = [];
  readonly routes = new Map<string, Route>();
  status: StatusJson = {
    chainId: 'ab'.repeat(32),
    chainName: 'roamchain-test',
    height: 41,
    finalizedHeight: 41,
    headId: `deadbeef${'00'.repeat(28)}`,
    headTime: 1_767_225_600_000,
    time: 1_767_225_601_234,
    mempool: 0,
    producer: 'node-1',
    consensus: null,
  };
  /** Answer of POST /v1/tx for a decoded envelope (default: included). */
  onSubmit: (env: TxEnvelope, call: FakeCall) => { status?: number; body?: unknown } = (env) => ({
    status: 200,
    body: {
      txId: env.idHex,
      status: 'included',
      height: this.status.height + 1,
      index: 0,
      blockId: 'cd'.repeat(32),
      receipt: { txId: env.idHex, index: 0, fee: '1000', events: [{ type: env.tx.ops[0]!.type }] },
    },
  });

  on(method: string, path: string, r: Route): this {
    this.routes.set(`${method} ${path}`, r);
    return this;
  }

  fetch = async (input: string, init?: RequestInit): Promise<Response> => {
    const url = new URL(input);
    const method = init?.method ?? 'GET';
    const body = typeof init?.body === 'string' ? JSON.parse(init.body) : undefined;
    const call: FakeCall = { method, url, body };
    this.calls.push(call);
    const json = (status: number, b: unknown) =>
      new Response(JSON.stringify(b), { status, headers: { 'content-type': 'application/json' } });
    const custom = this.routes.get(`${method} ${url.pathname}`);
    if (custom) {
      const r = custom(call);
      if (r)
        return r.text !== undefined
          ? new Response(r.text, { status: r.status ?? 200 })
          : json(r.status ?? 200, r.body);
    }
    if (method === 'GET' && url.pathname === '/v1/status') return json(200, this.status);
    if (method === 'POST' && url.pathname === '/v1/tx') {
      const env = decodeTx(hexToBytes((body as { tx: string }).tx));
      this.submitted.push(env);
      const r = this.onSubmit(env, call);
      return json(r.status ?? 200, r.body);
    }
    return json(404, { code: 'NOT_FOUND', message: `no route ${method} ${url.pathname}` });
  };

  last(): TxEnvelope {
    const e = this.submitted.at(-1);
    if (!e) throw new Error('nothing submitted');
    return e;
  }
}

export { bytesToHex };
