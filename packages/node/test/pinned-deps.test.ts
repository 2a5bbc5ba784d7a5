/**
 * The dependencies the root package.json pins or overrides so that they run on every supported
 * Node.js version (README; scripts/engines-check.mjs), exercised on the running one:
 * - fastify.inject (light-my-request 6.6.0, pinned: 6.8 needs cookie 2, engines.node >= 22), with cookies;
 * - @fastify/static's reply.download, whose Content-Disposition comes from content-disposition 2
 *   (overridden from 3, engines.node >= 22; `create` is the same code in both).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import Fastify from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('pinned dependencies', () => {
  it('fastify.inject sends cookies; reply.download names the file (token, quoted, not ASCII)', async () => {
    const root = mkdtempSync(join(tmpdir(), 'rc-pinned-'));
    dirs.push(root);
    writeFileSync(join(root, 'app.js'), 'console.log(1)');
    writeFileSync(join(root, 'my app.js'), 'm');
    writeFileSync(join(root, 'é.txt'), 'e');
    const app = Fastify();
    await app.register(fastifyStatic, { root, serve: false });
    app.get('/cookie', async (req) => ({ cookie: req.headers.cookie ?? null }));
    app.get('/dl/:name', (req, reply) => reply.download((req.params as { name: string }).name));
    try {
      const c = await app.inject({ method: 'GET', url: '/cookie', cookies: { session: 'a b', k: 'v' } });
      expect(c.json()).toEqual({ cookie: 'session=a%20b; k=v' });

      const a = await app.inject({ method: 'GET', url: '/dl/app.js' });
      expect(a.statusCode).toBe(200);
      expect(a.headers['content-disposition']).toBe('attachment; filename=app.js');
      expect(a.body).toBe('console.log(1)');

      const m = await app.inject({ method: 'GET', url: `/dl/${encodeURIComponent('my app.js')}` });
      expect(m.headers['content-disposition']).toBe('attachment; filename="my app.js"');

      const e = await app.inject({ method: 'GET', url: `/dl/${encodeURIComponent('é.txt')}` });
      expect(e.statusCode).toBe(200);
      expect(e.headers['content-disposition']).toBe(
        `attachment; filename="?.txt"; filename*=UTF-8''%C3%A9.txt`,
      );
    } finally {
      await app.close();
    }
  });
});
