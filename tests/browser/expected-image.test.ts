import { describe, expect, it } from 'vitest';
import { expectedImage } from './screenshot-compare.ts';

describe('expected screenshots', () => {
  it('a missing expected image fails outside CI too (it is written only with UPDATE_SCREENSHOTS=1)', () => {
    const saved = process.env.UPDATE_SCREENSHOTS;
    const savedCi = process.env.CI;
    delete process.env.UPDATE_SCREENSHOTS;
    delete process.env.CI;
    try {
      expect(() => expectedImage('no-such-image.png', Buffer.from('not written'))).toThrow(/no-such-image\.png is missing: run `npm run test:update-screenshots`/);
    } finally {
      if (saved !== undefined) process.env.UPDATE_SCREENSHOTS = saved;
      if (savedCi !== undefined) process.env.CI = savedCi;
    }
  });
});
