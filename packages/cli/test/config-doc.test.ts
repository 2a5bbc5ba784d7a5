import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CONFIG_DOC, configDoc } from '../scripts/config-doc.js';

describe('docs/CONFIGURATION.md', () => {
  it('is exactly what `npm run docs:config` generates from the code', () => {
    expect(readFileSync(CONFIG_DOC, 'utf8')).toBe(configDoc());
  });

  it('covers the node, the devnet and the agent', () => {
    const d = configDoc();
    for (const s of [
      '--data-dir <dir>',
      'ROAMCHAIN_DATA_DIR',
      'ROAMCHAIN_DEVNET_DIR',
      '`policy.feeBps`',
      '--config <file>',
    ])
      expect(d).toContain(s);
  });
});
