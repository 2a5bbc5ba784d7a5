#!/usr/bin/env node
// The `roamchain` command.
// - Installed (`npm install roamchain-cli-*.tgz`: no src/ in the package) or run as
//   `node packages/cli/dist/src/main.js`: the compiled JavaScript of dist/ (`npm run build`), plain node.
// - In the workspace (src/ present): the TypeScript sources through tsx, with the workspace packages
//   resolved to their sources too (the "@roamchain/source" export condition), so no build is needed.
import { existsSync } from 'node:fs';

const source = new URL('../src/main.ts', import.meta.url);
if (existsSync(source)) {
  const { register } = await import('tsx/esm/api');
  register();
  const { register: registerHooks } = await import('node:module');
  const hook = `export async function resolve(s, c, next) {
    return c.conditions.includes('@roamchain/source') ? next(s, c) : next(s, { ...c, conditions: [...c.conditions, '@roamchain/source'] });
  }`;
  registerHooks(`data:text/javascript,${encodeURIComponent(hook)}`);
  await import(source.href);
} else {
  await import(new URL('../dist/src/main.js', import.meta.url).href);
}
