import { describe, expect, it } from 'vitest';
import { devnetBanner } from '../src/run.js';

describe('devnet banner', () => {
  it('names the data directory actually in use, not .devnet', () => {
    const b = devnetBanner(
      'http://127.0.0.1:9123',
      '/tmp/elsewhere',
      '/tmp/elsewhere/keystore.json',
      3,
      {},
      'http://127.0.0.1:9124',
    );
    expect(b).toContain('data       /tmp/elsewhere');
    expect(b).toContain('resumes from /tmp/elsewhere next time');
    expect(b).not.toContain('.devnet');
    expect(b).toContain('ROAMCHAIN_API=http://127.0.0.1:9123');
    expect(b).toContain('SM-DP+     http://127.0.0.1:9124');
  });
});
